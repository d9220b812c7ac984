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
    expect(output).toMatch(/Approved apr-[0-9a-f-]+: remediated: new default version/);
  }, 90_000);

  it('prints usage and exits 2 for an unknown flag', () => {
    const run = spawnSync(process.execPath, ['scripts/run.mjs', 'demo', '--frobnicate'], { cwd: ROOT, encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/usage: npm run demo/);
  });
});
