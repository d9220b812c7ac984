import { z } from 'zod';
import { assertSafeShape } from '../intake/safe-json.ts';
import { describeIssues, envelopeSchema, PRINTABLE_ASCII, REGION_NAME } from '../intake/schemas.ts';
import { APPROVAL_STATUSES, type ChangeRecord, DETAIL_TYPE, describeError, EVENT_SOURCE, OUTCOME, type PendingApproval } from '../model/index.ts';
import { notificationResult } from './announce.ts';
import type { Announcer, EngineLog, Ledger } from './ports.ts';
import { bare, type EventResult } from './results.ts';

/**
 * The hub's side of an organization: a member stack's record arrives on the hub's bus, is kept
 * (the organization-wide view `npm run approvals -- list` reads) and posted to the one Slack
 * channel, or updates the message it answers. The bus admits the organization only; the record
 * must be about the account that sent it.
 */
export interface HubDeps {
  ledger: Ledger;
  /** Slack: the hub holds the organization's one Slack app. */
  announcer: Announcer;
  log: EngineLog;
  now?: () => number;
  /** Without AWS Organizations: the accounts whose records are taken. */
  memberAccounts?: readonly string[] | undefined;
  /**
   * The hub's own account and region: the hub's stack records itself, so a "member record" from
   * there is refused; the hub account's member stacks in other regions are members.
   */
  ownAccount?: string | undefined;
  ownRegion?: string | undefined;
}

const id = z.string().min(1).max(256).regex(PRINTABLE_ASCII);
const ACCOUNT = z.string().regex(/^\d{12}$/);
const REGION = z.string().regex(REGION_NAME);
const TIME = z.string().min(1).max(40);
const step = z.object({ operation: z.string().min(1).max(128), description: z.string().max(5_000) }).passthrough();
const recordSchema = z
  .object({
    recordId: z.string().regex(/^rec-[0-9a-f]{24}$/),
    status: z.literal('final'),
    eventId: id,
    ruleId: z.string().regex(/^[a-z0-9-]{1,64}$/),
    resource: z.string().min(1).max(2048),
    account: ACCOUNT,
    region: REGION,
    outcome: z.enum(Object.values(OUTCOME) as [string, ...string[]]),
    reason: z.string().max(20_000),
    trigger: z.object({ kind: z.string().min(1).max(32) }).passthrough(),
    approvalId: z.string().regex(/^apr-[0-9a-f-]{36}$/).optional(),
    steps: z.array(step).max(50),
    createdAt: TIME,
    updatedAt: TIME,
  })
  .passthrough();
const approvalSchema = z
  .object({
    approvalId: z.string().regex(/^apr-[0-9a-f-]{36}$/),
    status: z.enum(APPROVAL_STATUSES),
    recordId: z.string().regex(/^rec-[0-9a-f]{24}$/),
    ruleId: z.string().regex(/^[a-z0-9-]{1,64}$/),
    ruleTitle: z.string().min(1).max(200),
    resource: z.string().min(1).max(2048),
    finding: z.object({ account: ACCOUNT, region: REGION, trigger: z.object({ kind: z.string().min(1).max(32) }).passthrough() }).passthrough(),
    steps: z.array(step).max(50),
    reason: z.string().max(20_000),
    risk: z.enum(['low', 'medium', 'high']),
    createdAt: TIME,
    expiresAt: TIME,
  })
  .passthrough();

/** Only AWS console links go into the hub's channel: a member's text cannot carry a link or a mention there. */
const CONSOLE_URL = /^https:\/\/([a-z0-9-]+\.)*console\.(aws\.amazon\.com|amazonaws-us-gov\.com|amazonaws\.cn)\/[^\s<>|]*$/;
const plain = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const detailSchema = z.object({
  record: recordSchema,
  ruleTitle: z.string().min(1).max(200),
  risk: z.enum(['low', 'medium', 'high']),
  approvalId: z.string().regex(/^apr-[0-9a-f-]{36}$/).optional(),
  approval: approvalSchema.optional(),
  note: z.string().max(3000).optional(),
  consoleUrl: z.string().url().max(2048).optional(),
  lookFirst: z.boolean().optional(),
});

export async function relayMemberRecord(raw: unknown, deps: HubDeps): Promise<EventResult> {
  const now = deps.now ?? Date.now;
  try {
    assertSafeShape(raw);
  } catch (error) {
    return bare('rejected', describeError(error));
  }
  const envelope = envelopeSchema(now).safeParse(raw);
  if (!envelope.success) return bare('rejected', describeIssues(envelope.error, ''));
  const { source, account, region } = envelope.data;
  const eventId = envelope.data.id;
  if (source !== EVENT_SOURCE.member || envelope.data['detail-type'] !== DETAIL_TYPE.record) {
    return bare('rejected', `the hub takes member records (${EVENT_SOURCE.member} / ${DETAIL_TYPE.record}) only`, { eventId });
  }
  const ownAccount = deps.ownAccount !== undefined && account === deps.ownAccount;
  if (ownAccount && (deps.ownRegion === undefined || region === deps.ownRegion)) {
    return bare('rejected', `a record from the hub's own stack (${account}, ${region}): the hub's own stack records its own changes`, { eventId });
  }
  if (!ownAccount && deps.memberAccounts && deps.memberAccounts.length > 0 && !deps.memberAccounts.includes(account)) {
    return bare('rejected', `account ${account} is not a member of this hub`, { eventId });
  }
  const parsed = detailSchema.safeParse(envelope.data.detail);
  if (!parsed.success) return bare('rejected', describeIssues(parsed.error, 'detail'), { eventId });
  const detail = parsed.data;
  const record = detail.record as unknown as ChangeRecord;
  const approval = detail.approval as unknown as PendingApproval | undefined;
  // A member speaks for itself only: EventBridge sets `account` to the sender.
  if (record.account !== account || record.region !== region) {
    return bare('rejected', `a record of ${record.account}/${record.region} sent by ${account}/${region}`, { eventId });
  }
  if (approval && (approval.finding.account !== account || approval.finding.region !== region || approval.approvalId !== (record.approvalId ?? approval.approvalId))) {
    return bare('rejected', `approval ${approval.approvalId} is not ${account}/${region}'s or not this record's`, { eventId });
  }
  const before = approval ? await deps.ledger.getApproval(approval.approvalId) : undefined;
  const seen = await deps.ledger.getRecord(record.recordId);
  if (!(await deps.ledger.mirror(record, approval))) {
    return bare('rejected', `record ${record.recordId} or approval ${approval?.approvalId ?? '-'} at the hub belongs to another account than ${account}`, { eventId });
  }
  // A question the hub has already decided is not asked again by a redelivered record.
  const waiting = record.outcome === 'pending-approval' && approval?.status === 'pending' && (!before || before.status === 'pending');
  // The question keeps its message: a later record of the same approval updates it; a record
  // posted before (a redelivery) updates its own message; seen before without one, it is looked for.
  const updates = before?.message ?? (seen?.notification?.channel && seen.notification.ts ? { channel: seen.notification.channel, ts: seen.notification.ts } : undefined);
  const lookFirst = detail.lookFirst === true || (seen !== undefined && !updates);
  const consoleUrl = detail.consoleUrl && CONSOLE_URL.test(detail.consoleUrl) ? detail.consoleUrl : undefined;
  let notification: ChangeRecord['notification'];
  try {
    notification = await deps.announcer.announce(
      {
        record,
        ruleTitle: detail.ruleTitle,
        risk: detail.risk,
        ...(waiting && approval ? { approvalId: approval.approvalId, approval } : {}),
        ...(updates ? { updates } : {}),
        ...(detail.note ? { note: plain(detail.note) } : {}),
        ...(consoleUrl ? { consoleUrl } : {}),
      },
      { lookFirst },
    );
  } catch (error) {
    deps.log.warn(`record ${record.recordId} of ${account} did not reach Slack: ${describeError(error)}`);
    notification = { status: 'pending', attempts: 1, lastError: describeError(error).slice(0, 500) };
  }
  const message = waiting && approval && notification.channel && notification.ts ? { approvalId: approval.approvalId, channel: notification.channel, ts: notification.ts } : undefined;
  await deps.ledger.setNotification(record, notification, message);
  const reported = notificationResult(notification);
  return bare(record.outcome as EventResult['outcome'], `${account}/${region}: ${record.reason}`, {
    rule: record.ruleId,
    resource: record.resource,
    recordId: record.recordId,
    ...(record.approvalId ? { approvalId: record.approvalId } : {}),
    ...(reported ? { notification: reported } : {}),
    // The member's outcome is the member's: only a post that failed here is worth a retry.
    retryable: reported === 'failed',
  });
}
