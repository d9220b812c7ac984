import { spawn, spawnSync } from 'node:child_process';
import { existsSync, rmSync, } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RULES } from '../../rules/index.ts';
import { readTemplate, ROOT, withPackageLock } from '../support/packaged.ts';


function deployAccounts(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['scripts/deploy-accounts.sh', ...args], { cwd: ROOT, env: { ...process.env, SLS_TELEMETRY_DISABLED: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('scripts/deploy-accounts.sh', () => {
  it('packages each PROFILE:REGION:STAGE target with its stage and region, and names the ones that fail', async () => {
    const out = join(ROOT, '.serverless-sandbox-eu-west-1');
    rmSync(out, { recursive: true, force: true });
    try {
      const run = await withPackageLock(() => deployAccounts(['--package-only', 'sandbox-admin:eu-west-1:sandbox', 'not-a-target']));
      expect(run.status, run.stdout + run.stderr).toBe(1);
      expect(run.stdout).toContain('== package driftfix: stage sandbox, region eu-west-1, profile sandbox-admin');
      expect(run.stderr).toContain('not PROFILE:REGION:STAGE: not-a-target');
      expect(run.stderr).toContain('failed: not-a-target');
      expect(run.stderr).not.toContain('failed: sandbox-admin');
      expect(existsSync(join(out, 'cloudformation-template-update-stack.json'))).toBe(true);
      const names = Object.values(readTemplate(out).Resources)
        .filter((resource) => resource.Type === 'AWS::Lambda::Function')
        .map((resource) => resource.Properties.FunctionName);
      expect(names).toEqual(expect.arrayContaining(RULES.map((rule) => `driftfix-sandbox-${rule.id}`)));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 200_000);

  it.each([
    ['a target with a fourth part', 'a:eu-west-1:sandbox:extra'],
    ['a target without a stage', 'a:eu-west-1:'],
  ])('refuses %s, packaging nothing, and exits 1', (_case, target) => {
    const run = spawnSync('bash', ['scripts/deploy-accounts.sh', '--package-only', target], { cwd: ROOT, encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`not PROFILE:REGION:STAGE: ${target}`);
    expect(run.stdout).not.toContain('== package');
  });

  it.each([[[]], [['--package-only']]])('without targets (%j) prints its usage and exits 2', (args) => {
    const run = spawnSync('bash', ['scripts/deploy-accounts.sh', ...args], { cwd: ROOT, encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('usage');
  });
});
