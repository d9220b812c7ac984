import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

export interface RedriveResult {
  redriven: number;
  failed: Array<{ messageId: string; reason: string }>;
}

/**
 * Hands the events in a function's dead-letter queue back to the function, asynchronously as
 * EventBridge would, deleting each message only once Lambda accepted it. The records make a
 * redriven event repeat no change: it only finishes what failed (a change, or a Slack post).
 */
export async function redrive(options: { sqs: SQSClient; lambda: LambdaClient; queueUrl: string; functionName: string; max: number }): Promise<RedriveResult> {
  const result: RedriveResult = { redriven: 0, failed: [] };
  while (result.redriven + result.failed.length < options.max) {
    const { Messages } = await options.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: options.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60 }),
    );
    if (!Messages?.length) break;
    for (const message of Messages) {
      const messageId = message.MessageId ?? '?';
      try {
        JSON.parse(message.Body ?? '');
        const output = await options.lambda.send(
          new InvokeCommand({ FunctionName: options.functionName, InvocationType: 'Event', Payload: Buffer.from(message.Body ?? '') }),
        );
        if (output.StatusCode !== 202) throw new Error(`Lambda answered ${output.StatusCode}`);
        await options.sqs.send(new DeleteMessageCommand({ QueueUrl: options.queueUrl, ReceiptHandle: message.ReceiptHandle }));
        result.redriven += 1;
      } catch (error) {
        // Left in the queue: it becomes visible again and can be redriven later.
        result.failed.push({ messageId, reason: (error as Error).message });
      }
    }
  }
  return result;
}
