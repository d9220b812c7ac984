import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResourceClients } from '../../core/aws/all-clients.ts';
import { expandEventPaths } from '../../scripts/lib/event-files.ts';
import { seedDemoResources } from '../../scripts/lib/demo-resources.ts';
import { type MotoServer, startMotoServer } from '../../scripts/lib/moto-server.ts';
import type { ReplayLine } from '../../scripts/replay.ts';
import { ACCOUNT, EVENTS_DIR, REGION } from '../support/events.ts';

/** What `npm run replay -- --apply` must report for each sample, on the resources the demo creates. */
const EXPECTED: Record<string, ReplayLine['outcome']> = {
  'access-analyzer/archived-ignored.json': 'ignored',
  'access-analyzer/kms-key-skipped.json': 'skipped',
  'access-analyzer/resolved-ignored.json': 'ignored',
  'access-analyzer/s3-bucket-cross-account.json': 'pending-approval',
  'access-analyzer/iam-role-cross-account.json': 'pending-approval',
  'access-analyzer/internal-access-skipped.json': 'skipped',
  'access-analyzer/error-finding-skipped.json': 'skipped',
  'access-analyzer/unused-access-skipped.json': 'skipped',
  'access-analyzer/s3-bucket-public.json': 'remediated',
  'config/compliant-ignored.json': 'ignored',
  'config/configuration-item-change-ignored.json': 'ignored',
  // Their policy ids are not in the emulator: refused as "not this account's customer-managed policy".
  'config/iam-policy-no-statements-with-admin-access.json': 'skipped',
  'config/iam-policy-no-statements-with-full-access.json': 'skipped',
  'config/not-applicable-ignored.json': 'ignored',
  'config/s3-account-level-public-access-blocks-periodic.json': 'pending-approval',
  'config/s3-account-level-public-access-blocks.json': 'pending-approval',
  'config/s3-bucket-level-public-access-prohibited.json': 'remediated',
  'config/s3-bucket-public-read-prohibited-website.json': 'pending-approval',
  'config/s3-bucket-public-write-prohibited-excluded.json': 'skipped',
  'config/s3-bucket-server-side-encryption-enabled-already-encrypted.json': 'compliant',
  'config/s3-bucket-server-side-encryption-enabled.json': 'remediated',
  'config/s3-default-encryption-kms.json': 'skipped',
  'config/unanswered-rule-skipped.json': 'skipped',
  'invalid/future-timestamp.json': 'rejected',
  'invalid/invalid-bucket-name.json': 'rejected',
  'invalid/object-arn.json': 'rejected',
  'invalid/other-account.json': 'rejected',
  'invalid/source-detail-type-mismatch.json': 'rejected',
};

const ROOT = join(import.meta.dirname, '..', '..');

// Its own moto server: the samples use fixed names and the account-level setting.
let moto: MotoServer;
beforeAll(async () => {
  moto = await startMotoServer();
  await seedDemoResources(createResourceClients({ region: REGION, endpoint: moto.endpoint }), ACCOUNT);
});
afterAll(async () => moto?.stop());

function replay(args: string[], env: Record<string, string> = {}) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/replay.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, AWS_ENDPOINT_URL: moto.endpoint, REMEDIATION_TABLE: 'driftfix-replay-test', ...env },
    timeout: 60_000,
  });
  const lines = run.stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as ReplayLine);
  return { status: run.status, lines, stderr: run.stderr };
}

const relative = (file: string) => file.slice(EVENTS_DIR.length + 1);

describe('npm run replay against moto, every sample in events/', () => {
  it('has an expected outcome for every sample file', async () => {
    const files = (await expandEventPaths([EVENTS_DIR])).map(relative);
    expect(files.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it('dry run: plans, reads only, and writes nothing', () => {
    const { lines, status } = replay(['--json', EVENTS_DIR]);
    expect(status).toBe(1); // the invalid/ samples are rejected
    expect(lines).toHaveLength(Object.keys(EXPECTED).length);
    for (const line of lines) {
      expect(line.writes, line.file).toBe(0);
      const expected = EXPECTED[relative(line.file)];
      const dry = expected === 'remediated' || expected === 'pending-approval' ? 'planned' : expected;
      expect(line.outcome, line.file).toBe(dry);
      expect(line.recordId).toBeUndefined();
    }
  });

  it('--apply: each sample gets its outcome; a second run makes no second write', () => {
    const first = replay(['--apply', '--json', EVENTS_DIR]);
    expect(first.status).toBe(1);
    for (const line of first.lines) {
      expect(line.outcome, `${line.file}: ${line.reason}`).toBe(EXPECTED[relative(line.file)]);
      expect(Object.keys(line).every((key) => ['file', 'outcome', 'rule', 'resource', 'reason', 'calls', 'writes', 'recordId', 'approvalId'].includes(key))).toBe(true);
      if (line.outcome === 'pending-approval') expect(line.approvalId).toMatch(/^apr-/);
      if (line.outcome === 'remediated') expect(line.writes).toBe(1);
      else expect(line.writes).toBe(0);
    }

    const second = replay(['--apply', '--json', EVENTS_DIR]);
    expect(second.lines.map((line) => line.writes)).toEqual(second.lines.map(() => 0));
    expect(second.lines.map((line) => line.outcome)).toEqual(first.lines.map((line) => line.outcome));
  });

  it('exits 0 when nothing is rejected or failed, and reports a file that is not JSON as rejected', () => {
    const ok = replay(['--json', join(EVENTS_DIR, 'config/compliant-ignored.json')]);
    expect(ok.status).toBe(0);
    const bad = replay(['--json', join(ROOT, 'serverless.yml')]);
    expect(bad.status).toBe(1);
    expect(bad.lines[0]?.outcome).toBe('rejected');
  });
});
