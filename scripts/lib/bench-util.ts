import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { findMotoServer, startMotoServer } from './moto-server.ts';

/**
 * Helpers shared by the sections of `npm run bench`: the checkout's root, child processes with
 * their wall time, temporary folders removed at the end, medians and text tables.
 */

/** The checkout: found upward from this file, which runs from scripts/lib or from a bundle in .build/cli. */
export function findRoot(start: string = import.meta.dirname): string {
  let dir = start;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'driftfix') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no driftfix package.json above ${start}`);
    dir = parent;
  }
}

export const ROOT = findRoot();

const temporary: string[] = [];

/** A fresh folder, removed by removeTempDirs (the bench calls it on every exit path). */
export function tempDir(prefix: string, parent: string = tmpdir()): string {
  const dir = mkdtempSync(join(parent, `driftfix-bench-${prefix}-`));
  temporary.push(dir);
  return dir;
}

/** Something made elsewhere (a bundle folder under .build) removed with the temporary folders. */
export function removeLater(path: string): void {
  temporary.push(path);
}

export function removeTempDirs(): void {
  while (temporary.length > 0) rmSync(temporary.pop() as string, { recursive: true, force: true });
}

const running = new Set<() => Promise<void>>();

/** Something to stop however the bench ends (a moto server, a proxy); call the result once it is stopped. */
export function track(stop: () => Promise<void>): () => void {
  running.add(stop);
  return () => running.delete(stop);
}

/** Stops whatever is still running (at most a few seconds), then removes the temporary folders. */
export async function stopAll(): Promise<void> {
  const stops = [...running];
  running.clear();
  await Promise.race([Promise.allSettled(stops.map((stop) => stop())), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
  removeTempDirs();
}

/**
 * A moto server of its own for `work`, stopped afterwards. Its log folder (made with
 * os.tmpdir()) goes into a temporary folder of the bench's, so that it is removed too.
 */
export async function withMoto<T>(work: (endpoint: string) => Promise<T>): Promise<T> {
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = tempDir('moto');
  let moto: Awaited<ReturnType<typeof startMotoServer>>;
  try {
    moto = await startMotoServer();
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
  const untrack = track(() => moto.stop());
  try {
    return await work(moto.endpoint);
  } finally {
    await moto.stop();
    untrack();
  }
}

export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit. */
  ms: number;
}

/**
 * Runs a command to its end without blocking this process's event loop (the bench may be serving
 * a counting proxy to that very command). Throws on a timeout; the child is killed then.
 */
export function runProcess(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    // Its own process group, so that stopping it stops what it started (/usr/bin/time's node, npm's).
    const child = spawn(command, args, { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const kill = (signal: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    const untrack = track(async () => kill('SIGTERM'));
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => {
      kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} took over ${options.timeoutMs} ms; stopped`));
    }, options.timeoutMs ?? 600_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      untrack();
      reject(error);
    });
    child.once('close', (status) => {
      clearTimeout(timer);
      untrack();
      resolve({ status, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), ms: performance.now() - started });
    });
  });
}

/** A child's environment: this process's, without any setting that would change what driftfix does, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const settings =
    /^(AWS_|RULE_|SLACK_|REMEDIATION_TABLE|EXCLUSION_TAG|ACCEPT_REPLAY|APPROVAL_TTL|SUPPRESSION_DAYS|UNHANDLED_FINDINGS|CONFIG_REEVALUATE|SECURITY_HUB_UPDATE|LOCK_LEASE|HUB_|MOTO_|NODE_OPTIONS$)/;
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!settings.test(key)) env[key] = value;
  return { ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...extra };
}

/** Environment for a driftfix CLI against a local moto: placeholder credentials, never a real account. */
export function motoEnv(endpoint: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return cleanEnv({ AWS_ENDPOINT_URL: endpoint, AWS_REGION: REGION, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', ...extra });
}

export const REGION = 'us-east-1';

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export const ms = (value: number): string => (Number.isFinite(value) ? `${Math.round(value)} ms` : 'n/a');
export const seconds = (value: number): string => (Number.isFinite(value) ? `${(value / 1000).toFixed(2)} s` : 'n/a');
export const kb = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KB`;
export const met = (ok: boolean): string => (ok ? 'met' : 'NOT met');

/** A Markdown table, columns padded so that it reads in a terminal too. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** The 1-minute load average, flagged when other work competed for the CPUs (times are then inflated). */
export function load(): string {
  const average = loadavg()[0] ?? 0;
  return `${average.toFixed(2)}${average > cpus().length ? ` (busy: above the ${cpus().length} CPUs, times inflated by other work)` : ''}`;
}

/** The Python that runs moto_server (its shebang), to ask moto its version. */
function motoPython(): string {
  const binary = findMotoServer();
  try {
    const first = binary ? (readFileSync(binary, 'utf8').split('\n')[0] ?? '') : '';
    if (/^#!\S*python[\d.]*$/.test(first.trim())) return first.slice(2).trim();
  } catch {
    // not readable: the python3 on PATH
  }
  return 'python3';
}

/** How the numbers were obtained: CPUs, memory, Node, moto, date. */
export async function machine(): Promise<string> {
  const python = await runProcess(motoPython(), ['-c', 'import moto; print(moto.__version__)']).catch(() => undefined);
  const moto = python?.status === 0 ? python.stdout.trim() : 'unknown';
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const today = new Date().toISOString().slice(0, 10);
  const head = await runProcess('git', ['rev-parse', '--short', 'HEAD']).catch(() => undefined);
  const dirty = await runProcess('git', ['status', '--porcelain', '--untracked-files=no']).catch(() => undefined);
  const changed = dirty?.status === 0 ? dirty.stdout.split('\n').filter(Boolean).length : 0;
  const tree = head?.status === 0 ? `; code: commit ${head.stdout.trim()}${changed ? ` with uncommitted changes in ${changed} files (the working tree is measured)` : ''}` : '';
  return `${cpus().length} CPUs (nproc; ${cpu}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory, Node.js ${process.version}, moto ${moto}, ${today}, load average ${load()} at start${tree}`;
}

/** A section's heading and what it measures. */
export function heading(title: string, what: string): string {
  return `\n## ${title}\n\n${what}\n`;
}
