import { UNRECORDED_ACTIONS, UNRECORDED_EVIDENCE } from './iam-data-events.ts';
import { decideService, KEPT_BECAUSE, removalReason, type ServiceDecision, type Usage } from './iam-usage.ts';

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


export type { Usage } from './iam-usage.ts';

/** A broad grant that stays (or is written in place of `*` or NotAction): a used service whose actions cannot be told. */
export interface KeptGrant {
  /** `statement "Sid"`, `statement #2`, or `statement "Sid" (#2)` where Sids repeat */
  statement: string;
  grant: string;
  reason: string;
  /** The reason in short (KEPT_BECAUSE), by which the approval groups what stays. */
  short: string;
  /** Written in place of `*` or NotAction, rather than left where it was. */
  introduced: boolean;
}

export interface StatementChange {
  index: number;
  sid?: string;
  /** How the record names the statement (statementName). */
  name: string;
  removed: string[];
  /** Explicit actions put in, each with the evidence it rests on (`because`). */
  added: string[];
  because: Record<string, string>;
  /** Service wildcards that stay in the statement or replace `*`. */
  kept: KeptGrant[];
  /** Why what goes without replacement goes. */
  evidence: string;
  /** The statement was left with no actions and is dropped. */
  dropped: boolean;
}

export interface Rewrite {
  statements: Statement[];
  changes: StatementChange[];
  /** Every broad grant left in the new document, with why. */
  kept: KeptGrant[];
  /** Services whose access goes although IAM saw them used, before its tracking period (ISO date of that use). */
  removedUsed: Record<string, string>;
  /** Services narrowed to the actions on record, with the evidence used. */
  narrowed: Record<string, string[]>;
  /** Statements where an action never recorded (iam:PassRole) is kept in place of the wildcard that covered it. */
  unrecorded: string[];
  /** Narrow wildcards replaced by the explicit actions the catalog lists. */
  expanded: string[];
}

export const EXPANDED_EVIDENCE = 'the IAM action catalog (narrow wildcards expanded)';

/** `statement "Sid"`; `statement #2` without a Sid; `statement "Sid" (#2)` where several statements have that Sid. */
export function statementName(index: number, sid?: string, repeated = false): string {
  if (!sid) return `statement #${index + 1}`;
  return repeated ? `statement "${sid}" (#${index + 1})` : `statement "${sid}"`;
}

/** Sids more than one statement has. */
function repeatedSids(statements: Statement[]): Set<string> {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const statement of statements) {
    if (typeof statement.Sid !== 'string') continue;
    if (seen.has(statement.Sid)) repeated.add(statement.Sid);
    seen.add(statement.Sid);
  }
  return repeated;
}

/** The service part of an action pattern matches this service (`*`, `s3`, `s*`). */
function touchesService(pattern: string, service: string): boolean {
  if (pattern === '*') return true;
  return actionMatches(`${pattern.split(':')[0] ?? ''}:x`, `${service}:x`);
}

/** The pattern excludes every action of this service (`*`, `s3:*`). */
function coversService(pattern: string, service: string): boolean {
  return pattern === '*' || (touchesService(pattern, service) && pattern.slice(pattern.indexOf(':') + 1) === '*');
}

type Candidate = { action: string; evidence: string; kept?: KeptGrant };

/**
 * Replaces each broad grant with what usage shows was used: exactly the used actions where the
 * evidence names them, the service's wildcard where a service was used but its actions cannot be
 * told, nothing for services not used. Keeps what narrower actions already grant. `expansions`
 * optionally replaces narrow wildcards such as `ec2:Describe*` with the explicit actions they match.
 */
export function rewriteStatements(statements: Statement[], usage: Usage | null, expansions: Record<string, string[]> = {}): Rewrite {
  const decisions = new Map<string, ServiceDecision>();
  const decide = (service: string): ServiceDecision => {
    const known = decisions.get(service) ?? decideService(usage, service);
    decisions.set(service, known);
    return known;
  };
  const services = [...new Set([...Object.keys(usage?.services ?? {}), ...Object.keys(usage?.generated ?? {})])].sort();
  const rewrite: Rewrite = { statements: [], changes: [], kept: [], removedUsed: {}, narrowed: {}, unrecorded: [], expanded: [] };
  const repeated = repeatedSids(statements);
  /** A wildcard that covered an action never recorded is replaced by it (attached policies only: unattached ones are not narrowed). */
  const keepUnrecorded = (candidates: Candidate[], covered: (action: string) => boolean) => {
    if (!usage) return;
    for (const action of UNRECORDED_ACTIONS.filter(covered)) candidates.push({ action, evidence: UNRECORDED_EVIDENCE });
  };
  /** Takes a service's decision into a statement: candidates to add, and what the record must say. */
  const take = (service: string, decision: ServiceDecision, name: string, candidates: Candidate[], notes: string[], only = (_action: string) => true) => {
    if (decision.kind === 'remove') {
      if (decision.usedOn) {
        rewrite.removedUsed[service] = decision.usedOn;
        notes.push(decision.reason);
      }
      return;
    }
    if (decision.kind === 'keep') {
      const grant = `${service}:*`;
      candidates.push({ action: grant, evidence: decision.reason, kept: { statement: name, grant, reason: decision.reason, short: decision.short, introduced: true } });
      return;
    }
    const actions = decision.actions.filter(only);
    if (actions.length > 0) rewrite.narrowed[service] = [...new Set([...(rewrite.narrowed[service] ?? []), ...actions.map((action) => decision.because[action] ?? '')])];
    for (const action of actions) candidates.push({ action, evidence: decision.because[action] ?? '' });
  };

  statements.forEach((statement, index) => {
    if (statement.Effect !== 'Allow') {
      rewrite.statements.push(statement);
      return;
    }
    const sid = typeof statement.Sid === 'string' ? { sid: statement.Sid } : {};
    const name = statementName(index, sid.sid, sid.sid !== undefined && repeated.has(sid.sid));
    const candidates: Candidate[] = [];
    const notes: string[] = [];
    let removed: string[];
    let remaining: string[];
    const stays: KeptGrant[] = [];
    if ('NotAction' in statement) {
      const excluded = asList(statement.NotAction);
      const granted = services.filter((service) => !excluded.some((pattern) => coversService(pattern, service)));
      // A used service some exclusion only partly covers: its wildcard would allow what NotAction excludes.
      const blocked = granted.flatMap((service) => {
        const decision = decide(service);
        return decision.kind === 'keep' && excluded.some((pattern) => touchesService(pattern, service)) ? [`${service} (${decision.reason})`] : [];
      });
      if (blocked.length > 0) {
        rewrite.statements.push(statement);
        const reason = `${blocked.join('; ')} was used, and a service wildcard would also allow what the NotAction excludes`;
        rewrite.kept.push({ statement: name, grant: `NotAction ${excluded.join(', ')}`, reason, short: KEPT_BECAUSE.notAction, introduced: false });
        return;
      }
      const allowed = (action: string) => !excluded.some((pattern) => actionMatches(pattern, action));
      for (const service of granted) take(service, decide(service), name, candidates, notes, allowed);
      keepUnrecorded(candidates, allowed);
      removed = excluded.map((pattern) => `NotAction ${pattern}`);
      remaining = [];
    } else {
      const actions = asList(statement.Action);
      const wildcards = actions.filter(isFullWildcard);
      const expandable = actions.filter((action) => !isFullWildcard(action) && expansions[action.toLowerCase()]);
      if (wildcards.length === 0 && expandable.length === 0) {
        rewrite.statements.push(statement);
        return;
      }
      removed = [];
      for (const wildcard of wildcards) {
        if (wildcard === '*') {
          removed.push(wildcard);
          for (const service of services) take(service, decide(service), name, candidates, notes);
          keepUnrecorded(candidates, () => true);
          continue;
        }
        const service = serviceOf(wildcard);
        const decision = decide(service);
        if (decision.kind === 'keep') {
          stays.push({ statement: name, grant: wildcard, reason: decision.reason, short: decision.short, introduced: false });
          continue;
        }
        removed.push(wildcard);
        take(service, decision, name, candidates, notes);
        keepUnrecorded(candidates, (action) => actionMatches(wildcard, action));
      }
      for (const action of expandable) {
        removed.push(action);
        rewrite.expanded.push(action);
        for (const expanded of expansions[action.toLowerCase()] ?? []) candidates.push({ action: expanded, evidence: EXPANDED_EVIDENCE });
      }
      if (removed.length === 0) {
        rewrite.statements.push(statement);
        rewrite.kept.push(...stays);
        return;
      }
      const gone = new Set(removed);
      remaining = actions.filter((action) => !gone.has(action));
    }
    const written: Candidate[] = [];
    for (const candidate of [...candidates].sort((a, b) => a.action.localeCompare(b.action))) {
      const covered = [...remaining, ...written.map((entry) => entry.action)].some((existing) => actionMatches(existing, candidate.action));
      if (!covered) written.push(candidate);
    }
    const finalActions = [...remaining, ...written.map((entry) => entry.action)];
    if (written.some((entry) => entry.evidence === UNRECORDED_EVIDENCE)) rewrite.unrecorded.push(name);
    const introduced = written.flatMap((entry) => (entry.kept ? [entry.kept] : []));
    const added = written.filter((entry) => !entry.kept);
    rewrite.changes.push({
      index,
      ...sid,
      name,
      removed,
      added: added.map((entry) => entry.action),
      because: Object.fromEntries(added.map((entry) => [entry.action, entry.evidence])),
      kept: [...stays, ...introduced],
      evidence: [removalReason(usage), ...notes].join('; '),
      dropped: finalActions.length === 0,
    });
    rewrite.kept.push(...stays, ...introduced);
    if (finalActions.length === 0) return;
    rewrite.statements.push(
      'NotAction' in statement
        ? renameKey(statement, 'NotAction', 'Action', actionValue(finalActions, false))
        : { ...statement, Action: actionValue(finalActions, typeof statement.Action === 'string') },
    );
  });
  return rewrite;
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

/** One line per changed statement, for records, dry runs and the Slack approval request: each kept action with its evidence. */
export function describeChanges(changes: StatementChange[]): string[] {
  return changes.map((change) => {
    const name = change.name;
    const gone = change.removed.join(', ');
    const groups = new Map<string, string[]>();
    for (const action of change.added) {
      const evidence = change.because[action] ?? change.evidence;
      groups.set(evidence, [...(groups.get(evidence) ?? []), action]);
    }
    const written = [
      ...[...groups].map(([evidence, actions]) => (evidence === UNRECORDED_EVIDENCE ? `${actions.join(', ')} (${evidence})` : `${actions.join(', ')} per ${evidence}`)),
      ...change.kept.filter((kept) => kept.introduced).map((kept) => `${kept.grant} kept (${kept.reason})`),
    ];
    const stays = change.kept.filter((kept) => !kept.introduced).map((kept) => `; ${kept.grant} stays (${kept.reason})`);
    if (written.length === 0) {
      const statementGoes = change.dropped ? ', and with it the statement, which allows nothing else' : '';
      return `${name}: remove ${gone}${statementGoes} (${change.evidence})${stays.join('')}`;
    }
    return `${name}: replace ${gone} with ${written.join('; ')}${stays.join('')}`;
  });
}

/** One line naming the broad grants that stay, for summaries. */
export function describeKept(kept: readonly KeptGrant[]): string {
  return kept.map((grant) => `${grant.grant} in ${grant.statement} (${grant.reason})`).join('; ');
}
