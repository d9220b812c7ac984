import type { TestProject } from 'vitest/node';
import { isMotoReachable, type MotoServer, startMotoServer } from '../../scripts/lib/moto-server.ts';
import { ensurePythonTools } from '../../scripts/lib/python-tools.ts';
import { packageService, removePackages } from './packaged.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string;
    packageDir: string;
  }
}

let moto: MotoServer | undefined;

/**
 * For the integration tests: one moto server for the whole run, started by the tests themselves
 * (MOTO_ENDPOINT reuses one), and the stack packaged once, while moto starts.
 */
export async function setup(project: TestProject): Promise<void> {
  // moto server and cfn-lint: from PATH, or installed into ./.venv on a machine without them.
  ensurePythonTools();
  const packaging = packageService();
  const given = process.env.MOTO_ENDPOINT;
  if (given) {
    if (!(await isMotoReachable(given))) throw new Error(`MOTO_ENDPOINT ${given} does not answer`);
    project.provide('motoEndpoint', given);
  } else {
    moto = await startMotoServer();
    project.provide('motoEndpoint', moto.endpoint);
  }
  project.provide('packageDir', (await packaging).dir);
}

export async function teardown(): Promise<void> {
  removePackages();
  await moto?.stop();
}
