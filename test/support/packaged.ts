import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { inject } from 'vitest';

export const ROOT = join(import.meta.dirname, '..', '..');
export type Resource = { Type: string; Properties: Record<string, any>; Condition?: string; DependsOn?: unknown };
export type Template = { Resources: Record<string, Resource>; Conditions?: Record<string, unknown>; Outputs?: Record<string, unknown> };

import { withPackageLock } from '../../scripts/lib/package-lock.ts';

export { withPackageLock };

const made: string[] = [];

/** Runs `serverless package` (osls, offline) into a fresh folder, its bundles in a folder of their own. */
export function packageService(extraArgs: string[] = []): Promise<{ dir: string; output: string }> {
  return withPackageLock(async () => {
    // osls empties the checkout's .serverless/ even when packaging elsewhere: a developer's own package is kept aside.
    const own = join(ROOT, '.serverless');
    const aside = join(ROOT, '.build', `serverless-kept-${process.pid}`);
    const kept = existsSync(own);
    if (kept) renameSync(own, aside);
    try {
      const packaged = await runPackage(extraArgs);
      made.push(packaged.dir, join(ROOT, '.build', basename(packaged.dir)));
      return packaged;
    } finally {
      if (kept) {
        rmSync(own, { recursive: true, force: true });
        renameSync(aside, own);
      }
    }
  });
}

/** Removes every package this process made and its bundles (global teardown, a test's afterAll). */
export function removePackages(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

function runPackage(extraArgs: string[]): Promise<{ dir: string; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'driftfix-package-'));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'node_modules/osls/bin/serverless.js'), 'package', '--package', dir, ...extraArgs], {
      cwd: ROOT,
      env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', DRIFTFIX_DIST_DIR: join('.build', basename(dir)) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve({ dir, output }) : reject(new Error(`serverless package ${extraArgs.join(' ')} failed:\n${output}`))));
  });
}

export function readTemplate(dir: string): Template {
  return JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
}

/** The stack the global setup packaged once, with default params. */
export function packaged(): { dir: string; template: Template } {
  const dir = inject('packageDir');
  return { dir, template: readTemplate(dir) };
}

/** The function resource of a function id (its FunctionName ends with it). */
export function functionOf(template: Template, functionId: string): Resource {
  const found = Object.values(template.Resources).find((resource) => resource.Type === 'AWS::Lambda::Function' && String(resource.Properties.FunctionName).endsWith(`-${functionId}`));
  if (!found) throw new Error(`no function ${functionId}`);
  return found;
}
