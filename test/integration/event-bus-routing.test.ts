import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CreateEventBusCommand, EventBridgeClient, PutEventsCommand, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { toBusEntry } from '../../scripts/lib/bus-replay.ts';
import { expandEventPaths } from '../../scripts/lib/event-files.ts';
import { functionsFor } from '../../scripts/lib/local-runtime.ts';
import { EVENTS_DIR, REGION } from '../support/events.ts';
import { motoEndpoint, uniqueName } from '../support/local-aws.ts';
import { packaged, ROOT, targetRuleId } from '../support/packaged.ts';

/**
 * The packaged EventBridge rules, installed on a bus in moto with an SQS queue standing in for each
 * function: EventBridge itself decides where each sample goes, and that must be where local replay
 * sends it.
 */
let bus: string;
const queues = new Map<string, string>(); // rule id → queue URL
const eb = () => new EventBridgeClient({ region: REGION, endpoint: motoEndpoint() });
const sqs = () => new SQSClient({ region: REGION, endpoint: motoEndpoint() });

beforeAll(async () => {
  const { template } = packaged('default');
  bus = uniqueName('driftfix-bus');
  await eb().send(new CreateEventBusCommand({ Name: bus }));
  const rules = Object.entries(template.Resources).filter(([, resource]) => resource.Type === 'AWS::Events::Rule');
  expect(rules.length).toBeGreaterThan(0);
  for (const [logicalId, rule] of rules) {
    const ruleId = targetRuleId(template, rule);
    if (!queues.has(ruleId)) {
      const { QueueUrl } = await sqs().send(new CreateQueueCommand({ QueueName: uniqueName(ruleId) }));
      queues.set(ruleId, QueueUrl ?? '');
    }
    const queueUrl = queues.get(ruleId) ?? '';
    const { Attributes } = await sqs().send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
    await eb().send(new PutRuleCommand({ Name: logicalId.slice(0, 64), EventBusName: bus, EventPattern: JSON.stringify(rule.Properties.EventPattern) }));
    await eb().send(new PutTargetsCommand({ Rule: logicalId.slice(0, 64), EventBusName: bus, Targets: [{ Id: ruleId, Arn: Attributes?.QueueArn }] }));
  }
}, 200_000);

/** Every message each queue holds now, as the events EventBridge delivered. */
async function drain(): Promise<Map<string, Array<Record<string, any>>>> {
  const delivered = new Map<string, Array<Record<string, any>>>();
  for (const [ruleId, queueUrl] of queues) {
    const events: Array<Record<string, any>> = [];
    for (;;) {
      const { Messages } = await sqs().send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 600 }));
      if (!Messages?.length) break;
      events.push(...Messages.map((message) => JSON.parse(message.Body ?? '{}')));
    }
    delivered.set(ruleId, events);
  }
  return delivered;
}

const key = (detailType: string, detail: unknown) => `${detailType}|${JSON.stringify(detail)}`;

async function samples() {
  return (await expandEventPaths([EVENTS_DIR])).map((file) => ({ file, event: JSON.parse(readFileSync(file, 'utf8')) }));
}

function expectRoutedAsLocally(delivered: Map<string, Array<Record<string, any>>>, sent: Array<{ file: string; event: Record<string, any> }>) {
  for (const { file, event } of sent) {
    const reached = [...delivered.entries()]
      .filter(([, events]) => events.some((candidate) => key(candidate['detail-type'], candidate.detail) === key(event['detail-type'], event.detail)))
      .map(([ruleId]) => ruleId)
      .sort();
    expect(reached, file).toEqual(functionsFor(event, true).sort());
  }
}

describe('the packaged EventBridge rules, run by moto’s EventBridge', () => {
  it('route every sample (with its AWS source) to exactly the function local replay chooses', async () => {
    await drain();
    const sent = await samples();
    const entries = sent.map(({ event }) => ({ ...toBusEntry(event, bus), Source: event.source as string }));
    for (let i = 0; i < entries.length; i += 10) await eb().send(new PutEventsCommand({ Entries: entries.slice(i, i + 10) }));
    const delivered = await drain();
    expect([...delivered.values()].flat().length).toBeGreaterThan(0);
    expectRoutedAsLocally(delivered, sent);
  });

  it('no two samples share a detail-type and detail, so each delivery names its sample', async () => {
    const keys = (await samples()).map(({ event }) => key(event['detail-type'], event.detail));
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('npm run replay -- --bus sends the samples with the replay source, and they reach the same functions', async () => {
    await drain();
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/replay.ts', '--bus', bus, '--json', EVENTS_DIR], {
      cwd: ROOT,
      env: { ...process.env, AWS_ENDPOINT_URL: motoEndpoint(), AWS_REGION: REGION },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const lines = stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(status).toBe(0);
    expect(lines.every((line) => line.outcome === 'sent')).toBe(true);

    const delivered = await drain();
    const all = [...delivered.values()].flat();
    expect(all.length).toBeGreaterThan(0);
    expect(all.every((event) => event.source === 'driftfix.replay')).toBe(true);
    expectRoutedAsLocally(
      delivered,
      (await samples()).map(({ file, event }) => ({ file, event: { ...event, source: event.source.startsWith('aws.') ? 'driftfix.replay' : event.source } })),
    );
  });

  it('with replay turned off for a stage, replayed events reach no function', async () => {
    const { template } = packaged('noReplay');
    const patterns = Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::Events::Rule').map((resource) => JSON.stringify(resource.Properties.EventPattern));
    expect(patterns.some((pattern) => pattern.includes('driftfix.replay'))).toBe(false);
  });
});
