import { withPackageLock } from './package-lock.ts';
import { readFileSync, statSync, symlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cleanEnv, heading, kb, load, median, met, ms, REGION, ROOT, removeLater, runProcess, table, tempDir } from './bench-util.ts';

/**
 * Section 1 of `npm run bench`: every function `serverless package` produces, its zipped size,
 * and how long a fresh Node process takes to import its bundled handler (the AWS SDK resolved
 * from node_modules, as Lambda resolves it from the runtime). Then what the time is made of:
 * the SDK packages the bundle imports statically, each imported alone, and the bundle's own code.
 */

export const COLD_IMPORT_TARGET_MS = 100;
const RUNS = 5;

type CfnValue = string | number | boolean | null | { [key: string]: CfnValue } | CfnValue[];
interface LambdaResource {
  Type: string;
  Properties: { FunctionName?: string; Handler?: string; Environment?: { Variables?: Record<string, CfnValue> } };
}

export interface FunctionCost {
  name: string;
  zipped: number;
  importMs: number;
  /** The fastest of the 5: the least disturbed by other work on the machine. */
  importMinMs: number;
  /** CPU time (user + system, all threads) of that import: less disturbed than wall time by other work on the machine. */
  importCpuMs: number;
  /** The SDK packages it imports at load (not those it imports on first use). */
  staticSdk: string[];
  lazySdk: string[];
  /** In one process: its static SDK imports first, then the bundle. */
  sdkMs: number;
  ownMs: number;
  /** Why it was timed with settings the template leaves empty, if it was. */
  note: string;
}

export interface PackageResult {
  functions: FunctionCost[];
  /** Each SDK package a bundle imports at load, and each bundled dependency, imported alone. */
  alone: Array<{ module: string; ms: number; note: string }>;
  packageMs: number;
  load: string;
}

/** Placeholders for settings a function may refuse to start without, where the default parameters leave them empty. */
const SETTINGS_WHEN_EMPTY: Record<string, string> = { SLACK_CHANNEL: 'C0BENCH000', SLACK_APPROVERS: 'U0BENCH000' };


/** The parameters of the second packaging: the hub-notifier function exists only at an organization's hub. */
export const HUB_PARAMS = ['--param=hub=true', '--param=memberAccounts=444455556666'];

async function packageService(extraArgs: readonly string[] = []): Promise<{ dir: string; ms: number }> {
  const dir = tempDir('package');
  const dist = join('.build', basename(dir));
  removeLater(join(ROOT, dist));
  const ran = await withPackageLock(() =>
    runProcess(process.execPath, [join(ROOT, 'node_modules/osls/bin/serverless.js'), 'package', '--package', dir, ...extraArgs], {
      env: cleanEnv({ SLS_TELEMETRY_DISABLED: '1', DRIFTFIX_DIST_DIR: dist }),
      timeoutMs: 300_000,
    }),
  );
  if (ran.status !== 0) throw new Error(`serverless package failed:\n${ran.stdout}${ran.stderr}`);
  return { dir, ms: ran.ms };
}

/** A template value as the function would see it: references become plausible placeholders. */
function resolveValue(value: CfnValue): string {
  if (value === null || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return value.map(resolveValue).join(',');
  if ('Ref' in value) return `driftfix-dev-${String(value.Ref)}`;
  if ('Fn::GetAtt' in value) return `arn:aws:placeholder:${REGION}:111122223333:${JSON.stringify(value['Fn::GetAtt'])}`;
  if ('Fn::Sub' in value) {
    const sub = value['Fn::Sub'];
    const text = Array.isArray(sub) ? String(sub[0]) : String(sub);
    return text.replace(/\$\{([A-Za-z0-9.:]+)\}/g, (_, name: string) => `https://sqs.${REGION}.amazonaws.com/111122223333/${name}`);
  }
  return JSON.stringify(value);
}

/** What Lambda puts in a function's environment, with the function's own variables from the template. */
function lambdaEnv(name: string, variables: Record<string, CfnValue>): NodeJS.ProcessEnv {
  const own = Object.fromEntries(Object.entries(variables).map(([key, value]) => [key, resolveValue(value)]));
  return {
    PATH: process.env.PATH,
    TZ: ':UTC',
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    AWS_LAMBDA_FUNCTION_NAME: `driftfix-dev-${name}`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_ACCESS_KEY_ID: 'placeholder',
    AWS_SECRET_ACCESS_KEY: 'placeholder',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...own,
  };
}

/** The SDK packages a bundle imports: statically (paid at import) and with import() (paid on first use). */
export function sdkImports(bundle: string): { staticSdk: string[]; lazySdk: string[] } {
  const sdk = /^@(aws-sdk|smithy)\//;
  const staticSdk = new Set<string>();
  for (const match of bundle.matchAll(/(?:^|[;}\n])\s*import\s*(?:[^"'();]*?from\s*)?["']([^"']+)["']/g)) if (match[1] && sdk.test(match[1])) staticSdk.add(match[1]);
  const lazySdk = new Set<string>();
  for (const match of bundle.matchAll(/import\(\s*["']([^"']+)["']\s*\)/g)) if (match[1] && sdk.test(match[1]) && !staticSdk.has(match[1])) lazySdk.add(match[1]);
  return { staticSdk: [...staticSdk].sort(), lazySdk: [...lazySdk].sort() };
}

/**
 * Runs `script` in RUNS fresh processes. It prints {"t": [times…], "error"?: message}: an import
 * that throws is timed up to the throw (its module code has run by then) and its error kept.
 */
async function timed(script: string, env: NodeJS.ProcessEnv, cwd: string): Promise<{ times: number[]; fastest: number[]; error?: string }> {
  const samples: number[][] = [];
  let error: string | undefined;
  for (let run = 0; run < RUNS; run += 1) {
    const ran = await runProcess(process.execPath, ['--input-type=module', '-e', script], { env, cwd, timeoutMs: 60_000 });
    if (ran.status !== 0) throw new Error(`node -e in ${cwd} exited with ${ran.status}: ${ran.stderr.slice(-1_000)}`);
    const output = JSON.parse(ran.stdout) as { t: number[]; error?: string };
    samples.push(output.t);
    error ??= output.error;
  }
  const times = (samples[0] ?? []).map((_, i) => median(samples.map((sample) => sample[i] ?? Number.NaN)));
  const fastest = (samples[0] ?? []).map((_, i) => Math.min(...samples.map((sample) => sample[i] ?? Number.NaN)));
  return error === undefined ? { times, fastest } : { times, fastest, error };
}

/** Imports the SDK packages first (t1 - t0), then the bundle (t2 - t1), catching what the bundle throws. */
function importScript(sdk: readonly string[], url: string): string {
  return [
    `let e;const t0=performance.now();for(const s of ${JSON.stringify(sdk)})await import(s);const t1=performance.now();const c1=process.cpuUsage();`,
    `try{const m=await import(${JSON.stringify(url)});if(typeof m.handler!=='function')e='no handler export'}catch(x){e=String(x&&x.message||x).split('\\n')[0]}`,
    'const t2=performance.now();const c=process.cpuUsage(c1);console.log(JSON.stringify({t:[t1-t0,t2-t1,(c.user+c.system)/1000],error:e}))',
  ].join('');
}

async function measureFunction(name: string, zipped: number, file: string, template: NodeJS.ProcessEnv, cwd: string): Promise<FunctionCost> {
  const url = pathToFileURL(file).href;
  const { staticSdk, lazySdk } = sdkImports(readFileSync(file, 'utf8'));
  let env = template;
  let cold = await timed(importScript([], url), env, cwd);
  let note = '';
  if (cold.error) {
    // Settings the default parameters leave empty and the function refuses to start without: timed as deployed with them.
    const filled = Object.fromEntries(Object.entries(SETTINGS_WHEN_EMPTY).filter(([key]) => !env[key]));
    note = `with the default parameters its import throws "${cold.error}"`;
    if (Object.keys(filled).length > 0) {
      env = { ...env, ...filled };
      cold = await timed(importScript([], url), env, cwd);
      note += `; timed with ${Object.keys(filled).join(', ')} set`;
      if (cold.error) note += `, and then it throws "${cold.error}" (the time is up to the throw, at the end of its module code)`;
    }
  }
  const split = await timed(importScript(staticSdk, url), env, cwd);
  return { name, zipped, importMs: cold.times[1] ?? Number.NaN, importMinMs: cold.fastest[1] ?? Number.NaN, importCpuMs: cold.times[2] ?? Number.NaN, staticSdk, lazySdk, sdkMs: split.times[0] ?? Number.NaN, ownMs: split.times[1] ?? Number.NaN, note };
}

/** Every function of one packaging but those in `skip`, measured. */
async function measurePackaging(extraArgs: readonly string[], skip: ReadonlySet<string>): Promise<{ functions: FunctionCost[]; ms: number }> {
  const { dir, ms: packageMs } = await packageService(extraArgs);
  const template = JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as { Resources: Record<string, LambdaResource> };
  const unzipped = tempDir('cold');
  // Where Lambda finds the runtime's SDK; here, the checkout's.
  symlinkSync(join(ROOT, 'node_modules'), join(unzipped, 'node_modules'), 'dir');
  const functions: FunctionCost[] = [];
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const name = String(resource.Properties.FunctionName).replace(/^driftfix-dev-/, '');
    if (skip.has(name)) continue;
    const zip = join(dir, `${name}.zip`);
    const extracted = await runProcess('python3', ['-m', 'zipfile', '-e', zip, unzipped]);
    if (extracted.status !== 0) throw new Error(`cannot unzip ${zip}: ${extracted.stderr}`);
    const file = join(unzipped, `${String(resource.Properties.Handler).replace(/\.[^./]+$/, '')}.mjs`);
    const env = lambdaEnv(name, resource.Properties.Environment?.Variables ?? {});
    const cost = await measureFunction(name, statSync(zip).size, file, env, unzipped);
    if (extraArgs.length > 0) cost.note = `packaged with ${extraArgs.join(' ')}${cost.note ? `; ${cost.note}` : ''}`;
    functions.push(cost);
  }
  return { functions, ms: packageMs };
}

export async function measurePackages(): Promise<PackageResult> {
  const before = load();
  const plain = await measurePackaging([], new Set());
  const hub = await measurePackaging(HUB_PARAMS, new Set(plain.functions.map((fn) => fn.name)));
  const functions = [...plain.functions, ...hub.functions];
  const packageMs = plain.ms;
  const unzipped = tempDir('alone');
  symlinkSync(join(ROOT, 'node_modules'), join(unzipped, 'node_modules'), 'dir');

  // Each module alone, resolved from the folder of the bundles (so from the checkout's node_modules).
  const alone: PackageResult['alone'] = [];
  const sdkModules = [...new Set(functions.flatMap((fn) => fn.staticSdk))].sort();
  const bundled = ['zod', '@aws-lambda-powertools/logger'];
  for (const module of [...sdkModules, ...bundled]) {
    const { times } = await timed(importScript([module], 'data:text/javascript,export const handler=()=>{}'), { PATH: process.env.PATH }, unzipped);
    alone.push({ module, ms: times[0] ?? Number.NaN, note: bundled.includes(module) ? 'bundled in every function; timed from node_modules, an upper bound' : 'imported at load by every bundle that lists it' });
  }
  return { functions, alone, packageMs, load: `${before} at the start, ${load()} at the end` };
}

export function packageHeadline(result: PackageResult): string[] {
  const times = result.functions.map((fn) => fn.importMs).filter(Number.isFinite);
  const sizes = result.functions.map((fn) => fn.zipped);
  const slowest = Math.max(...times);
  return [
    `package: ${result.functions.length} functions, ${kb(Math.min(...sizes))}-${kb(Math.max(...sizes))} zipped; cold import ${ms(Math.min(...times))}-${ms(slowest)} (median ${ms(median(times))}), target <= ${COLD_IMPORT_TARGET_MS} ms ${met(slowest <= COLD_IMPORT_TARGET_MS)}`,
  ];
}

export function formatPackages(result: PackageResult): string {
  const over = result.functions.filter((fn) => fn.importMs > COLD_IMPORT_TARGET_MS);
  const rows = result.functions.map((fn) => [
    fn.name,
    kb(fn.zipped),
    ms(fn.importMs),
    ms(fn.importMinMs),
    ms(fn.importCpuMs),
    ms(fn.sdkMs),
    ms(fn.ownMs),
    fn.staticSdk.map((module) => module.replace('@aws-sdk/', '')).join(', ') || '-',
    fn.importMs <= COLD_IMPORT_TARGET_MS ? 'yes' : 'no',
  ]);
  const lines = [
    heading(
      '1. Package size and cold import',
      `Every function \`serverless package\` produces (osls, offline; esbuild bundles, the AWS SDK left to the runtime): the zipped size, and the time a fresh Node process takes to \`import()\` the bundled handler (median of ${RUNS}), with the function's environment from the template and the AWS SDK resolved from node_modules, as Lambda resolves it from the runtime. "its CPU time" is the process's user + system time during that import (all threads; less disturbed than wall time when other work shares the machine). "SDK at load" imports, in one process, the SDK packages the bundle imports statically, then the bundle ("own code"). Target: cold import <= ${COLD_IMPORT_TARGET_MS} ms per function.`,
    ),
    table(['function', 'zipped', 'cold import', 'fastest of 5', 'its CPU time', 'SDK at load', 'own code', 'SDK packages imported at load', `<= ${COLD_IMPORT_TARGET_MS} ms`], rows),
    '',
    'Each module imported alone in a fresh process (median of 5):',
    '',
    table(
      ['module', 'import alone', 'note'],
      result.alone.map((entry) => [entry.module, ms(entry.ms), entry.note]),
    ),
    '',
    ...result.functions.filter((fn) => fn.note).map((fn) => `Note: ${fn.name}: ${fn.note}.`),
    '',
    `Target (cold import <= ${COLD_IMPORT_TARGET_MS} ms): ${met(over.length === 0)}${over.length ? ` for ${over.length} of ${result.functions.length} functions (slowest ${ms(Math.max(...over.map((fn) => fn.importMs)))})` : ''}. Packaging took ${(result.packageMs / 1000).toFixed(1)} s; load average ${result.load} of the section.`,
  ];
  return lines.join('\n');
}
