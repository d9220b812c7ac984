import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { decideApproval, MAX_EXEMPTION_DAYS } from '../../core/engine/decide.ts';
import type { ChangeRecord, Finding, PendingApproval } from '../../core/model/index.ts';
import {
  type DecisionSink,
  forgetApproverGroups,
  GROUP_CACHE_MS,
  handleSlackAction,
  type InteractivityDeps,
  MAX_BODY_BYTES,
  parseApprovers,
} from '../../core/slack/interactivity.ts';
import { exemptionModal, type SlackMessage } from '../../core/slack/messages.ts';
import type { MessageRef, SlackApi } from '../../core/slack/notifier.ts';
import { MemoryLedger } from '../support/memory-ledger.ts';
import { APPROVER, apiRequest, CHANNEL, clickBody, exemptionSubmitBody, SIGNING_SECRET, STRANGER, sign, signedRequest } from '../support/slack.ts';

const RULE = 'example-rule';
const BUCKET = 'site-bucket';
const RESOURCE = `AWS::S3::Bucket/${BUCKET}`;
const DAY = 86_400_000;
const never = <T>() => new Promise<T>(() => {});

/** The Slack Web API as the interactivity endpoint uses it, in memory: what it was asked, and how it misbehaves. */
class FakeSlackApi implements SlackApi {
  readonly told: Array<{ channel: string; user: string; text: string }> = [];
  readonly updates: Array<{ ref: MessageRef; message: SlackMessage; recordId: string }> = [];
  readonly modals: Array<{ triggerId: string; view: Record<string, unknown> }> = [];
  readonly posts: SlackMessage[] = [];
  groupLookups: string[] = [];
  /** The approver group's members, or a lookup that never answers, or one that fails. */
  members: string[] | 'hang' | Error = [];
  hangUpdates = false;
  hangTells = false;
  membersAfterMs = 0;
  failUpdates: Error | undefined;

  async post(message: SlackMessage): Promise<MessageRef> {
    this.posts.push(message);
    return { channel: CHANNEL, ts: '9.000001' };
  }
  async update(ref: MessageRef, message: SlackMessage, recordId: string): Promise<void> {
    if (this.hangUpdates) return never();
    if (this.failUpdates) throw this.failUpdates;
    this.updates.push({ ref, message, recordId });
  }
  async findByRecord(): Promise<MessageRef | undefined> {
    return undefined;
  }
  async tellUser(channel: string, user: string, text: string): Promise<void> {
    this.told.push({ channel, user, text });
    if (this.hangTells) return never();
  }
  async groupMembers(groupId: string): Promise<string[]> {
    this.groupLookups.push(groupId);
    const members = this.members;
    if (members === 'hang') return never();
    if (members instanceof Error) throw members;
    if (this.membersAfterMs > 0) await new Promise((resolve) => setTimeout(resolve, this.membersAfterMs));
    return members;
  }
  async openModal(triggerId: string, view: Record<string, unknown>): Promise<void> {
    this.modals.push({ triggerId, view });
  }
}

/** Where decisions go: recorded, and able to fail. */
class RecordingSink implements DecisionSink {
  readonly delivered: Array<{ approval: PendingApproval; decision: { decision: string; by: string; days?: number; reason?: string } }> = [];
  fail: Error | undefined;
  /** Runs before `fail` is thrown: the hand-over reached driftfix, and only its answer was lost. */
  landed: (() => Promise<void>) | undefined;
  constructor(readonly remote = false) {}
  isRemote(): boolean {
    return this.remote;
  }
  servedAccounts: string[] | undefined;
  serves(approval: PendingApproval): boolean {
    return !this.servedAccounts || this.servedAccounts.includes(approval.finding.account);
  }
  async deliver(approval: PendingApproval, decision: { decision: 'approve' | 'reject' | 'exempt'; by: string; days?: number; reason?: string }): Promise<void> {
    await this.landed?.();
    if (this.fail) throw this.fail;
    this.delivered.push({ approval, decision });
  }
}

let ledger: MemoryLedger;
let slack: FakeSlackApi;
let sink: RecordingSink;
let deps: InteractivityDeps;
let warnings: string[];

beforeEach(() => {
  forgetApproverGroups();
  ledger = new MemoryLedger();
  slack = new FakeSlackApi();
  sink = new RecordingSink();
  warnings = [];
  deps = {
    ledger,
    slack,
    sink,
    signingSecret: async () => SIGNING_SECRET,
    approvers: parseApprovers(APPROVER, undefined),
    suppressionDays: 30,
    log: { info() {}, warn: (message: string) => warnings.push(message), error: (message: string) => warnings.push(message) },
  };
});

let tsCounter = 0;

/** An approval as the engine leaves it in the table: its record, the approval, and (when posted) the message that asks. */
async function pendingApproval(options: { posted?: boolean; expiresAt?: string } = {}) {
  const now = Date.now();
  const approvalId = `apr-${randomUUID()}`;
  const recordId = `rec-${randomUUID().replace(/-/g, '').slice(0, 24)}`;
  const finding: Finding = {
    eventId: randomUUID(),
    reporter: 'config',
    replayed: false,
    account: '111122223333',
    region: 'us-east-1',
    time: new Date(now).toISOString(),
    resourceType: 'AWS::S3::Bucket',
    resourceId: BUCKET,
    trigger: { kind: 'config-rule', configRuleName: 's3-bucket-public-read-prohibited', identifier: 'S3_BUCKET_PUBLIC_READ_PROHIBITED', complianceType: 'NON_COMPLIANT' },
  };
  const steps = [
    {
      operation: 'S3.PutPublicAccessBlock',
      input: { Bucket: BUCKET },
      description: 'block public access: none → all four flags',
      before: {},
      after: {},
      undo: { operation: 'S3.DeletePublicAccessBlock', input: { Bucket: BUCKET } },
    },
  ];
  const at = new Date(now).toISOString();
  const record: ChangeRecord = {
    recordId,
    status: 'final',
    eventId: finding.eventId,
    ruleId: RULE,
    resource: RESOURCE,
    account: finding.account,
    region: finding.region,
    mode: 'auto',
    outcome: 'pending-approval',
    reason: 'waiting for approval (the bucket hosts a static website)',
    trigger: finding.trigger,
    replayed: false,
    steps,
    calls: [],
    writes: 0,
    approvalId,
    risks: ['the static website this bucket hosts goes offline'],
    notification: { status: 'pending', attempts: 0 },
    createdAt: at,
    updatedAt: at,
  };
  const approval: PendingApproval = {
    approvalId,
    status: 'pending',
    recordId,
    eventId: finding.eventId,
    ruleId: RULE,
    ruleTitle: 'S3 bucket Block Public Access',
    resource: RESOURCE,
    finding,
    steps,
    reason: 'the bucket hosts a static website',
    risks: record.risks ?? [],
    createdAt: at,
    expiresAt: options.expiresAt ?? new Date(now + DAY).toISOString(),
    risk: 'high',
  };
  const key = `${RULE}#${RESOURCE}`;
  const written = await ledger.requestApproval({ record, approval, openKey: key, now, guards: { keys: [key] } });
  expect(written.ok).toBe(true);
  tsCounter += 1;
  const message = { channel: CHANNEL, ts: `${Math.floor(now / 1000)}.${String(tsCounter).padStart(6, '0')}` };
  if (options.posted !== false) await ledger.setNotification(record, { status: 'posted', attempts: 1, ...message }, { approvalId, ...message });
  ledger.requests = [];
  return { approvalId, recordId, message };
}

type Ref = { channel: string; ts: string };
const click = (user: string, action: 'approve' | 'reject' | 'exempt', approvalId: string, message: Ref, extra: { triggerId?: string } = {}) =>
  handleSlackAction(signedRequest(clickBody({ user, action, approvalId, channel: message.channel, ts: message.ts, ...extra })), deps);

const submit = (user: string, approvalId: string, days: string | null, reason: string | null) =>
  handleSlackAction(signedRequest(exemptionSubmitBody({ user, approvalId, days, reason })), deps);

/** The approval did not move, nothing was stored, nothing was handed over. */
async function expectUnchanged(approvalId: string) {
  expect((await ledger.getApproval(approvalId))?.status).toBe('pending');
  expect(ledger.suppressions.size).toBe(0);
  expect(ledger.exemptions.size).toBe(0);
  expect(sink.delivered).toEqual([]);
}

/** Not even a conditional write was tried. */
const noDecisionTried = () => expect(ledger.requests.filter((request) => ['transitionApproval', 'reject', 'exempt'].includes(request))).toEqual([]);

const lastTold = () => slack.told.at(-1)?.text ?? '';
const updateText = (index = -1) => JSON.stringify(slack.updates.at(index)?.message.blocks ?? []);

describe('requests that are not from Slack', () => {
  it('refuses a bad signature, an old or future timestamp, a tampered body and missing headers with 401', async () => {
    const { approvalId, message } = await pendingApproval();
    const body = clickBody({ user: APPROVER, action: 'approve', approvalId, channel: message.channel, ts: message.ts });
    const now = Math.floor(Date.now() / 1000);
    const requests = [
      signedRequest(body, { secret: '0123456789abcdef0123456789abcdef' }),
      signedRequest(body, { timestamp: now - 301 }),
      signedRequest(body, { timestamp: now + 301 }),
      { ...signedRequest(body), body: body.replace(APPROVER, 'U0MALLORY1') },
      apiRequest(body, {}),
      apiRequest(body, { 'x-slack-request-timestamp': String(now) }),
    ];
    let secretReads = 0;
    deps.signingSecret = async () => {
      secretReads += 1;
      return SIGNING_SECRET;
    };
    for (const request of requests) expect((await handleSlackAction(request, deps)).statusCode).toBe(401);
    // Stale, future and header-less requests are refused before the secret is read: only the first and the tampered one need it.
    expect(secretReads).toBe(2);
    expect(slack.told).toEqual([]);
    expect(ledger.requests).toEqual([]);
    await expectUnchanged(approvalId);
    expect(warnings.filter((warning) => warning.startsWith('refused a Slack request'))).toHaveLength(requests.length);
  });

  it('finds the signature headers whatever their case', async () => {
    const { approvalId, message } = await pendingApproval();
    const body = clickBody({ user: APPROVER, action: 'approve', approvalId, channel: message.channel, ts: message.ts });
    const timestamp = Math.floor(Date.now() / 1000);
    const response = await handleSlackAction(apiRequest(body, { 'X-Slack-Request-Timestamp': String(timestamp), 'X-Slack-Signature': sign(body, timestamp) }), deps);
    expect(response.statusCode).toBe(200);
    expect((await ledger.getApproval(approvalId))?.status).toBe('approved');
  });

  it('verifies a base64-encoded body on its decoded bytes', async () => {
    const { approvalId, message } = await pendingApproval();
    const body = clickBody({ user: APPROVER, action: 'approve', approvalId, channel: message.channel, ts: message.ts });
    expect((await handleSlackAction(signedRequest(body, { base64: true }), deps)).statusCode).toBe(200);
    expect((await ledger.getApproval(approvalId))?.status).toBe('approved');
  });

  it('refuses a body over 64 KiB with 413 before reading the secret', async () => {
    let secretReads = 0;
    deps.signingSecret = async () => {
      secretReads += 1;
      return SIGNING_SECRET;
    };
    const big = `payload=${'x'.repeat(MAX_BODY_BYTES)}`;
    expect((await handleSlackAction(signedRequest(big), deps)).statusCode).toBe(413);
    expect((await handleSlackAction(signedRequest(big, { base64: true }), deps)).statusCode).toBe(413);
    expect((await handleSlackAction(apiRequest(big, {}), deps)).statusCode).toBe(413);
    expect(secretReads).toBe(0);
    const atLimit = `payload=${'x'.repeat(MAX_BODY_BYTES - 'payload='.length)}`;
    expect((await handleSlackAction(signedRequest(atLimit), deps)).statusCode).toBe(400);
  });

  it('answers 405 to anything but POST', async () => {
    const request = apiRequest('a=b', {}, { method: 'GET' });
    expect((await handleSlackAction(request, deps)).statusCode).toBe(405);
  });

  it('refuses signed payloads that are not a driftfix action with 400', async () => {
    const { approvalId, message } = await pendingApproval();
    const payload = (value: unknown) => new URLSearchParams({ payload: JSON.stringify(value) }).toString();
    const base = JSON.parse(new URLSearchParams(clickBody({ user: APPROVER, action: 'approve', approvalId, channel: message.channel, ts: message.ts })).get('payload') ?? '{}');
    const bodies = [
      'payload=%7Bnot-json',
      'nothing=here',
      `payload=${encodeURIComponent('{"type":"block_actions","type":"x"}')}`,
      payload({ type: 'view_submission', user: { id: APPROVER } }),
      payload({ ...base, actions: [{ action_id: 'delete', value: approvalId }] }),
      payload({ ...base, actions: [base.actions[0], base.actions[0]] }),
      payload({ ...base, user: { id: 'not-a-user' } }),
      payload({ ...base, type: 'message_action' }),
    ];
    for (const body of bodies) expect((await handleSlackAction(signedRequest(body), deps)).statusCode, body).toBe(400);
    await expectUnchanged(approvalId);
  });
});

describe('who may decide', () => {
  it('tells someone who is not an approver so, privately, and changes nothing', async () => {
    const { approvalId, message } = await pendingApproval();
    expect((await click(STRANGER, 'approve', approvalId, message)).statusCode).toBe(200);
    expect(slack.told).toEqual([{ channel: CHANNEL, user: STRANGER, text: expect.stringContaining('not allowed') }]);
    expect(slack.updates).toEqual([]);
    // Not even the approval was read for them.
    expect(ledger.requests).toEqual([]);
    await expectUnchanged(approvalId);
  });

  it('lets members of the approver group decide', async () => {
    deps.approvers = parseApprovers('', 'S0APPROVERS');
    slack.members = [STRANGER];
    const { approvalId, message } = await pendingApproval();
    await click(STRANGER, 'approve', approvalId, message);
    expect(await ledger.getApproval(approvalId)).toMatchObject({ status: 'approved', decidedBy: STRANGER });
    expect(slack.groupLookups).toEqual(['S0APPROVERS']);
  });

  it('answers within Slack’s 3 seconds when the group lookup never returns, and does not ask again for 5 minutes', async () => {
    deps.approvers = parseApprovers('', 'S0APPROVERS');
    slack.members = 'hang';
    const { approvalId, message } = await pendingApproval();
    const started = Date.now();
    expect((await click(STRANGER, 'approve', approvalId, message)).statusCode).toBe(200);
    const first = Date.now() - started;
    expect(first).toBeGreaterThanOrEqual(900);
    expect(first).toBeLessThanOrEqual(2_000);
    expect(lastTold()).toContain('not allowed');
    await expectUnchanged(approvalId);

    const again = Date.now();
    await click(STRANGER, 'approve', approvalId, message);
    expect(Date.now() - again).toBeLessThanOrEqual(2_000);
    expect(slack.groupLookups).toEqual(['S0APPROVERS']);

    // Five minutes later the group is read again.
    const later = Date.now() + GROUP_CACHE_MS + 1_000;
    deps.now = () => later;
    slack.members = [STRANGER];
    const body = clickBody({ user: STRANGER, action: 'approve', approvalId, channel: message.channel, ts: message.ts });
    await handleSlackAction(signedRequest(body, { timestamp: Math.floor(later / 1000) }), deps);
    expect(slack.groupLookups).toEqual(['S0APPROVERS', 'S0APPROVERS']);
    expect((await ledger.getApproval(approvalId))?.status).toBe('approved');
  });

  it('asks again at the next click when the group lookup failed', async () => {
    deps.approvers = parseApprovers('', 'S0APPROVERS');
    slack.members = new Error('missing_scope');
    const { approvalId, message } = await pendingApproval();
    await click(STRANGER, 'approve', approvalId, message);
    expect(lastTold()).toContain('not allowed');
    slack.members = [STRANGER];
    await click(STRANGER, 'approve', approvalId, message);
    expect(slack.groupLookups).toEqual(['S0APPROVERS', 'S0APPROVERS']);
    expect((await ledger.getApproval(approvalId))?.status).toBe('approved');
  });

  it('answers every click within Slack’s 3 seconds even when everything is slow: a group looked up in 0.9 s, Slack hanging, the hand-over failing', async () => {
    deps.approvers = { users: new Set(), group: 'S0SLOWGROUP' };
    slack.members = [APPROVER];
    slack.membersAfterMs = 900;
    const { approvalId, message } = await pendingApproval();
    slack.hangUpdates = true;
    slack.hangTells = true;
    sink.fail = new Error('EventBridge unavailable');
    const started = Date.now();
    expect((await click(APPROVER, 'approve', approvalId, message)).statusCode).toBe(200);
    expect(Date.now() - started).toBeLessThan(2_800);
    expect((await ledger.getApproval(approvalId))?.status).toBe('pending');
  });

  it('refuses a malformed approver list or group at start', () => {
    expect(() => parseApprovers('U0ONE, bob', undefined)).toThrow('"bob" is not a Slack user id');
    expect(() => parseApprovers('', 'approvers')).toThrow('not a Slack user group id');
    expect(parseApprovers(' U0ONE ,W0TWO,', '')).toEqual({ users: new Set(['U0ONE', 'W0TWO']), group: undefined });
  });
});

describe('which clicks count', () => {
  it('refuses a click on an approval whose request was never posted; the terminal can still decide it', async () => {
    const { approvalId, message } = await pendingApproval({ posted: false });
    expect((await click(APPROVER, 'approve', approvalId, message)).statusCode).toBe(200);
    expect(lastTold()).toContain('npm run approvals');
    noDecisionTried();
    await expectUnchanged(approvalId);
    const decided = await decideApproval(ledger, { approvalId, decision: 'approve', by: 'cli:alice', now: Date.now(), suppressionDays: 30 });
    expect(decided).toMatchObject({ kind: 'decided', approval: { status: 'approved', decidedBy: 'cli:alice' } });
  });

  it('refuses every button of an approval relabelled to an account this endpoint does not serve: it never stays "applying"', async () => {
    const { approvalId, message } = await pendingApproval();
    sink.servedAccounts = ['444455556666'];
    for (const action of ['approve', 'reject', 'exempt'] as const) {
      expect((await click(APPROVER, action, approvalId, message)).statusCode).toBe(200);
      expect(lastTold()).toContain('111122223333/us-east-1, which this driftfix does not serve');
    }
    noDecisionTried();
    await expectUnchanged(approvalId);
  });

  it('refuses a button used from another message or another channel', async () => {
    const { approvalId, message } = await pendingApproval();
    await click(APPROVER, 'approve', approvalId, { channel: message.channel, ts: '1700000000.999999' });
    expect(lastTold()).toContain('does not belong');
    await click(APPROVER, 'approve', approvalId, { channel: 'C0ELSEWHERE', ts: message.ts });
    expect(slack.told.at(-1)).toMatchObject({ channel: 'C0ELSEWHERE', text: expect.stringContaining('does not belong') });
    noDecisionTried();
    await expectUnchanged(approvalId);
  });

  it('refuses an unknown approval id and a value that is not an approval id', async () => {
    const { approvalId, message } = await pendingApproval();
    await click(APPROVER, 'approve', `apr-${randomUUID()}`, message);
    expect(lastTold()).toContain('does not exist');
    await click(APPROVER, 'approve', 'rec-0123', message);
    expect(lastTold()).toContain('does not carry a driftfix approval id');
    await expectUnchanged(approvalId);
  });

  it('refuses an expired approval', async () => {
    const { approvalId, message } = await pendingApproval({ expiresAt: new Date(Date.now() - 1_000).toISOString() });
    await click(APPROVER, 'approve', approvalId, message);
    expect(lastTold()).toMatch(/Nothing changed: approval expired at/);
    await click(APPROVER, 'reject', approvalId, message);
    expect(lastTold()).toMatch(/Nothing changed: approval expired at/);
    await click(APPROVER, 'exempt', approvalId, message);
    expect(lastTold()).toContain('expired');
    expect(slack.modals).toEqual([]);
    await expectUnchanged(approvalId);
  });
});

describe('approve and reject', () => {
  it('approve: the approval moves to approved, is handed over once, and the message loses its buttons', async () => {
    const { approvalId, recordId, message } = await pendingApproval();
    const response = await click(APPROVER, 'approve', approvalId, message);
    expect(response.statusCode).toBe(200);
    const approval = await ledger.getApproval(approvalId);
    expect(approval).toMatchObject({ status: 'approved', decidedBy: APPROVER, decidedAt: expect.any(String) });
    expect(sink.delivered).toHaveLength(1);
    expect(sink.delivered[0]).toMatchObject({ approval: { approvalId, status: 'approved' }, decision: { decision: 'approve', by: APPROVER } });
    expect(slack.updates).toHaveLength(1);
    expect(slack.updates[0]).toMatchObject({ ref: message, recordId });
    expect(updateText()).toContain(`Approved by <@${APPROVER}>; applying the change…`);
    expect(updateText()).not.toContain('"action_id":"approve"');
    expect(slack.told).toEqual([]);
    // A new finding may ask again once this one is decided.
    expect(ledger.open.get(`${RULE}#${RESOURCE}`)?.closed).toBe(true);
  });

  it('says "approved" before handing the approval over, so the result of the change is the message’s last word', async () => {
    const { approvalId, message } = await pendingApproval();
    // Locally the change is applied during the hand-over, and its record updates the same message.
    deps.sink = {
      isRemote: () => false,
      serves: () => true,
      deliver: async () => {
        await slack.update(message, { text: 'Fixed', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'Fixed: S3 bucket Block Public Access' } }] }, 'rec-result');
      },
    };
    await click(APPROVER, 'approve', approvalId, message);
    expect(slack.updates.map((update) => update.message.text)).toEqual([expect.stringContaining('Approval needed'), 'Fixed']);
    expect(updateText()).toContain('Fixed: S3 bucket Block Public Access');
  });

  it('a double click decides once; the second is told who decided', async () => {
    const { approvalId, message } = await pendingApproval();
    await click(APPROVER, 'approve', approvalId, message);
    await click(APPROVER, 'approve', approvalId, message);
    await click(APPROVER, 'reject', approvalId, message);
    expect(sink.delivered).toHaveLength(1);
    expect(slack.told.map((told) => told.text)).toEqual([
      expect.stringMatching(new RegExp(`^Nothing changed: approval was already approved by <@${APPROVER}> at `)),
      expect.stringMatching(/^Nothing changed: approval was already approved/),
    ]);
    expect(ledger.suppressions.size).toBe(0);
    expect((await ledger.getApproval(approvalId))?.status).toBe('approved');
  });

  it('reject: stores the suppression for the rule and resource, and hands nothing over in one account', async () => {
    const { approvalId, message } = await pendingApproval();
    const before = Date.now();
    await click(APPROVER, 'reject', approvalId, message);
    expect(await ledger.getApproval(approvalId)).toMatchObject({ status: 'rejected', decidedBy: APPROVER });
    const suppression = ledger.suppressions.get(`${RULE}#${RESOURCE}`);
    expect(suppression).toMatchObject({ ruleId: RULE, resource: RESOURCE, by: APPROVER, approvalId });
    const until = Date.parse(suppression?.until ?? '');
    expect(until).toBeGreaterThanOrEqual(before + 30 * DAY);
    expect(until).toBeLessThanOrEqual(Date.now() + 30 * DAY);
    expect(sink.delivered).toEqual([]);
    expect(updateText()).toContain(`Rejected by <@${APPROVER}>. driftfix will not propose this fix for ${RESOURCE} again until ${suppression?.until}`);
  });

  it('reject in a hub: the decision is handed to the member that owns the resource', async () => {
    sink = new RecordingSink(true);
    deps.sink = sink;
    const { approvalId, message } = await pendingApproval();
    await click(APPROVER, 'reject', approvalId, message);
    expect(sink.delivered).toEqual([{ approval: expect.objectContaining({ approvalId, status: 'rejected' }), decision: { decision: 'reject', by: APPROVER } }]);
    // The suppression is the member's, keyed by its resource: at the hub it would shadow a same-named resource of the hub's own.
    expect(ledger.suppressions.size).toBe(0);
  });

  it('exempt in a hub: only the hub’s copy moves; the exception and its record are the member’s', async () => {
    sink = new RecordingSink(true);
    deps.sink = sink;
    const { approvalId } = await pendingApproval();
    await submit(APPROVER, approvalId, '7', 'load test this week');
    expect((await ledger.getApproval(approvalId))?.status).toBe('exempted');
    expect(ledger.exemptions.size).toBe(0);
    expect(sink.delivered).toEqual([{ approval: expect.objectContaining({ approvalId }), decision: { decision: 'exempt', by: APPROVER, days: 7, reason: 'load test this week' } }]);
  });

  it('in a hub, a rejection the member cannot be told of is undone: the question is open again', async () => {
    sink = new RecordingSink(true);
    sink.fail = new Error('EventBridge unavailable');
    deps.sink = sink;
    const { approvalId, message } = await pendingApproval();
    await click(APPROVER, 'reject', approvalId, message);
    expect(await ledger.getApproval(approvalId)).toMatchObject({ status: 'pending' });
    expect(lastTold()).toContain('nothing changed');
  });

  it('when the approval cannot be handed over, it goes back to pending with its buttons, and the click can be repeated', async () => {
    const { approvalId, message } = await pendingApproval();
    sink.fail = new Error('EventBridge unavailable');
    await click(APPROVER, 'approve', approvalId, message);
    expect(await ledger.getApproval(approvalId)).toMatchObject({ status: 'pending' });
    expect(lastTold()).toContain('nothing changed');
    expect(updateText()).toContain('"action_id":"approve"');
    expect(updateText()).toContain('could not be handed over');

    sink.fail = undefined;
    await click(APPROVER, 'approve', approvalId, message);
    expect(await ledger.getApproval(approvalId)).toMatchObject({ status: 'approved', decidedBy: APPROVER });
    expect(sink.delivered).toHaveLength(1);
  });

  it('when the hand-over landed but its answer was lost, and the change went ahead, the click does not claim that nothing changed', async () => {
    const { approvalId, message } = await pendingApproval();
    sink.landed = async () => {
      // The rule's function took the approval and applied it before the answer came back.
      expect(await ledger.transitionApproval(approvalId, { from: 'approved', to: 'applied' })).toBe(true);
    };
    sink.fail = Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    await click(APPROVER, 'approve', approvalId, message);
    expect(await ledger.getApproval(approvalId)).toMatchObject({ status: 'applied' });
    expect(lastTold()).toContain('driftfix received the decision');
    expect(lastTold()).not.toContain('nothing changed');
    expect(updateText()).not.toContain('could not be handed over');
  });

  it('when the approval cannot be handed over, it is again the one open question for the resource', async () => {
    const { approvalId, recordId, message } = await pendingApproval();
    sink.fail = new Error('EventBridge unavailable');
    await click(APPROVER, 'approve', approvalId, message);
    expect((await ledger.getApproval(approvalId))?.status).toBe('pending');
    // A new finding for the same resource must not open a second approval beside the pending one.
    const existing = ledger.approvals.get(approvalId) as PendingApproval;
    const record = ledger.records.get(recordId) as ChangeRecord;
    const key = `${RULE}#${RESOURCE}`;
    const second = await ledger.requestApproval({
      record: { ...record, recordId: 'rec-second000000000000000000', approvalId: `apr-${randomUUID()}` },
      approval: { ...existing, approvalId: `apr-${randomUUID()}`, recordId: 'rec-second000000000000000000' },
      openKey: key,
      now: Date.now(),
      guards: { keys: [key] },
    });
    expect(second).toEqual({ ok: false, conflict: { openApproval: { approvalId, expiresAt: existing.expiresAt } } });
  });

  it('acknowledges within Slack’s 3 seconds when updating the message never returns, and the decision stands', async () => {
    const { approvalId, message } = await pendingApproval();
    slack.hangUpdates = true;
    const started = Date.now();
    expect((await click(APPROVER, 'approve', approvalId, message)).statusCode).toBe(200);
    expect(Date.now() - started).toBeLessThanOrEqual(2_000);
    expect((await ledger.getApproval(approvalId))?.status).toBe('approved');
    expect(sink.delivered).toHaveLength(1);
  });
  it('a message update Slack refuses is logged; the decision stands', async () => {
    const { approvalId, message } = await pendingApproval();
    slack.failUpdates = new Error('message_not_found');
    expect((await click(APPROVER, 'approve', approvalId, message)).statusCode).toBe(200);
    expect((await ledger.getApproval(approvalId))?.status).toBe('approved');
    expect(sink.delivered).toHaveLength(1);
    expect(warnings).toContainEqual(expect.stringMatching(/^could not update the approval message: .*message_not_found/));
  });
});

describe('exceptions', () => {
  it('the Exempt button opens the exception form with the click’s trigger id, and decides nothing yet', async () => {
    const { approvalId, message } = await pendingApproval();
    expect((await click(APPROVER, 'exempt', approvalId, message, { triggerId: '12345.98765.abcd2358fdea' })).statusCode).toBe(200);
    expect(slack.modals).toEqual([{ triggerId: '12345.98765.abcd2358fdea', view: exemptionModal(approvalId, RESOURCE, MAX_EXEMPTION_DAYS) }]);
    expect(slack.updates).toEqual([]);
    noDecisionTried();
    await expectUnchanged(approvalId);
  });

  it('an Exempt click without a trigger id (not from Slack’s client) is refused with 400', async () => {
    const { approvalId, message } = await pendingApproval();
    const payload = JSON.parse(new URLSearchParams(clickBody({ user: APPROVER, action: 'exempt', approvalId, channel: message.channel, ts: message.ts })).get('payload') ?? '{}');
    delete payload.trigger_id;
    const response = await handleSlackAction(signedRequest(new URLSearchParams({ payload: JSON.stringify(payload) }).toString()), deps);
    expect(response.statusCode).toBe(400);
    expect(slack.modals).toEqual([]);
    await expectUnchanged(approvalId);
  });

  it('the Exempt button of a decided approval opens nothing', async () => {
    const { approvalId, message } = await pendingApproval();
    await click(APPROVER, 'reject', approvalId, message);
    await click(APPROVER, 'exempt', approvalId, message);
    expect(slack.modals).toEqual([]);
    expect(lastTold()).toBe('Nothing changed: approval is rejected.');
  });

  it('the Exempt button needs an approver too', async () => {
    const { approvalId, message } = await pendingApproval();
    await click(STRANGER, 'exempt', approvalId, message);
    expect(slack.modals).toEqual([]);
    expect(lastTold()).toContain('not allowed');
  });

  it('submitting the form exempts the resource: the approval, the exception and its record, in one write', async () => {
    const { approvalId, recordId, message } = await pendingApproval();
    const before = Date.now();
    const response = await submit(APPROVER, approvalId, '30', '  migrating the site to CloudFront  ');
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(String(response.body))).toEqual({});
    const approval = await ledger.getApproval(approvalId);
    expect(approval).toMatchObject({ status: 'exempted', decidedBy: APPROVER, resultRecordId: expect.stringMatching(/^rec-/) });
    const exemption = ledger.exemptions.get(`${RULE}#${RESOURCE}`);
    expect(exemption).toMatchObject({ ruleId: RULE, resource: RESOURCE, by: APPROVER, reason: 'migrating the site to CloudFront', approvalId, recordId: approval?.resultRecordId });
    const until = Date.parse(exemption?.until ?? '');
    expect(until).toBeGreaterThanOrEqual(before + 30 * DAY);
    expect(until).toBeLessThanOrEqual(Date.now() + 30 * DAY);
    const record = ledger.records.get(approval?.resultRecordId ?? '');
    expect(record).toMatchObject({ outcome: 'exempted', status: 'final', ruleId: RULE, resource: RESOURCE, decidedBy: APPROVER, approvalId, writes: 0 });
    expect(record?.reason).toContain('migrating the site to CloudFront');
    expect(ledger.requests.filter((request) => request === 'exempt')).toHaveLength(1);
    expect(slack.updates).toHaveLength(1);
    expect(slack.updates[0]).toMatchObject({ ref: message, recordId });
    expect(updateText()).toContain(`Exempted by <@${APPROVER}> until ${exemption?.until}: migrating the site to CloudFront`);
    expect(updateText()).not.toContain('"action_id"');
    expect(sink.delivered).toEqual([]);
  });

  it.each([
    ['zero days', '0', 'ok', 'days'],
    ['more days than allowed', String(MAX_EXEMPTION_DAYS + 35), 'ok', 'days'],
    ['days that are not a number', 'abc', 'ok', 'days'],
    ['a fraction of a day', '1.5', 'ok', 'days'],
    ['negative days', '-3', 'ok', 'days'],
    ['no days', null, 'ok', 'days'],
    ['an empty reason', '30', '', 'reason'],
    ['a reason of spaces', '30', '   ', 'reason'],
    ['no reason', '30', null, 'reason'],
  ])('refuses %s in the form, keeping it open with the error, and changes nothing', async (_name, days, reason, field) => {
    const { approvalId } = await pendingApproval();
    const response = await submit(APPROVER, approvalId, days, reason);
    expect(response.statusCode).toBe(200);
    const body = JSON.parse(String(response.body));
    expect(body.response_action).toBe('errors');
    expect(Object.keys(body.errors)).toEqual([field]);
    noDecisionTried();
    await expectUnchanged(approvalId);
    expect(slack.updates).toEqual([]);
  });

  it('refuses the form from someone who is not an approver', async () => {
    const { approvalId } = await pendingApproval();
    const body = JSON.parse(String((await submit(STRANGER, approvalId, '30', 'because')).body));
    expect(body).toEqual({ response_action: 'errors', errors: { reason: expect.stringContaining('not allowed') } });
    await expectUnchanged(approvalId);
  });

  it('refuses the form for an approval of an account or region this endpoint does not serve, and a reason over 500 characters', async () => {
    const { approvalId } = await pendingApproval();
    sink.servedAccounts = ['444455556666'];
    const unserved = await submit(APPROVER, approvalId, '7', 'freeze');
    expect(JSON.parse(unserved.body ?? '{}')).toEqual({ response_action: 'errors', errors: { reason: 'This approval is for 111122223333/us-east-1, which this driftfix does not serve.' } });
    sink.servedAccounts = undefined;
    const long = await submit(APPROVER, approvalId, '7', 'x'.repeat(501));
    expect(JSON.parse(long.body ?? '{}').errors.reason).toMatch(/at most 500 characters/);
    await expectUnchanged(approvalId);
  });

  it('refuses the form for an approval that was never posted or does not exist', async () => {
    const { approvalId } = await pendingApproval({ posted: false });
    expect(JSON.parse(String((await submit(APPROVER, approvalId, '30', 'because')).body)).response_action).toBe('errors');
    expect(JSON.parse(String((await submit(APPROVER, `apr-${randomUUID()}`, '30', 'because')).body)).response_action).toBe('errors');
    expect(JSON.parse(String((await submit(APPROVER, 'not-an-approval', '30', 'because')).body)).response_action).toBe('errors');
    await expectUnchanged(approvalId);
  });

  it('a form submitted after the approval was decided keeps the form open and says why nothing changed', async () => {
    const { approvalId, message } = await pendingApproval();
    await click(APPROVER, 'reject', approvalId, message);
    const response = await submit(APPROVER, approvalId, '30', 'because');
    const body = JSON.parse(String(response.body));
    expect(body.response_action).toBe('errors');
    expect(JSON.stringify(body.errors)).toContain('already rejected');
    expect(ledger.exemptions.size).toBe(0);
  });

  it('a reason that mentions @channel or carries a link is shown as text, not as a mention', async () => {
    const { approvalId } = await pendingApproval();
    await submit(APPROVER, approvalId, '7', '<!channel> see <https://evil.example|the ticket>');
    expect(ledger.exemptions.get(`${RULE}#${RESOURCE}`)?.reason).toBe('<!channel> see <https://evil.example|the ticket>');
    expect(updateText()).not.toContain('<!channel>');
    expect(updateText()).not.toContain('<https://evil.example');
    expect(updateText()).toContain('&lt;!channel&gt;');
  });
});

describe('deciding an approval (Slack, terminal and hub alike)', () => {
  const decide = (approvalId: string, decision: 'approve' | 'reject' | 'exempt', extra: { by?: string; now?: number; days?: number; reason?: string } = {}) =>
    decideApproval(ledger, { approvalId, decision, by: extra.by ?? APPROVER, now: extra.now ?? Date.now(), suppressionDays: 14, days: extra.days, reason: extra.reason });

  it('refuses what is not an approval id, without reading the table', async () => {
    expect(await decide('apr-../../etc', 'approve')).toEqual({ kind: 'refused', reason: 'that is not a driftfix approval id' });
    expect(ledger.requests).toEqual([]);
    expect(await decide(`apr-${randomUUID()}`, 'approve')).toEqual({ kind: 'refused', reason: 'no such approval' });
  });

  it.each([
    ['no days', undefined, 'why'],
    ['zero days', 0, 'why'],
    ['a fraction of a day', 2.5, 'why'],
    ['more than the maximum', MAX_EXEMPTION_DAYS + 1, 'why'],
    ['no reason', 10, undefined],
    ['a blank reason', 10, '  '],
  ])('refuses an exception with %s', async (_name, days, reason) => {
    const { approvalId } = await pendingApproval();
    const outcome = await decide(approvalId, 'exempt', { days, reason });
    expect(outcome).toMatchObject({ kind: 'refused', reason: expect.stringMatching(/whole number of days|needs a reason/), approval: { approvalId, status: 'pending' } });
    expect(ledger.requests.filter((request) => request === 'exempt')).toEqual([]);
  });

  it('allows an exception of exactly the maximum length', async () => {
    const { approvalId } = await pendingApproval();
    const now = Date.now();
    const outcome = await decide(approvalId, 'exempt', { days: MAX_EXEMPTION_DAYS, reason: 'a year', now });
    expect(outcome).toMatchObject({ kind: 'decided', exemption: { until: new Date(now + MAX_EXEMPTION_DAYS * DAY).toISOString() } });
  });

  it('rejects for the configured number of days', async () => {
    const { approvalId } = await pendingApproval();
    const now = Date.now();
    const outcome = await decide(approvalId, 'reject', { now });
    expect(outcome).toMatchObject({ kind: 'decided', decision: 'reject', suppression: { until: new Date(now + 14 * DAY).toISOString(), by: APPROVER, approvalId } });
  });

  it('names a terminal decider without the cli: prefix when a later decision is refused', async () => {
    const { approvalId } = await pendingApproval();
    await decide(approvalId, 'reject', { by: 'cli:alice' });
    const again = await decide(approvalId, 'approve');
    expect(again).toMatchObject({ kind: 'refused', reason: expect.stringMatching(/^approval was already rejected by alice at /) });
  });

  it('refuses every decision once the approval has expired', async () => {
    const expiresAt = new Date(Date.now() + 60_000).toISOString();
    const { approvalId } = await pendingApproval({ expiresAt });
    const later = Date.now() + 120_000;
    for (const decision of ['approve', 'reject'] as const) {
      expect(await decide(approvalId, decision, { now: later })).toMatchObject({ kind: 'refused', reason: `approval expired at ${expiresAt}` });
    }
    expect(await decide(approvalId, 'exempt', { now: later, days: 3, reason: 'late' })).toMatchObject({ kind: 'refused', reason: `approval expired at ${expiresAt}` });
    expect((await ledger.getApproval(approvalId))?.status).toBe('pending');
    expect(ledger.exemptions.size + ledger.suppressions.size).toBe(0);
  });

  it('writes one exception record per approval: a second exception for it is refused', async () => {
    const { approvalId } = await pendingApproval();
    const first = await decide(approvalId, 'exempt', { days: 3, reason: 'first' });
    const second = await decide(approvalId, 'exempt', { days: 30, reason: 'second' });
    expect(first).toMatchObject({ kind: 'decided', record: { outcome: 'exempted' } });
    expect(second).toMatchObject({ kind: 'refused', reason: expect.stringContaining('already exempted') });
    expect(ledger.exemptions.get(`${RULE}#${RESOURCE}`)?.reason).toBe('first');
  });
});
