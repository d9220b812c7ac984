import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ensurePythonTools, findPythonTool } from './python-tools.ts';

/** The account the local emulator pretends to be; matches the sample events. */
export const LOCAL_ACCOUNT = '111122223333';

export interface MotoServer {
  endpoint: string;
  stop(): Promise<void>;
}

export function findMotoServer(): string | undefined {
  return findPythonTool('moto_server');
}

export async function isMotoReachable(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(new URL('/moto-api/', endpoint), { signal: AbortSignal.timeout(1_000) });
    return response.ok;
  } catch {
    return false;
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * moto_server answers on threads, and its DynamoDB transactions are not atomic across them: two
 * conditional transactions on one item, at the same moment, can both succeed, which DynamoDB never
 * allows. The emulator is therefore run on one thread (each request whole before the next), by
 * the Python that runs moto_server.
 */
const SERIAL = [
  'import sys, werkzeug.serving as serving',
  'import moto.server as server',
  'plain = serving.run_simple',
  "server.run_simple = lambda *a, **k: plain(*a, **{**k, 'threaded': False})",
  'server.main(sys.argv[1:])',
].join('\n');

function serialLaunch(binary: string): string[] {
  let python: string | undefined;
  try {
    const first = readFileSync(binary, 'utf8').slice(0, 300).split('\n')[0] ?? '';
    if (first.startsWith('#!') && /python[\d.]*$/.test(first.trim())) python = first.slice(2).trim();
  } catch {
    // not readable: run it as it is
  }
  // A pyenv shim is a shell script: the python3 beside it on PATH runs the same environment.
  python ??= findPythonTool('python3');
  return python ? [python, '-c', SERIAL] : [binary];
}

function accountEnv(account: string | null): NodeJS.ProcessEnv {
  const { MOTO_ACCOUNT_ID: _inherited, ...env } = process.env;
  return account === null ? env : { ...env, MOTO_ACCOUNT_ID: account };
}

/**
 * Starts moto server on loopback and waits until it answers. Every request is in `account`
 * (LOCAL_ACCOUNT by default); `account: null` lets moto take the account from the credentials, so
 * that STS AssumeRole into arn:aws:iam::<account>:role/… gives another account's credentials.
 */
export async function startMotoServer(options: { port?: number; account?: string | null } = {}): Promise<MotoServer> {
  if (!findMotoServer()) ensurePythonTools();
  const binary = findMotoServer();
  if (!binary) throw new Error('moto_server not found after installing it into ./.venv');
  const port = options.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;
  // moto logs every request: to a file, not a pipe, which would fill and stall moto whenever the
  // parent is busy (a test waiting on a child process, for instance).
  const logFile = join(mkdtempSync(join(tmpdir(), 'driftfix-moto-')), 'moto.log');
  const log = openSync(logFile, 'a');
  const [command, ...args] = serialLaunch(binary);
  const child: ChildProcess = spawn(command as string, [...args, '-H', '127.0.0.1', '-p', String(port)], {
    env: accountEnv(options.account === undefined ? LOCAL_ACCOUNT : options.account),
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  const stderrTail = () => {
    try {
      return readFileSync(logFile, 'utf8').slice(-4_000);
    } catch {
      return '';
    }
  };
  const deadline = Date.now() + 30_000;
  while (!(await isMotoReachable(endpoint))) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}: ${stderrTail()}`);
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`moto_server did not answer on ${endpoint} within 30 s: ${stderrTail()}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  return {
    endpoint,
    stop: () =>
      new Promise<void>((done) => {
        // Its log goes with it.
        const finish = () => {
          rmSync(dirname(logFile), { recursive: true, force: true });
          done();
        };
        if (child.exitCode !== null) return finish();
        child.once('exit', finish);
        child.kill('SIGTERM');
      }),
  };
}
