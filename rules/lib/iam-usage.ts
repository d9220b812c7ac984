import { dataEventTypes } from './iam-data-events.ts';

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
 * "Recent activity usually appears within four hours" (IAM User Guide, "Things to know about last
 * accessed information"): a policy changed more recently than this before IAM's report may have been
 * used in ways the report does not show yet.
 */
export const REPORTING_LAG_MS = 4 * 3_600_000;

/** The policy changed (ISO) less than REPORTING_LAG_MS before IAM's report (ISO): the report cannot show yet how it is used. */
export function changedTooRecently(changedAt: string, reportedAt: string): boolean {
  return Boolean(changedAt) && Date.parse(reportedAt) - Date.parse(changedAt) < REPORTING_LAG_MS;
}
/**
 * A service used later than its last tracked action (by more than this) was used through an action
 * IAM does not track: action last-accessed data covers management actions only ("Refine permissions
 * in AWS using last accessed information", https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_last-accessed.html).
 * Services with data events never get this far: they are kept whenever used.
 */
export const UNTRACKED_USE_MARGIN_MS = 5 * 60_000;

export const LAST_ACCESSED_EVIDENCE = 'IAM last-accessed (action level)';
export const NOT_ATTACHED = 'no usage to keep: the policy is attached to nothing';

/** Why a used service keeps its wildcard, in short: the approval lists the services by these. */
export const KEPT_BECAUSE = {
  dataPlane: "data-plane actions never in IAM's last-accessed data or in policy generation",
  untracked: 'IAM did not track every action used',
  unknown: 'IAM reported an action the IAM action catalog does not know',
  beforeWindow: "used before policy generation's window",
  notAction: 'a service wildcard would also allow what the NotAction excludes',
} as const;

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
  /** Exact actions (a service whose generated actions hold a wildcard is not narrowed by it). */
  actions: string[];
  /** `Access Analyzer policy generation over trail X, <start> to <end>` */
  evidence: string;
  /** Where the CloudTrail window analysed starts (ISO; the latest start over the principals): earlier uses are not in it. */
  windowStart: string;
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
  /** Used, but which actions cannot be told: the service's grant stays. `short`: one of KEPT_BECAUSE. */
  | { kind: 'keep'; reason: string; short: string }
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
function untrackedUse(used: ServiceUsage, by: string): string | null {
  const times = Object.values(used.actions).map((time) => Date.parse(time));
  if (times.length === 0) return `used on ${day(used.lastUsed)}${by}, and IAM tracked none of the actions used`;
  const latest = Math.max(...times);
  if (Date.parse(used.lastUsed) - latest > UNTRACKED_USE_MARGIN_MS) {
    return `used on ${day(used.lastUsed)}${by}, after the last action IAM tracked (${day(new Date(latest).toISOString())}): an action IAM does not track was used`;
  }
  return null;
}

function listed(items: readonly string[], max = 3): string {
  return items.length > max ? `${items.slice(0, max).join(', ')} and ${items.length - max} more` : items.join(', ');
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
  const by = used.lastEntity ? ` by ${principalName(used.lastEntity)}` : '';
  const dataEvents = dataEventTypes(service);
  if (dataEvents) {
    // Neither source records data-plane actions: the used management actions would be all that is left.
    const reason = `used on ${day(used.lastUsed)}${by}; its data-plane actions (data events on ${listed(dataEvents)}) are never in IAM's last-accessed data or in policy generation`;
    return { kind: 'keep', reason, short: KEPT_BECAUSE.dataPlane };
  }
  if (used.unknownActions && used.unknownActions.length > 0) {
    // Whatever else says so, an action IAM saw used is never cut because the catalog lacks it.
    return { kind: 'keep', reason: `used on ${day(used.lastUsed)}${by}, and IAM reported ${used.unknownActions.join(', ')}, which the IAM action catalog does not know`, short: KEPT_BECAUSE.unknown };
  }
  const generated = usage.generated?.[service];
  if (generated && Date.parse(used.lastUsed) < Date.parse(generated.windowStart)) {
    const reason = `used on ${day(used.lastUsed)}${by}, before the window policy generation analysed (from ${day(generated.windowStart)}), which cannot show that use`;
    return { kind: 'keep', reason, short: KEPT_BECAUSE.beforeWindow };
  }
  const unexplained = untrackedUse(used, by);
  if (unexplained && !generated) {
    const note = usage.generationNotes?.[service];
    return { kind: 'keep', reason: note ? `${unexplained}; ${note}` : unexplained, short: KEPT_BECAUSE.untracked };
  }
  const because: Record<string, string> = {};
  for (const action of Object.keys(used.actions)) because[action] = LAST_ACCESSED_EVIDENCE;
  for (const action of generated?.actions ?? []) because[action] ??= generated?.evidence ?? '';
  return { kind: 'narrow', actions: Object.keys(because).sort(), because };
}

/** Used services whose actions IAM last-accessed data alone cannot tell, and policy generation could: never data-plane ones. */
export function servicesNeedingEvidence(usage: Usage, granted: (service: string) => boolean): string[] {
  return Object.keys(usage.services)
    .filter((service) => granted(service) && !usage.services[service]?.unknownActions?.length && !dataEventTypes(service))
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
