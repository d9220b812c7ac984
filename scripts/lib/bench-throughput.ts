import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigServiceClient, DescribeConfigRulesCommand } from '@aws-sdk/client-config-service';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, DeleteBucketEncryptionCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { motoCpuSeconds, probeTransactions, type TransactionProbe } from './bench-moto-probe.ts';
import { startCountingProxy, TABLE_SETUP, tableRequests } from './bench-proxy.ts';
import { heading, load, met, motoEnv, ms, REGION, ROOT, runProcess, seconds, table, tempDir, track, withMoto } from './bench-util.ts';
import { ensureTable } from '../../core/aws/table.ts';
import { seedConfigRules } from './demo-resources.ts';

/**
 * Sections 2 and 5 of `npm run bench`: N buckets without default encryption, one AWS Config
 * compliance event each, through `node scripts/run.mjs replay --apply --json --concurrency c`
 * (its own moto, a fresh table made beforehand) against a minimal script that fixes the same number of buckets
 * with the same SDK and concurrency; the replay's peak memory; and, on a counting run through a
 * proxy, how many requests each event makes, the bot's table included.
 */

export const RATIO_TARGET = 2.5;
export const RATIO_AT = 300;
const SAMPLE = join(ROOT, 'events/config/s3-bucket-server-side-encryption-enabled.remediated.json');
const REPLAY_BUNDLE = join(ROOT, '.build/cli/replay.mjs');

interface Line {
  outcome: string;
  calls: string[];
  writes: number;
}

export interface SizeRun {
  n: number;
  driftfixMs: number;
  baselineMs: number;
  baselineLoopMs: number;
  remediated: number;
  rssKb: number;
  /** CPU seconds of the replay process, and of moto during the replay. */
  cliCpu: number;
  motoCpu: number;
  /** CPU seconds of the baseline process, and of moto during the baseline. */
  baselineCpu: number;
  baselineMotoCpu: number;
  /** The replay's bundle was rebuilt while it ran (someone saved a source file): run again. */
  retried: boolean;
  /** moto's time for one claim-shaped transaction on the run's table afterwards, and on an empty one. */
  probe: TransactionProbe;
}

export interface Counted {
  n: number;
  outcomes: string;
  resourceCalls: string[];
  writes: number;
  /** Per event: DynamoDB requests of the bot's table, the one-off table creation apart. */
  tablePerEvent: number;
  tableOps: string;
  /** Per event: every HTTP request, as the proxy saw them. */
  httpPerEvent: number;
  baselineHttpPerEvent: number;
  /** Requests made once per run (STS identity, table creation, the Config rule lookup). */
  perRun: string;
}

export interface ThroughputResult {
  concurrency: number;
  runs: SizeRun[];
  counted: Counted;
  rssMethod: string;
  load: string;
}

const TIME = '/usr/bin/time';

/** The baseline bundled as run.mjs bundles a CLI (esbuild from the checkout, not bundled into the bench). */
async function bundleBaseline(): Promise<string> {
  const esbuild = createRequire(join(ROOT, 'package.json'))('esbuild') as typeof import('esbuild');
  const outfile = join(tempDir('baseline'), 'baseline.mjs');
  await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: [join(ROOT, 'scripts/lib/bench-baseline.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    mainFields: ['module', 'main'],
    minify: true,
    logLevel: 'warning',
  });
  await esbuild.stop(); // its service process ends now, not at exit
  return outfile;
}

/** A world for one run: the Config rules the samples name, and moto's services loaded (its first request to each imports Python code). */
async function prepare(endpoint: string): Promise<S3Client> {
  const local = { region: REGION, endpoint };
  const s3 = new S3Client({ ...local, forcePathStyle: true });
  const config = new ConfigServiceClient(local);
  await seedConfigRules(config);
  await Promise.all([
    s3.send(new ListBucketsCommand({})),
    new DynamoDBClient(local).send(new ListTablesCommand({})),
    new STSClient(local).send(new GetCallerIdentityCommand({})),
    config.send(new DescribeConfigRulesCommand({})),
  ]);
  return s3;
}

async function makeBuckets(s3: S3Client, prefix: string, n: number): Promise<void> {
  for (let i = 0; i < n; i += 16) {
    await Promise.all(
      Array.from({ length: Math.min(16, n - i) }, async (_, j) => {
        const Bucket = `${prefix}-${i + j}`;
        await s3.send(new CreateBucketCommand({ Bucket }));
        await s3.send(new DeleteBucketEncryptionCommand({ Bucket }));
      }),
    );
  }
}

/** One compliance event per bucket, from the sample, every copy of the resource id replaced. */
function writeEvents(prefix: string, n: number): string {
  const dir = tempDir(`events-${prefix}`);
  const sample = readFileSync(SAMPLE, 'utf8');
  const original = (JSON.parse(sample) as { detail: { resourceId: string } }).detail.resourceId;
  for (let i = 0; i < n; i += 1) {
    const event = JSON.parse(sample.split(`"${original}"`).join(`"${prefix}-${i}"`)) as { id: string };
    event.id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    writeFileSync(join(dir, `${String(i).padStart(5, '0')}.json`), JSON.stringify(event));
  }
  return dir;
}

function bundleTime(): number {
  return statSync(REPLAY_BUNDLE, { throwIfNoEntry: false })?.mtimeMs ?? 0;
}

/** Builds the replay bundle if sources changed, so that no timed run includes a build. */
async function warmReplay(): Promise<void> {
  const ran = await runProcess(process.execPath, ['scripts/run.mjs', 'replay', '--help']);
  if (ran.status !== 0) throw new Error(`node scripts/run.mjs replay --help failed: ${ran.stderr}`);
}

/**
 * A fresh table, made before the run as a deployed stack has it (left to the CLI, its first
 * requests, 8 at a time, would all find it missing, all create it and all retry).
 */
async function freshTable(endpoint: string, name: string): Promise<string> {
  await ensureTable(new DynamoDBClient({ region: REGION, endpoint }), name);
  return name;
}

interface Measured {
  ran: Awaited<ReturnType<typeof runProcess>>;
  /** Peak RSS of the process (KB), its CPU seconds (user + system), and moto's meanwhile. */
  rssKb: number;
  cpu: number;
  motoCpu: number;
}

/** A Node command with its peak RSS and CPU time, by /usr/bin/time or, without it, by the process itself. */
async function measured(args: readonly string[], env: NodeJS.ProcessEnv): Promise<Measured> {
  const out = join(tempDir('usage'), 'usage');
  const motoBefore = motoCpuSeconds() ?? Number.NaN;
  let ran: Awaited<ReturnType<typeof runProcess>>;
  if (existsSync(TIME)) {
    ran = await runProcess(TIME, ['-f', '%M %U %S', '-o', out, process.execPath, ...args], { env });
  } else {
    const preload = join(tempDir('preload'), 'usage.mjs');
    writeFileSync(
      preload,
      `import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => { const u = process.resourceUsage(); writeFileSync(${JSON.stringify(out)}, \`\${u.maxRSS} \${u.userCPUTime / 1e6} \${u.systemCPUTime / 1e6}\`); });\n`,
    );
    ran = await runProcess(process.execPath, ['--import', pathToFileURL(preload).href, ...args], { env });
  }
  const motoCpu = (motoCpuSeconds() ?? Number.NaN) - motoBefore;
  // The last line: peak RSS in KB, user and system CPU seconds.
  const [rssKb = Number.NaN, user = Number.NaN, system = Number.NaN] = existsSync(out) ? (readFileSync(out, 'utf8').trim().split('\n').pop() ?? '').split(' ').map(Number) : [];
  return { ran, rssKb, cpu: user + system, motoCpu };
}

/** The CLI as an operator runs it. */
async function replay(endpoint: string, dir: string, concurrency: number, tableName: string): Promise<Measured & { lines: Line[] }> {
  const run = await measured(['scripts/run.mjs', 'replay', '--apply', '--json', '--concurrency', String(concurrency), dir], motoEnv(endpoint, { REMEDIATION_TABLE: tableName }));
  const lines = run.ran.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Line);
  return { ...run, lines };
}

async function baseline(script: string, endpoint: string, prefix: string, n: number, concurrency: number): Promise<Measured & { loopMs: number }> {
  const run = await measured([script, prefix, String(n), String(concurrency)], motoEnv(endpoint));
  if (run.ran.status !== 0) throw new Error(`baseline failed: ${run.ran.stderr}`);
  const output = JSON.parse(run.ran.stdout) as { loopMs: number; fixed: number };
  if (output.fixed !== n) throw new Error(`the baseline fixed ${output.fixed} of ${n} buckets`);
  return { ...run, loopMs: output.loopMs };
}

async function timedSize(script: string, n: number, concurrency: number): Promise<SizeRun> {
  return withMoto(async (endpoint) => {
    const s3 = await prepare(endpoint);
    await makeBuckets(s3, `base-${n}`, n);
    const base = await baseline(script, endpoint, `base-${n}`, n, concurrency);
    for (let attempt = 1; ; attempt += 1) {
      const prefix = `df${attempt}-${n}`;
      await makeBuckets(s3, prefix, n);
      const events = writeEvents(prefix, n);
      await warmReplay();
      const built = bundleTime();
      const tableName = await freshTable(endpoint, `bench-${prefix}`);
      const run = await replay(endpoint, events, concurrency, tableName);
      const retried = attempt > 1;
      if (bundleTime() !== built && attempt < 3) continue;
      const remediated = run.lines.filter((line) => line.outcome === 'remediated').length;
      if (remediated !== n) throw new Error(`${remediated} of ${n} events remediated:\n${run.ran.stderr.slice(-2_000)}`);
      const probe = await probeTransactions(endpoint, tableName);
      return {
        n,
        driftfixMs: run.ran.ms,
        baselineMs: base.ran.ms,
        baselineLoopMs: base.loopMs,
        remediated,
        rssKb: run.rssKb,
        cliCpu: run.cpu,
        motoCpu: run.motoCpu,
        baselineCpu: base.cpu,
        baselineMotoCpu: base.motoCpu,
        retried,
        probe,
      };
    }
  });
}

/** A run through the counting proxy (not timed): requests per event by service and operation. */
async function countedRun(script: string, n: number, concurrency: number): Promise<Counted> {
  return withMoto(async (endpoint) => {
    const s3 = await prepare(endpoint);
    await makeBuckets(s3, 'count', n);
    await makeBuckets(s3, 'count-base', n);
    const proxy = await startCountingProxy(endpoint);
    const untrack = track(() => proxy.close());
    try {
      const run = await replay(proxy.endpoint, writeEvents('count', n), concurrency, await freshTable(endpoint, 'bench-count'));
      const counts = proxy.counts();
      await baseline(script, proxy.endpoint, 'count-base', n, concurrency);
      const baseHttp = [...proxy.counts().values()].reduce((sum, count) => sum + count, 0) - [...counts.values()].reduce((sum, count) => sum + count, 0);
      const outcomes = new Map<string, number>();
      for (const line of run.lines) outcomes.set(line.outcome, (outcomes.get(line.outcome) ?? 0) + 1);
      // Once per run: fewer than one per event.
      const perRun = [...counts].filter(([key, count]) => count < n || TABLE_SETUP.has(key));
      const perRunTotal = perRun.reduce((sum, [, count]) => sum + count, 0);
      const http = [...counts.values()].reduce((sum, count) => sum + count, 0);
      const table = tableRequests(new Map([...counts].filter(([, count]) => count >= n)), n);
      const first = run.lines[0];
      return {
        n,
        outcomes: [...outcomes].map(([outcome, count]) => `${count} ${outcome}`).join(', '),
        resourceCalls: first?.calls ?? [],
        writes: first?.writes ?? 0,
        tablePerEvent: table.total,
        tableOps: table.ops,
        httpPerEvent: (http - perRunTotal) / n,
        baselineHttpPerEvent: baseHttp / n,
        perRun: perRun.map(([key, count]) => `${key}×${count}`).join(', '),
      };
    } finally {
      await proxy.close();
      untrack();
    }
  });
}

export async function measureThroughput(sizes: readonly number[], concurrency: number): Promise<ThroughputResult> {
  const before = load();
  const script = await bundleBaseline();
  const runs: SizeRun[] = [];
  for (const n of sizes) runs.push(await timedSize(script, n, concurrency));
  const counted = await countedRun(script, Math.min(...sizes), concurrency);
  return { concurrency, runs, counted, rssMethod: existsSync(TIME) ? `${TIME} -f %M` : 'process.resourceUsage().maxRSS in the replay process', load: `${before} at the start, ${load()} at the end` };
}

/** The run the target is judged at: N = 300, else the largest. */
export function judged(result: ThroughputResult): SizeRun | undefined {
  return result.runs.find((run) => run.n === RATIO_AT) ?? result.runs.at(-1);
}

export function throughputHeadline(result: ThroughputResult): string[] {
  const at = judged(result);
  const largest = result.runs.at(-1);
  if (!at || !largest) return [];
  const ratio = at.driftfixMs / at.baselineMs;
  return [
    `throughput: N=${at.n}: driftfix ${seconds(at.driftfixMs)} (${(at.n / (at.driftfixMs / 1000)).toFixed(1)} ev/s) vs baseline ${seconds(at.baselineMs)}: ${ratio.toFixed(2)}x, target <= ${RATIO_TARGET}x ${met(ratio <= RATIO_TARGET)}; per event ${result.counted.resourceCalls.length} AWS calls + ${result.counted.tablePerEvent.toFixed(1)} table requests (${result.counted.httpPerEvent.toFixed(1)} HTTP requests vs the baseline's ${result.counted.baselineHttpPerEvent.toFixed(1)})`,
    `peak memory: ${(largest.rssKb / 1024).toFixed(0)} MB RSS for the replay of N=${largest.n}`,
  ];
}

const cpu = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(2)} s` : 'n/a');

export function formatThroughput(result: ThroughputResult): string {
  const { counted } = result;
  const at = judged(result);
  const ratio = at ? at.driftfixMs / at.baselineMs : Number.NaN;
  const largest = result.runs.at(-1);
  const rows = result.runs.map((run) => [
    String(run.n),
    seconds(run.driftfixMs),
    (run.n / (run.driftfixMs / 1000)).toFixed(1),
    seconds(run.baselineMs),
    seconds(run.baselineLoopMs),
    (run.n / (run.baselineMs / 1000)).toFixed(1),
    (run.driftfixMs / run.baselineMs).toFixed(2),
    `${(run.rssKb / 1024).toFixed(0)} MB${run.retried ? ' (re-run: bundle rebuilt)' : ''}`,
  ]);
  return [
    heading(
      '2. Throughput against moto',
      `N buckets without default encryption, one \`s3-bucket-server-side-encryption-enabled\` compliance event each (built from events/config/s3-bucket-server-side-encryption-enabled.remediated.json), through \`node scripts/run.mjs replay --apply --json --concurrency ${result.concurrency}\` (the handler code Lambda runs: routing, lock, record, verification; a fresh table, made before the run as a deployment has it), against a minimal script (scripts/lib/bench-baseline.ts, bundled the same way) that does one GetBucketEncryption and one PutBucketEncryption per bucket, ${result.concurrency} at a time. Each size has its own moto (single-threaded, its services warmed first); wall times include starting Node. Target: driftfix <= ${RATIO_TARGET}x the baseline's wall time at N=${RATIO_AT}.`,
    ),
    table(['N', 'driftfix', 'driftfix ev/s', 'baseline', 'baseline loop only', 'baseline ev/s', 'ratio', 'driftfix peak RSS'], rows),
    '',
    'Where the time went: CPU seconds (user + system) of each process, and of moto while it ran (/proc). moto serves one request at a time: when its CPU time is close to the wall time, the run was waiting on moto; the process\'s own CPU time is what driftfix\'s code (or the baseline\'s) costs, whatever the emulator:',
    '',
    table(
      ['N', 'driftfix wall', 'replay process CPU', 'moto CPU (driftfix run)', 'baseline wall', 'baseline process CPU', 'moto CPU (baseline run)'],
      result.runs.map((run) => [String(run.n), seconds(run.driftfixMs), cpu(run.cliCpu), cpu(run.motoCpu), seconds(run.baselineMs), cpu(run.baselineCpu), cpu(run.baselineMotoCpu)]),
    ),
    '',
    'moto\'s time for one DynamoDB transaction shaped like the claim (2 puts, 2 condition checks; median of 5), on the run\'s table right after the run and on an empty table. moto copies the whole table for every item of a transaction (its rollback), so each of the 2 transactions per event costs more as the table grows (2 items per event); real DynamoDB does not:',
    '',
    table(
      ['N', 'items in the table after the run', 'transaction on it', 'on an empty table'],
      result.runs.map((run) => [String(run.n), String(run.probe.items), ms(run.probe.onRunTableMs), ms(run.probe.onEmptyTableMs)]),
    ),
    '',
    `Target (ratio <= ${RATIO_TARGET} at N=${at?.n ?? RATIO_AT}${at && at.n !== RATIO_AT ? `, the largest size run; ${RATIO_AT} was not` : ''}): ${met(ratio <= RATIO_TARGET)} (${ratio.toFixed(2)}x).`,
    '',
    `Requests per event, counted through a proxy on a separate run of N=${counted.n} (${counted.outcomes}):`,
    '',
    table(
      ['', 'per event'],
      [
        ['AWS calls on the resource (replay `calls`)', `${counted.resourceCalls.length}: ${counted.resourceCalls.join(', ')}`],
        ['writes (replay `writes`)', String(counted.writes)],
        ['requests to the bot\'s table', `${counted.tablePerEvent.toFixed(1)}: ${counted.tableOps}`],
        ['HTTP requests in all (driftfix)', counted.httpPerEvent.toFixed(1)],
        ['HTTP requests in all (baseline)', counted.baselineHttpPerEvent.toFixed(1)],
        ['once per run, not per event', counted.perRun || '-'],
      ],
    ),
    heading('5. Peak memory', `Peak resident set size of the whole replay process (${result.rssMethod}) while handling the largest size, ${result.concurrency} events at a time.`),
    largest ? `N=${largest.n}: ${(largest.rssKb / 1024).toFixed(0)} MB peak RSS (all sizes: ${result.runs.map((run) => `N=${run.n} ${(run.rssKb / 1024).toFixed(0)} MB`).join(', ')}). No target; the functions are deployed with 256 MB and handle one event at a time.` : '',
    '',
    `Load average ${result.load} of the section.`,
  ].join('\n');
}
