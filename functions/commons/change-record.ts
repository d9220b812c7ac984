import { createHash } from 'node:crypto';
import type { Step } from '../../rules/types.ts';
import type { Mode, Outcome } from './constants.ts';
import type { Finding } from './finding.ts';

/** What the bot decided about one finding, and everything it did for it. */
export interface ChangeRecord {
  recordId: string;
  /** `in-progress` is written before the first write, so a crash mid-change leaves a trace. */
  status: 'in-progress' | 'final';
  eventId: string;
  ruleId: string;
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
  calls: string[];
  writes: number;
  approvalId?: string;
  /** Who decided an approved change: a Slack user id or `cli:<name>`. */
  decidedBy?: string;
  /** Whether the record reached Slack; `pending` ones are posted again on the next delivery. */
  notification?: Notification;
  createdAt: string;
  updatedAt: string;
}

export interface Notification {
  status: 'pending' | 'posted' | 'log-only';
  channel?: string;
  ts?: string;
  attempts: number;
  lastError?: string;
}

export const APPROVAL_STATUSES = ['pending', 'approved', 'rejected', 'applied', 'stale', 'failed'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

export interface PendingApproval {
  approvalId: string;
  /** pending → approved | rejected (a person); approved → applied | stale | failed (the rule's function). */
  status: ApprovalStatus;
  recordId: string;
  eventId: string;
  ruleId: string;
  ruleTitle: string;
  resource: string;
  finding: Finding;
  steps: Step[];
  reason: string;
  createdAt: string;
  expiresAt: string;
  risk: 'low' | 'medium' | 'high';
  /** The Slack message that asks for the decision, updated with the outcome. */
  message?: { channel: string; ts: string };
  decidedBy?: string;
  decidedAt?: string;
  resultRecordId?: string;
}

/** A rejected fix is not proposed again for this rule and resource until `until`. */
export interface Suppression {
  ruleId: string;
  resource: string;
  until: string;
  by: string;
  approvalId: string;
}

/** One record per (event, rule): a redelivered event finds the record of its first delivery. */
export function recordIdFor(eventId: string, ruleId: string): string {
  return `rec-${createHash('sha256').update(`${eventId}\n${ruleId}`).digest('hex').slice(0, 24)}`;
}

/** Outcomes after which a redelivery of the same event must do nothing again. */
export function isSettled(record: ChangeRecord): boolean {
  return record.status === 'final' && record.outcome !== 'failed';
}
