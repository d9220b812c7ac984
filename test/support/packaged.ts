import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { inject } from 'vitest';
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

/** The packages test/support/global-setup.ts builds once, one after the other (packaging shares dist/). */
export const PACKAGE_VARIANTS = {
  default: [],
  noReplay: ['--param=acceptReplay=false'],
  withConfigRules: ['--param=deployConfigRules=true', '--param=alarmTopicArn=arn:aws:sns:us-east-1:111122223333:ops'],
} as const satisfies Record<string, readonly string[]>;

export type PackageVariant = keyof typeof PACKAGE_VARIANTS;

/** A package built by the global setup: its folder and template. */
export function packaged(variant: PackageVariant): { dir: string; template: Template } {
  const dir = inject('packages')[variant];
  return { dir, template: JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as Template };
}
