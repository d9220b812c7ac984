import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventResult } from '../../core/engine/results.ts';
import { forgetApproverGroups, handleSlackAction, type InteractivityDeps } from '../../core/slack/interactivity.ts';
import { FakeSlack } from '../../scripts/lib/fake-slack.ts';
import type { LocalBus } from '../../scripts/lib/local-bus.ts';
import { localInteractivity } from '../../scripts/lib/local-interactivity.ts';
import type { LocalRuntime } from '../../scripts/lib/local-runtime.ts';
import { replayEvent } from '../../scripts/lib/replay-files.ts';
import { configEvent } from '../support/events.ts';
import { bucketPublicAccessBlock, createBucket, localRuntime } from '../support/local-aws.ts';
import { ruleAnswering } from '../support/rules.ts';
import { APPROVER, BOT_TOKEN, CHANNEL, clickBody, createSlackSecret, exemptionSubmitBody, STRANGER, signedRequest } from '../support/slack.ts';

const ALL_ON = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };
/** The rule that fixes the website bucket AWS Config reports (s3-bucket-public-read-prohibited): bucket Block Public Access. */
const RULE = ruleAnswering('S3_BUCKET_PUBLIC_READ_PROHIBITED').id;

let slack: FakeSlack;
let runtime: LocalRuntime;
let interactivity: InteractivityDeps & { bus: LocalBus };

/** The stack's settings for one account with Slack: the app's secret in Secrets Manager, the stand-in as Slack. */
async function setup(extra: Record<string, string> = {}) {
  const env = { SLACK_CHANNEL: CHANNEL, SLACK_SECRET_ID: await createSlackSecret(), SLACK_API_URL: slack.url, SLACK_APPROVERS: APPROVER, ...extra };
  runtime = await localRuntime({ env });
  interactivity = localInteractivity(runtime, env);
}

beforeEach(async () => {
  forgetApproverGroups();
  slack = new FakeSlack();
  await slack.start();
  await setup();
});
afterEach(async () => slack.stop());

const ledger = () => {
  if (!runtime.ledger) throw new Error('the runtime has no table');
  return runtime.ledger;
};

const finding = (bucket: string) => configEvent({ configRuleName: 's3-bucket-public-read-prohibited', resourceId: bucket });

/** A website bucket reported by AWS Config: its Block Public Access fix waits for a person. */
async function pendingWebsiteFix() {
  const bucket = await createBucket('site', { website: true });
  const event = finding(bucket);
  const result = await replayEvent(event, runtime, { apply: true });
  expect(result, result.reason).toMatchObject({ outcome: 'pending-approval', rule: RULE, writes: 0 });
  const approval = await ledger().getApproval(result.approvalId ?? '');
  if (!approval) throw new Error('no approval was stored');
  return { bucket, event, result, approval };
}

/** The approval's message, as the pending fix left it. */
async function requestMessage(approvalId: string) {
  const message = (await ledger().getApproval(approvalId))?.message;
  if (!message) throw new Error('the approval request was not recorded as posted');
  return message;
}

const click = (user: string, action: 'approve' | 'reject' | 'exempt', approvalId: string, message: { channel: string; ts: string }, triggerId?: string) =>
  handleSlackAction(signedRequest(clickBody({ user, action, approvalId, channel: message.channel, ts: message.ts, ...(triggerId ? { triggerId } : {}) })), interactivity);

const buttonsOf = (blocks: unknown) =>
  ((blocks as Array<Record<string, any>>).find((block) => block.type === 'actions')?.elements ?? []).map((button: Record<string, any>) => ({
    action: button.action_id,
    value: button.value,
    confirm: button.confirm !== undefined,
  }));

describe('an approval in Slack, end to end', () => {
  it('a website bucket’s fix is asked for in one message, with buttons and the record id as metadata', async () => {
    const { result, approval } = await pendingWebsiteFix();
    expect(result.notification).toBe('posted');
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    expect(slack.callsTo('chat.postMessage')[0]?.authorization).toBe(`Bearer ${BOT_TOKEN}`);
    expect(slack.messages).toHaveLength(1);
    const [message] = slack.messages;
    expect(message?.channel).toBe(CHANNEL);
    expect(message?.metadata).toEqual({ event_type: 'driftfix_record', event_payload: { record_id: result.recordId } });
    expect(buttonsOf(message?.blocks)).toEqual([
      { action: 'approve', value: approval.approvalId, confirm: true },
      { action: 'reject', value: approval.approvalId, confirm: false },
      { action: 'exempt', value: approval.approvalId, confirm: false },
    ]);
    const blocks = JSON.stringify(message?.blocks);
    expect(blocks).toContain('What could break');
    expect(blocks).toContain('the static website this bucket hosts goes offline');
    expect(blocks).toContain(`https://s3.console.aws.amazon.com/s3/buckets/${approval.finding.resourceId}`);
    expect(approval).toMatchObject({ status: 'pending', risk: 'high', message: { channel: CHANNEL, ts: message?.ts } });
    expect((await ledger().getRecord(result.recordId ?? ''))?.notification).toMatchObject({ status: 'posted', channel: CHANNEL, ts: message?.ts });
  });

  it('a signed click by an approver applies the fix once and turns the request into the record', async () => {
    const { bucket, approval } = await pendingWebsiteFix();
    const message = await requestMessage(approval.approvalId);
    const response = await click(APPROVER, 'approve', approval.approvalId, message);
    expect(response.statusCode).toBe(200);
    expect(interactivity.bus.delivered).toHaveLength(1);
    expect(interactivity.bus.delivered[0]).toMatchObject({ outcome: 'remediated', writes: 1, rule: RULE });
    expect(await bucketPublicAccessBlock(bucket)).toEqual(ALL_ON);
    expect(await ledger().getApproval(approval.approvalId)).toMatchObject({ status: 'applied', decidedBy: APPROVER });

    // One message throughout: first "approved", then the record of the change.
    expect(slack.messages).toHaveLength(1);
    const updates = slack.callsTo('chat.update');
    expect(updates.length).toBeGreaterThanOrEqual(2);
    expect(updates.every((call) => call.args.channel === message.channel && call.args.ts === message.ts)).toBe(true);
    expect(updates.some((call) => JSON.stringify(call.args.blocks).includes(`Approved by <@${APPROVER}>`))).toBe(true);
    const final = slack.message(message.channel, message.ts);
    expect(JSON.stringify(final?.blocks)).toContain('Fixed: S3 bucket Block Public Access');
    expect(JSON.stringify(final?.blocks)).toContain(`<@${APPROVER}>`);
    expect(buttonsOf(final?.blocks)).toEqual([]);

    // A double click: nothing more happens, and the clicker is told why.
    await click(APPROVER, 'approve', approval.approvalId, message);
    expect(interactivity.bus.delivered).toHaveLength(1);
    expect(String(slack.callsTo('chat.postEphemeral').at(-1)?.args.text)).toMatch(/already (approved|applied)/);
    expect(slack.messages).toHaveLength(1);
  });

  it('someone who is not an approver is told so, and a request not signed with the app’s secret is refused', async () => {
    const { bucket, approval } = await pendingWebsiteFix();
    const message = await requestMessage(approval.approvalId);
    await click(STRANGER, 'approve', approval.approvalId, message);
    expect(slack.callsTo('chat.postEphemeral')[0]?.args).toMatchObject({ channel: CHANNEL, user: STRANGER, text: expect.stringContaining('not allowed') });
    const body = clickBody({ user: APPROVER, action: 'approve', approvalId: approval.approvalId, channel: message.channel, ts: message.ts });
    expect((await handleSlackAction(signedRequest(body, { secret: 'another-apps-signing-secret' }), interactivity)).statusCode).toBe(401);
    expect((await ledger().getApproval(approval.approvalId))?.status).toBe('pending');
    expect(interactivity.bus.delivered).toEqual([]);
    expect(await bucketPublicAccessBlock(bucket)).toBeNull();
  });

  it('members of the approver group, read from Slack, may approve', async () => {
    await setup({ SLACK_APPROVERS: '', SLACK_APPROVER_GROUP: 'S0APPROVERS' });
    slack.groups.set('S0APPROVERS', [STRANGER]);
    const { bucket, approval } = await pendingWebsiteFix();
    await click(STRANGER, 'approve', approval.approvalId, await requestMessage(approval.approvalId));
    expect(slack.callsTo('usergroups.users.list')[0]?.args).toMatchObject({ usergroup: 'S0APPROVERS' });
    expect(await bucketPublicAccessBlock(bucket)).toEqual(ALL_ON);
  });

  it('reject suppresses the fix: the next finding for the bucket is skipped and asks nobody', async () => {
    const { bucket, approval } = await pendingWebsiteFix();
    await click(APPROVER, 'reject', approval.approvalId, await requestMessage(approval.approvalId));
    expect(await ledger().getApproval(approval.approvalId)).toMatchObject({ status: 'rejected', decidedBy: APPROVER });
    expect(JSON.stringify(slack.callsTo('chat.update').at(-1)?.args.blocks)).toContain(`Rejected by <@${APPROVER}>`);

    const later = await replayEvent(finding(bucket), runtime, { apply: true });
    expect(later).toMatchObject({ outcome: 'skipped', writes: 0 });
    expect(later.reason).toMatch(/suppressed until/);
    expect(slack.messages).toHaveLength(1);
    expect(await bucketPublicAccessBlock(bucket)).toBeNull();
  });
});

describe('when Slack fails', () => {
  it('a failed post leaves the record pending; the redelivery looks for the message first and posts it exactly once', async () => {
    const bucket = await createBucket('site', { website: true });
    const event = finding(bucket);
    slack.failNext(3, 500); // the post and both of the client's retries
    const first = await replayEvent(event, runtime, { apply: true });
    expect(first).toMatchObject({ outcome: 'pending-approval', notification: 'failed' });
    expect(slack.messages).toEqual([]);
    expect((await ledger().getRecord(first.recordId ?? ''))?.notification).toMatchObject({ status: 'pending', attempts: 1 });
    const approval = await ledger().getApproval(first.approvalId ?? '');
    expect(approval?.message).toBeUndefined();

    // Nobody can click a request that was never posted.
    await click(APPROVER, 'approve', first.approvalId ?? '', { channel: CHANNEL, ts: '1.000001' });
    expect((await ledger().getApproval(first.approvalId ?? ''))?.status).toBe('pending');

    const before = slack.calls.length;
    const retry: EventResult = await replayEvent(structuredClone(event), runtime, { apply: true });
    expect(retry).toMatchObject({ duplicate: true, writes: 0, notification: 'posted' });
    const methods = slack.calls.slice(before).map((call) => call.method);
    expect(methods).toEqual(['conversations.history', 'chat.postMessage']);
    expect(slack.callsTo('conversations.history')[0]?.args).toMatchObject({ channel: CHANNEL, include_all_metadata: 'true' });
    expect(slack.messages).toHaveLength(1);
    expect(slack.messages[0]?.metadata?.event_payload).toEqual({ record_id: first.recordId });
    const [message] = slack.messages;
    expect(await ledger().getApproval(first.approvalId ?? '')).toMatchObject({ message: { channel: CHANNEL, ts: message?.ts } });
    expect((await ledger().getRecord(first.recordId ?? ''))?.notification).toMatchObject({ status: 'posted', attempts: 2 });

    // A third delivery posts nothing more, and the posted request now works.
    const calls = slack.calls.length;
    await replayEvent(structuredClone(event), runtime, { apply: true });
    expect(slack.calls.slice(calls)).toEqual([]);
    expect(slack.messages).toHaveLength(1);
    await click(APPROVER, 'approve', first.approvalId ?? '', { channel: CHANNEL, ts: message?.ts ?? '' });
    expect(await bucketPublicAccessBlock(bucket)).toEqual(ALL_ON);
  });

  it('a post that reached Slack though its answer was lost is found by its metadata and updated, not posted twice', async () => {
    const bucket = await createBucket('site', { website: true });
    const event = finding(bucket);
    slack.failNext(3, 500);
    const first = await replayEvent(event, runtime, { apply: true });
    expect(first.notification).toBe('failed');
    // What a lost answer leaves behind: the message in the channel, carrying the record id.
    const ts = `${Math.floor(Date.now() / 1000)}.999001`;
    slack.messages.push({ channel: CHANNEL, ts, text: 'Approval needed', blocks: [], metadata: { event_type: 'driftfix_record', event_payload: { record_id: first.recordId ?? '' } } });

    const posts = slack.callsTo('chat.postMessage').length;
    const retry = await replayEvent(structuredClone(event), runtime, { apply: true });
    expect(retry).toMatchObject({ duplicate: true, notification: 'posted' });
    expect(slack.callsTo('chat.postMessage')).toHaveLength(posts);
    expect(slack.callsTo('chat.update').at(-1)?.args).toMatchObject({ channel: CHANNEL, ts });
    expect(slack.messages).toHaveLength(1);
    expect(buttonsOf(slack.messages[0]?.blocks).map((button: { action: string }) => button.action)).toEqual(['approve', 'reject', 'exempt']);
    expect(await ledger().getApproval(first.approvalId ?? '')).toMatchObject({ message: { channel: CHANNEL, ts } });
  });
});

describe('a time-boxed exception from Slack', () => {
  it('Exempt opens the form; its submission exempts the bucket, and the next finding is skipped naming the exception', async () => {
    const { bucket, approval } = await pendingWebsiteFix();
    const message = await requestMessage(approval.approvalId);
    const triggerId = '12345.98765.abcd2358fdea';
    expect((await click(APPROVER, 'exempt', approval.approvalId, message, triggerId)).statusCode).toBe(200);
    expect(slack.views).toHaveLength(1);
    expect(slack.views[0]?.triggerId).toBe(triggerId);
    expect(slack.views[0]?.view).toMatchObject({ type: 'modal', callback_id: 'driftfix_exempt', private_metadata: approval.approvalId });
    expect((await ledger().getApproval(approval.approvalId))?.status).toBe('pending');

    const started = Date.now();
    const submitted = await handleSlackAction(
      signedRequest(exemptionSubmitBody({ user: APPROVER, approvalId: approval.approvalId, days: '30', reason: 'the site moves to CloudFront this month' })),
      interactivity,
    );
    expect(submitted.statusCode).toBe(200);
    expect(JSON.parse(String(submitted.body))).toEqual({});
    const exempted = await ledger().getApproval(approval.approvalId);
    expect(exempted).toMatchObject({ status: 'exempted', decidedBy: APPROVER });
    const exemption = await ledger().getExemption(RULE, approval.resource);
    expect(exemption).toMatchObject({ by: APPROVER, reason: 'the site moves to CloudFront this month', approvalId: approval.approvalId, recordId: exempted?.resultRecordId });
    const until = Date.parse(exemption?.until ?? '');
    expect(until).toBeGreaterThanOrEqual(started + 30 * 86_400_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 30 * 86_400_000);
    expect(await ledger().getRecord(exempted?.resultRecordId ?? '')).toMatchObject({ outcome: 'exempted', decidedBy: APPROVER, approvalId: approval.approvalId });
    expect(JSON.stringify(slack.message(message.channel, message.ts)?.blocks)).toContain(`Exempted by <@${APPROVER}> until ${exemption?.until}`);
    expect(buttonsOf(slack.message(message.channel, message.ts)?.blocks)).toEqual([]);
    expect(interactivity.bus.delivered).toEqual([]);

    const later = await replayEvent(finding(bucket), runtime, { apply: true });
    expect(later).toMatchObject({ outcome: 'skipped', writes: 0 });
    expect(later.reason).toContain(`exempted until ${exemption?.until} by ${APPROVER}: the site moves to CloudFront this month`);
    expect(slack.messages).toHaveLength(1);
    expect(await bucketPublicAccessBlock(bucket)).toBeNull();
  });

  it('a form with bad days or no reason stays open with the error, and nothing is exempted', async () => {
    const { approval } = await pendingWebsiteFix();
    for (const [days, reason] of [
      ['0', 'ok'],
      ['400', 'ok'],
      ['abc', 'ok'],
      ['30', ''],
    ] as const) {
      const response = await handleSlackAction(signedRequest(exemptionSubmitBody({ user: APPROVER, approvalId: approval.approvalId, days, reason })), interactivity);
      expect(JSON.parse(String(response.body)).response_action).toBe('errors');
    }
    expect((await ledger().getApproval(approval.approvalId))?.status).toBe('pending');
    expect(await ledger().getExemption(RULE, approval.resource)).toBeUndefined();
  });
});
