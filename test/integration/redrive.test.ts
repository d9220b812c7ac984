import { spawnSync } from 'node:child_process';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { redrive, sourceQueueOf } from '../../scripts/lib/redrive.ts';
import { loadSample, REGION } from '../support/events.ts';
import { motoEndpoint, uniqueName } from '../support/local-aws.ts';
import { ROOT } from '../support/packaged.ts';

async function queuePair(sqs: SQSClient) {
  const { QueueUrl: dlq } = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('dlq') }));
  const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['QueueArn'] }));
  const { QueueUrl: source } = await sqs.send(
    new CreateQueueCommand({
      QueueName: uniqueName('queue'),
      Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: attributes.Attributes?.QueueArn, maxReceiveCount: 10 }) },
    }),
  );
  return { dlq: dlq ?? '', source: source ?? '' };
}

async function depth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return Number(Attributes?.ApproximateNumberOfMessages) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible);
}

describe('redriving a dead-letter queue (moto SQS)', () => {
  it('hands each event back to the queue the dead-letter queue serves, and deletes only what that queue accepted', async () => {
    const sqs = new SQSClient({ region: REGION, endpoint: motoEndpoint() });
    const { dlq, source } = await queuePair(sqs);
    expect(await sourceQueueOf(sqs, dlq)).toBe(source);
    const events = [loadSample('config/s3-bucket-server-side-encryption-enabled.remediated.json'), loadSample('access-analyzer/s3-bucket-public.remediated.json')];
    for (const event of events) await sqs.send(new SendMessageCommand({ QueueUrl: dlq, MessageBody: JSON.stringify(event) }));
    await sqs.send(new SendMessageCommand({ QueueUrl: dlq, MessageBody: 'not json' }));

    const result = await redrive({ sqs, from: dlq, to: source, max: 3 });
    expect(result.redriven).toBe(2);
    expect(result.failed).toHaveLength(1);
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: source, MaxNumberOfMessages: 10 }));
    expect((Messages ?? []).map((message) => JSON.parse(message.Body ?? '{}').id).sort()).toEqual(events.map((event) => event.id).sort());
    expect(await depth(sqs, dlq)).toBe(1);
  });

  it('hands back no more than --max, and refuses to send a dead-letter queue into itself', async () => {
    const sqs = new SQSClient({ region: REGION, endpoint: motoEndpoint() });
    const { dlq, source } = await queuePair(sqs);
    const event = loadSample('config/compliant.ignored.json');
    for (let index = 0; index < 15; index++) await sqs.send(new SendMessageCommand({ QueueUrl: dlq, MessageBody: JSON.stringify({ ...event, id: `${event.id}-${index}` }) }));
    await expect(redrive({ sqs, from: dlq, to: dlq, max: 100 })).rejects.toThrow(/the dead-letter queue itself/);
    const result = await redrive({ sqs, from: dlq, to: source, max: 7 });
    expect(result).toEqual({ redriven: 7, failed: [] });
    expect(await depth(sqs, source)).toBe(7);
  });

  it('the CLI finds the source queue itself, and refuses unknown flags', async () => {
    const sqs = new SQSClient({ region: REGION, endpoint: motoEndpoint() });
    const { dlq, source } = await queuePair(sqs);
    await sqs.send(new SendMessageCommand({ QueueUrl: dlq, MessageBody: JSON.stringify(loadSample('config/compliant.ignored.json')) }));
    const env = { ...process.env, AWS_ENDPOINT_URL: motoEndpoint(), AWS_REGION: REGION };
    const run = spawnSync(process.execPath, ['scripts/run.mjs', 'redrive', '--queue', dlq], { cwd: ROOT, env, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/1 event\(s\) handed back/);
    expect(await depth(sqs, source)).toBe(1);
    const unknown = spawnSync(process.execPath, ['scripts/run.mjs', 'redrive', '--function', 'x'], { cwd: ROOT, env, encoding: 'utf8' });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/usage: npm run redrive/);
  });
});
