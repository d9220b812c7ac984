/**
 * What the principals a policy is attached to used, and what that allows the bot to cut: pure
 * decisions per service, with the evidence each kept action rests on. The rule never takes away
 * all access to a service used within IAM's tracking period.
 */

/**
 * IAM reports service activity for at least the last 400 days (GenerateServiceLastAccessedDetails,
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_GenerateServiceLastAccessedDetails.html).
 */
export const TRACKING_PERIOD_DAYS = 400;
const DAY_MS = 86_400_000;
/**
 * A service used later than its last tracked action (by more than this) was used through an action
 * IAM does not track: action last-accessed data covers management actions only ("Refine permissions
 * in AWS using last accessed information", https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_last-accessed.html).
 */
export const UNTRACKED_USE_MARGIN_MS = 5 * 60_000;

export const LAST_ACCESSED_EVIDENCE = 'IAM last-accessed (action level)';
export const NOT_ATTACHED = 'no usage to keep: the policy is attached to nothing';

/** One service as IAM last-accessed data reports it (GetServiceLastAccessedDetails, ServicesLastAccessed[]). */
export interface ServiceUsage {
  /** LastAuthenticated: when a principal the policy is attached to last used the service. */
  lastUsed: string;
  /** LastAuthenticatedEntity, the principal that did. */
  lastEntity?: string;
  /** TotalAuthenticatedEntities: how many principals used it. */
  entities?: number;
  /** Tracked actions used (`s3:CreateBucket`), with when (TrackedActionsLastAccessed). */
  actions: Record<string, string>;
  /** Tracked actions IAM reported used that the IAM action catalog does not know. */
  unknownActions?: string[];
}

/** Actions Access Analyzer policy generation found for a service, for every principal that used it. */
export interface GeneratedActions {
  actions: string[];
  /** `Access Analyzer policy generation over trail X, <start> to <end>` */
  evidence: string;
}

export interface Usage {
  /** Services used, by namespace (lower case); a service absent was not used in the tracking period. */
  services: Record<string, ServiceUsage>;
  trackingPeriodDays: number;
  /** When IAM prepared the report (ISO): the tracking period ends there. */
  reportedAt: string;
  /** Policy generation's actions per service, where every principal that used the service was analysed. */
  generated?: Record<string, GeneratedActions>;
  /** Why policy generation does not narrow a service it was asked about. */
  generationNotes?: Record<string, string>;
}

export type ServiceDecision =
  /** Keep exactly these actions, each with the evidence it rests on. */
  | { kind: 'narrow'; actions: string[]; because: Record<string, string> }
  /** Used, but which actions cannot be told: the service's grant stays. */
  | { kind: 'keep'; reason: string }
  /** Not used in the tracking period; `usedOn` when IAM saw it used before that period. */
  | { kind: 'remove'; reason: string; usedOn?: string };

export const day = (iso: string) => iso.slice(0, 10);

/** `arn:aws:iam::111122223333:role/app/worker` → `role/app/worker` */
export function principalName(arn: string): string {
  return arn.split(':').slice(5).join(':') || arn;
}

export function removalReason(usage: Usage | null): string {
  return usage ? `no recorded use in IAM last-accessed data for the last ${usage.trackingPeriodDays} days` : NOT_ATTACHED;
}

/** Why the tracked actions may not be all the service was used for; null when they are. */
function untrackedUse(used: ServiceUsage): string | null {
  const by = used.lastEntity ? ` by ${principalName(used.lastEntity)}` : '';
  const times = Object.values(used.actions).map((time) => Date.parse(time));
  if (times.length === 0) return `used on ${day(used.lastUsed)}${by}, and IAM tracked none of the actions used`;
  const latest = Math.max(...times);
  if (Date.parse(used.lastUsed) - latest > UNTRACKED_USE_MARGIN_MS) {
    return `used on ${day(used.lastUsed)}${by}, after the last action IAM tracked (${day(new Date(latest).toISOString())}): an action IAM does not track was used`;
  }
  return null;
}

/** What may be cut of one service a broad grant covers. */
export function decideService(usage: Usage | null, service: string): ServiceDecision {
  if (!usage) return { kind: 'remove', reason: NOT_ATTACHED };
  const used = usage.services[service];
  if (!used) return { kind: 'remove', reason: removalReason(usage) };
  const periodStart = Date.parse(usage.reportedAt) - usage.trackingPeriodDays * DAY_MS;
  if (Date.parse(used.lastUsed) < periodStart) {
    return {
      kind: 'remove',
      reason: `${service} was last used on ${day(used.lastUsed)}, longer ago than IAM's ${usage.trackingPeriodDays}-day tracking period`,
      usedOn: used.lastUsed,
    };
  }
  if (used.unknownActions && used.unknownActions.length > 0) {
    // Whatever else says so, an action IAM saw used is never cut because the catalog lacks it.
    const by = used.lastEntity ? ` by ${principalName(used.lastEntity)}` : '';
    return { kind: 'keep', reason: `used on ${day(used.lastUsed)}${by}, and IAM reported ${used.unknownActions.join(', ')}, which the IAM action catalog does not know` };
  }
  const generated = usage.generated?.[service];
  const unexplained = untrackedUse(used);
  if (unexplained && !generated) {
    const note = usage.generationNotes?.[service];
    return { kind: 'keep', reason: note ? `${unexplained}; ${note}` : unexplained };
  }
  const because: Record<string, string> = {};
  for (const action of Object.keys(used.actions)) because[action] = LAST_ACCESSED_EVIDENCE;
  for (const action of generated?.actions ?? []) because[action] ??= generated?.evidence ?? '';
  return { kind: 'narrow', actions: Object.keys(because).sort(), because };
}

/** Used services whose actions IAM last-accessed data alone cannot tell: where policy generation may help. */
export function servicesNeedingEvidence(usage: Usage, granted: (service: string) => boolean): string[] {
  return Object.keys(usage.services)
    .filter((service) => granted(service) && !usage.services[service]?.unknownActions?.length)
    .filter((service) => decideService({ ...usage, generated: {} }, service).kind === 'keep')
    .sort();
}

/** The users, roles and groups a managed policy is attached to (ListEntitiesForPolicy). */
export interface Attachments {
  roles: string[];
  users: string[];
  groups: string[];
}

export function describeAttachments(attached: Attachments): string {
  const named = [
    ...attached.roles.map((name) => `role ${name}`),
    ...attached.users.map((name) => `user ${name}`),
    ...attached.groups.map((name) => `group ${name}`),
  ];
  const shown = named.length > 10 ? [...named.slice(0, 10), `${named.length - 10} more`] : named;
  return shown.join(', ');
}

export interface RiskInput {
  kept: ReadonlyArray<{ statement: string; grant: string; reason: string }>;
  removedUsed: Record<string, string>;
  narrowed: Record<string, string[]>;
  trackingPeriodDays: number;
  attached: Attachments | null;
}

/**
 * What could break, in the order an approver needs it: services used but not narrowed, services
 * whose access goes although they were used (before the tracking period), the limit of the evidence
 * for what was narrowed, and the principals the policy is attached to.
 */
export function risksOf(input: RiskInput): string[] {
  const risks: string[] = [];
  for (const kept of input.kept) risks.push(`${kept.grant} stays in ${kept.statement}, not narrowed: ${kept.reason}`);
  for (const [service, usedOn] of Object.entries(input.removedUsed).sort()) {
    risks.push(`${service}: access removed although used on ${day(usedOn)}, longer ago than IAM's ${input.trackingPeriodDays}-day tracking period`);
  }
  const narrowed = Object.entries(input.narrowed).sort(([a], [b]) => a.localeCompare(b));
  if (narrowed.length > 0) {
    // Both sources see management actions only ("Data events not available", access-analyzer-policy-generation.html).
    const list = narrowed.map(([service, sources]) => `${service} (${sources.join('; ')})`).join(', ');
    risks.push(
      `narrowed to the actions on record: ${list}; neither IAM last-accessed data nor policy generation records data events such as S3 object reads and writes, so such actions, if used, are no longer allowed`,
    );
  }
  const { attached } = input;
  if (attached && attached.roles.length + attached.users.length + attached.groups.length > 0) {
    const groups = attached.groups.length > 0 ? '; policy generation cannot analyse a group: its members count as the users IAM last-accessed data names' : '';
    risks.push(`the policy is attached to ${describeAttachments(attached)}: each loses what the new version no longer allows${groups}`);
  }
  return risks;
}
