import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateEventBusCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { PutPublicAccessBlockCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeSlack } from '../../scripts/lib/fake-slack.ts';
import { freePort } from '../../scripts/lib/moto-server.ts';
import { configEvent, REGION } from '../support/events.ts';
import { bucketPublicAccessBlock, createBucket, localRuntime, motoEndpoint, testS3, uniqueName } from '../support/local-aws.ts';
import { APPROVER, CHANNEL, clickBody, createSlackSecret, sign } from '../support/slack.ts';

import { ROOT } from '../support/packaged.ts';
const MEMBER = '444455556666';
const ALL_ON = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };

let env: Record<string, string>;
let slack: FakeSlack;

beforeEach(async () => {
  slack = new FakeSlack();
  await slack.start();
  env = {
    ...(process.env as Record<string, string>),
    AWS_ENDPOINT_URL: motoEndpoint(),
    AWS_REGION: REGION,
    REMEDIATION_TABLE: uniqueName('driftfix-ops'),
  };
});
afterEach(async () => slack.stop());

/** Runs a CLI without blocking this process, which also serves the Slack stand-in. */
async function run(cli: string, args: string[]) {
  const child = spawn(process.execPath, ['scripts/run.mjs', cli, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { status, stdout, stderr, json: () => JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') };
}

/** A website bucket's fix, waiting for approval after `npm run replay -- --apply`. */
async function pendingApproval(): Promise<{ bucket: string; approvalId: string }> {
  const bucket = await createBucket('ops-site', { website: true });
  const file = join(tmpdir(), `${uniqueName('event')}.json`);
  writeFileSync(file, JSON.stringify(configEvent({ configRuleName: 's3-bucket-public-read-prohibited', resourceId: bucket })));
  const replay = await run('replay', ['--apply', '--json', file]);
  const line = replay.json();
  expect(line.outcome, replay.stderr).toBe('pending-approval');
  return { bucket, approvalId: line.approvalId };
}

describe('npm run approvals', () => {
  it('lists pending approvals, approves one (applied at once locally), and refuses a second decision', async () => {
    const { bucket, approvalId } = await pendingApproval();
    const listed = await run('approvals', ['list', '--json']);
    expect(listed.stdout).toContain(approvalId);

    const approved = await run('approvals', ['approve', approvalId, '--json']);
    expect(approved.status, approved.stderr).toBe(0);
    expect(approved.json()).toMatchObject({ approvalId, result: 'remediated', writes: 1 });
    expect(await bucketPublicAccessBlock(bucket)).toEqual(ALL_ON);

    const again = await run('approvals', ['approve', approvalId, '--json']);
    expect(again.status).toBe(1);
    expect(again.json()).toMatchObject({ result: 'refused', reason: expect.stringContaining('already applied') });
    expect((await run('approvals', ['list', '--json'])).stdout).not.toContain(approvalId);
  });

  it('an approval that applies nothing (the bucket changed since) exits 1, naming why', async () => {
    const { bucket, approvalId } = await pendingApproval();
    await testS3().send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: false, BlockPublicPolicy: false, RestrictPublicBuckets: false } }));
    const approved = await run('approvals', ['approve', approvalId]);
    expect(approved.status, approved.stdout).toBe(1);
    expect(approved.stdout).toMatch(/skipped: the resource changed after the approval/);
  });

  it('rejects, suppressing the fix; unknown ids and bad commands are refused', async () => {
    const { bucket, approvalId } = await pendingApproval();
    const rejected = await run('approvals', ['reject', approvalId, '--json']);
    expect(rejected.json()).toMatchObject({ result: 'rejected', suppressedUntil: expect.any(String) });
    expect(await bucketPublicAccessBlock(bucket)).toBeNull();

    expect((await run('approvals', ['approve', 'apr-00000000-0000-4000-8000-000000000000'])).status).toBe(1);
    expect((await run('approvals', ['approve', 'not-an-id'])).stdout).toContain('not a driftfix approval id');
    expect((await run('approvals', ['delete', approvalId])).status).toBe(2);
    const unknownFlag = await run('approvals', ['list', '--frobnicate']);
    expect(unknownFlag.status).toBe(2);
    expect(unknownFlag.stderr).toMatch(/usage: npm run approvals/);
  });

  it('exempts a resource for some days with a reason: recorded, and the next finding is skipped naming the exception', async () => {
    const { bucket, approvalId } = await pendingApproval();
    expect((await run('approvals', ['exempt', approvalId, '--json'])).status).toBe(2);
    const refused = await run('approvals', ['exempt', approvalId, '--days', '0', '--reason', 'x', '--json']);
    expect(refused.json()).toMatchObject({ result: 'refused' });
    const exempted = await run('approvals', ['exempt', approvalId, '--days', '14', '--reason', 'launch page until the 12th', '--json']);
    expect(exempted.status, exempted.stderr).toBe(0);
    expect(exempted.json()).toMatchObject({ result: 'exempted', reason: 'launch page until the 12th', recordId: expect.stringMatching(/^rec-/) });
    const file = join(tmpdir(), `${uniqueName('event')}.json`);
    writeFileSync(file, JSON.stringify(configEvent({ configRuleName: 's3-bucket-public-read-prohibited', resourceId: bucket })));
    const next = (await run('replay', ['--apply', '--json', file])).json();
    expect(next.outcome).toBe('skipped');
    expect(next.reason).toMatch(/^exempted until .*: launch page until the 12th/);
    expect(await bucketPublicAccessBlock(bucket)).toBeNull();
  });

  it('lists an approval past its expiry as expired, not pending', async () => {
    env.APPROVAL_TTL_HOURS = '0.0003';
    const { approvalId } = await pendingApproval();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await run('approvals', ['list', '--json'])).stdout).not.toContain(approvalId);
    const all = (await run('approvals', ['list', '--all', '--json'])).stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line));
    expect(all.find((entry) => entry.approvalId === approvalId)?.status).toBe('expired');
  });
});

describe('npm run approvals at a hub', () => {
  /** A member account's approval as the hub's notifier keeps it (mirrored), beside a local one. */
  async function memberApproval(): Promise<{ approvalId: string; local: string }> {
    const { approvalId: local } = await pendingApproval();
    const runtime = await localRuntime({ table: env.REMEDIATION_TABLE });
    const ledger = runtime.ledger;
    const approval = await ledger?.getApproval(local);
    const record = approval ? await ledger?.getRecord(approval.recordId) : undefined;
    if (!ledger || !approval || !record) throw new Error('no local approval to copy');
    const approvalId = `apr-${randomUUID()}`;
    const recordId = `rec-${randomUUID().replace(/-/g, '').slice(0, 24)}`;
    await ledger.mirror(
      { ...record, recordId, approvalId, account: MEMBER },
      { ...approval, approvalId, recordId, finding: { ...approval.finding, account: MEMBER } },
    );
    return { approvalId, local };
  }

  it('lists every account’s approvals; a decision on a member’s goes to the member’s driftfix bus, and needs that bus named', async () => {
    const { approvalId, local } = await memberApproval();
    const listed = (await run('approvals', ['list'])).stdout;
    expect(listed).toMatch(new RegExp(`${approvalId}\\s+pending\\s+\\S+\\s+${MEMBER}/us-east-1`));
    expect(listed).toContain(local);

    const unnamed = await run('approvals', ['approve', approvalId]);
    expect(unnamed.status).toBe(2);
    expect(unnamed.stderr).toContain(`approval ${approvalId} is for account ${MEMBER} in us-east-1: give the members' driftfix bus with --member-bus`);

    // moto delivers a PutEvents to another account's bus ARN by the bus's name: a queue stands in for the member's function.
    const bus = uniqueName('driftfix-member-bus');
    const queue = await busToQueue(bus);
    const sent = await run('approvals', ['reject', approvalId, '--member-bus', bus, '--json']);
    expect(sent.status, `${sent.stdout}${sent.stderr}`).toBe(0);
    expect(sent.json()).toMatchObject({ approvalId, decision: 'reject', result: 'sent', account: MEMBER, bus });
    const [message] = await queue.receive();
    expect(message).toMatchObject({ source: 'driftfix.hub', 'detail-type': 'Remediation Decision', detail: { approvalId, decision: 'reject', by: expect.stringMatching(/^cli:/) } });
    expect((await run('approvals', ['reject', approvalId, '--member-bus', bus])).status).toBe(1);
  });
});

/** An event bus in moto with a rule that sends everything from the hub to a new queue. */
async function busToQueue(bus: string): Promise<{ receive: () => Promise<unknown[]> }> {
  const local = { region: REGION, endpoint: motoEndpoint() };
  const events = new EventBridgeClient(local);
  const sqs = new SQSClient(local);
  await events.send(new CreateEventBusCommand({ Name: bus }));
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: bus }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  await events.send(new PutRuleCommand({ Name: bus, EventBusName: bus, EventPattern: JSON.stringify({ source: ['driftfix.hub'] }) }));
  await events.send(new PutTargetsCommand({ Rule: bus, EventBusName: bus, Targets: [{ Id: 'member', Arn: Attributes?.QueueArn }] }));
  return {
    receive: async () => ((await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }))).Messages ?? []).map((m) => JSON.parse(m.Body ?? '{}')),
  };
}

describe('npm run rollback', () => {
  it('prints usage and exits 2 for an unknown flag or no record id', async () => {
    const unknown = await run('rollback', ['--frobnicate', 'rec-1']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/usage: npm run rollback/);
    expect((await run('rollback', [])).status).toBe(2);
  });
});

describe('npm run serve', () => {
  let server: ChildProcess | undefined;
  afterEach(() => {
    server?.kill();
  });

  it('serves POST /slack/actions: a signed approval click applies the fix on this machine', async () => {
    env.SLACK_SECRET_ID = await createSlackSecret();
    env.SLACK_CHANNEL = CHANNEL;
    env.SLACK_API_URL = slack.url;
    env.SLACK_APPROVERS = APPROVER;
    const { bucket, approvalId } = await pendingApproval();
    const posted = slack.callsTo('chat.postMessage');
    expect(posted).toHaveLength(1);
    const ts = slack.messages[0]?.ts ?? '';

    const port = await freePort();
    server = spawn(process.execPath, ['scripts/run.mjs', 'serve'], { cwd: ROOT, env: { ...env, PORT: String(port) }, stdio: 'pipe' });
    const url = `http://127.0.0.1:${port}/slack/actions`;
    for (let i = 0; i < 100; i += 1) {
      const up = await fetch(url.replace('/slack/actions', '/'), { signal: AbortSignal.timeout(500) }).then(() => true, () => false);
      if (up) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const body = clickBody({ user: APPROVER, action: 'approve', approvalId, channel: CHANNEL, ts });
    const timestamp = Math.floor(Date.now() / 1000);
    const unsigned = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(unsigned.status).toBe(401);
    const response = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': sign(body, timestamp) },
    });
    expect(response.status).toBe(200);
    const huge = await fetch(url, { method: 'POST', body: 'x'.repeat(1024 * 1024 + 10), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(huge.status).toBe(413);
    expect(await bucketPublicAccessBlock(bucket)).toEqual(ALL_ON);
    const final = JSON.stringify(slack.callsTo('chat.update').at(-1)?.args);
    expect(final).toContain('Fixed');
    expect(final).toContain(`<@${APPROVER}>`);
  }, 60_000);
});
