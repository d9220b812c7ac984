import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { z } from 'zod';
import { parseStrictJson } from '../intake/safe-json.ts';
import { APPROVAL_ID, type Decision, decideApproval, MAX_EXEMPTION_DAYS, putBack } from '../engine/decide.ts';
import type { EngineLog, Ledger } from '../engine/ports.ts';
import { describeError, type PendingApproval } from '../model/index.ts';
import { escapeText, exemptionModal, recordMessage } from './messages.ts';
import type { SlackApi } from './notifier.ts';
import { checkSignatureHeaders, verifySlackSignature } from './signature.ts';

/** Slack's interaction payloads are a few KB; anything far larger is not from Slack. */
export const MAX_BODY_BYTES = 64 * 1024;
/**
 * Slack wants the acknowledgement within 3 seconds. Everything that waits on Slack (the approver
 * group, updating the message, answering the user) gets this long, then the request is
 * acknowledged anyway.
 */
export const SLACK_COURTESY_MS = 1_000;
/** How long the members of the approver group are trusted before Slack is asked again. */
export const GROUP_CACHE_MS = 5 * 60 * 1000;

/** Everything a click does is answered within Slack's 3 seconds: this much for all of it, the rest for the network. */
export const CLICK_BUDGET_MS = 2_500;

/** At most `ms`, and no more than the request has left. */
function left(deps: InteractivityDeps, ms: number): number {
  if (deps.deadline === undefined) return ms;
  return Math.max(0, Math.min(ms, deps.deadline - (deps.now ?? Date.now)()));
}

async function atMost<T>(work: Promise<T>, ms: number, log: EngineLog, what: string): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => {
      log.warn(`Slack did not answer within ${ms} ms (${what}); going on without it`);
      resolve(undefined);
    }, ms);
  });
  try {
    return await Promise.race([work.catch(() => undefined), late]);
  } finally {
    clearTimeout(timer);
  }
}

export interface Approvers {
  users: ReadonlySet<string>;
  /** Members of this Slack user group may approve too (needs the usergroups:read scope). */
  group?: string | undefined;
}

/** A decision taken here, to be carried out where the resource is: this account, or a member of the hub. */
export interface DecisionSink {
  deliver(approval: PendingApproval, decision: { decision: Decision; by: string; days?: number; reason?: string }): Promise<void>;
  /**
   * Whether the approval's resource is in another (member) account: its stack carries out every
   * decision and reports back. In this account, only approvals travel (to the rule's function).
   */
  isRemote(approval: PendingApproval): boolean;
  /** Whether a stack this endpoint serves can carry the approval out (its own account, or a member of the hub). */
  serves(approval: PendingApproval): boolean;
}

export interface InteractivityDeps {
  ledger: Ledger;
  slack: SlackApi;
  sink: DecisionSink;
  signingSecret: () => Promise<string>;
  approvers: Approvers;
  suppressionDays: number;
  log: EngineLog;
  now?: () => number;
  /** When the answer to the current request is due (set per request). */
  deadline?: number;
}

const SLACK_USER = /^[UW][A-Z0-9]{2,20}$/;

const blockActions = z.object({
  type: z.literal('block_actions'),
  trigger_id: z.string().max(256).optional(),
  user: z.object({ id: z.string().regex(SLACK_USER, 'expected a Slack user id') }),
  actions: z.array(z.object({ action_id: z.enum(['approve', 'reject', 'exempt']), value: z.string().max(64) })).length(1, 'expected exactly one action'),
  container: z.object({ channel_id: z.string().max(32).optional(), message_ts: z.string().max(32).optional() }).optional(),
  channel: z.object({ id: z.string().max(32) }).optional(),
});

const viewSubmission = z.object({
  type: z.literal('view_submission'),
  user: z.object({ id: z.string().regex(SLACK_USER, 'expected a Slack user id') }),
  view: z.object({
    callback_id: z.literal('driftfix_exempt'),
    private_metadata: z.string().max(64),
    state: z.object({
      values: z.object({
        days: z.object({ value: z.object({ value: z.string().max(8).nullish() }) }),
        reason: z.object({ value: z.object({ value: z.string().max(10_000).nullish() }) }),
      }),
    }),
  }),
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
const respondJson = (body: unknown): APIGatewayProxyStructuredResultV2 => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/**
 * The Slack interactivity endpoint: verify the signature, authorise the user, decide with a
 * conditional write, hand the decision to where it is carried out, acknowledge within Slack's
 * 3 seconds. Holds no permission on any account's resources.
 */
export async function handleSlackAction(event: APIGatewayProxyEventV2, deps: InteractivityDeps): Promise<APIGatewayProxyStructuredResultV2> {
  const now = deps.now ?? Date.now;
  if (event.requestContext?.http?.method !== 'POST') return respond(405, 'method not allowed');
  const rawBody = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
  if (Buffer.byteLength(rawBody, 'utf8') > MAX_BODY_BYTES) return respond(413, 'request too large');
  deps = { ...deps, deadline: now() + CLICK_BUDGET_MS };

  const header = (name: string) => Object.entries(event.headers ?? {}).find(([key]) => key.toLowerCase() === name)?.[1];
  const signed = { timestamp: header('x-slack-request-timestamp'), signature: header('x-slack-signature'), nowSeconds: Math.floor(now() / 1000) };
  // Refused without the secret where the headers alone say so: such requests never cost a secret read.
  const headers = checkSignatureHeaders(signed);
  const check = headers.valid ? verifySlackSignature({ ...signed, signingSecret: await deps.signingSecret(), rawBody }) : headers;
  if (!check.valid) {
    deps.log.warn(`refused a Slack request: ${check.reason}`, { sourceIp: event.requestContext?.http?.sourceIp });
    return respond(401, 'invalid signature');
  }
  const payloadText = new URLSearchParams(rawBody).get('payload');
  if (!payloadText) return respond(400, 'no payload');
  let payload: unknown;
  try {
    payload = parseStrictJson(payloadText, { maxBytes: MAX_BODY_BYTES, maxDepth: 16 });
  } catch {
    return respond(400, 'payload is not valid JSON');
  }
  const submitted = viewSubmission.safeParse(payload);
  if (submitted.success) return handleExemptionSubmit(submitted.data, deps, now);
  const clicked = blockActions.safeParse(payload);
  if (!clicked.success) return respond(400, 'not a driftfix approval action');
  return handleClick(clicked.data, deps, now);
}

async function handleClick(parsed: z.infer<typeof blockActions>, deps: InteractivityDeps, now: () => number): Promise<APIGatewayProxyStructuredResultV2> {
  const user = parsed.user.id;
  const [action] = parsed.actions;
  if (!action) return respond(400, 'no action');
  const channel = parsed.container?.channel_id ?? parsed.channel?.id;
  const messageTs = parsed.container?.message_ts;
  const tell = async (text: string) => {
    if (channel) await atMost(deps.slack.tellUser(channel, user, text), left(deps, SLACK_COURTESY_MS), deps.log, 'answering the user');
  };
  if (!(await isApprover(user, deps))) {
    deps.log.warn('a Slack user who is not an approver clicked an approval button', { user, approvalId: action.value });
    await tell('You are not allowed to approve, reject or exempt driftfix changes. Ask one of the approvers.');
    return respond(200);
  }
  if (!APPROVAL_ID.test(action.value)) {
    await tell('That button does not carry a driftfix approval id.');
    return respond(200);
  }
  const approval = await deps.ledger.getApproval(action.value);
  if (!approval) {
    await tell('That approval does not exist (any more).');
    return respond(200);
  }
  // Buttons count only on the message that asked; an approval that was never posted is decided from a terminal.
  if (!approval.message) {
    deps.log.warn('a click for an approval whose request was never posted', { user, approvalId: approval.approvalId, channel, messageTs });
    await tell('This approval has no request message on record, so it cannot be decided from Slack; use `npm run approvals` from a terminal.');
    return respond(200);
  }
  if (approval.message.channel !== channel || approval.message.ts !== messageTs) {
    deps.log.warn('an approval button was used from another message', { user, approvalId: approval.approvalId, channel, messageTs });
    await tell('That button does not belong to this approval request.');
    return respond(200);
  }
  // An approval no stack behind this endpoint can apply would stay "approved… applying" for ever.
  if (!deps.sink.serves(approval)) {
    deps.log.warn('a click for an approval of an account this endpoint does not serve', { user, approvalId: approval.approvalId, account: approval.finding.account });
    await tell(`Nothing changed: this approval is for ${approval.finding.account}/${approval.finding.region}, which this driftfix does not serve.`);
    return respond(200);
  }
  if (action.action_id === 'exempt') {
    if (approval.status !== 'pending' || Date.parse(approval.expiresAt) <= now()) {
      await tell(`Nothing changed: approval is ${approval.status === 'pending' ? 'expired' : approval.status}.`);
      return respond(200);
    }
    if (!parsed.trigger_id) return respond(400, 'no trigger_id');
    // The trigger id is valid for 3 seconds (views.open): the modal opens now, the decision comes with its submission.
    await atMost(deps.slack.openModal(parsed.trigger_id, exemptionModal(approval.approvalId, approval.resource, MAX_EXEMPTION_DAYS)), left(deps, 2_000), deps.log, 'opening the exception form');
    return respond(200);
  }
  return decide(approval, { decision: action.action_id, by: user }, deps, now, tell);
}

async function handleExemptionSubmit(parsed: z.infer<typeof viewSubmission>, deps: InteractivityDeps, now: () => number): Promise<APIGatewayProxyStructuredResultV2> {
  const user = parsed.user.id;
  const errors = (fields: Record<string, string>) => respondJson({ response_action: 'errors', errors: fields });
  if (!(await isApprover(user, deps))) return errors({ reason: 'You are not allowed to grant exceptions.' });
  const approvalId = parsed.view.private_metadata;
  const approval = APPROVAL_ID.test(approvalId) ? await deps.ledger.getApproval(approvalId) : undefined;
  if (!approval?.message) return errors({ reason: 'That approval does not exist (any more).' });
  if (!deps.sink.serves(approval)) return errors({ reason: `This approval is for ${approval.finding.account}/${approval.finding.region}, which this driftfix does not serve.` });
  const daysText = parsed.view.state.values.days.value.value ?? '';
  const days = /^\d{1,3}$/.test(daysText) ? Number(daysText) : Number.NaN;
  const reason = (parsed.view.state.values.reason.value.value ?? '').trim();
  if (!Number.isInteger(days) || days < 1 || days > MAX_EXEMPTION_DAYS) return errors({ days: `A whole number of days from 1 to ${MAX_EXEMPTION_DAYS}.` });
  if (!reason) return errors({ reason: 'Say why the resource is exempt.' });
  let refusal: string | undefined;
  const done = await decide(approval, { decision: 'exempt', by: user, days, reason }, deps, now, async (text) => {
    refusal = text;
  });
  if (refusal) return errors({ reason: refusal });
  return done.statusCode === 200 ? respondJson({}) : done;
}

async function decide(
  approval: PendingApproval,
  request: { decision: Decision; by: string; days?: number; reason?: string },
  deps: InteractivityDeps,
  now: () => number,
  tell: (text: string) => Promise<void>,
): Promise<APIGatewayProxyStructuredResultV2> {
  const remote = deps.sink.isRemote(approval);
  const outcome = await decideApproval(deps.ledger, { approvalId: approval.approvalId, ...request, now: now(), suppressionDays: deps.suppressionDays, copyOnly: remote });
  if (outcome.kind === 'refused') {
    await tell(`Nothing changed: ${outcome.reason}.`);
    return respond(200);
  }
  const { by } = request;
  deps.log.info(`approval ${approval.approvalId} ${outcome.approval.status} by ${by}`, { approvalId: approval.approvalId, rule: approval.ruleId, resource: approval.resource, decidedBy: by });
  const note =
    request.decision === 'approve'
      ? `Approved by <@${by}>; applying the change…`
      : request.decision === 'reject'
        ? `Rejected by <@${by}>. driftfix will not propose this fix for ${approval.resource} again until ${outcome.suppression?.until ?? ''}.`
        : `Exempted by <@${by}> until ${outcome.exemption?.until ?? ''}: ${escapeText(request.reason ?? '')}`;
  // The message first: the fix may finish (and update it with the result) before this returns.
  await atMost(updateApprovalMessage(deps, outcome.approval, note), left(deps, SLACK_COURTESY_MS), deps.log, 'updating the message');
  if (request.decision === 'approve' || remote) {
    try {
      await deps.sink.deliver(outcome.approval, request);
    } catch (error) {
      deps.log.error(`could not hand decision on ${approval.approvalId} over: ${describeError(error)}`);
      // Nobody would carry it out: put it back, buttons included, so that the click can be repeated.
      const reverted = await putBack(deps.ledger, outcome.approval, { remote });
      if (!reverted) {
        // The approval moved on meanwhile: the hand-over reached driftfix after all (only its answer
        // was lost), and the change is under way or done. Its result updates the message.
        await tell('The answer to the hand-over was lost, but driftfix received the decision: the message shows the result when it is done.');
        return respond(200);
      }
      await atMost(updateApprovalMessage(deps, { ...approval, status: 'pending' }, 'The decision could not be handed over; nothing changed. Please try again.', true), left(deps, SLACK_COURTESY_MS), deps.log, 'updating the message');
      await tell('The decision could not be handed to driftfix; nothing changed. Please try again.');
      return respond(200);
    }
  }
  return respond(200);
}

/** Approvers by id, or by membership of the approver group, read at most once a while and never waited on past 1 s. */
const groupCache = new Map<string, { at: number; members: Promise<ReadonlySet<string>> }>();

async function isApprover(user: string, deps: InteractivityDeps): Promise<boolean> {
  if (deps.approvers.users.has(user)) return true;
  const group = deps.approvers.group;
  if (!group) return false;
  const now = (deps.now ?? Date.now)();
  let cached = groupCache.get(group);
  if (!cached || now - cached.at > GROUP_CACHE_MS) {
    const members = deps.slack.groupMembers(group).then((ids) => new Set(ids));
    cached = { at: now, members };
    groupCache.set(group, cached);
    members.catch((error: unknown) => {
      groupCache.delete(group);
      deps.log.warn(`could not read approver group ${group}: ${describeError(error)}`);
    });
  }
  const members = await atMost(cached.members, left(deps, SLACK_COURTESY_MS), deps.log, 'reading the approver group');
  return members?.has(user) ?? false;
}

/** Forgets the cached approver group (tests; a deployment forgets it with the container). */
export function forgetApproverGroups(): void {
  groupCache.clear();
}

/** Replaces the buttons with the decision, so nobody clicks a decided request again. */
export async function updateApprovalMessage(
  deps: Pick<InteractivityDeps, 'ledger' | 'slack' | 'log'>,
  approval: PendingApproval,
  note: string,
  withButtons = false,
): Promise<void> {
  if (!approval.message) return;
  const record = await deps.ledger.getRecord(approval.recordId);
  if (!record) return;
  try {
    await deps.slack.update(
      approval.message,
      recordMessage({
        record,
        ruleTitle: approval.ruleTitle,
        risk: approval.risk,
        note,
        ...(withButtons ? { approvalId: approval.approvalId } : {}),
        ...(approval.decidedBy && !withButtons ? { decidedBy: approval.decidedBy } : {}),
      }),
      record.recordId,
    );
  } catch (error) {
    deps.log.warn(`could not update the approval message: ${describeError(error)}`);
  }
}
