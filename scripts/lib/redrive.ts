import { DeleteMessageCommand, ListDeadLetterSourceQueuesCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

export interface RedriveResult {
  redriven: number;
  failed: Array<{ messageId: string; reason: string }>;
}

/** The queue a dead-letter queue serves (SQS ListDeadLetterSourceQueues): the function's own queue. */
export async function sourceQueueOf(sqs: SQSClient, deadLetterQueueUrl: string): Promise<string> {
  const { queueUrls } = await sqs.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: deadLetterQueueUrl }));
  if (queueUrls?.length !== 1) {
    throw new Error(`${deadLetterQueueUrl} is the dead-letter queue of ${queueUrls?.length ?? 0} queues; name the one to send to with --to`);
  }
  return queueUrls[0] as string;
}

/**
 * Hands the events in a function's dead-letter queue back to its queue, deleting each message only
 * once the queue accepted it. The records make a redriven event repeat no change: it only
 * finishes what failed (a change, or a Slack post).
 */
export async function redrive(options: { sqs: SQSClient; from: string; to: string; max: number }): Promise<RedriveResult> {
  if (options.from === options.to) throw new Error(`${options.to} is the dead-letter queue itself: name the function's queue with --to`);
  const result: RedriveResult = { redriven: 0, failed: [] };
  while (result.redriven + result.failed.length < options.max) {
    // Never more than --max in all: SQS hands out up to 10 at a time.
    const wanted = Math.min(10, options.max - result.redriven - result.failed.length);
    const { Messages } = await options.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: options.from, MaxNumberOfMessages: wanted, WaitTimeSeconds: 1, VisibilityTimeout: 60 }),
    );
    if (!Messages?.length) break;
    for (const message of Messages) {
      const messageId = message.MessageId ?? '?';
      try {
        JSON.parse(message.Body ?? '');
        await options.sqs.send(new SendMessageCommand({ QueueUrl: options.to, MessageBody: message.Body ?? '' }));
        await options.sqs.send(new DeleteMessageCommand({ QueueUrl: options.from, ReceiptHandle: message.ReceiptHandle }));
        result.redriven += 1;
      } catch (error) {
        // Left in the queue: it becomes visible again and can be redriven later.
        result.failed.push({ messageId, reason: (error as Error).message });
      }
    }
  }
  return result;
}
