import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeSlack } from '../../scripts/lib/fake-slack.ts';
import { freePort } from '../../scripts/lib/moto-server.ts';
import { configEvent, REGION } from '../support/events.ts';
import { bucketPublicAccessBlock, createBucket, motoEndpoint, uniqueName } from '../support/local-aws.ts';
import { APPROVER, CHANNEL, clickBody, createSlackSecret, sign } from '../support/slack.ts';

const ROOT = join(import.meta.dirname, '..', '..');
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
async function run(script: string, args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
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
  writeFileSync(file, JSON.stringify(configEvent({ rule: 's3-bucket-public-read-prohibited', resourceId: bucket })));
  const replay = await run('scripts/replay.ts', ['--apply', '--json', file]);
  const line = replay.json();
  expect(line.outcome, replay.stderr).toBe('pending-approval');
  return { bucket, approvalId: line.approvalId };
}

describe('npm run approvals', () => {
  it('lists pending approvals, approves one (applied at once locally), and refuses a second decision', async () => {
    const { bucket, approvalId } = await pendingApproval();
    const listed = await run('scripts/approvals.ts', ['list', '--json']);
    expect(listed.stdout).toContain(approvalId);

    const approved = await run('scripts/approvals.ts', ['approve', approvalId, '--json']);
    expect(approved.status, approved.stderr).toBe(0);
    expect(approved.json()).toMatchObject({ approvalId, result: 'remediated', writes: 1 });
    expect(await bucketPublicAccessBlock(bucket)).toEqual(ALL_ON);

    const again = await run('scripts/approvals.ts', ['approve', approvalId, '--json']);
    expect(again.status).toBe(1);
    expect(again.json()).toMatchObject({ result: 'refused', reason: expect.stringContaining('already applied') });
    expect((await run('scripts/approvals.ts', ['list', '--json'])).stdout).not.toContain(approvalId);
  });

  it('rejects, suppressing the fix; unknown ids and bad commands are refused', async () => {
    const { bucket, approvalId } = await pendingApproval();
    const rejected = await run('scripts/approvals.ts', ['reject', approvalId, '--json']);
    expect(rejected.json()).toMatchObject({ result: 'rejected', suppressedUntil: expect.any(String) });
    expect(await bucketPublicAccessBlock(bucket)).toBeNull();

    expect((await run('scripts/approvals.ts', ['approve', 'apr-00000000-0000-4000-8000-000000000000'])).status).toBe(1);
    expect((await run('scripts/approvals.ts', ['approve', 'not-an-id'])).stdout).toContain('not a driftfix approval id');
    expect((await run('scripts/approvals.ts', ['delete', approvalId])).status).toBe(2);
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
    const ts = `${1_700_000_001}.000100`; // the stand-in's first message

    const port = await freePort();
    server = spawn(process.execPath, ['--import', 'tsx', 'scripts/serve.ts'], { cwd: ROOT, env: { ...env, PORT: String(port) }, stdio: 'pipe' });
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
    expect(await bucketPublicAccessBlock(bucket)).toEqual(ALL_ON);
    const final = JSON.stringify(slack.callsTo('chat.update').at(-1)?.args);
    expect(final).toContain('Fixed');
    expect(final).toContain(`<@${APPROVER}>`);
  }, 60_000);
});
