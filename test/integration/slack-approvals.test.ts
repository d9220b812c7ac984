import { GetBucketEncryptionCommand, GetBucketTaggingCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { s3BucketPublicAccessBlock } from '../../rules/s3-bucket-public-access-block.ts';
import { s3DefaultEncryption } from '../../rules/s3-default-encryption.ts';
import { processEvent } from '../../core/engine/engine.ts';
import type { RecordStore } from '../../core/aws/record-store.ts';
import { handleSlackAction, type InteractivityDeps, parseApprovers } from '../../core/slack/interactivity.ts';
import { loadSlackSecret } from '../../core/slack/secret.ts';
import { FakeSlack } from '../../scripts/lib/fake-slack.ts';
import { LocalBus } from '../../scripts/lib/local-bus.ts';
import { createLocalRuntime, type LocalRuntime } from '../../scripts/lib/local-runtime.ts';
import { configEvent, REGION } from '../support/events.ts';
import { bucketEncryption, bucketPublicAccessBlock, createBucket, motoEndpoint, silentLog, uniqueName } from '../support/local-aws.ts';
import { APPROVER, BOT_TOKEN, CHANNEL, clickBody, createSlackSecret, signedRequest, STRANGER } from '../support/slack.ts';

const ALL_ON = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };

let slack: FakeSlack;
let runtime: LocalRuntime;
let store: RecordStore;
let bus: LocalBus;
let interactivity: InteractivityDeps;

async function setup(env: Record<string, string> = {}) {
  const secretId = await createSlackSecret();
  runtime = await createLocalRuntime({
    needStore: true,
    env: {
      AWS_REGION: REGION,
      AWS_ENDPOINT_URL: motoEndpoint(),
      REMEDIATION_TABLE: uniqueName('driftfix-slack'),
      SLACK_SECRET_ID: secretId,
      SLACK_CHANNEL: CHANNEL,
      SLACK_API_URL: slack.url,
      ...env,
    },
  });
  store = runtime.deps.store as RecordStore;
  bus = new LocalBus(runtime);
  const secrets = new SecretsManagerClient({ region: REGION, endpoint: motoEndpoint() });
  interactivity = {
    store,
    notifier: runtime.deps.notifier as InteractivityDeps['notifier'],
    emitter: bus,
    signingSecret: async () => (await loadSlackSecret(secrets, secretId)).signingSecret,
    approvers: parseApprovers(APPROVER, undefined),
    suppressionDays: runtime.settings.suppressionDays,
    log: silentLog,
  };
}

beforeEach(async () => {
  slack = new FakeSlack();
  await slack.start();
  await setup();
});
afterEach(async () => slack.stop());

/** A website bucket: its Block Public Access fix waits for approval. */
async function pendingWebsiteFix() {
  const bucket = await createBucket('site', { website: true });
  const result = await processEvent(configEvent({ rule: 's3-bucket-public-read-prohibited', resourceId: bucket }), s3BucketPublicAccessBlock, runtime.deps, { dryRun: false });
  expect(result.outcome).toBe('pending-approval');
  const approval = await store.getApproval(result.approvalId ?? '');
  if (!approval?.message) throw new Error('approval message was not recorded');
  return { bucket, result, approval, message: approval.message };
}

const click = (user: string, action: 'approve' | 'reject', approvalId: string, message: { channel: string; ts: string }) =>
  handleSlackAction(signedRequest(clickBody({ user, action, approvalId, channel: message.channel, ts: message.ts })), interactivity);

describe('change records in Slack', () => {
  it('posts a Block Kit record with before → after, console link and record id, with the bot token', async () => {
    const bucket = await createBucket('rec');
    const result = await processEvent(configEvent({ rule: 's3-bucket-server-side-encryption-enabled', resourceId: bucket }), s3DefaultEncryption, runtime.deps, { dryRun: false });
    expect(result).toMatchObject({ outcome: 'remediated', notification: 'posted' });
    const [post] = slack.callsTo('chat.postMessage');
    expect(post?.authorization).toBe(`Bearer ${BOT_TOKEN}`);
    expect(post?.args.channel).toBe(CHANNEL);
    const blocks = JSON.stringify(post?.args.blocks);
    expect(blocks).toContain('Fixed: S3 default encryption');
    expect(blocks).toContain('*before:* no default encryption');
    expect(blocks).toContain('*after:*  SSE-S3 (AES256)');
    expect(blocks).toContain(`https://s3.console.aws.amazon.com/s3/buckets/${bucket}`);
    expect(blocks).toContain(result.recordId);
    expect((await store.getRecord(result.recordId ?? ''))?.notification).toMatchObject({ status: 'posted', channel: CHANNEL });
  });

  it.each([
    ['notified', { RULE_MODES: 's3-default-encryption=notify' }, 'Drift found (notify only)'],
    ['pending-approval', { RULE_MODES: 's3-default-encryption=approve' }, 'Approval needed'],
  ])('posts a %s record', async (outcome, env, headline) => {
    await setup(env);
    const bucket = await createBucket('rec');
    const result = await processEvent(configEvent({ rule: 's3-bucket-server-side-encryption-enabled', resourceId: bucket }), s3DefaultEncryption, runtime.deps, { dryRun: false });
    expect(result.outcome).toBe(outcome);
    expect(JSON.stringify(slack.callsTo('chat.postMessage')[0]?.args.blocks)).toContain(headline);
  });

  it('posts a failed record', async () => {
    const bucket = await createBucket('rec');
    // The bot's own S3 client is denied (injected); the table and Slack are real.
    const denied = mockClient(runtime.deps.clients.s3);
    denied.on(GetBucketTaggingCommand).resolves({ TagSet: [] });
    denied.on(GetBucketEncryptionCommand).rejects(new S3ServiceException({ name: 'AccessDenied', message: 'Access Denied', $fault: 'client', $metadata: {} }));
    const result = await processEvent(configEvent({ rule: 's3-bucket-server-side-encryption-enabled', resourceId: bucket }), s3DefaultEncryption, runtime.deps, { dryRun: false });
    denied.restore();
    expect(result).toMatchObject({ outcome: 'failed', notification: 'posted' });
    expect(JSON.stringify(slack.callsTo('chat.postMessage')[0]?.args.blocks)).toContain('Fix failed');
  });

  it('posts nothing for compliant resources', async () => {
    const bucket = await createBucket('rec', { encryption: 'AES256' });
    await processEvent(configEvent({ rule: 's3-bucket-server-side-encryption-enabled', resourceId: bucket }), s3DefaultEncryption, runtime.deps, { dryRun: false });
    expect(slack.calls).toHaveLength(0);
  });

  it('Slack down (500s): the change is made once, the record waits marked pending, the redelivery posts it', async () => {
    const bucket = await createBucket('down');
    const event = configEvent({ rule: 's3-bucket-server-side-encryption-enabled', resourceId: bucket });
    slack.failNext(3, 500);
    const first = await processEvent(event, s3DefaultEncryption, runtime.deps, { dryRun: false });
    expect(first).toMatchObject({ outcome: 'remediated', writes: 1, notification: 'failed' });
    expect((await store.getRecord(first.recordId ?? ''))?.notification).toMatchObject({ status: 'pending', attempts: 1 });

    const retry = await processEvent(structuredClone(event), s3DefaultEncryption, runtime.deps, { dryRun: false });
    expect(retry).toMatchObject({ outcome: 'remediated', writes: 0, calls: [], notification: 'posted' });
    expect((await store.getRecord(first.recordId ?? ''))?.notification).toMatchObject({ status: 'posted', attempts: 2 });
    expect((await bucketEncryption(bucket))?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('AES256');
  });

  it('429 with a short Retry-After is honoured within the budget', async () => {
    const bucket = await createBucket('rate');
    slack.rateLimitNext(1, 1);
    const started = Date.now();
    const result = await processEvent(configEvent({ rule: 's3-bucket-server-side-encryption-enabled', resourceId: bucket }), s3DefaultEncryption, runtime.deps, { dryRun: false });
    expect(result.notification).toBe('posted');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(2);
  });

  it('429 asking for longer than the budget: the record waits for a later delivery, nothing lost', async () => {
    const bucket = await createBucket('rate');
    slack.rateLimitNext(1, 120);
    const result = await processEvent(configEvent({ rule: 's3-bucket-server-side-encryption-enabled', resourceId: bucket }), s3DefaultEncryption, runtime.deps, { dryRun: false });
    expect(result).toMatchObject({ outcome: 'remediated', notification: 'failed' });
    expect((await store.getRecord(result.recordId ?? ''))?.notification?.status).toBe('pending');
  });

  it('a Slack timeout is retried, and the record still arrives once', async () => {
    const bucket = await createBucket('slow');
    slack.hangNext(1);
    const result = await processEvent(configEvent({ rule: 's3-bucket-server-side-encryption-enabled', resourceId: bucket }), s3DefaultEncryption, runtime.deps, { dryRun: false });
    expect(result.notification).toBe('posted');
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
  }, 20_000);
});

describe('approval in Slack', () => {
  it('asks with Approve and Reject buttons carrying only the opaque approval id', async () => {
    const { approval } = await pendingWebsiteFix();
    const blocks = (slack.callsTo('chat.postMessage')[0]?.args.blocks ?? []) as Array<Record<string, any>>;
    const actions = blocks.find((block) => block.type === 'actions');
    expect(actions?.elements.map((button: any) => [button.action_id, button.value])).toEqual([
      ['approve', approval.approvalId],
      ['reject', approval.approvalId],
    ]);
    expect(actions?.elements[0].confirm).toBeDefined(); // a website going offline is a high-risk change
  });

  it('a signed click by an approver applies the fix exactly once and updates the message', async () => {
    const { bucket, approval, message } = await pendingWebsiteFix();
    const response = await click(APPROVER, 'approve', approval.approvalId, message);
    expect(response.statusCode).toBe(200);
    expect(bus.delivered).toHaveLength(1);
    expect(bus.delivered[0]).toMatchObject({ outcome: 'remediated', writes: 1, rule: 's3-bucket-public-access-block' });
    expect(await bucketPublicAccessBlock(bucket)).toEqual(ALL_ON);
    expect((await store.getApproval(approval.approvalId))?.status).toBe('applied');

    const updates = slack.callsTo('chat.update').map((call) => JSON.stringify(call.args));
    expect(updates.some((text) => text.includes(`Approved by <@${APPROVER}>`))).toBe(true);
    const final = slack.callsTo('chat.update').at(-1)?.args;
    expect(final).toMatchObject({ channel: message.channel, ts: message.ts });
    expect(JSON.stringify(final?.blocks)).toContain('Fixed');
    expect(JSON.stringify(final?.blocks)).toContain(`<@${APPROVER}>`);
    expect(JSON.stringify(final?.blocks)).not.toContain('"action_id":"approve"');

    // A double click, or the same request replayed: nothing more happens.
    const again = await click(APPROVER, 'approve', approval.approvalId, message);
    expect(again.statusCode).toBe(200);
    expect(bus.delivered).toHaveLength(1);
    expect(JSON.stringify(slack.callsTo('chat.postEphemeral').at(-1)?.args)).toContain('already applied');
  });

  it('acknowledges within Slack’s 3 seconds even when Slack does not answer the message update', async () => {
    const { bucket, approval, message } = await pendingWebsiteFix();
    slack.hangNext(1); // the "Approved by …; applying" update never gets an answer
    const started = Date.now();
    const response = await click(APPROVER, 'approve', approval.approvalId, message);
    expect(response.statusCode).toBe(200);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(await bucketPublicAccessBlock(bucket)).toEqual(ALL_ON);
  }, 20_000);

  it('a redelivered approved event does not apply twice', async () => {
    const { approval, message } = await pendingWebsiteFix();
    await click(APPROVER, 'approve', approval.approvalId, message);
    await bus.emitApproved({ approvalId: approval.approvalId, ruleId: approval.ruleId });
    expect(bus.delivered.map((result) => result.writes)).toEqual([1, 0]);
  });

  it('refuses to apply when the resource changed after the approval', async () => {
    const { approval, message } = await pendingWebsiteFix();
    const { S3Client, PutPublicAccessBlockCommand } = await import('@aws-sdk/client-s3');
    const s3 = new S3Client({ region: REGION, endpoint: motoEndpoint(), forcePathStyle: true });
    const bucket = approval.resource.split('/')[1] ?? '';
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: { BlockPublicAcls: true } }));
    await click(APPROVER, 'approve', approval.approvalId, message);
    expect(bus.delivered[0]).toMatchObject({ outcome: 'skipped', writes: 0 });
    expect(bus.delivered[0]?.reason).toContain('changed after the approval');
    expect((await store.getApproval(approval.approvalId))?.status).toBe('stale');
  });

  it('applies nothing when the resource became compliant after the approval', async () => {
    const { approval, message } = await pendingWebsiteFix();
    const { S3Client, PutPublicAccessBlockCommand } = await import('@aws-sdk/client-s3');
    const s3 = new S3Client({ region: REGION, endpoint: motoEndpoint(), forcePathStyle: true });
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: approval.finding.resourceId, PublicAccessBlockConfiguration: ALL_ON }));
    await click(APPROVER, 'approve', approval.approvalId, message);
    expect(bus.delivered[0]).toMatchObject({ outcome: 'compliant', writes: 0 });
  });

  it('reject records the decision and suppresses the rule for that resource', async () => {
    const { bucket, approval, message } = await pendingWebsiteFix();
    const response = await click(APPROVER, 'reject', approval.approvalId, message);
    expect(response.statusCode).toBe(200);
    expect(bus.delivered).toHaveLength(0);
    expect(await store.getApproval(approval.approvalId)).toMatchObject({ status: 'rejected', decidedBy: APPROVER });
    const update = JSON.stringify(slack.callsTo('chat.update').at(-1)?.args);
    expect(update).toContain(`Rejected by <@${APPROVER}>`);
    expect(update).toContain('will not propose this fix');

    const posts = slack.callsTo('chat.postMessage').length;
    const later = await processEvent(configEvent({ rule: 's3-bucket-public-read-prohibited', resourceId: bucket }), s3BucketPublicAccessBlock, runtime.deps, { dryRun: false });
    expect(later).toMatchObject({ outcome: 'skipped', writes: 0, calls: [] });
    expect(later.reason).toMatch(/suppressed until .* rejected this fix/);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(posts);
    expect(await bucketPublicAccessBlock(bucket)).toBeNull();
  });

  it('when the approval cannot be handed to the rule, it stays pending and the clicker is told', async () => {
    const { bucket, approval, message } = await pendingWebsiteFix();
    interactivity.emitter = { emitApproved: async () => Promise.reject(new Error('EventBridge unavailable (injected)')) };
    await click(APPROVER, 'approve', approval.approvalId, message);
    expect((await store.getApproval(approval.approvalId))?.status).toBe('pending');
    expect(String(slack.callsTo('chat.postEphemeral').at(-1)?.args.text)).toContain('nothing changed');
    expect(JSON.stringify(slack.callsTo('chat.update').at(-1)?.args.blocks)).toContain('"action_id":"approve"');
    expect(await bucketPublicAccessBlock(bucket)).toBeNull();
  });

  it('members of the approver group may approve too', async () => {
    interactivity.approvers = parseApprovers('', 'S0APPROVERS');
    slack.groups.set('S0APPROVERS', [STRANGER]);
    const { bucket, approval, message } = await pendingWebsiteFix();
    await click(STRANGER, 'approve', approval.approvalId, message);
    expect(await bucketPublicAccessBlock(bucket)).toEqual(ALL_ON);
  });
});

describe('hostile or wrong clicks change nothing', () => {
  async function expectUnchanged(approvalId: string, bucket: string) {
    expect((await store.getApproval(approvalId))?.status).toBe('pending');
    expect(await bucketPublicAccessBlock(bucket)).toBeNull();
    expect(bus.delivered).toHaveLength(0);
  }

  it('a bad signature, a stale or future timestamp, a tampered payload: 401', async () => {
    const { bucket, approval, message } = await pendingWebsiteFix();
    const body = clickBody({ user: APPROVER, action: 'approve', approvalId: approval.approvalId, channel: message.channel, ts: message.ts });
    const now = Math.floor(Date.now() / 1000);
    const requests = [
      signedRequest(body, { secret: '0123456789abcdef0123456789abcdef' }),
      signedRequest(body, { timestamp: now - 600 }),
      signedRequest(body, { timestamp: now + 600 }),
      { ...signedRequest(body), body: body.replace(APPROVER, 'U0MALLORY1') },
    ];
    for (const request of requests) expect((await handleSlackAction(request, interactivity)).statusCode).toBe(401);
    await expectUnchanged(approval.approvalId, bucket);
  });

  it('a base64-encoded body is verified on its decoded bytes', async () => {
    const { bucket, approval, message } = await pendingWebsiteFix();
    const body = clickBody({ user: APPROVER, action: 'approve', approvalId: approval.approvalId, channel: message.channel, ts: message.ts });
    expect((await handleSlackAction(signedRequest(body, { base64: true }), interactivity)).statusCode).toBe(200);
    expect(await bucketPublicAccessBlock(bucket)).toEqual(ALL_ON);
  });

  it('someone who is not an approver is told so', async () => {
    const { bucket, approval, message } = await pendingWebsiteFix();
    expect((await click(STRANGER, 'approve', approval.approvalId, message)).statusCode).toBe(200);
    const [ephemeral] = slack.callsTo('chat.postEphemeral');
    expect(ephemeral?.args).toMatchObject({ user: STRANGER, channel: message.channel });
    expect(String(ephemeral?.args.text)).toContain('not allowed');
    await expectUnchanged(approval.approvalId, bucket);
  });

  it('an unknown approval id, or a button from another message', async () => {
    const { bucket, approval, message } = await pendingWebsiteFix();
    await click(APPROVER, 'approve', 'apr-00000000-0000-4000-8000-000000000000', message);
    await click(APPROVER, 'approve', approval.approvalId, { channel: message.channel, ts: '999.000001' });
    const answers = slack.callsTo('chat.postEphemeral').map((call) => String(call.args.text));
    expect(answers[0]).toContain('does not exist');
    expect(answers[1]).toContain('does not belong');
    await expectUnchanged(approval.approvalId, bucket);
  });

  it('an expired approval', async () => {
    await setup({ APPROVAL_TTL_HOURS: '0.0001' });
    const { bucket, approval, message } = await pendingWebsiteFix();
    await new Promise((resolve) => setTimeout(resolve, 500));
    await click(APPROVER, 'approve', approval.approvalId, message);
    expect(String(slack.callsTo('chat.postEphemeral')[0]?.args.text)).toContain('expired');
    await expectUnchanged(approval.approvalId, bucket);
  });

  it('malformed payloads, wrong methods and oversized bodies', async () => {
    const { bucket, approval } = await pendingWebsiteFix();
    const cases = [
      signedRequest('payload=%7Bnot-json'),
      signedRequest('nothing=here'),
      signedRequest(new URLSearchParams({ payload: JSON.stringify({ type: 'view_submission', user: { id: APPROVER } }) }).toString()),
      signedRequest(new URLSearchParams({ payload: `{"type":"block_actions","type":"x"}` }).toString()),
    ];
    for (const request of cases) expect((await handleSlackAction(request, interactivity)).statusCode).toBe(400);
    expect((await handleSlackAction({ ...signedRequest('a=b'), requestContext: { ...signedRequest('a=b').requestContext, http: { ...signedRequest('a=b').requestContext.http, method: 'GET' } } }, interactivity)).statusCode).toBe(405);
    expect((await handleSlackAction(signedRequest(`payload=${'x'.repeat(70 * 1024)}`), interactivity)).statusCode).toBe(413);
    await expectUnchanged(approval.approvalId, bucket);
  });
});
