import type { TestProject } from 'vitest/node';
import { isMotoReachable, type MotoServer, startMotoServer } from '../../scripts/lib/moto-server.ts';
import { ensurePythonTools } from '../../scripts/lib/python-tools.ts';
import { PACKAGE_VARIANTS, type PackageVariant, packageService } from './packaged.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string;
    packages: Record<PackageVariant, string>;
  }
}

let moto: MotoServer | undefined;

/**
 * One moto server for the whole run, started by the tests themselves (MOTO_ENDPOINT reuses one),
 * and the packaged stack in each variant the tests read, built one after the other: two
 * `serverless package` runs at once would share dist/ and .serverless/.
 */
export async function setup(project: TestProject): Promise<void> {
  // moto server and cfn-lint: from PATH, or installed into ./.venv on a machine without them.
  ensurePythonTools();
  const packages = {} as Record<PackageVariant, string>;
  for (const [variant, args] of Object.entries(PACKAGE_VARIANTS)) packages[variant as PackageVariant] = packageService([...args]).dir;
  project.provide('packages', packages);

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
