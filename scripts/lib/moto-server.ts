import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { findPythonTool } from './python-tools.ts';

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
    const response = await fetch(new URL('/moto-api/data.json', endpoint), { signal: AbortSignal.timeout(1_000) });
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
  const binary = findMotoServer();
  if (!binary) {
    throw new Error('moto_server not found: run scripts/ensure-python-tools.sh (installs moto[server] into .venv) or pip install "moto[server]"');
  }
  const port = options.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(binary, ['-H', '127.0.0.1', '-p', String(port)], {
    env: { ...process.env, MOTO_ACCOUNT_ID: options.account ?? LOCAL_ACCOUNT },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  const deadline = Date.now() + 30_000;
  while (!(await isMotoReachable(endpoint))) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`moto_server did not answer on ${endpoint} within 30 s: ${stderr}`);
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
