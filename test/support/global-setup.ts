import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { isMotoReachable, type MotoServer, startMotoServer } from '../../scripts/lib/moto-server.ts';
import { ensurePythonTools } from '../../scripts/lib/python-tools.ts';
import { packageService, removePackages, ROOT } from './packaged.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** One moto server per test worker: a test file has its emulator to itself, as when files ran one by one. */
    motoEndpoints: string[];
    packageDir: string;
  }
}

let motos: MotoServer[] = [];

/**
 * For the integration tests: one moto server per worker for the whole run, started by the tests
 * themselves (MOTO_ENDPOINT reuses one, and the files then share it), and the stack packaged once,
 * while moto starts.
 */
export async function setup(project: TestProject): Promise<void> {
  // moto server and cfn-lint: from PATH, or installed into ./.venv on a machine without them.
  ensurePythonTools();
  const packaging = packageService();
  // The CLI bundles, built once before any test starts a CLI (tests run several at the same time).
  const bundling = promisify(execFile)(process.execPath, [join(ROOT, 'scripts', 'run.mjs'), '--build'], { cwd: ROOT });
  const given = process.env.MOTO_ENDPOINT;
  if (given) {
    if (!(await isMotoReachable(given))) throw new Error(`MOTO_ENDPOINT ${given} does not answer`);
    project.provide('motoEndpoints', [given]);
  } else {
    const workers = Math.max(1, Number(project.config.maxWorkers) || 1);
    const started = await Promise.allSettled(Array.from({ length: workers }, () => startMotoServer()));
    motos = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) {
      await Promise.all(motos.map((moto) => moto.stop()));
      throw failed.reason;
    }
    project.provide(
      'motoEndpoints',
      motos.map((moto) => moto.endpoint),
    );
  }
  await bundling;
  project.provide('packageDir', (await packaging).dir);
}

export async function teardown(): Promise<void> {
  removePackages();
  await Promise.all(motos.map((moto) => moto.stop()));
}
