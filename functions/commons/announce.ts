import type { AnyRule } from '../../rules/types.ts';
import type { ChangeRecord, PendingApproval } from './change-record.ts';
import { describeError } from './errors.ts';
import type { RecordStore } from './record-store.ts';
import { recordMessage } from './slack/slack-messages.ts';
import type { Notifier } from './slack/slack-notifier.ts';

/** The outcomes people hear about; the rest stay in the table and the log. */
const ANNOUNCED = new Set(['remediated', 'pending-approval', 'notified', 'failed', 'rolled-back']);

export type AnnounceResult = 'posted' | 'failed' | 'log-only' | 'not-announced';

export function isAnnounced(outcome: string): boolean {
  return ANNOUNCED.has(outcome);
}

export function needsAnnouncement(record: ChangeRecord): boolean {
  const status = record.notification?.status;
  return record.status === 'final' && ANNOUNCED.has(record.outcome) && status !== 'posted' && status !== 'log-only';
}

/**
 * Posts a record to Slack (or updates the approval message it belongs to) and notes in the table
 * whether that worked. A record that could not be posted stays marked `pending`: the next
 * delivery of the same event posts it without repeating the change.
 */
export async function announce(
  record: ChangeRecord,
  context: { store: RecordStore; notifier: Notifier; rule: Pick<AnyRule, 'title' | 'risk'>; approval?: PendingApproval | undefined; note?: string },
): Promise<AnnounceResult> {
  const { store, notifier, rule, approval } = context;
  const logOnly = !notifier.enabled && record.status === 'final' && ANNOUNCED.has(record.outcome);
  if (!logOnly && !needsAnnouncement(record)) return 'not-announced';
  const waiting = record.outcome === 'pending-approval' && approval?.status === 'pending';
  const message = recordMessage({
    record,
    ruleTitle: rule.title,
    risk: approval?.risk ?? rule.risk,
    ...(waiting && approval ? { approvalId: approval.approvalId } : {}),
    ...(record.decidedBy ? { decidedBy: record.decidedBy } : {}),
    ...(context.note ? { note: context.note } : {}),
  });
  const attempts = (record.notification?.attempts ?? 0) + 1;
  if (!notifier.enabled) {
    await notifier.post(message);
    // The engine writes log-only records marked so already; saves a write per record.
    if (record.notification?.status !== 'log-only') await store.putRecord({ ...record, notification: { status: 'log-only', attempts } });
    return 'log-only';
  }
  try {
    // An approved change updates the message that asked for it, so the channel reads as one story.
    const target = record.outcome !== 'pending-approval' && approval?.message ? approval.message : undefined;
    let ref = target;
    if (target) await notifier.update(target, message);
    else ref = await notifier.post(message);
    await store.putRecord({ ...record, notification: { status: 'posted', attempts, ...(ref ?? {}) } });
    if (waiting && approval && ref) await store.setApprovalMessage(approval.approvalId, ref);
    return 'posted';
  } catch (error) {
    await store.putRecord({ ...record, notification: { status: 'pending', attempts, lastError: describeError(error).slice(0, 500) } });
    return 'failed';
  }
}
