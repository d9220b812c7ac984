import type { PendingApproval, Suppression } from './change-record.ts';
import type { RecordStore } from './record-store.ts';

export type Decision = 'approve' | 'reject';

export type DecisionOutcome =
  | { kind: 'decided'; decision: Decision; approval: PendingApproval; suppression?: Suppression }
  | { kind: 'refused'; reason: string; approval?: PendingApproval };

export const APPROVAL_ID = /^apr-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Moves a pending approval to approved or rejected with one conditional write: a double click, a
 * second approver or a replayed request finds it decided and changes nothing. The same function
 * serves Slack and the terminal.
 */
export async function decideApproval(
  store: RecordStore,
  request: { approvalId: string; decision: Decision; by: string; now: number; suppressionDays: number },
): Promise<DecisionOutcome> {
  if (!APPROVAL_ID.test(request.approvalId)) return { kind: 'refused', reason: 'that is not a driftfix approval id' };
  const at = new Date(request.now).toISOString();
  const to = request.decision === 'approve' ? 'approved' : 'rejected';
  const moved = await store.transitionApproval(request.approvalId, {
    from: 'pending',
    to,
    notExpiredAt: at,
    set: { decidedBy: request.by, decidedAt: at },
  });
  const approval = await store.getApproval(request.approvalId);
  if (!moved || !approval) return { kind: 'refused', reason: whyNot(approval, at), ...(approval ? { approval } : {}) };

  if (request.decision === 'approve') return { kind: 'decided', decision: 'approve', approval };
  const suppression: Suppression = {
    ruleId: approval.ruleId,
    resource: approval.resource,
    until: new Date(request.now + request.suppressionDays * 86_400_000).toISOString(),
    by: request.by,
    approvalId: approval.approvalId,
  };
  await store.putSuppression(suppression);
  return { kind: 'decided', decision: 'reject', approval, suppression };
}

function whyNot(approval: PendingApproval | undefined, at: string): string {
  if (!approval) return 'no such approval';
  if (approval.status === 'pending' && approval.expiresAt <= at) return `approval expired at ${approval.expiresAt}`;
  const by = approval.decidedBy ? ` by ${approval.decidedBy.startsWith('cli:') ? approval.decidedBy.slice(4) : `<@${approval.decidedBy}>`}` : '';
  return `approval was already ${approval.status === 'pending' ? 'changed' : approval.status}${by}${approval.decidedAt ? ` at ${approval.decidedAt}` : ''}`;
}
