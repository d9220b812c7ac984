import { spawnSync } from 'node:child_process';
import { basename, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandEventPaths } from '../../scripts/lib/event-files.ts';
import { type MotoServer, startMotoServer } from '../../scripts/lib/moto-server.ts';
import { createLocalRuntime } from '../../scripts/lib/local-runtime.ts';
import { replayFile } from '../../scripts/lib/replay-files.ts';
import { seedSampleWorld } from '../../scripts/lib/sample-world.ts';
import { type ReplayLine, toReplayLine } from '../../scripts/replay.ts';
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
let rewrite: (text: string) => string;
beforeAll(async () => {
  moto = await startMotoServer();
  ({ rewrite } = await seedSampleWorld(moto.endpoint, REGION, ACCOUNT));
}, 120_000);
afterAll(async () => moto?.stop());

/** Every sample through the same code as `npm run replay`, in this process: the samples' security group and key ids are the ones moto chose. */
async function replayAll(apply: boolean): Promise<ReplayLine[]> {
  const env = { ...process.env, AWS_REGION: REGION, AWS_ENDPOINT_URL: moto.endpoint, REMEDIATION_TABLE: 'driftfix-replay-test' };
  const runtime = await createLocalRuntime({ needStore: apply, env });
  const lines: ReplayLine[] = [];
  for (const file of await expandEventPaths([EVENTS_DIR])) {
    lines.push(toReplayLine(relative(ROOT, file), await replayFile(file, runtime, { apply, rewrite })));
  }
  return lines;
}

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
    const lines = await replayAll(false);
    expect(lines.map((line) => line.file).sort()).toEqual(files.map((file) => relative(ROOT, file)).sort());
    for (const line of lines) {
      const expected = expectedOutcome(line.file);
      const dry = expected === 'remediated' || expected === 'pending-approval' ? 'planned' : expected;
      expect(line.outcome, `${line.file}: ${line.reason}`).toBe(dry);
      expect(line.writes, line.file).toBe(0);
    }
  });

  it('--apply: each sample ends in the outcome its name promises; a second run changes nothing', async () => {
    const first = await replayAll(true);
    for (const line of first) expect(line.outcome, `${line.file}: ${line.reason}`).toBe(expectedOutcome(line.file));
    expect(first.reduce((sum, line) => sum + line.writes, 0)).toBeGreaterThanOrEqual(first.filter((line) => line.outcome === 'remediated').length);

    const second = await replayAll(true);
    expect(second.reduce((sum, line) => sum + line.writes, 0)).toBe(0);
    for (const line of second.filter((candidate) => expectedOutcome(candidate.file) === 'remediated')) {
      expect(line.reason, line.file).toMatch(/^duplicate delivery, already handled/);
    }
  });

  it('the CLI applies a sample and exits 1 when one is rejected', () => {
    const run = replay(['--apply', '--json', join('events', 'config'), join('events', 'invalid')]);
    expect(run.status).toBe(1);
    expect(run.lines.some((line) => line.outcome === 'rejected')).toBe(true);
    expect(run.lines.some((line) => line.outcome === 'remediated' || line.reason.startsWith('duplicate delivery'))).toBe(true);
  });

  it('exits 0 when nothing is rejected or failed, 1 for a file that is not JSON, 2 for an unknown flag', () => {
    expect(replay(['--json', join('events', 'config', 'compliant.ignored.json')]).status).toBe(0);
    const broken = replay(['--json', join('test', 'support', 'events.ts')]);
    expect(broken.status).toBe(1);
    expect(broken.lines[0]?.outcome).toBe('rejected');
    const unknown = replay(['--frobnicate', 'events']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/usage: npm run replay/);
    const retarget = replay(['--retarget', join('events', 'config', 'compliant.ignored.json')]);
    expect(retarget.status).toBe(2);
    expect(retarget.stderr).toMatch(/--retarget goes with --bus only/);
  });
});
