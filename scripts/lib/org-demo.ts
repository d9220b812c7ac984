import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ClientFactory, type ClientOptions } from '../../core/aws/clients.ts';
import { EventBridgeSink, HubAnnouncer } from '../../core/aws/emitter.ts';
import { DynamoLedger } from '../../core/aws/ledger.ts';
import { DYNAMODB, SECRETS_MANAGER } from '../../core/aws/services.ts';
import { type HubDeps, relayMemberRecord } from '../../core/engine/hub.ts';
import type { EventResult } from '../../core/engine/results.ts';
import { describeError } from '../../core/model/index.ts';
import { handleSlackAction, type InteractivityDeps, parseApprovers } from '../../core/slack/interactivity.ts';
import { SlackAnnouncer, SlackWebApi } from '../../core/slack/notifier.ts';
import { loadSlackSecret } from '../../core/slack/secret.ts';
import { FakeSlack } from './fake-slack.ts';
import { busEvent } from './local-bus.ts';
import { startLocalEndpoint } from './local-endpoint.ts';
import { createLocalRuntime, type LocalRuntime } from './local-runtime.ts';
import { startMotoServer } from './moto-server.ts';
import { replayEvent } from './replay-files.ts';

/** The two accounts of the demo organization (documentation ids, never real ones). */
export const HUB_ACCOUNT = '111122223333';
export const MEMBER_ACCOUNT = '444455556666';
const REGION = 'us-east-1';
/** Both stacks deployed as `--stage demo`: their driftfix buses are named alike. */
const BUS = 'driftfix-demo-bus';
const CHANNEL = 'C0DRIFTFIX1';
const APPROVER = 'U0APPROVER1';

type Credentials = NonNullable<ClientOptions['credentials']>;
const quiet = { info() {}, warn() {}, error() {} };

/**
 * EventBridge between the two accounts, in this process: PutEvents to a bus ARN queues the event
 * as EventBridge delivers it (the sender's account in `account`), and `drain` hands each to what the
 * stacks subscribe to it: the hub's notifier, or the member's functions by their patterns.
 */
class OrganizationBus {
  private readonly queue: Array<{ bus: string; event: unknown }> = [];
  hub: HubDeps | undefined;
  member: LocalRuntime | undefined;
  readonly delivered: Array<{ to: 'hub' | 'member'; result: EventResult }> = [];

  /** An EventBridge client of one account: only PutEvents, which is all the stacks send. */
  client(account: string): { send: (command: PutEventsCommand) => Promise<unknown> } {
    return {
      send: async (command) => {
        for (const entry of command.input.Entries ?? []) {
          if (!entry.EventBusName || !entry.Source || !entry.DetailType || !entry.Detail) throw new Error('incomplete PutEvents entry');
          const { EventBusName: bus, Source, DetailType, Detail } = entry;
          this.queue.push({ bus, event: busEvent({ Source, DetailType, Detail }, { account, region: REGION }) });
        }
        return { FailedEntryCount: 0, Entries: (command.input.Entries ?? []).map(() => ({ EventId: randomUUID() })) };
      },
    };
  }

  async drain(): Promise<void> {
    for (let next = this.queue.shift(); next; next = this.queue.shift()) {
      const { bus, event } = next;
      if (bus === busArn(HUB_ACCOUNT) && this.hub) {
        this.delivered.push({ to: 'hub', result: await relayMemberRecord(event, this.hub) });
      } else if (bus === busArn(MEMBER_ACCOUNT) && this.member) {
        this.delivered.push({ to: 'member', result: await replayEvent(event, this.member, { apply: true }) });
      } else {
        throw new Error(`no stack listens on ${bus}`);
      }
    }
  }
}

function busArn(account: string): string {
  return `arn:aws:events:${REGION}:${account}:event-bus/${BUS}`;
}

async function assumeRole(endpoint: string, account: string): Promise<Credentials> {
  const { AssumeRoleCommand, STSClient } = await import('@aws-sdk/client-sts');
  const sts = new STSClient({ region: REGION, endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  const { Credentials: got } = await sts.send(
    new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/OrganizationAccountAccessRole`, RoleSessionName: 'driftfix-demo' }),
  );
  if (!got?.AccessKeyId || !got.SecretAccessKey) throw new Error(`moto gave no credentials for account ${account}`);
  return { accessKeyId: got.AccessKeyId, secretAccessKey: got.SecretAccessKey, ...(got.SessionToken ? { sessionToken: got.SessionToken } : {}) };
}

/** The member's drift: account-level S3 Block Public Access off, and the Config rule that reports it (a Security Hub name). */
async function seedMember(endpoint: string, credentials: Credentials): Promise<string> {
  const { ConfigServiceClient, PutConfigRuleCommand } = await import('@aws-sdk/client-config-service');
  const name = 'securityhub-s3-account-level-public-access-blocks-periodic-a1b2c3';
  await new ConfigServiceClient({ region: REGION, endpoint, credentials }).send(
    new PutConfigRuleCommand({
      ConfigRule: {
        ConfigRuleName: name,
        Source: { Owner: 'AWS', SourceIdentifier: 'S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS_PERIODIC' },
        MaximumExecutionFrequency: 'TwentyFour_Hours',
      },
    }),
  );
  return name;
}

/** What AWS Config puts on the member's default bus when the rule finds the account non-compliant. */
function memberFinding(configRuleName: string): unknown {
  const now = new Date().toISOString();
  const qualifier = { configRuleName, resourceType: 'AWS::::Account', resourceId: MEMBER_ACCOUNT };
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Config Rules Compliance Change',
    source: 'aws.config',
    account: MEMBER_ACCOUNT,
    time: now.replace(/\.\d{3}Z$/, 'Z'),
    region: REGION,
    resources: [],
    detail: {
      awsAccountId: MEMBER_ACCOUNT,
      configRuleName,
      configRuleARN: `arn:aws:config:${REGION}:${MEMBER_ACCOUNT}:config-rule/config-rule-demo01`,
      resourceType: 'AWS::::Account',
      resourceId: MEMBER_ACCOUNT,
      awsRegion: REGION,
      newEvaluationResult: {
        evaluationResultIdentifier: { evaluationResultQualifier: qualifier, orderingTimestamp: now },
        complianceType: 'NON_COMPLIANT',
        resultRecordedTime: now,
        configRuleInvokedTime: now,
      },
      notificationCreationTime: now,
      messageType: 'ComplianceChangeNotification',
      recordVersion: '1.0',
    },
  };
}

function clickBody(approvalId: string, message: { channel: string; ts: string }): string {
  const payload = {
    type: 'block_actions',
    user: { id: APPROVER, username: 'approver', team_id: 'T0DEMO' },
    team: { id: 'T0DEMO', domain: 'example' },
    container: { type: 'message', channel_id: message.channel, message_ts: message.ts },
    channel: { id: message.channel, name: 'driftfix' },
    actions: [{ action_id: 'approve', block_id: 'driftfix_approval', value: approvalId, type: 'button', action_ts: '1.2' }],
    trigger_id: '1.2.3',
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

async function readAccountBlock(endpoint: string, credentials: Credentials): Promise<Record<string, boolean | undefined>> {
  const { GetPublicAccessBlockCommand, S3ControlClient } = await import('@aws-sdk/client-s3-control');
  const client = new S3ControlClient({ region: REGION, endpoint, credentials, endpointProvider: () => ({ url: new URL(endpoint) }) });
  try {
    return { ...(await client.send(new GetPublicAccessBlockCommand({ AccountId: MEMBER_ACCOUNT }))).PublicAccessBlockConfiguration };
  } catch (error) {
    if ((error as Error).name === 'NoSuchPublicAccessBlockConfiguration') return {};
    throw error;
  }
}

/**
 * `npm run demo -- --org`: a hub (the one Slack app and endpoint) and a member account in one
 * moto. The member finds its drift and asks; the hub posts the question; a signed click on the
 * hub's endpoint approves; the decision travels to the member, which applies and verifies the fix.
 * 0 only when the member's fix was applied and verified.
 */
export async function organizationDemo(): Promise<number> {
  // A moto of its own that takes each request's account from its credentials.
  const moto = await startMotoServer({ account: null });
  const slack = new FakeSlack();
  let endpoint: Awaited<ReturnType<typeof startLocalEndpoint>> | undefined;
  try {
    await slack.start();
    console.log(`Started moto server at ${moto.endpoint} (accounts from STS AssumeRole) and a Slack stand-in at ${slack.url}.`);
    const [hubCredentials, memberCredentials] = [await assumeRole(moto.endpoint, HUB_ACCOUNT), await assumeRole(moto.endpoint, MEMBER_ACCOUNT)];
    const bus = new OrganizationBus();

    // The hub: the one Slack secret, the organization's table, the notifier and the endpoint.
    const hubFactory = new ClientFactory({ region: REGION, endpoint: moto.endpoint, credentials: hubCredentials });
    const secrets = () => hubFactory.shared(SECRETS_MANAGER, { record: false });
    const { CreateSecretCommand } = await import('@aws-sdk/client-secrets-manager');
    const secretId = 'driftfix/slack';
    const signingSecret = randomBytes(16).toString('hex');
    await (await secrets()).send(new CreateSecretCommand({ Name: secretId, SecretString: JSON.stringify({ botToken: ['xoxb', 'demo', 'token'].join('-'), signingSecret }) }));
    const slackConfig = { secretId, channel: CHANNEL, apiUrl: slack.url };
    const hubLedger = new DynamoLedger(await hubFactory.shared(DYNAMODB, { record: false }), `driftfix-hub-${Date.now()}`, { createIfMissing: true });
    bus.hub = { ledger: hubLedger, announcer: new SlackAnnouncer(new SlackWebApi(slackConfig, secrets)), log: quiet, memberAccounts: [MEMBER_ACCOUNT] };
    const sink = new EventBridgeSink(async () => bus.client(HUB_ACCOUNT) as never, 'default', BUS);
    sink.ownAccount = HUB_ACCOUNT;
    const interactivity: InteractivityDeps = {
      ledger: hubLedger,
      slack: new SlackWebApi(slackConfig, secrets, undefined, 1_500),
      sink,
      signingSecret: async () => (await loadSlackSecret(secrets, secretId)).signingSecret,
      approvers: parseApprovers(APPROVER, undefined),
      suppressionDays: 30,
      log: quiet,
    };
    endpoint = await startLocalEndpoint((event) => handleSlackAction(event, interactivity));
    console.log(`Hub ${HUB_ACCOUNT}: Slack app, table and interactivity endpoint ${endpoint.url}`);

    // The member: rules and table, no Slack; its records go to the hub's bus, decisions come from the hub only.
    const configRule = await seedMember(moto.endpoint, memberCredentials);
    const member = await createLocalRuntime({
      needStore: true,
      credentials: memberCredentials,
      env: { AWS_REGION: REGION, AWS_ENDPOINT_URL: moto.endpoint, REMEDIATION_TABLE: `driftfix-member-${Date.now()}`, HUB_ACCOUNT },
    });
    member.deps.announcer = new HubAnnouncer(async () => bus.client(MEMBER_ACCOUNT) as never, busArn(HUB_ACCOUNT));
    bus.member = member;
    console.log(`Member ${MEMBER_ACCOUNT}: account-level S3 Block Public Access off; AWS Config rule ${configRule}\n`);

    const asked = await replayEvent(memberFinding(configRule), member, { apply: true });
    console.log(`member ${asked.outcome}: ${asked.reason}`);
    await bus.drain();
    const approval = asked.approvalId ? await hubLedger.getApproval(asked.approvalId) : undefined;
    if (asked.outcome !== 'pending-approval' || !approval?.message) {
      console.error('The hub has no posted approval request for the member’s finding.');
      return 1;
    }
    console.log(`hub posted the request to Slack (${approval.message.channel} ${approval.message.ts}), account ${approval.finding.account} named in it`);

    const body = clickBody(approval.approvalId, approval.message);
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
    const answer = await fetch(endpoint.url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signature },
    });
    console.log(`signed click on Approve → hub endpoint answered ${answer.status}`);
    await bus.drain();

    const applied = bus.delivered.find((delivery) => delivery.to === 'member' && delivery.result.approvalId === approval.approvalId);
    const block = await readAccountBlock(moto.endpoint, memberCredentials);
    const allOn = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'].every((flag) => block[flag] === true);
    const mirrored = (await hubLedger.getApproval(approval.approvalId))?.status;
    const message = slack.message(approval.message.channel, approval.message.ts);
    console.log(`member ${applied?.result.outcome ?? 'nothing'}: ${applied?.result.reason ?? 'the decision did not arrive'}`);
    console.log(`member account Block Public Access now: ${JSON.stringify(block)}`);
    console.log(`hub's view of the approval: ${mirrored}; Slack message now: ${message?.text ?? '(none)'}`);
    const ok = applied?.result.outcome === 'remediated' && allOn && mirrored === 'applied';
    console.log(ok ? '\nThe member’s fix was applied and verified, approved through the hub.' : '\nThe organization demo did not complete.');
    return ok ? 0 : 1;
  } catch (error) {
    console.error(`organization demo: ${describeError(error)}`);
    return 1;
  } finally {
    await endpoint?.close();
    await slack.stop();
    await moto.stop();
  }
}
