import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

describe('npm run demo', () => {
  it('starts its own moto, fixes the drifted buckets, and completes one approval', async () => {
    // As a new user runs it: no endpoint and no table given.
    const env = { ...process.env };
    delete env.AWS_ENDPOINT_URL;
    delete env.REMEDIATION_TABLE;
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(status, output).toBe(0);
    expect(output).toMatch(/✔ remediated\s+events\/config\/s3-bucket-server-side-encryption-enabled\.json/);
    expect(output).toMatch(/✔ remediated\s+events\/access-analyzer\/s3-bucket-public\.json/);
    expect(output).toMatch(/✘ rejected\s+events\/invalid\/other-account\.json/);
    expect(output).toMatch(/Approved apr-[0-9a-f-]+: remediated: block public access/);
  }, 90_000);
});
