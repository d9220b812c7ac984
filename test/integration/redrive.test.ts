import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { redrive } from '../../scripts/lib/redrive.ts';
import { loadSample, REGION } from '../support/events.ts';
import { motoEndpoint, uniqueName } from '../support/local-aws.ts';

describe('redriving a dead-letter queue (moto SQS; Lambda faked, moto runs no functions)', () => {
  it('invokes the function asynchronously with each event and deletes only what Lambda accepted', async () => {
    const sqs = new SQSClient({ region: REGION, endpoint: motoEndpoint() });
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('dlq') }));
    const events = [loadSample('config/s3-bucket-server-side-encryption-enabled.json'), loadSample('access-analyzer/s3-bucket-public.json')];
    for (const event of events) await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(event) }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'not json' }));

    const lambda = new LambdaClient({ region: REGION });
    const lambdaMock = mockClient(lambda);
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 202 });
    const result = await redrive({ sqs, lambda, queueUrl: QueueUrl ?? '', functionName: 'driftfix-prod-s3-default-encryption', max: 3 });

    expect(result.redriven).toBe(2);
    expect(result.failed).toHaveLength(1);
    const invocations = lambdaMock.commandCalls(InvokeCommand).map((call) => call.args[0].input);
    expect(invocations.every((input) => input.InvocationType === 'Event' && input.FunctionName === 'driftfix-prod-s3-default-encryption')).toBe(true);
    expect(invocations.map((input) => JSON.parse(Buffer.from(input.Payload as Uint8Array).toString()).id).sort()).toEqual(events.map((event) => event.id).sort());
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    expect(Number(Attributes?.ApproximateNumberOfMessages) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible)).toBe(1);
  });
});
