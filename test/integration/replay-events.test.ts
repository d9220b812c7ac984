import { spawnSync } from 'node:child_process';
import { basename, join, relative } from 'node:path';
import { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';
import { S3ControlClient } from '@aws-sdk/client-s3-control';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedConfigRules, seedDemoResources } from '../../scripts/lib/demo-resources.ts';
import { expandEventPaths } from '../../scripts/lib/event-files.ts';
import { type MotoServer, startMotoServer } from '../../scripts/lib/moto-server.ts';
import type { ReplayLine } from '../../scripts/replay.ts';
import { ACCOUNT, EVENTS_DIR, REGION } from '../support/events.ts';
import { ROOT } from '../support/packaged.ts';

/** Each sample's file name ends in the outcome it leads to on the resources the demo creates: `<what>.<outcome>.json`. */
function expectedOutcome(file: string): string {
  const match = /\.([a-z-]+)\.json$/.exec(basename(file));
  if (!match?.[1]) throw new Error(`${file} does not name its outcome (<what>.<outcome>.json)`);
  return match[1];
}

// Its own moto server: the samples use fixed names and the account-wide setting.
let moto: MotoServer;
beforeAll(async () => {
  moto = await startMotoServer();
  const local = { region: REGION, endpoint: moto.endpoint };
  await seedDemoResources(
    {
      s3: new S3Client({ ...local, forcePathStyle: true }),
      s3control: new S3ControlClient({ ...local, endpointProvider: () => ({ url: new URL(moto.endpoint) }) }),
      iam: new IAMClient(local),
    },
    ACCOUNT,
  );
  await seedConfigRules(new ConfigServiceClient(local));
}, 120_000);
afterAll(async () => moto?.stop());

function replay(args: string[], env: Record<string, string> = {}) {
  const run = spawnSync(process.execPath, ['scripts/run.mjs', 'replay', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, AWS_ENDPOINT_URL: moto.endpoint, REMEDIATION_TABLE: 'driftfix-replay-test', ...env },
    timeout: 120_000,
  });
  const lines = run.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ReplayLine);
  return { status: run.status, lines, stderr: run.stderr };
}

describe('npm run replay against moto, every sample in events/', () => {
  it('dry run: plans, reads only, writes nothing', async () => {
    const files = await expandEventPaths([EVENTS_DIR]);
    const { lines } = replay(['--json', 'events']);
    expect(lines.map((line) => line.file).sort()).toEqual(files.map((file) => relative(ROOT, file)).sort());
    for (const line of lines) {
      const expected = expectedOutcome(line.file);
      const dry = expected === 'remediated' || expected === 'pending-approval' ? 'planned' : expected;
      expect(line.outcome, `${line.file}: ${line.reason}`).toBe(dry);
      expect(line.writes, line.file).toBe(0);
    }
  });

  it('--apply: each sample ends in the outcome its name promises; a second run changes nothing', () => {
    const first = replay(['--apply', '--json', 'events']);
    for (const line of first.lines) expect(line.outcome, `${line.file}: ${line.reason}`).toBe(expectedOutcome(line.file));
    expect(first.lines.reduce((sum, line) => sum + line.writes, 0)).toBe(first.lines.filter((line) => line.outcome === 'remediated').length);
    expect(first.status).toBe(1); // the invalid samples are rejected

    const second = replay(['--apply', '--json', 'events']);
    expect(second.lines.reduce((sum, line) => sum + line.writes, 0)).toBe(0);
    for (const line of second.lines.filter((candidate) => expectedOutcome(candidate.file) === 'remediated')) {
      expect(line.reason, line.file).toMatch(/^duplicate delivery, already handled/);
    }
  });

  it('exits 0 when nothing is rejected or failed, 1 for a file that is not JSON, 2 for an unknown flag', () => {
    expect(replay(['--json', join('events', 'config', 'compliant.ignored.json')]).status).toBe(0);
    const broken = replay(['--json', join('test', 'support', 'events.ts')]);
    expect(broken.status).toBe(1);
    expect(broken.lines[0]?.outcome).toBe('rejected');
    const unknown = replay(['--frobnicate', 'events']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/usage: npm run replay/);
  });
});
