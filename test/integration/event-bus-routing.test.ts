import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, relative } from 'node:path';
import { CreateEventBusCommand, EventBridgeClient, PutEventsCommand, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { EVENT_SOURCE } from '../../core/model/index.ts';
import { RULES } from '../../rules/index.ts';
import { toBusEntry } from '../../scripts/lib/bus-replay.ts';
import { expandEventPaths } from '../../scripts/lib/event-files.ts';
import { functionsFor } from '../../scripts/lib/local-runtime.ts';
import { type DeploymentOptions, operationsResources } from '../../serverless/deployment.ts';
import { EVENTS_DIR, REGION } from '../support/events.ts';
import { motoEndpoint, uniqueName } from '../support/local-aws.ts';
import { functionOf, packaged, ROOT, type Template } from '../support/packaged.ts';

/**
 * The packaged EventBridge rules, installed on a bus in moto with an SQS queue standing in for each
 * function's queue: EventBridge itself decides where each sample goes, and that must be where
 * local replay (scripts/lib/local-runtime.ts functionsFor) sends it.
 */

const EVENT_FUNCTIONS = [...RULES.map((rule) => rule.id), 'config-router', 'unhandled-findings'];
const AS_DEPLOYED = { acceptReplay: false };

type Event = Record<string, any>;
type Installed = { bus: string; queues: Map<string, string> }; // function id → test queue URL

const eb = () => new EventBridgeClient({ region: REGION, endpoint: motoEndpoint() });
const sqs = () => new SQSClient({ region: REGION, endpoint: motoEndpoint() });
const getAtt = (value: unknown): string => (value as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];

/** Which function each queue of the template feeds, read from the event source mappings. */
function functionsByQueue(template: Template): Map<string, string> {
  const byQueue = new Map<string, string>();
  for (const id of EVENT_FUNCTIONS) {
    const fn = functionOf(template, id);
    const logicalId = Object.entries(template.Resources).find(([, resource]) => resource === fn)?.[0];
    const mapping = Object.values(template.Resources).find((resource) => resource.Type === 'AWS::Lambda::EventSourceMapping' && getAtt(resource.Properties.FunctionName) === logicalId);
    if (!mapping) throw new Error(`no event source mapping for ${id}`);
    byQueue.set(getAtt(mapping.Properties.EventSourceArn), id);
  }
  return byQueue;
}

/** A bus of its own in moto holding `rules` (logical id → AWS::Events::Rule), each sending to a test queue for its function. */
async function install(rules: Array<[string, { Properties: Record<string, any> }]>, byQueue: Map<string, string>): Promise<Installed> {
  const bus = uniqueName('driftfix-bus');
  await eb().send(new CreateEventBusCommand({ Name: bus }));
  const queues = new Map<string, string>();
  for (const id of EVENT_FUNCTIONS) {
    const { QueueUrl = '' } = await sqs().send(new CreateQueueCommand({ QueueName: uniqueName(id) }));
    queues.set(id, QueueUrl);
  }
  for (const [logicalId, rule] of rules) {
    const functionId = byQueue.get(getAtt(rule.Properties.Targets[0].Arn));
    if (!functionId) throw new Error(`${logicalId} targets no event function's queue`);
    expect(rule.Properties.EventBusName, `${logicalId} listens on the default bus`).toBeUndefined();
    const { Attributes } = await sqs().send(new GetQueueAttributesCommand({ QueueUrl: queues.get(functionId), AttributeNames: ['QueueArn'] }));
    await eb().send(new PutRuleCommand({ Name: logicalId.slice(0, 64), EventBusName: bus, EventPattern: JSON.stringify(rule.Properties.EventPattern) }));
    await eb().send(new PutTargetsCommand({ Rule: logicalId.slice(0, 64), EventBusName: bus, Targets: [{ Id: 'queue', Arn: Attributes?.QueueArn }] }));
  }
  return { bus, queues };
}

/** Every message each queue holds now, as the events EventBridge delivered. */
async function drain({ queues }: Installed): Promise<Map<string, Event[]>> {
  const delivered = new Map<string, Event[]>();
  for (const [functionId, queueUrl] of queues) {
    const events: Event[] = [];
    for (;;) {
      const { Messages } = await sqs().send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 600 }));
      if (!Messages?.length) break;
      events.push(...Messages.map((message) => JSON.parse(message.Body ?? '{}') as Event));
    }
    delivered.set(functionId, events);
  }
  return delivered;
}

async function send(installed: Installed, events: Event[], source: (event: Event) => string): Promise<void> {
  const entries = events.map((event) => ({ ...toBusEntry(event, installed.bus), Source: source(event) }));
  for (let i = 0; i < entries.length; i += 10) {
    const output = await eb().send(new PutEventsCommand({ Entries: entries.slice(i, i + 10) }));
    expect(output.FailedEntryCount ?? 0).toBe(0);
  }
}

const key = (event: Event) => `${event['detail-type']}|${JSON.stringify(event.detail)}`;
/** The functions whose queue received `event`. */
const reached = (delivered: Map<string, Event[]>, event: Event) =>
  [...delivered.entries()]
    .filter(([, events]) => events.some((candidate) => key(candidate) === key(event)))
    .map(([functionId]) => functionId)
    .sort();

/**
 * The sample as sent to moto. moto 5.2.1 does not match pattern fields inside arrays of objects
 * (its EventPattern flattens objects only), so a Security Hub event's one finding is sent as the
 * object itself: for an array of one object EventBridge matches exactly as for that object.
 */
function asMotoMatches(file: string, event: Event): Event {
  const findings = event.detail?.findings;
  if (!Array.isArray(findings)) return event;
  if (findings.length !== 1) throw new Error(`${file}: ${findings.length} findings; the moto workaround holds for one`);
  return { ...event, detail: { ...event.detail, findings: findings[0] } };
}

/** Samples whose expected outcome is `ignored` (named `<case>.ignored.json`): no function's pattern takes them. */
const IGNORED = /[.-]ignored\.json$/;

let samples: Array<{ file: string; event: Event; sent: Event }>;
let deployed: Installed;

beforeAll(async () => {
  const { template } = packaged();
  const rules = Object.entries(template.Resources).filter(([, resource]) => resource.Type === 'AWS::Events::Rule');
  expect(rules.length).toBeGreaterThan(0);
  deployed = await install(rules, functionsByQueue(template));
  samples = (await expandEventPaths([EVENTS_DIR])).map((path) => {
    const file = relative(EVENTS_DIR, path);
    const event = JSON.parse(readFileSync(path, 'utf8')) as Event;
    return { file, event, sent: asMotoMatches(file, event) };
  });
}, 120_000);

describe('the packaged EventBridge rules, run by moto’s EventBridge', () => {
  it('no two samples share a detail-type and detail, so each delivery names its sample', () => {
    const keys = samples.map(({ sent }) => key(sent));
    expect(keys.length).toBeGreaterThan(0);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('the moto workaround changes no sample’s route (checked with the local matcher), and applies to Security Hub samples only', () => {
    const changed = samples.filter(({ event, sent }) => sent !== event);
    expect(changed.length).toBeGreaterThan(0);
    for (const { file, event } of changed) expect(event.source, file).toBe('aws.securityhub');
    for (const { file, event, sent } of changed) {
      expect(functionsFor(sent, AS_DEPLOYED), file).toEqual(functionsFor(event, AS_DEPLOYED));
      expect(functionsFor({ ...sent, source: EVENT_SOURCE.replay }, { acceptReplay: true }), file).toEqual(functionsFor({ ...event, source: EVENT_SOURCE.replay }, { acceptReplay: true }));
    }
  });

  it('route every sample (with its AWS source) to exactly the functions local replay picks', async () => {
    await drain(deployed);
    await send(
      deployed,
      samples.map(({ sent }) => sent),
      (event) => event.source,
    );
    const delivered = await drain(deployed);
    expect([...delivered.values()].flat().length).toBeGreaterThan(0);
    for (const { file, event, sent } of samples) expect(reached(delivered, sent), file).toEqual(functionsFor(event, AS_DEPLOYED).sort());

    // The Config router takes every AWS Config sample not named *.ignored.json, and nothing else takes them.
    const config = samples.filter(({ event }) => event.source === 'aws.config');
    expect(config.length).toBeGreaterThan(0);
    for (const { file, sent } of config) {
      expect(reached(delivered, sent), file).toEqual(IGNORED.test(basename(file)) ? [] : ['config-router']);
    }
    expect(delivered.get('unhandled-findings')?.length).toBeGreaterThan(0);
    expect(RULES.filter((rule) => (delivered.get(rule.id)?.length ?? 0) > 0).length).toBeGreaterThan(0);
  });

  it('samples a function ignores (named *.ignored.json) reach no function', () => {
    const ignored = samples.filter(({ file }) => IGNORED.test(basename(file)));
    expect(ignored.length).toBeGreaterThan(0);
    for (const { file, event } of ignored) expect(functionsFor(event, AS_DEPLOYED), file).toEqual([]);
  });

  it('npm run replay -- --bus sends the samples with the replay source, and as deployed (acceptReplay false) none reaches a function', async () => {
    await drain(deployed);
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/replay.ts', '--bus', deployed.bus, '--json', EVENTS_DIR], {
      cwd: ROOT,
      env: { ...process.env, AWS_ENDPOINT_URL: motoEndpoint(), AWS_REGION: REGION },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(status, stderr).toBe(0);
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(samples.length);
    expect(lines.filter((line) => line.outcome !== 'sent')).toEqual([]);
    const delivered = await drain(deployed);
    expect([...delivered.entries()].filter(([, events]) => events.length > 0)).toEqual([]);
    for (const { file, event } of samples) expect(functionsFor({ ...event, source: EVENT_SOURCE.replay }, AS_DEPLOYED), file).toEqual([]);
  }, 60_000);
});

describe('a stage with acceptReplay=true, run by moto’s EventBridge', () => {
  let replaying: Installed;
  beforeAll(async () => {
    const options: DeploymentOptions = {
      service: 'driftfix',
      stage: 'dev',
      acceptReplay: true,
      slackSecretName: 'driftfix/slack',
      ruleModes: '',
      ruleParams: '{}',
      permissionsBoundaryArn: '',
      hub: false,
      hubAccount: '',
      hubRegion: '',
      organizationId: '',
      memberAccounts: [],
    };
    const resources = Object.entries(operationsResources(options) as Record<string, { Type: string; Properties: Record<string, any> }>);
    replaying = await install(
      resources.filter(([, resource]) => resource.Type === 'AWS::Events::Rule'),
      functionsByQueue(packaged().template),
    );
  }, 120_000);

  it('routes each replayed sample to exactly the functions local replay picks for it', async () => {
    await drain(replaying);
    await send(
      replaying,
      samples.map(({ sent }) => sent),
      () => EVENT_SOURCE.replay,
    );
    const delivered = await drain(replaying);
    expect([...delivered.values()].flat().length).toBeGreaterThan(0);
    for (const { file, event, sent } of samples) {
      expect(reached(delivered, sent), file).toEqual(functionsFor({ ...event, source: EVENT_SOURCE.replay }, { acceptReplay: true }).sort());
    }
  });
});
