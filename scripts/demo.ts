import { spawnSync } from 'node:child_process';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { createResourceClients } from '../functions/commons/aws-clients.ts';
import { describeError } from '../functions/commons/errors.ts';
import { prepareCliEnvironment } from './lib/cli-env.ts';
import { DEMO_BUCKETS, seedDemoResources } from './lib/demo-resources.ts';
import { isMotoReachable, LOCAL_ACCOUNT, type MotoServer, startMotoServer } from './lib/moto-server.ts';

/**
 * The whole loop on one machine: a local AWS (moto), drifted buckets, the sample events replayed
 * through the handlers with --apply, and what changed.
 */
async function main(): Promise<number> {
  process.env.AWS_REGION ||= 'us-east-1';
  process.env.REMEDIATION_TABLE ||= 'driftfix-demo';
  let moto: MotoServer | undefined;
  const wanted = process.env.AWS_ENDPOINT_URL || 'http://127.0.0.1:5000';
  if (await isMotoReachable(wanted)) {
    process.env.AWS_ENDPOINT_URL = wanted;
    console.log(`Using the moto server already running at ${wanted}.`);
  } else {
    moto = await startMotoServer();
    process.env.AWS_ENDPOINT_URL = moto.endpoint;
    console.log(`Started moto server at ${moto.endpoint} (account ${LOCAL_ACCOUNT}).`);
  }
  prepareCliEnvironment();
  try {
    const region = process.env.AWS_REGION;
    const endpoint = process.env.AWS_ENDPOINT_URL;
    const { Account: account } = await new STSClient({ region, endpoint }).send(new GetCallerIdentityCommand({}));
    if (account !== LOCAL_ACCOUNT) {
      console.error(`The moto server at ${endpoint} acts as account ${account}; the sample events are for ${LOCAL_ACCOUNT}.`);
      console.error(`Restart it with MOTO_ACCOUNT_ID=${LOCAL_ACCOUNT}, or stop it and let the demo start its own.`);
      return 1;
    }
    await seedDemoResources(createResourceClients({ region, endpoint }), account);
    console.log('\nDrifted resources created:');
    for (const [bucket, drift] of Object.entries(DEMO_BUCKETS)) console.log(`  s3://${bucket.padEnd(32)} ${drift}`);
    console.log(`  account ${account}: account-level Block Public Access off\n`);
    console.log('Replaying events/ with --apply (each rule in its default mode):\n');
    const replay = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/replay.ts', '--apply', 'events'], {
      stdio: 'inherit',
      env: process.env,
    });
    // The invalid/ samples are rejected on purpose, so a non-zero replay status is expected here.
    console.log('\nThe events under events/invalid/ are rejected on purpose: driftfix refuses them and changes nothing.');
    return replay.status === null ? 1 : 0;
  } finally {
    await moto?.stop();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`demo: ${describeError(error)}`);
    process.exitCode = 1;
  },
);
