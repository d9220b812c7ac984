import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/packaged.ts';

describe('scripts/deploy-accounts.sh', () => {
  it('packages each PROFILE:REGION:STAGE target and names the ones that fail', () => {
    const out = join(ROOT, '.serverless-sandbox-eu-west-1');
    rmSync(out, { recursive: true, force: true });
    const run = spawnSync('bash', ['scripts/deploy-accounts.sh', '--package-only', 'sandbox-admin:eu-west-1:sandbox', 'not-a-target'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 180_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('not PROFILE:REGION:STAGE: not-a-target');
    expect(run.stderr).toContain('failed: not-a-target');
    expect(existsSync(join(out, 'cloudformation-template-update-stack.json'))).toBe(true);
    rmSync(out, { recursive: true, force: true });
  }, 200_000);

  it('without targets prints its usage and exits 2', () => {
    const run = spawnSync('bash', ['scripts/deploy-accounts.sh'], { cwd: ROOT, encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('usage');
  });
});
