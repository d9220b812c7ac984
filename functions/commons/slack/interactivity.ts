import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { z } from 'zod';
import { APPROVAL_ID, decideApproval } from '../approval-decisions.ts';
import type { PendingApproval } from '../change-record.ts';
import type { EngineLog } from '../engine.ts';
import { describeError } from '../errors.ts';
import type { ApprovalEmitter } from '../event-emitter.ts';
import type { RecordStore } from '../record-store.ts';
import { parseStrictJson } from '../safe-json.ts';
import { recordMessage } from './slack-messages.ts';
import type { Notifier } from './slack-notifier.ts';
import { verifySlackSignature } from './slack-signature.ts';

/** Slack's interaction payloads are a few KB; anything far larger is not from Slack. */
export const MAX_BODY_BYTES = 64 * 1024;
/**
 * Slack wants the acknowledgement within 3 seconds. Updating the message and answering the user
 * are courtesies: each gets this long, then the request is acknowledged anyway (the rule's
 * function updates the message with the result later).
 */
export const SLACK_COURTESY_MS = 1_000;

async function atMost(work: Promise<unknown>, ms: number, log: EngineLog, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      log.warn(`Slack did not answer within ${ms} ms (${what}); acknowledging anyway`);
      resolve();
    }, ms);
  });
  try {
    await Promise.race([work.then(() => undefined, () => undefined), late]);
  } finally {
    clearTimeout(timer);
  }
}

export interface Approvers {
  users: ReadonlySet<string>;
  /** Members of this Slack user group may approve too (needs the usergroups:read scope). */
  group?: string | undefined;
}

export interface InteractivityDeps {
  store: RecordStore;
  notifier: Notifier;
  emitter: ApprovalEmitter;
  signingSecret: () => Promise<string>;
  approvers: Approvers;
  suppressionDays: number;
  log: EngineLog;
  now?: () => number;
}

const SLACK_USER = /^[UW][A-Z0-9]{2,20}$/;

const payloadSchema = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: z.string().regex(SLACK_USER, 'expected a Slack user id') }),
  actions: z
    .array(z.object({ action_id: z.enum(['approve', 'reject']), value: z.string().max(64) }))
    .length(1, 'expected exactly one action'),
  container: z.object({ channel_id: z.string().max(32).optional(), message_ts: z.string().max(32).optional() }).optional(),
  channel: z.object({ id: z.string().max(32) }).optional(),
});

/** Parses a comma-separated allow-list of Slack user ids; a malformed entry is a deployment error. */
export function parseApprovers(users: string | undefined, group: string | undefined): Approvers {
  const ids = (users ?? '').split(',').map((entry) => entry.trim()).filter(Boolean);
  for (const id of ids) if (!SLACK_USER.test(id)) throw new Error(`SLACK_APPROVERS: "${id}" is not a Slack user id (U…)`);
  if (group && !/^S[A-Z0-9]{2,20}$/.test(group)) throw new Error(`SLACK_APPROVER_GROUP: "${group}" is not a Slack user group id (S…)`);
  return { users: new Set(ids), group: group || undefined };
}

const respond = (statusCode: number, body = ''): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'text/plain; charset=utf-8' },
  body,
});

/**
 * The Slack interactivity endpoint: verify, authorise, decide with a conditional write, hand an
 * approval to the rule's function, acknowledge. Holds no permission on the account's resources.
 */
export async function handleSlackAction(event: APIGatewayProxyEventV2, deps: InteractivityDeps): Promise<APIGatewayProxyStructuredResultV2> {
  const now = deps.now ?? Date.now;
  if (event.requestContext?.http?.method !== 'POST') return respond(405, 'method not allowed');
  const rawBody = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
  if (Buffer.byteLength(rawBody, 'utf8') > MAX_BODY_BYTES) return respond(413, 'request too large');

  const header = (name: string) => {
    const found = Object.entries(event.headers ?? {}).find(([key]) => key.toLowerCase() === name);
    return found?.[1];
  };
  const check = verifySlackSignature({
    signingSecret: await deps.signingSecret(),
    timestamp: header('x-slack-request-timestamp'),
    signature: header('x-slack-signature'),
    rawBody,
    nowSeconds: Math.floor(now() / 1000),
  });
  if (!check.valid) {
    deps.log.warn(`refused a Slack request: ${check.reason}`, { sourceIp: event.requestContext?.http?.sourceIp });
    return respond(401, 'invalid signature');
  }

  const payloadText = new URLSearchParams(rawBody).get('payload');
  if (!payloadText) return respond(400, 'no payload');
  let parsed: z.infer<typeof payloadSchema>;
  try {
    const result = payloadSchema.safeParse(parseStrictJson(payloadText, { maxBytes: MAX_BODY_BYTES, maxDepth: 16 }));
    if (!result.success) return respond(400, 'not a driftfix approval action');
    parsed = result.data;
  } catch {
    return respond(400, 'payload is not valid JSON');
  }
  const user = parsed.user.id;
  const [action] = parsed.actions;
  const channel = parsed.container?.channel_id ?? parsed.channel?.id;
  const messageTs = parsed.container?.message_ts;
  if (!action) return respond(400, 'no action');
  const tell = async (text: string) => {
    if (!channel) return;
    const answer = deps.notifier.tellUser(channel, user, text).catch((error: unknown) => {
      deps.log.warn(`could not answer ${user} in Slack: ${describeError(error)}`);
    });
    await atMost(answer, SLACK_COURTESY_MS, deps.log, 'answering the user');
  };
  const update = (approval: PendingApproval, note: string, withButtons = false) =>
    atMost(updateApprovalMessage(deps, approval, note, withButtons), SLACK_COURTESY_MS, deps.log, 'updating the message');

  if (!(await isApprover(user, deps))) {
    deps.log.warn('a Slack user who is not an approver clicked an approval button', { user, approvalId: action.value });
    await tell('You are not allowed to approve or reject driftfix changes. Ask one of the approvers.');
    return respond(200);
  }
  if (!APPROVAL_ID.test(action.value)) {
    await tell('That button does not carry a driftfix approval id.');
    return respond(200);
  }
  const approval = await deps.store.getApproval(action.value);
  if (!approval) {
    await tell('That approval does not exist (any more).');
    return respond(200);
  }
  // The button must be on the message that asked for this approval; anything else is tampering.
  if (approval.message && (approval.message.channel !== channel || approval.message.ts !== messageTs)) {
    deps.log.warn('an approval button was used from another message', { user, approvalId: approval.approvalId, channel, messageTs });
    await tell('That button does not belong to this approval request.');
    return respond(200);
  }

  const outcome = await decideApproval(deps.store, {
    approvalId: approval.approvalId,
    decision: action.action_id,
    by: user,
    now: now(),
    suppressionDays: deps.suppressionDays,
  });
  if (outcome.kind === 'refused') {
    await tell(`Nothing changed: ${outcome.reason}.`);
    return respond(200);
  }
  deps.log.info(`approval ${approval.approvalId} ${outcome.decision === 'approve' ? 'approved' : 'rejected'} by ${user}`, {
    approvalId: approval.approvalId,
    rule: approval.ruleId,
    resource: approval.resource,
    decidedBy: user,
  });
  if (outcome.decision === 'approve') {
    // The message first: the rule's function may finish (and update it with the result) before we return.
    await update(outcome.approval, `Approved by <@${user}>; applying the change…`);
    try {
      await deps.emitter.emitApproved({ approvalId: approval.approvalId, ruleId: approval.ruleId });
    } catch (error) {
      // Nobody would apply it: put it back, buttons included, so that the click can be repeated.
      await deps.store.transitionApproval(approval.approvalId, { from: 'approved', to: 'pending', set: { decidedBy: '', decidedAt: '' } });
      deps.log.error(`could not hand approval ${approval.approvalId} to its rule: ${describeError(error)}`);
      await update({ ...approval, status: 'pending' }, 'The approval could not be handed over; nothing changed. Please try again.', true);
      await tell('The approval could not be handed to driftfix; nothing changed. Please try again.');
      return respond(200);
    }
  } else {
    const until = outcome.suppression?.until ?? '';
    await update(
      outcome.approval,
      `Rejected by <@${user}>. driftfix will not propose this fix for ${approval.resource} again until ${until}.`,
    );
  }
  return respond(200);
}

async function isApprover(user: string, deps: InteractivityDeps): Promise<boolean> {
  if (deps.approvers.users.has(user)) return true;
  if (!deps.approvers.group) return false;
  try {
    return (await deps.notifier.groupMembers(deps.approvers.group)).includes(user);
  } catch (error) {
    deps.log.warn(`could not read approver group ${deps.approvers.group}: ${describeError(error)}`);
    return false;
  }
}

/** Replaces the buttons with the decision, so nobody clicks a decided request again. */
export async function updateApprovalMessage(
  deps: Pick<InteractivityDeps, 'store' | 'notifier' | 'log'>, approval: PendingApproval, note: string, withButtons = false): Promise<void> {
  if (!approval.message) return;
  const record = await deps.store.getRecord(approval.recordId);
  if (!record) return;
  try {
    await deps.notifier.update(
      approval.message,
      recordMessage({
        record,
        ruleTitle: approval.ruleTitle,
        risk: approval.risk,
        note,
        ...(withButtons ? { approvalId: approval.approvalId } : {}),
        ...(approval.decidedBy && !withButtons ? { decidedBy: approval.decidedBy } : {}),
      }),
    );
  } catch (error) {
    deps.log.warn(`could not update the approval message: ${describeError(error)}`);
  }
}
