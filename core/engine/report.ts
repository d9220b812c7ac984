import type { ChangeRecord } from '../model/index.ts';
import { announceRecord, needsAnnouncement, notificationResult } from './announce.ts';
import type { EventResult } from './results.ts';
import type { Run } from './run.ts';

/**
 * A delivery of an event that was handled before: nothing is done again; the answer is the
 * record as it is now, and the approval it waits on as it is now. A record Slack never got is
 * posted (once: an earlier post is looked for first).
 */
export async function reportExisting(run: Run, existing: ChangeRecord): Promise<EventResult> {
  let outcome = existing.outcome;
  let reason = existing.reason;
  if (existing.outcome === 'pending-approval' && existing.approvalId) {
    const approval = await run.ledger.getApproval(existing.approvalId);
    if (approval && approval.status !== 'pending') {
      const by = approval.decidedBy ? ` by ${approval.decidedBy.replace(/^cli:/, '')}` : '';
      const at = approval.decidedAt ? ` at ${approval.decidedAt}` : '';
      const result = approval.resultRecordId ? await run.ledger.getRecord(approval.resultRecordId) : undefined;
      reason = `approval ${approval.approvalId} was ${approval.status}${by}${at}${result ? `; record ${result.recordId}: ${result.outcome}: ${result.reason}` : ''}`;
      outcome = result?.outcome ?? 'skipped';
    } else if (approval && Date.parse(approval.expiresAt) <= run.now()) {
      reason = `approval ${approval.approvalId} expired unanswered at ${approval.expiresAt}; a new finding asks again`;
      outcome = 'skipped';
    } else if (approval) {
      reason = `still waiting for approval ${approval.approvalId} (until ${approval.expiresAt}): ${existing.reason}`;
    }
  }
  if (existing.rolledBackBy) reason += `; since rolled back (record ${existing.rolledBackBy})`;
  let notification = existing.notification;
  if (needsAnnouncement(existing)) {
    const approval = existing.approvalId ? await run.ledger.getApproval(existing.approvalId) : undefined;
    notification = await announceRecord(existing, { announcer: run.deps.announcer, log: run.deps.log, rule: run.rule, approval, lookFirst: true });
    const message = approval?.status === 'pending' && notification.channel && notification.ts ? { approvalId: approval.approvalId, channel: notification.channel, ts: notification.ts } : undefined;
    await run.ledger.setNotification(existing, notification, message);
  }
  const reported = notificationResult(notification);
  return run.resultOf(
    { ...existing, outcome, reason: `duplicate delivery, already handled: ${reason}` },
    { duplicate: true, ...(reported ? { notification: reported } : {}) },
  );
}
