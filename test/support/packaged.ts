import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
export type Template = { Resources: Record<string, { Type: string; Properties: Record<string, any>; Condition?: string }>; Conditions?: Record<string, unknown> };

/** Runs `serverless package` (osls, offline) into a fresh folder and returns it with the template. */
export function packageService(extraArgs: string[] = []): { dir: string; template: Template } {
  const dir = mkdtempSync(join(tmpdir(), 'driftfix-package-'));
  const run = spawnSync(process.execPath, [join(ROOT, 'node_modules/osls/bin/serverless.js'), 'package', '--package', dir, ...extraArgs], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, SLS_TELEMETRY_DISABLED: '1' },
    timeout: 180_000,
  });
  if (run.status !== 0) throw new Error(`serverless package failed:\n${run.stdout}\n${run.stderr}`);
  return { dir, template: JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as Template };
}

/** The rule function an EventBridge rule targets, by the function's name suffix. */
export function targetRuleId(template: Template, eventRule: { Properties: Record<string, any> }): string {
  const logicalId = String(eventRule.Properties.Targets[0].Arn['Fn::GetAtt'][0]);
  return String(template.Resources[logicalId]?.Properties.FunctionName ?? '').replace(/^driftfix-[a-z0-9]+-/, '');
}
