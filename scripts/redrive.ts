import { parseArgs } from 'node:util';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { prepareCliEnvironment, runCli } from './lib/cli-env.ts';
import { redrive, sourceQueueOf } from './lib/redrive.ts';

const USAGE = `usage: npm run redrive -- --queue <dead-letter queue name or URL> [--to <queue name or URL>] [--max <n>]

Sends the events waiting in a function's dead-letter queue back to the function's queue (the one
it serves, or --to), deleting each message once that queue accepted it.`;

async function main(argv: string[]): Promise<number> {
  prepareCliEnvironment();
  const options = { queue: { type: 'string' }, to: { type: 'string' }, max: { type: 'string' }, help: { type: 'boolean' } } as const;
  let values: ReturnType<typeof parseArgs<{ options: typeof options }>>['values'];
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true }));
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help || !values.queue) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  const max = values.max ? Number(values.max) : 1000;
  if (!Number.isInteger(max) || max <= 0) {
    console.error(`--max must be a positive whole number\n${USAGE}`);
    return 2;
  }
  const endpoint = process.env.AWS_ENDPOINT_URL || undefined;
  const sqs = new SQSClient(endpoint ? { endpoint } : {});
  const urlOf = async (queue: string) =>
    /^https?:\/\//.test(queue) ? queue : ((await sqs.send(new GetQueueUrlCommand({ QueueName: queue }))).QueueUrl ?? '');
  const from = await urlOf(values.queue);
  const to = values.to ? await urlOf(values.to) : await sourceQueueOf(sqs, from);
  const result = await redrive({ sqs, from, to, max });
  const failed = result.failed.length > 0 ? `; ${result.failed.length} could not be handed back and stay in the dead-letter queue` : '';
  console.log(`${result.redriven} event(s) handed back to ${to}${failed}${result.redriven + result.failed.length >= max ? ` (stopped at --max ${max}; more may wait)` : ''}`);
  for (const failure of result.failed) console.log(`  ${failure.messageId}: ${failure.reason}`);
  return result.failed.length > 0 ? 1 : 0;
}

runCli('redrive', main);
