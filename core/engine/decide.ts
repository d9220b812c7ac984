import { type ChangeRecord, decisionKey, type Exemption, type PendingApproval, recordIdFor, type Suppression } from '../model/index.ts';
import type { Ledger } from './ports.ts';

export type Decision = 'approve' | 'reject' | 'exempt';

export type DecisionOutcome =
  | { kind: 'decided'; decision: Decision; approval: PendingApproval; suppression?: Suppression; exemption?: Exemption; record?: ChangeRecord }
  | { kind: 'refused'; reason: string; approval?: PendingApproval };

export const APPROVAL_ID = /^apr-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const MAX_EXEMPTION_DAYS = 365;
/** An exception's reason: what the form takes and what a member stack accepts from its hub. */
export const MAX_EXEMPTION_REASON = 500;

export interface DecisionRequest {
  approvalId: string;
  decision: Decision;
  /** A Slack user id, or `cli:<name>`. */
  by: string;
  now: number;
  suppressionDays: number;
  /** An exception's length and reason. */
  days?: number | undefined;
  reason?: string | undefined;
  /**
   * The hub's copy of a member account's approval: only its status moves. The suppression, the
   * exception and the open-approval pointer are the member's, written when it takes the decision
   * (at the hub they would be keyed like the hub's own resources).
   */
  copyOnly?: boolean;
}

/**
 * Moves a pending approval to approved, rejected or exempted with one conditional write: a double
 * click, a second approver or a replayed request finds it decided and changes nothing. The same
 * function serves Slack, the terminal and a member stack receiving its hub's decision.
 */
export async function decideApproval(ledger: Ledger, request: DecisionRequest): Promise<DecisionOutcome> {
  if (!APPROVAL_ID.test(request.approvalId)) return { kind: 'refused', reason: 'that is not a driftfix approval id' };
  const at = new Date(request.now).toISOString();
  const current = await ledger.getApproval(request.approvalId);
  if (!current) return { kind: 'refused', reason: 'no such approval' };
  let suppression: Suppression | undefined;
  let exemption: Exemption | undefined;
  let record: ChangeRecord | undefined;
  let moved: boolean;
  const copy = (to: 'approved' | 'rejected' | 'exempted') =>
    ledger.transitionApproval(request.approvalId, { from: 'pending', to, notExpiredAt: at, set: { decidedBy: request.by, decidedAt: at } });
  if (request.decision === 'approve') {
    moved = request.copyOnly
      ? await copy('approved')
      : await ledger.transitionApproval(request.approvalId, {
          from: 'pending',
          to: 'approved',
          notExpiredAt: at,
          set: { decidedBy: request.by, decidedAt: at },
          closeOpen: decisionKey(current),
        });
  } else if (request.decision === 'reject') {
    suppression = {
      ruleId: current.ruleId,
      resource: current.resource,
      ...(current.scope ? { scope: current.scope } : {}),
      until: new Date(request.now + request.suppressionDays * 86_400_000).toISOString(),
      by: request.by,
      approvalId: current.approvalId,
    };
    moved = request.copyOnly ? await copy('rejected') : await ledger.reject(request.approvalId, suppression, at);
  } else {
    const days = request.days;
    const reason = request.reason?.trim();
    if (!days || !Number.isInteger(days) || days < 1 || days > MAX_EXEMPTION_DAYS) {
      return { kind: 'refused', reason: `an exception lasts a whole number of days from 1 to ${MAX_EXEMPTION_DAYS}`, approval: current };
    }
    if (!reason) return { kind: 'refused', reason: 'an exception needs a reason', approval: current };
    if ([...reason].length > MAX_EXEMPTION_REASON) return { kind: 'refused', reason: `an exception's reason is at most ${MAX_EXEMPTION_REASON} characters`, approval: current };
    const until = new Date(request.now + days * 86_400_000).toISOString();
    const exemptionRecordOf = exemptionRecord(current, { until, by: request.by, reason, at });
    exemption = { ruleId: current.ruleId, resource: current.resource, ...(current.scope ? { scope: current.scope } : {}), until, by: request.by, reason, recordId: exemptionRecordOf.recordId, approvalId: current.approvalId };
    if (request.copyOnly) moved = await copy('exempted');
    else {
      record = exemptionRecordOf;
      moved = await ledger.exempt(exemption, record, at);
    }
  }
  const approval = await ledger.getApproval(request.approvalId);
  if (!moved || !approval) return { kind: 'refused', reason: whyNot(approval ?? current, at), ...(approval ? { approval } : {}) };
  return { kind: 'decided', decision: request.decision, approval, ...(suppression ? { suppression } : {}), ...(exemption ? { exemption } : {}), ...(record ? { record } : {}) };
}

/** The record of a time-boxed exception: who, why, until when. */
function exemptionRecord(approval: PendingApproval, exception: { until: string; by: string; reason: string; at: string }): ChangeRecord {
  const who = exception.by.replace(/^cli:/, '');
  return {
    recordId: recordIdFor(`exempt:${approval.approvalId}`, approval.ruleId),
    status: 'final',
    eventId: approval.eventId,
    ruleId: approval.ruleId,
    resource: approval.resource,
    account: approval.finding.account,
    region: approval.finding.region,
    mode: 'approve',
    outcome: 'exempted',
    reason: `exempted until ${exception.until} by ${who}: ${exception.reason}; ${approval.ruleTitle} leaves ${approval.resource} alone until then`,
    trigger: approval.finding.trigger,
    replayed: approval.finding.replayed,
    steps: [],
    calls: [],
    writes: 0,
    approvalId: approval.approvalId,
    decidedBy: exception.by,
    createdAt: exception.at,
    updatedAt: exception.at,
  };
}

function whyNot(approval: PendingApproval, at: string): string {
  if (approval.status === 'pending' && approval.expiresAt <= at) return `approval expired at ${approval.expiresAt}`;
  const by = approval.decidedBy ? ` by ${approval.decidedBy.startsWith('cli:') ? approval.decidedBy.slice(4) : `<@${approval.decidedBy}>`}` : '';
  return `approval was already ${approval.status === 'pending' ? 'changed' : approval.status}${by}${approval.decidedAt ? ` at ${approval.decidedAt}` : ''}`;
}

/**
 * A decision that could not be handed to whoever carries it out is put back to `pending`, so that
 * it can be taken again; the open-question pointer reopens too, except for a member's approval at a
 * hub (the member keeps its own). False when the approval moved on meanwhile: the hand-over landed
 * after all, and only its answer was lost.
 */
export function putBack(ledger: Ledger, approval: PendingApproval, options: { remote: boolean }): Promise<boolean> {
  return ledger.transitionApproval(approval.approvalId, {
    from: approval.status,
    to: 'pending',
    set: { decidedBy: '', decidedAt: '' },
    ...(options.remote ? {} : { reopenOpen: decisionKey(approval) }),
  });
}
