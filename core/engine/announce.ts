import { type AnyRule, type ChangeRecord, describeError, type Notification, type PendingApproval } from '../model/index.ts';
import type { Announcer, EngineLog } from './ports.ts';

/** The outcomes people hear about; the rest stay in the table and the log. */
const ANNOUNCED = new Set(['remediated', 'pending-approval', 'notified', 'failed', 'rolled-back', 'exempted']);

/** Whether a record is posted: announced outcomes, and every outcome of an approval someone is waiting on. */
export function isAnnounced(record: Pick<ChangeRecord, 'outcome' | 'approvalId'>): boolean {
  return ANNOUNCED.has(record.outcome) || Boolean(record.approvalId);
}

/**
 * A record whose message has not gone out yet (the post failed, or the process stopped before it),
 * or whose earlier message (of a failed attempt) still waits to be updated.
 */
export function needsAnnouncement(record: ChangeRecord): boolean {
  const announced = isAnnounced(record) || messageOf(record) !== undefined;
  return record.status === 'final' && announced && (record.notification === undefined || record.notification.status === 'pending');
}

/** The Slack message a record has (its own, posted by an earlier attempt of it). */
export function messageOf(record: Pick<ChangeRecord, 'notification'>): { channel: string; ts: string } | undefined {
  const { channel, ts } = record.notification ?? {};
  return channel && ts ? { channel, ts } : undefined;
}

/**
 * A failed record a retry may write over, with the message it posted. The table refuses to write
 * over it unless the new version carries that message, so that the retry's outcome updates the
 * message instead of posting a second one (one message per record).
 */
export function earlierMessage(record: ChangeRecord | undefined): Notification | undefined {
  if (record?.status !== 'final' || record.outcome !== 'failed' || record.needsPerson) return undefined;
  return messageOf(record) ? record.notification : undefined;
}

export interface AnnounceContext {
  announcer: Announcer | undefined;
  log: EngineLog;
  rule: Pick<AnyRule, 'title' | 'risk' | 'resource'>;
  approval?: PendingApproval | undefined;
  note?: string;
  /** Look for a message already posted for this record before posting (retries, recoveries). */
  lookFirst?: boolean;
}

/**
 * Posts a record (or updates the approval request it answers) and says where it went. Never
 * throws: a failed post is a `pending` notification, posted again by the next delivery.
 */
export async function announceRecord(record: ChangeRecord, context: AnnounceContext): Promise<Notification> {
  const attempts = (record.notification?.attempts ?? 0) + 1;
  const { announcer, approval, rule } = context;
  const waiting = record.outcome === 'pending-approval' && approval?.status === 'pending';
  const id = record.resource.slice(record.resource.indexOf('/') + 1);
  const consoleUrl = rule.resource.consoleUrl?.(id, record.region);
  if (!announcer) {
    context.log.info(`record ${record.recordId}: ${record.outcome}: ${record.reason}`, { recordId: record.recordId });
    return { status: 'log-only', attempts };
  }
  try {
    // The approval's question is updated with its outcome; a record that has a message of its own updates it.
    const updates = (record.outcome !== 'pending-approval' && approval?.message ? approval.message : undefined) ?? messageOf(record);
    const notification = await announcer.announce(
      {
        record,
        ruleTitle: rule.title,
        risk: approval?.risk ?? rule.risk,
        ...(waiting && approval ? { approvalId: approval.approvalId } : {}),
        ...(approval ? { approval } : {}),
        ...(updates ? { updates } : {}),
        ...(context.note ? { note: context.note } : {}),
        ...(consoleUrl ? { consoleUrl } : {}),
      },
      { lookFirst: context.lookFirst === true || attempts > 1 || record.recovered === true },
    );
    return { ...notification, attempts };
  } catch (error) {
    context.log.warn(`record ${record.recordId} did not reach ${announcer.kind}: ${describeError(error)}`);
    return { status: 'pending', attempts, lastError: describeError(error).slice(0, 500) };
  }
}

export function notificationResult(notification: Notification | undefined): 'posted' | 'sent' | 'log-only' | 'failed' | undefined {
  if (!notification) return undefined;
  return notification.status === 'pending' ? 'failed' : notification.status;
}
