import { parseArgs } from 'node:util';
import { cliHeadline, formatCli, measureCli } from './lib/bench-cli.ts';
import { formatPackages, measurePackages, packageHeadline } from './lib/bench-package.ts';
import { formatSamples, measureSamples, samplesHeadline } from './lib/bench-samples.ts';
import { formatThroughput, measureThroughput, throughputHeadline } from './lib/bench-throughput.ts';
import { machine, stopAll } from './lib/bench-util.ts';

/**
 * npm run bench: package sizes and cold imports, throughput of `npm run replay --apply` against a
 * minimal script, AWS calls and table requests per sample event, CLI start time, and peak memory.
 * Starts and stops its own moto servers; docs/BENCHMARKS.md records a run.
 */

const SECTIONS = ['package', 'throughput', 'samples', 'cli'] as const;
type Section = (typeof SECTIONS)[number];

const USAGE = `usage: npm run bench -- [--sizes 10,100,300] [--concurrency 8] [--only ${SECTIONS.join(',')}]

  --sizes <list>     bucket counts for the throughput runs (default 10,100,300); peak memory is
                     measured at the largest
  --concurrency <n>  replay concurrency, the baseline's too (default 8)
  --only <list>      run only these sections (default all): ${SECTIONS.join(', ')}
                     (memory is part of throughput)`;

interface Options {
  sizes: number[];
  concurrency: number;
  only: Section[];
}

function parse(argv: string[]): Options | string {
  let values: { sizes?: string | undefined; concurrency?: string | undefined; only?: string | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { sizes: { type: 'string' }, concurrency: { type: 'string' }, only: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: false,
      strict: true,
    }));
  } catch (error) {
    return (error as Error).message;
  }
  if (values.help) return '';
  const sizes = (values.sizes ?? '10,100,300').split(',').map((size) => Number(size.trim()));
  if (sizes.length === 0 || sizes.some((size) => !Number.isInteger(size) || size < 1 || size > 5_000)) return '--sizes must be whole numbers from 1 to 5000, comma separated';
  const concurrency = Number(values.concurrency ?? 8);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) return '--concurrency must be a whole number from 1 to 256';
  const only = (values.only ?? SECTIONS.join(',')).split(',').map((name) => name.trim());
  const unknown = only.filter((name) => !(SECTIONS as readonly string[]).includes(name));
  if (unknown.length > 0) return `--only: no section ${unknown.join(', ')}`;
  return { sizes: [...new Set(sizes)].sort((a, b) => a - b), concurrency, only: only as Section[] };
}

async function main(argv: string[]): Promise<number> {
  const options = parse(argv);
  if (typeof options === 'string') {
    console.error(`${options ? `${options}\n` : ''}${USAGE}`);
    return options ? 2 : 0;
  }
  // Every AWS call the bench makes goes to a moto it started; these credentials are placeholders.
  for (const key of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL']) delete process.env[key];
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

  console.log(`# driftfix benchmark\n\nMachine: ${await machine()}.`);
  const summary: string[] = [];
  if (options.only.includes('package')) {
    const result = await measurePackages();
    console.log(formatPackages(result));
    summary.push(...packageHeadline(result));
  }
  if (options.only.includes('throughput')) {
    const result = await measureThroughput(options.sizes, options.concurrency);
    console.log(formatThroughput(result));
    summary.push(...throughputHeadline(result));
  }
  if (options.only.includes('samples')) {
    const result = await measureSamples();
    console.log(formatSamples(result));
    summary.push(...samplesHeadline(result));
  }
  if (options.only.includes('cli')) {
    const result = await measureCli();
    console.log(formatCli(result));
    summary.push(...cliHeadline(result));
  }
  console.log(`\n## Summary\n\n${summary.map((line) => `- ${line}`).join('\n')}\n\nFinished ${new Date().toISOString()}.`);
  return 0;
}

let stopping: Promise<void> | undefined;
const cleanUp = () => {
  stopping ??= stopAll();
  return stopping;
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`bench: ${signal}, stopping its moto servers`);
    void cleanUp().finally(() => process.exit(130));
  });
}

main(process.argv.slice(2)).then(
  async (code) => {
    await cleanUp();
    process.exitCode = code;
  },
  async (error: unknown) => {
    await cleanUp();
    console.error(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  },
);
