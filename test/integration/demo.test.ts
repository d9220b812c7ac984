import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const EXPECTED = [
  /✔ remediated\s+events\/config\/s3-bucket-server-side-encryption-enabled\.remediated\.json/,
  /✔ remediated\s+events\/config\/conformance-pack-bucket-level-public-access\.remediated\.json/,
  /✔ remediated\s+events\/access-analyzer\/s3-bucket-public\.remediated\.json/,
  /✔ remediated\s+events\/security-hub\/s3\.8-bucket-level-block-public-access\.remediated\.json/,
  /= compliant\s+events\/config\/securityhub-named-already-encrypted\.compliant\.json/,
  /✘ rejected\s+events\/invalid\/other-account\.rejected\.json/,
];

describe('npm run demo', () => {
  it('starts its own moto, fixes the drifted buckets, and completes one approval', async () => {
    // As a new user runs it: no endpoint and no table given.
    const env = { ...process.env };
    delete env.AWS_ENDPOINT_URL;
    delete env.REMEDIATION_TABLE;
    const child = spawn(process.execPath, ['scripts/run.mjs', 'demo'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(status, output).toBe(0);
    for (const line of EXPECTED) expect(output).toMatch(line);
    expect(output).toMatch(/Approved apr-[0-9a-f-]+: remediated: block public access/);
    expect(output).toMatch(/Approved apr-[0-9a-f-]+: remediated: turn public access off for DB instance driftfix-demo-public-db/);
    // An unattached over-broad policy: nothing to show what it is used for, so nothing is cut.
    expect(output).toMatch(/skipped\s+\S*iam-policy-event\.json/);
    expect(output).toMatch(/attached to no user, group or role/);
    expect(output).toMatch(/Still waiting for a person: \d+ approvals \(/);
  }, 90_000);

  it('--org: a member account’s fix, asked at the hub’s Slack app and approved by a signed click on the hub’s endpoint, is applied and verified in the member', () => {
    const env = { ...process.env };
    delete env.AWS_ENDPOINT_URL;
    const run = spawnSync(process.execPath, ['scripts/run.mjs', 'demo', '--org'], { cwd: ROOT, env, encoding: 'utf8', timeout: 90_000 });
    const output = `${run.stdout}${run.stderr}`;
    expect(run.status, output).toBe(0);
    expect(output).toMatch(/member pending-approval: waiting for approval/);
    expect(output).toMatch(/hub posted the request to Slack \(C0DRIFTFIX1 [0-9.]+\), account 444455556666 named in it/);
    expect(output).toMatch(/signed click on Approve → hub endpoint answered 200/);
    expect(output).toMatch(/member remediated: block public access for the whole account/);
    expect(output).toContain('{"BlockPublicAcls":true,"IgnorePublicAcls":true,"BlockPublicPolicy":true,"RestrictPublicBuckets":true}');
    expect(output).toMatch(/hub's view of the approval: applied; Slack message now: Fixed/);
  }, 90_000);

  it('with AWS_ENDPOINT_URL naming a moto that does not answer, says so and exits 1 instead of starting another', () => {
    const run = spawnSync(process.execPath, ['scripts/run.mjs', 'demo'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, AWS_ENDPOINT_URL: 'http://127.0.0.1:9' } });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/AWS_ENDPOINT_URL is http:\/\/127\.0\.0\.1:9, and no moto server answers there/);
    expect(run.stdout).not.toMatch(/Started moto server/);
  });

  it.each([[['--frobnicate']], [['--org', '--frobnicate']], [['--org=yes']]])('prints usage and exits 2 for unknown flags %j', (flags) => {
    const run = spawnSync(process.execPath, ['scripts/run.mjs', 'demo', ...flags], { cwd: ROOT, encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/usage: npm run demo/);
  });
});
