import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { IAMClient } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { decideApproval } from '../core/engine/decide.ts';
import type { EventResult } from '../core/engine/results.ts';
import { prepareCliEnvironment, runCli } from './lib/cli-env.ts';
import { DEMO_DATABASE, MORE_DEMO_RESOURCES } from './lib/demo-more.ts';
import { DEMO_BUCKETS, seedTooBroadPolicy } from './lib/demo-resources.ts';
import { expandEventPaths } from './lib/event-files.ts';
import { formatResult } from './lib/format-result.ts';
import { LocalBus } from './lib/local-bus.ts';
import { createLocalRuntime, type LocalRuntime } from './lib/local-runtime.ts';
import { findMotoServer, isMotoReachable, LOCAL_ACCOUNT, type MotoServer, startMotoServer } from './lib/moto-server.ts';
import { organizationDemo } from './lib/org-demo.ts';
import { replayFile } from './lib/replay-files.ts';
import { seedSampleWorld } from './lib/sample-world.ts';

const USAGE = `usage: npm run demo [-- --org]

The whole loop on one machine: a local AWS (moto), drifted resources, the sample events in
events/ replayed through the handlers with --apply, and two risky fixes approved.
  --org   an organization instead: a hub account (the one Slack app) and a member account in one
          moto; an approval clicked at the hub's endpoint is applied in the member account`;

async function main(argv: string[]): Promise<number> {
  const options = { help: { type: 'boolean' }, org: { type: 'boolean' } } as const;
  let values: { help?: boolean; org?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }));
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.org) {
    prepareCliEnvironment();
    return organizationDemo();
  }
  process.env.AWS_REGION ||= 'us-east-1';
  // A table of its own per run, so that a second demo against the same emulator starts afresh.
  process.env.REMEDIATION_TABLE ||= `driftfix-demo-${Date.now()}`;
  let moto: MotoServer | undefined;
  const given = process.env.AWS_ENDPOINT_URL;
  const wanted = given || 'http://127.0.0.1:5000';
  if (await isMotoReachable(wanted)) {
    process.env.AWS_ENDPOINT_URL = wanted;
    console.log(`Using the moto server already running at ${wanted}.`);
  } else if (given) {
    console.error(`AWS_ENDPOINT_URL is ${given}, and no moto server answers there: start it, or unset AWS_ENDPOINT_URL and the demo starts its own.`);
    return 1;
  } else {
    moto = await startMotoServer();
    process.env.AWS_ENDPOINT_URL = moto.endpoint;
    console.log(`Started moto server at ${moto.endpoint} (account ${LOCAL_ACCOUNT}).`);
  }
  prepareCliEnvironment();
  try {
    return await singleAccountDemo(moto !== undefined);
  } finally {
    await moto?.stop();
  }
}

async function singleAccountDemo(ownEmulator: boolean): Promise<number> {
  const region = process.env.AWS_REGION as string;
  const endpoint = process.env.AWS_ENDPOINT_URL as string;
  const { Account: account } = await new STSClient({ region, endpoint }).send(new GetCallerIdentityCommand({}));
  if (account !== LOCAL_ACCOUNT) {
    console.error(`The moto server at ${endpoint} acts as account ${account}; the sample events are for ${LOCAL_ACCOUNT}.`);
    console.error(`Restart it with MOTO_ACCOUNT_ID=${LOCAL_ACCOUNT}, or stop it and let the demo start its own.`);
    return 1;
  }
  const local = { region, endpoint };
  const { rewrite, configRules } = await seedSampleWorld(endpoint, region, account);
  console.log('\nDrifted resources created:');
  for (const [bucket, drift] of Object.entries({ ...DEMO_BUCKETS, ...MORE_DEMO_RESOURCES })) console.log(`  s3://${bucket.padEnd(36)} ${drift}`);
  console.log('  five security groups open to the world (SSH, MySQL, IPv6 SSH, all traffic, one tagged to be left alone)');
  console.log(`  RDS instance ${DEMO_DATABASE}: publicly accessible; a KMS key without rotation; EBS encryption by default off`);
  console.log(`  account ${account}: account-level Block Public Access partly off (public policies allowed)`);
  console.log(`  ${configRules} AWS Config rules, named as Security Hub, conformance packs, Landing Zone Accelerator, Control Tower and people name them\n`);
  console.log('Replaying events/ with --apply (each rule in its default mode):\n');
  const runtime = await createLocalRuntime({ needStore: true });
  const lines: Array<EventResult & { file: string }> = [];
  for (const file of await expandEventPaths(['events'])) {
    const result = await replayFile(file, runtime, { apply: true, rewrite });
    lines.push({ file, ...result });
    console.log(`${formatResult({ file }, result)}\n`);
  }
  console.log('The events under events/invalid/ are refused on purpose: driftfix rejects them and changes nothing.');
  console.log('The IAM samples name policies that do not exist in this emulator; below, the demo makes one that does.\n');

  const website = lines.find((line) => line.outcome === 'pending-approval' && line.resource?.endsWith('/driftfix-demo-website'));
  if (!website?.approvalId) {
    console.error('The website bucket did not wait for approval; see above.');
    return 1;
  }
  console.log('The static-website bucket waits for a person. Approving it from the terminal, as an approver would in Slack:');
  console.log(`  npm run approvals -- approve ${website.approvalId}\n`);
  if (!(await approve(runtime, website.approvalId))) return 1;

  const database = lines.find((line) => line.outcome === 'pending-approval' && line.resource?.endsWith(`/${DEMO_DATABASE}`));
  if (!database?.approvalId) {
    console.error('The public database did not wait for approval; see above.');
    return 1;
  }
  console.log(`\nThe publicly accessible database waits for a person too (rule in approve mode):\n  npm run approvals -- approve ${database.approvalId}\n`);
  if (!(await approve(runtime, database.approvalId))) return 1;

  console.log('\nAn IAM policy that grants * and s3:*, attached to nothing (AWS Config: iam-policy-no-statements-with-admin-access):\n');
  const policy = await seedTooBroadPolicy(new IAMClient(local));
  const sample = JSON.parse(await readFile('events/config/iam-policy-no-statements-with-admin-access.skipped.json', 'utf8'));
  sample.id = randomUUID();
  sample.detail.resourceId = policy.id;
  sample.detail.newEvaluationResult.evaluationResultIdentifier.evaluationResultQualifier.resourceId = policy.id;
  sample.detail.oldEvaluationResult.evaluationResultIdentifier.evaluationResultQualifier.resourceId = policy.id;
  const folder = await mkdtemp(join(tmpdir(), 'driftfix-demo-'));
  try {
    const eventFile = join(folder, 'iam-policy-event.json');
    await writeFile(eventFile, JSON.stringify(sample, null, 2));
    const iamResult = await replayFile(eventFile, runtime, { apply: true });
    console.log(`${formatResult({ file: eventFile }, iamResult)}\n`);
    console.log('  With no user, group or role to show what the policy is used for, driftfix narrows nothing: it never');
    console.log('  cuts access a workload might use (README: "IAM policies: never cut used access").');
  } finally {
    await rm(folder, { recursive: true, force: true });
  }

  const waiting = (await runtime.ledger?.listApprovals())?.filter((approval) => approval.status === 'pending') ?? [];
  console.log(`\nStill waiting for a person: ${waiting.length} approval${waiting.length === 1 ? '' : 's'} (${waiting.map((approval) => approval.resource).join(', ')}).`);
  const decide = (endpoint: string, table: string) => `AWS_ENDPOINT_URL=${endpoint} AWS_REGION=${runtime.identity.region} REMEDIATION_TABLE=${table} npm run approvals -- list`;
  if (!ownEmulator) {
    console.log(`They live in table ${runtime.settings.table} of the moto server at ${process.env.AWS_ENDPOINT_URL}; to decide them:`);
    console.log(`  ${decide(process.env.AWS_ENDPOINT_URL as string, runtime.settings.table ?? '')}`);
    return 0;
  }
  console.log(`They live in table ${runtime.settings.table} of this demo's own emulator, which stops now. To keep them, start moto`);
  console.log('first (the demo then uses it) and decide them in the table that run prints:');
  console.log(`  MOTO_ACCOUNT_ID=${LOCAL_ACCOUNT} ${findMotoServer() ?? 'moto_server'} -p 5000 &`);
  console.log('  npm run demo');
  console.log(`  ${decide('http://127.0.0.1:5000', '<the table it prints>')}`);
  return 0;
}

/** What `npm run approvals -- approve <id>` does against a local emulator. */
async function approve(runtime: LocalRuntime, approvalId: string): Promise<boolean> {
  const ledger = runtime.ledger;
  if (!ledger) return false;
  const outcome = await decideApproval(ledger, { approvalId, decision: 'approve', by: 'cli:demo', now: Date.now(), suppressionDays: runtime.settings.suppressionDays });
  if (outcome.kind === 'refused') {
    console.log(`Refused: ${outcome.reason}`);
    return false;
  }
  const bus = new LocalBus(runtime);
  await bus.deliver(outcome.approval, { decision: 'approve' });
  const applied = bus.delivered[0];
  console.log(`Approved ${approvalId}: ${applied?.outcome}: ${applied?.reason}`);
  return applied?.outcome === 'remediated';
}

runCli('demo', main);
