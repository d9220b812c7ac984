import { createHash } from 'node:crypto';
import type { Mode, Outcome, Risk } from './constants.ts';
import type { Finding } from './finding.ts';
import type { Step } from './rule.ts';

/** What the bot decided about one finding, and everything it did for it. */
export interface ChangeRecord {
  recordId: string;
  /**
   * `in-progress` is the intent, written before the first change with the plan and the state
   * before it: whoever finds it unfinished looks at the resource and completes it.
   */
  status: 'in-progress' | 'final';
  eventId: string;
  ruleId: string;
  /** The resource key: `<type>/<id>`. */
  resource: string;
  account: string;
  region: string;
  mode: Mode;
  outcome: Outcome;
  reason: string;
  trigger: Finding['trigger'];
  replayed: boolean;
  before?: { summary: string; state: unknown };
  after?: { summary: string; state: unknown };
  steps: Step[];
  /** The AWS calls of the invocation that wrote this version of the record, and how many changed something. */
  calls: string[];
  writes: number;
  approvalId?: string;
  /** Who decided an approved change, a rollback or an exception: a Slack user id or `cli:<name>`. */
  decidedBy?: string;
  /** What could break, as the plan said: shown first to an approver. */
  risks?: string[];
  /** Whether the record reached Slack (or the hub); `pending` ones are posted again on the next delivery. */
  notification?: Notification;
  /** A rollback record names the record it undid; the undone record names its rollback. */
  rollbackOf?: string;
  rolledBackBy?: string;
  /** Completed by a later invocation from what it saw of the resource, after the first one stopped. */
  recovered?: boolean;
  /** A failure no retry can settle (the resource is in neither the state before nor after): a person decides. */
  needsPerson?: boolean;
  /** While in progress: who holds the claim, until when (epoch ms), and on which lock key. */
  claim?: { owner: string; leaseUntil: number; lockKey: string };
  createdAt: string;
  updatedAt: string;
}

export interface Notification {
  /** `sent`: handed to the hub stack, which posts it. */
  status: 'pending' | 'posted' | 'log-only' | 'sent';
  channel?: string;
  ts?: string;
  attempts: number;
  lastError?: string;
}

export const APPROVAL_STATUSES = ['pending', 'approved', 'rejected', 'exempted', 'applied', 'stale', 'failed'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

export interface PendingApproval {
  approvalId: string;
  /**
   * pending → approved | rejected | exempted (a person); approved → applied | stale | failed (the
   * rule's function).
   */
  status: ApprovalStatus;
  recordId: string;
  eventId: string;
  ruleId: string;
  ruleTitle: string;
  resource: string;
  finding: Finding;
  /** The part of the resource the question is about (see `decisionKey`). */
  scope?: string;
  steps: Step[];
  reason: string;
  risks?: string[];
  createdAt: string;
  expiresAt: string;
  risk: Risk;
  /** The Slack message that asks for the decision, updated with the outcome. */
  message?: { channel: string; ts: string };
  decidedBy?: string;
  decidedAt?: string;
  resultRecordId?: string;
}

/** A rejected fix is not proposed again for this rule and resource until `until`. */
/**
 * What a person's decision is about: a rule and a resource, and, for rules whose plan depends on
 * the finding (which ports of a security group a Config rule flags), that part of the resource.
 * Approvals, rejections and exceptions are keyed by it.
 */
export function decisionKey(subject: { ruleId: string; resource: string; scope?: string | undefined }): string {
  return subject.scope ? `${subject.ruleId}#${subject.resource}#${subject.scope}` : `${subject.ruleId}#${subject.resource}`;
}

/**
 * The keys a Reject or an exception is kept under, and that a later decision checks: the decision's
 * own key and, where its scope lists parts (`ports:22,3389`), one key per part (`ports:22`,
 * `ports:3389`). A question about any part of a rejected or exempted one meets it, whatever else
 * it asks about.
 */
export function decisionParts(subject: { ruleId: string; resource: string; scope?: string | undefined }): string[] {
  const keys = [decisionKey(subject)];
  const listed = /^([a-z-]+):(.+,.+)$/.exec(subject.scope ?? '');
  const parts = listed ? [...new Set((listed[2] as string).split(','))] : [];
  // Each key costs two condition checks in a transaction (at most 100 items): a longer list is
  // decided as a whole.
  if (listed && parts.length <= MAX_DECISION_PARTS) {
    for (const part of parts) keys.push(decisionKey({ ...subject, scope: `${listed[1]}:${part}` }));
  }
  return [...new Set(keys)];
}

/** Parts kept one by one at most; beyond, a decision is kept under its own key only. */
export const MAX_DECISION_PARTS = 12;

/**
 * What a decision about `subject` must not meet: a Reject or an exception kept under any of its
 * parts, or one about the whole resource (no scope), which covers every part.
 */
export function guardKeys(subject: { ruleId: string; resource: string; scope?: string | undefined }): string[] {
  return subject.scope ? [...decisionParts(subject), decisionKey({ ruleId: subject.ruleId, resource: subject.resource })] : decisionParts(subject);
}

export interface Suppression {
  ruleId: string;
  resource: string;
  /** The part of the resource the rejected question was about (see `decisionKey`). */
  scope?: string;
  until: string;
  by: string;
  approvalId: string;
}

/** A time-boxed exception: the rule leaves the resource alone until `until`, for a stated reason. */
export interface Exemption {
  ruleId: string;
  resource: string;
  scope?: string;
  until: string;
  by: string;
  reason: string;
  recordId: string;
  approvalId?: string;
}

/** Of the exceptions found under a decision's keys (`decisionParts`), the one that lasts longest. */
export function latestEnding<T extends { until: string }>(found: Array<T | undefined>): T | undefined {
  return found.filter((item): item is T => item !== undefined).sort((a, b) => b.until.localeCompare(a.until))[0];
}

/** One record per (event, rule): a redelivered event finds the record of its first delivery. */
export function recordIdFor(eventId: string, ruleId: string): string {
  return `rec-${createHash('sha256').update(`${eventId}\n${ruleId}`).digest('hex').slice(0, 24)}`;
}

/** Why a person's Reject or exception in force stops this change; undefined when none is. */
export function guardReason(found: { suppression?: Suppression | undefined; exemption?: Exemption | undefined }, nowMs: number): string | undefined {
  const now = new Date(nowMs).toISOString();
  if (found.suppression && found.suppression.until > now) {
    const { until, by, approvalId } = found.suppression;
    return `suppressed until ${until}: ${by.replace(/^cli:/, '')} rejected this fix (approval ${approvalId})`;
  }
  if (found.exemption && found.exemption.until > now) {
    const { until, by, reason } = found.exemption;
    return `exempted until ${until} by ${by.replace(/^cli:/, '')}: ${reason}`;
  }
  return undefined;
}
