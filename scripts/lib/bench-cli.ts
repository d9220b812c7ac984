import { join } from 'node:path';
import { cleanEnv, heading, load, median, met, motoEnv, ms, ROOT, runProcess, table, withMoto } from './bench-util.ts';

/**
 * Section 4 of `npm run bench`: how long a driftfix CLI takes to start, through node and through
 * npm (median of 5 each, after one unmeasured run that builds the bundle if sources changed), and
 * what that time is made of: Node's own start, npm's, run.mjs's check of the sources, the bundle.
 */

export const NPM_TARGET_MS = 500;
const RUNS = 5;
const SAMPLE = join('events', 'config', 'compliant.ignored.json');

export interface CliTiming {
  label: string;
  command: string;
  ms: number;
  fastestMs: number;
  /** Judged against the target through npm. */
  target?: boolean;
}

export interface CliResult {
  timings: CliTiming[];
  load: string;
}

async function medianOf(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ median: number; fastest: number }> {
  const times: number[] = [];
  await runProcess(command, args, { env }); // unmeasured: builds the bundle when a source changed
  for (let run = 0; run < RUNS; run += 1) {
    const ran = await runProcess(command, args, { env, timeoutMs: 60_000 });
    if (ran.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${ran.status}: ${ran.stderr.slice(-1_000)}`);
    times.push(ran.ms);
  }
  return { median: median(times), fastest: Math.min(...times) };
}

export async function measureCli(): Promise<CliResult> {
  const before = load();
  const env = cleanEnv();
  const node = process.execPath;
  const timings: CliTiming[] = [];
  const add = async (label: string, command: string, args: string[], options: { env?: NodeJS.ProcessEnv; target?: boolean } = {}) => {
    const display = `${command === node ? 'node' : command} ${args.join(' ')}`;
    const { median: middle, fastest } = await medianOf(command, args, options.env ?? env);
    timings.push({ label, command: display, ms: middle, fastestMs: fastest, ...(options.target ? { target: true } : {}) });
  };
  await add('Node alone', node, ['-e', '0']);
  await add("npm's own start", 'npm', ['--version']);
  await add('run.mjs (source check) + bundle', node, ['scripts/run.mjs', 'replay', '--help']);
  await add('the replay bundle alone', node, ['.build/cli/replay.mjs', '--help']);
  await add('through npm', 'npm', ['run', 'replay', '--', '--help'], { target: true });
  await withMoto(async (endpoint) => {
    const local = motoEnv(endpoint);
    await add('a dry run of one sample, through node', node, ['scripts/run.mjs', 'replay', SAMPLE], { env: local });
    await add('a dry run of one sample, through npm', 'npm', ['run', 'replay', '--', SAMPLE], { env: local, target: true });
  });
  return { timings, load: `${before} at the start, ${load()} at the end` };
}

/** A difference of two medians: below 10 ms, or negative, it is noise. */
function sourceCheck(delta: number): string {
  return delta < 10 ? `nothing measurable (${ms(delta)}, noise)` : ms(delta);
}

export function cliHeadline(result: CliResult): string[] {
  return result.timings.filter((timing) => timing.target).map((timing) => `cli: \`${timing.command}\` ${ms(timing.ms)}, target <= ${NPM_TARGET_MS} ms ${met(timing.ms <= NPM_TARGET_MS)}`);
}

export function formatCli(result: CliResult): string {
  const judged = result.timings.filter((timing) => timing.target);
  const missed = judged.filter((timing) => timing.ms > NPM_TARGET_MS);
  const of = (label: string) => result.timings.find((timing) => timing.label === label)?.ms ?? Number.NaN;
  const npmShare = of('through npm') - of('run.mjs (source check) + bundle');
  return [
    heading(
      '4. CLI start time',
      `Wall time of each command in a fresh process, median of ${RUNS} (after one unmeasured run). The dry runs go to a moto the bench started (\`${SAMPLE}\`: STS GetCallerIdentity, then intake ignores the COMPLIANT verdict). The run from ${ROOT} with the working tree's bundle (.build/cli). Target: ${NPM_TARGET_MS} ms through npm.`,
    ),
    table(
      ['what', 'command', 'median', 'fastest of 5', `<= ${NPM_TARGET_MS} ms`],
      result.timings.map((timing) => [timing.label, `\`${timing.command}\``, ms(timing.ms), ms(timing.fastestMs), timing.target ? (timing.ms <= NPM_TARGET_MS ? 'yes' : 'no') : '']),
    ),
    '',
    `Target (${NPM_TARGET_MS} ms through npm): ${met(missed.length === 0)}${missed.length ? ` for ${missed.map((timing) => `${timing.label} (${ms(timing.ms)})`).join(', ')}` : ''}. npm adds ${ms(npmShare)} to \`node scripts/run.mjs\` (its own start: ${ms(of("npm's own start"))}); run.mjs's check of the sources: ${sourceCheck(of('run.mjs (source check) + bundle') - of('the replay bundle alone'))} over the bundle alone; Node alone starts in ${ms(of('Node alone'))}. Load average ${result.load} of the section.`,
  ].join('\n');
}
