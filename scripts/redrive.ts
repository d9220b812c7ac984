import { parseArgs } from 'node:util';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { prepareCliEnvironment, runCli } from './lib/cli-env.ts';
import { redrive } from './lib/redrive.ts';

const USAGE = `usage: npm run redrive -- --queue <name-or-url> --function <name> [--max <n>]

Sends the events waiting in a function's dead-letter queue back to the function (asynchronously),
deleting each message once Lambda accepted it.`;

async function main(argv: string[]): Promise<number> {
  prepareCliEnvironment();
  const { values } = parseArgs({
    args: argv,
    options: { queue: { type: 'string' }, function: { type: 'string' }, max: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help || !values.queue || !values.function) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  const max = values.max ? Number(values.max) : 1000;
  if (!Number.isInteger(max) || max <= 0) {
    console.error('--max must be a positive whole number');
    return 2;
  }
  const sqs = new SQSClient({});
  const queueUrl = values.queue.startsWith('https://') || values.queue.startsWith('http://')
    ? values.queue
    : ((await sqs.send(new GetQueueUrlCommand({ QueueName: values.queue }))).QueueUrl ?? '');
  const result = await redrive({ sqs, lambda: new LambdaClient({}), queueUrl, functionName: values.function, max });
  console.log(`${result.redriven} event(s) handed back to ${values.function}; ${result.failed.length} left in the queue`);
  for (const failure of result.failed) console.log(`  ${failure.messageId}: ${failure.reason}`);
  return result.failed.length > 0 ? 1 : 0;
}

runCli('redrive', main);
