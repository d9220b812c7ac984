import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** Starts moto server on loopback and waits until it answers. */
export async function startMotoServer(options: { port?: number; account?: string } = {}): Promise<MotoServer> {
  if (!findMotoServer()) ensurePythonTools();
  const binary = findMotoServer();
  if (!binary) throw new Error('moto_server not found after installing it into ./.venv');
  const port = options.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;
  // moto logs every request: to a file, not a pipe, which would fill and stall moto whenever the
  // parent is busy (a test waiting on a child process, for instance).
  const logFile = join(mkdtempSync(join(tmpdir(), 'driftfix-moto-')), 'moto.log');
  const log = openSync(logFile, 'a');
  const child: ChildProcess = spawn(binary, ['-H', '127.0.0.1', '-p', String(port)], {
    env: { ...process.env, MOTO_ACCOUNT_ID: options.account ?? LOCAL_ACCOUNT },
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
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}
