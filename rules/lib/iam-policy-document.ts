/**
 * Pure editing of IAM policy documents: find the grants that are as broad as a wildcard and
 * replace them, keeping Sids, conditions, resources, statement order, key order and the
 * document's layout untouched.
 */

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type Statement = { [key: string]: Json };

export interface ParsedPolicy {
  /** The document as parsed, keys in their original order. */
  document: { [key: string]: Json };
  /** True when `Statement` was a single object rather than an array. */
  singleStatement: boolean;
  statements: Statement[];
  /** Indentation of the original text: 0 for compact JSON. */
  indent: number;
}

/** IAM returns policy documents URL-encoded (RFC 3986); emulators may return them plain. */
export function decodePolicyText(text: string | undefined): string {
  if (!text) throw new Error('IAM returned an empty policy document');
  return text.trimStart().startsWith('{') ? text : decodeURIComponent(text);
}

export function parsePolicy(text: string): ParsedPolicy {
  const document = JSON.parse(text) as { [key: string]: Json };
  if (!document || typeof document !== 'object' || Array.isArray(document)) throw new Error('policy document is not a JSON object');
  const raw = document.Statement;
  const singleStatement = !Array.isArray(raw);
  const statements = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]) as Statement[];
  const indentMatch = /\n([ \t]+)"/.exec(text);
  return { document, singleStatement, statements, indent: indentMatch?.[1]?.length ?? 0 };
}

export function serializePolicy(policy: ParsedPolicy, statements: Statement[]): string {
  const document: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(policy.document)) {
    document[key] = key === 'Statement' ? (policy.singleStatement && statements.length === 1 ? (statements[0] as Statement) : statements) : value;
  }
  return JSON.stringify(document, null, policy.indent || undefined);
}

/** `*` or `service:*`, in any case: a grant of everything, or of everything in one service. */
export function isFullWildcard(action: string): boolean {
  return action === '*' || /^[a-z0-9-]+:\*$/i.test(action);
}

export function serviceOf(action: string): string {
  return action.split(':')[0]?.toLowerCase() ?? '';
}

/** IAM's action matching: case-insensitive, `*` any run of characters, `?` one character. */
export function actionMatches(pattern: string, action: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 'i').test(action);
}

function asList(value: Json | undefined): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return [];
}

export interface BroadGrant {
  index: number;
  sid?: string;
  /** The wildcards found in Action, or `NotAction` when the statement allows all but a list. */
  wildcards: string[];
  notAction: boolean;
}

/** Allow statements granting `*`, `service:*`, or anything through NotAction. Deny is never touched. */
export function findBroadGrants(statements: Statement[]): BroadGrant[] {
  const found: BroadGrant[] = [];
  statements.forEach((statement, index) => {
    if (statement.Effect !== 'Allow') return;
    const sid = typeof statement.Sid === 'string' ? { sid: statement.Sid } : {};
    if ('NotAction' in statement) {
      found.push({ index, ...sid, wildcards: [], notAction: true });
      return;
    }
    const wildcards = asList(statement.Action).filter(isFullWildcard);
    if (wildcards.length > 0) found.push({ index, ...sid, wildcards, notAction: false });
  });
  return found;
}

/** What usage data says, per service namespace (lowercase). */
export interface Usage {
  /** Services whose action-level data is tracked, with the actions used in the tracking period. */
  actionLevel: Record<string, string[]>;
  /** Services used, but with no action-level tracking: their wildcards cannot be narrowed. */
  serviceLevelOnly: string[];
  trackingPeriodDays: number;
}

export interface StatementChange {
  index: number;
  sid?: string;
  removed: string[];
  added: string[];
  /** Why each addition: the usage evidence behind it. */
  evidence: string;
  /** The statement was left with no actions and is dropped. */
  dropped: boolean;
}

export interface Rewrite {
  statements: Statement[];
  changes: StatementChange[];
}

/**
 * Replaces each broad grant with the actions usage shows were used (or nothing), keeping what
 * narrower actions already grant. `expansions` optionally replaces narrow wildcards such as
 * `ec2:Describe*` with the explicit actions they match.
 */
export function rewriteStatements(statements: Statement[], usage: Usage | null, expansions: Record<string, string[]> = {}): Rewrite {
  const changes: StatementChange[] = [];
  const result: Statement[] = [];
  const used = usage?.actionLevel ?? {};
  statements.forEach((statement, index) => {
    if (statement.Effect !== 'Allow') {
      result.push(statement);
      return;
    }
    const sid = typeof statement.Sid === 'string' ? { sid: statement.Sid } : {};
    if ('NotAction' in statement) {
      const excluded = asList(statement.NotAction);
      const replacement = Object.values(used)
        .flat()
        .filter((action) => !excluded.some((pattern) => actionMatches(pattern, action)))
        .sort();
      changes.push({
        index,
        ...sid,
        removed: excluded.map((pattern) => `NotAction ${pattern}`),
        added: replacement,
        evidence: evidence(replacement.length > 0, usage, untracked(usage, () => true)),
        dropped: replacement.length === 0,
      });
      if (replacement.length > 0) result.push(renameKey(statement, 'NotAction', 'Action', actionValue(replacement, false)));
      return;
    }
    const actions = asList(statement.Action);
    const wildcards = actions.filter(isFullWildcard);
    const expandable = actions.filter((action) => !isFullWildcard(action) && expansions[action.toLowerCase()]);
    if (wildcards.length === 0 && expandable.length === 0) {
      result.push(statement);
      return;
    }
    const kept = actions.filter((action) => !isFullWildcard(action) && !expansions[action.toLowerCase()]);
    const expanded = expandable.flatMap((action) => expansions[action.toLowerCase()] ?? []);
    const fromUsage = wildcards.flatMap((wildcard) =>
      wildcard === '*' ? Object.values(used).flat() : (used[serviceOf(wildcard)] ?? []),
    );
    const added: string[] = [];
    for (const action of [...expanded, ...fromUsage].sort()) {
      const covered = [...kept, ...added].some((existing) => actionMatches(existing, action));
      if (!covered) added.push(action);
    }
    const finalActions = [...kept, ...added];
    changes.push({
      index,
      ...sid,
      removed: [...wildcards, ...expandable],
      added,
      evidence:
        expandable.length > 0 && wildcards.length === 0
          ? 'narrow wildcards expanded from the IAM action catalog'
          : evidence(fromUsage.length > 0, usage, untracked(usage, (service) => wildcards.some((w) => w === '*' || serviceOf(w) === service))),
      dropped: finalActions.length === 0,
    });
    if (finalActions.length > 0) {
      result.push({ ...statement, Action: actionValue(finalActions, typeof statement.Action === 'string') });
    }
  });
  return { statements: result, changes };
}

/** Services used under a removed grant whose actions IAM does not track one by one. */
function untracked(usage: Usage | null, grantedBy: (service: string) => boolean): string[] {
  return (usage?.serviceLevelOnly ?? []).filter(grantedBy).sort();
}

function evidence(hasUsage: boolean, usage: Usage | null, untrackedServices: string[]): string {
  if (!usage) return 'no usage to keep: the policy is attached to nothing';
  const base = hasUsage
    ? `the actions used in the last ${usage.trackingPeriodDays} days, per IAM last-accessed data`
    : `no recorded use of its actions in IAM last-accessed data for the last ${usage.trackingPeriodDays} days`;
  // The approver must know what may break: these services were used, but not which of their actions.
  return untrackedServices.length > 0
    ? `${base}; ${untrackedServices.join(", ")} was used, but IAM keeps no action-level data for it, so none of its actions is kept`
    : base;
}

function actionValue(actions: string[], wasString: boolean): Json {
  return wasString && actions.length === 1 ? (actions[0] as string) : actions;
}

/** Renames a key in place, keeping its position among the others. */
function renameKey(statement: Statement, from: string, to: string, value: Json): Statement {
  const renamed: Statement = {};
  for (const [key, existing] of Object.entries(statement)) {
    if (key === from) renamed[to] = value;
    else renamed[key] = existing;
  }
  return renamed;
}

/** One line per changed statement, for records, dry runs and the Slack approval request. */
export function describeChanges(changes: StatementChange[]): string[] {
  return changes.map((change) => {
    const name = change.sid ? `statement "${change.sid}"` : `statement #${change.index + 1}`;
    const gone = change.removed.join(', ');
    if (change.dropped) return `${name}: remove ${gone}, and with it the statement, which allows nothing else (${change.evidence})`;
    if (change.added.length === 0) return `${name}: remove ${gone} (${change.evidence})`;
    return `${name}: replace ${gone} with ${change.added.join(', ')} (${change.evidence})`;
  });
}
