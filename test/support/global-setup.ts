import type { TestProject } from 'vitest/node';
import { isMotoReachable, type MotoServer, startMotoServer } from '../../scripts/lib/moto-server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string;
  }
}

let moto: MotoServer | undefined;

/** One moto server for the whole run, started by the tests themselves (MOTO_ENDPOINT reuses one). */
export async function setup(project: TestProject): Promise<void> {
  const given = process.env.MOTO_ENDPOINT;
  if (given) {
    if (!(await isMotoReachable(given))) throw new Error(`MOTO_ENDPOINT ${given} does not answer`);
    project.provide('motoEndpoint', given);
    return;
  }
  moto = await startMotoServer();
  project.provide('motoEndpoint', moto.endpoint);
}

export async function teardown(): Promise<void> {
  await moto?.stop();
}
