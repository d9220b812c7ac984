import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, PutBucketEncryptionCommand, S3Client } from '@aws-sdk/client-s3';
import { prepareCliEnvironment } from './lib/cli-env.ts';
import { LOCAL_ACCOUNT, startMotoServer } from './lib/moto-server.ts';

/**
 * npm run bench: package sizes, cold imports, throughput against moto compared with a minimal
 * script, AWS calls per event, and memory. Prints a report; docs/BENCHMARKS.md records one.
 */
const ROOT = resolve(import.meta.dirname, '..');
const { values } = parseArgs({ args: process.argv.slice(2), options: { sizes: { type: 'string' }, concurrency: { type: 'string' } } });
const SIZES = (values.sizes ?? '10,100,1000').split(',').map(Number);
const CONCURRENCY = Number(values.concurrency ?? 8);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function packageSizes(): { dir: string; sizes: Record<string, number> } {
  const dir = mkdtempSync(join(tmpdir(), 'driftfix-bench-package-'));
  const run = spawnSync(process.execPath, [join(ROOT, 'node_modules/osls/bin/serverless.js'), 'package', '--package', dir], { cwd: ROOT, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`serverless package failed: ${run.stderr}`);
  const sizes: Record<string, number> = {};
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.zip'))) sizes[file.replace(/\.zip$/, '')] = statSync(join(dir, file)).size;
  return { dir, sizes };
}

/** Time to import each bundled handler in a fresh Node process (the AWS SDK resolved as Lambda's runtime would). */
function coldImports(packageDir: string, functions: string[]): Record<string, number> {
  const results: Record<string, number> = {};
  for (const name of functions) {
    const dir = mkdtempSync(join(tmpdir(), `driftfix-cold-${name}-`));
    spawnSync('unzip', ['-q', join(packageDir, `${name}.zip`), '-d', dir]);
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    const script = `const t=performance.now();await import(${JSON.stringify(join(dir, 'dist', name, 'index.mjs'))});console.log(performance.now()-t)`;
    const times: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        encoding: 'utf8',
        env: {
          ...process.env,
          AWS_REGION: 'us-east-1',
          REMEDIATION_TABLE: 'bench',
          SLACK_CHANNEL: 'C0BENCH01',
          SLACK_SECRET_ID: 'driftfix/slack',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
      });
      times.push(Number(run.stdout.trim()));
    }
    results[name] = median(times);
  }
  return results;
}

interface Throughput {
  n: number;
  botSeconds: number;
  minimalSeconds: number;
  botSecondsSequential: number;
  fixCalls: string[];
  compliantCalls: string[];
  maxRssMb: number;
}

async function throughput(n: number): Promise<Throughput> {
  const moto = await startMotoServer();
  try {
    const s3 = new S3Client({ region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true });
    const sample = JSON.parse(await (await import('node:fs/promises')).readFile(join(ROOT, 'events/config/s3-bucket-server-side-encryption-enabled.json'), 'utf8'));
    const makeBuckets = async (prefix: string) => {
      const buckets = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
      for (let i = 0; i < buckets.length; i += 32) await Promise.all(buckets.slice(i, i + 32).map((Bucket) => s3.send(new CreateBucketCommand({ Bucket }))));
      return buckets;
    };
    const eventsFor = (buckets: string[]) => {
      const dir = mkdtempSync(join(tmpdir(), 'driftfix-bench-events-'));
      buckets.forEach((bucket, i) => {
        const event = structuredClone(sample);
        event.id = randomUUID();
        event.detail.resourceId = bucket;
        event.detail.newEvaluationResult.evaluationResultIdentifier.evaluationResultQualifier.resourceId = bucket;
        writeFileSync(join(dir, `${String(i).padStart(5, '0')}.json`), JSON.stringify(event));
      });
      return dir;
    };
    const replay = (dir: string, concurrency: number) => {
      const started = performance.now();
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/replay.ts', '--apply', '--json', '--concurrency', String(concurrency), dir], {
        cwd: ROOT,
        encoding: 'utf8',
        maxBuffer: 256 * 1024 * 1024,
        env: { ...process.env, AWS_ENDPOINT_URL: moto.endpoint, AWS_REGION: 'us-east-1', REMEDIATION_TABLE: `bench-${randomUUID()}` },
      });
      const seconds = (performance.now() - started) / 1000;
      const lines = run.stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
      return { seconds, lines };
    };
    const measureRss = (dir: string) => {
      const run = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, '--import', 'tsx', 'scripts/replay.ts', '--apply', '--json', '--concurrency', String(CONCURRENCY), dir], {
        cwd: ROOT,
        encoding: 'utf8',
        maxBuffer: 256 * 1024 * 1024,
        env: { ...process.env, AWS_ENDPOINT_URL: moto.endpoint, AWS_REGION: 'us-east-1', REMEDIATION_TABLE: `bench-${randomUUID()}` },
      });
      return Number(run.stderr.trim().split('\n').pop()) / 1024;
    };

    const concurrent = replay(eventsFor(await makeBuckets('bench-bot')), CONCURRENCY);
    const sequential = replay(eventsFor(await makeBuckets('bench-seq')), 1);
    const compliant = replay(eventsFor(['bench-bot-0']), 1);
    const maxRssMb = n <= 100 ? measureRss(eventsFor(await makeBuckets('bench-rss'))) : Number.NaN;

    // The physical minimum: one PutBucketEncryption per bucket, same concurrency, same SDK.
    const minimalBuckets = await makeBuckets('bench-min');
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < minimalBuckets.length) {
          const Bucket = minimalBuckets[next++];
          await s3.send(new PutBucketEncryptionCommand({ Bucket, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } }));
        }
      }),
    );
    const minimalSeconds = (performance.now() - started) / 1000;
    const remediated = concurrent.lines.filter((line) => line.outcome === 'remediated').length;
    if (remediated !== n) throw new Error(`only ${remediated} of ${n} events remediated`);
    return {
      n,
      botSeconds: concurrent.seconds,
      botSecondsSequential: sequential.seconds,
      minimalSeconds,
      fixCalls: concurrent.lines[0]?.calls ?? [],
      compliantCalls: compliant.lines[0]?.calls ?? [],
      maxRssMb,
    };
  } finally {
    await moto.stop();
  }
}

async function main(): Promise<void> {
  prepareCliEnvironment();
  process.env.AWS_ACCESS_KEY_ID ??= 'testing';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';
  console.log(`driftfix benchmark: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, account ${LOCAL_ACCOUNT} in moto\n`);
  const { dir, sizes } = packageSizes();
  const cold = coldImports(dir, Object.keys(sizes));
  console.log('function                          zipped    cold import (median of 5)');
  for (const [name, size] of Object.entries(sizes)) {
    console.log(`${name.padEnd(33)} ${(size / 1024).toFixed(0).padStart(5)} KB  ${cold[name]?.toFixed(0).padStart(5)} ms`);
  }
  console.log(`\nthroughput: S3 default-encryption fixes through npm run replay --apply (concurrency ${CONCURRENCY}) vs a minimal script (PutBucketEncryption only, same concurrency)`);
  console.log('    N   bot s  bot ev/s  sequential s  minimal s  ratio  max RSS');
  let calls: Throughput | undefined;
  for (const n of SIZES) {
    const result = await throughput(n);
    calls ??= result;
    const ratio = result.botSeconds / result.minimalSeconds;
    console.log(
      `${String(n).padStart(5)} ${result.botSeconds.toFixed(2).padStart(7)} ${(n / result.botSeconds).toFixed(1).padStart(9)} ${result.botSecondsSequential.toFixed(2).padStart(13)} ${result.minimalSeconds.toFixed(2).padStart(10)} ${ratio.toFixed(2).padStart(6)}  ${Number.isNaN(result.maxRssMb) ? '   -' : `${result.maxRssMb.toFixed(0)} MB`}`,
    );
  }
  if (calls) {
    console.log(`\nAWS calls per fix: ${calls.fixCalls.length} (${calls.fixCalls.join(', ')}); minimum 1 (PutBucketEncryption), 2 with the read that proves it is needed`);
    console.log(`AWS calls per already-compliant event: ${calls.compliantCalls.length} (${calls.compliantCalls.join(', ')}); reads only; minimum 1 (GetBucketEncryption)`);
  }
}

main().catch((error: unknown) => {
  console.error(`bench: ${(error as Error).stack ?? error}`);
  process.exitCode = 1;
});
