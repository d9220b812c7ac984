import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { createResourceClients } from '../functions/commons/aws-clients.ts';
import { prepareCliEnvironment, runCli } from './lib/cli-env.ts';
import { formatResult } from './lib/format-result.ts';
import type { EventResult } from '../functions/commons/engine.ts';
import { expandEventPaths } from './lib/event-files.ts';
import { createLocalRuntime } from './lib/local-runtime.ts';
import { replayFile } from './lib/replay-files.ts';
import { DEMO_BUCKETS, seedDemoResources, seedTooBroadPolicy } from './lib/demo-resources.ts';
import { isMotoReachable, LOCAL_ACCOUNT, type MotoServer, startMotoServer } from './lib/moto-server.ts';

/**
 * The whole loop on one machine: a local AWS (moto), drifted buckets, the sample events replayed
 * through the handlers with --apply, and what changed.
 */
async function main(): Promise<number> {
  process.env.AWS_REGION ||= 'us-east-1';
  // A table of its own per run, so that a second demo against the same emulator starts afresh.
  process.env.REMEDIATION_TABLE ||= `driftfix-demo-${Date.now()}`;
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
    const runtime = await createLocalRuntime({ needStore: true });
    const lines: Array<EventResult & { file: string }> = [];
    for (const file of await expandEventPaths(['events'])) {
      const result = await replayFile(file, runtime, { apply: true });
      lines.push({ file, ...result });
      console.log(`${formatResult({ file }, result)}\n`);
    }
    console.log('The events under events/invalid/ are rejected on purpose: driftfix refuses them and changes nothing.');
    console.log('The two IAM samples name policy ids that do not exist in this emulator; below, the demo makes one that does.\n');

    const website = lines.find((line) => line.outcome === 'pending-approval' && line.resource?.endsWith('/driftfix-demo-website'));
    if (!website?.approvalId) {
      console.error('The website bucket did not wait for approval; see above.');
      return 1;
    }
    console.log(`The static-website bucket waits for a person. Approving it from the terminal, as an approver would in Slack:`);
    console.log(`  npm run approvals -- approve ${website.approvalId}\n`);
    const approval = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/approvals.ts', 'approve', website.approvalId], {
      stdio: 'inherit',
      env: process.env,
    });
    if (approval.status !== 0) return 1;

    console.log('\nAn IAM policy that grants * and s3:* (AWS Config: iam-policy-no-statements-with-admin-access):\n');
    const policy = await seedTooBroadPolicy(createResourceClients({ region, endpoint }).iam);
    const sample = JSON.parse(await readFile('events/config/iam-policy-no-statements-with-admin-access.json', 'utf8'));
    sample.id = randomUUID();
    sample.detail.resourceId = policy.id;
    sample.detail.newEvaluationResult.evaluationResultIdentifier.evaluationResultQualifier.resourceId = policy.id;
    const eventFile = join(await mkdtemp(join(tmpdir(), 'driftfix-demo-')), 'iam-policy-event.json');
    await writeFile(eventFile, JSON.stringify(sample, null, 2));
    const iamResult = await replayFile(eventFile, runtime, { apply: true });
    console.log(`${formatResult({ file: eventFile }, iamResult)}\n`);
    for (const step of iamResult.steps ?? []) console.log(`    ${step.description.replace(/\n/g, '\n    ')}`);
    if (!iamResult.approvalId) return 1;
    console.log(`\n  npm run approvals -- approve ${iamResult.approvalId}\n`);
    const iamApproval = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/approvals.ts', 'approve', iamResult.approvalId], {
      stdio: 'inherit',
      env: process.env,
    });
    console.log('\nStill waiting: the account-level Block Public Access change (npm run approvals -- list).');
    return iamApproval.status === 0 ? 0 : 1;
  } finally {
    await moto?.stop();
  }
}

runCli('demo', main);
