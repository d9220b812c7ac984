import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { EventResult } from '../core/engine/results.ts';
import { describeError } from '../core/model/index.ts';
import { parseCliArgs, prepareCliEnvironment, runCli } from './lib/cli-env.ts';
import { type BusLine, putInBatches, toBusEntry } from './lib/bus-replay.ts';
import { expandEventPaths, loadEventFile } from './lib/event-files.ts';
import { createLocalRuntime } from './lib/local-runtime.ts';
import { replayFile } from './lib/replay-files.ts';
import { formatResult } from './lib/format-result.ts';

const USAGE = `usage: npm run replay -- [--apply] [--json] [--concurrency <n>] <file-or-dir>...
       npm run replay -- --bus <name> [--retarget] [--json] <file-or-dir>...

Runs each event file through the same handler code as Lambda.
  --apply            act according to each rule's mode (default: dry run, changes nothing)
  --json             one JSON object per file on stdout
  --concurrency <n>  handle up to n files at once, as parallel invocations would
  --bus <name>       send the files to a deployed event bus instead (PutEvents)
  --retarget         with --bus: rewrite the samples' account and region to your credentials'`;

/** The operator contract of `--json`: exactly these fields of the handler's result, and the file. */
export type ReplayLine = { file: string } & Pick<
  EventResult,
  'outcome' | 'rule' | 'resource' | 'reason' | 'calls' | 'writes' | 'recordId' | 'approvalId' | 'notification'
>;

export function toReplayLine(file: string, result: EventResult): ReplayLine {
  return {
    file,
    outcome: result.outcome,
    ...(result.rule ? { rule: result.rule } : {}),
    ...(result.resource ? { resource: result.resource } : {}),
    reason: result.reason,
    calls: result.calls,
    writes: result.writes,
    ...(result.recordId ? { recordId: result.recordId } : {}),
    ...(result.approvalId ? { approvalId: result.approvalId } : {}),
    ...(result.notification ? { notification: result.notification } : {}),
  };
}

/** A line that should make the exit status non-zero: refused, failed, or its record never reached Slack. */
export function isBad(result: EventResult): boolean {
  return result.outcome === 'rejected' || result.outcome === 'failed' || result.notification === 'failed';
}

async function main(argv: string[]): Promise<number> {
  prepareCliEnvironment();
  const options = {
    apply: { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean' },
    bus: { type: 'string' },
    retarget: { type: 'boolean' },
    concurrency: { type: 'string' },
  } as const;
  const parsed = parseCliArgs(argv, options, USAGE);
  if (!parsed) return 2;
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  const apply = values.apply === true;
  let files: string[];
  try {
    files = await expandEventPaths(positionals);
  } catch (error) {
    console.error(`cannot read ${positionals.join(' ')}: ${describeError(error)}`);
    return 2;
  }
  if (values.retarget && values.bus === undefined) {
    console.error(`--retarget goes with --bus only: a local replay acts in the emulator's or your credentials' account\n${USAGE}`);
    return 2;
  }
  if (values.bus !== undefined) {
    if (apply) {
      console.error('--apply and --bus do not go together: the deployed functions act according to their modes');
      return 2;
    }
    return replayThroughBus(files, values.bus, values.retarget === true, values.json === true);
  }
  const concurrency = values.concurrency ? Number(values.concurrency) : 1;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
    console.error(`--concurrency must be a whole number from 1 to 256\n${USAGE}`);
    return 2;
  }
  const runtime = await createLocalRuntime({ needStore: apply });

  const results = new Array<EventResult | undefined>(files.length);
  let printed = 0;
  let bad = 0;
  // Print as soon as every earlier file is done, so output keeps the file order.
  const flush = () => {
    while (printed < files.length && results[printed]) {
      const result = results[printed] as EventResult;
      if (isBad(result)) bad += 1;
      const line = toReplayLine(files[printed] as string, result);
      console.log(values.json ? JSON.stringify(line) : formatResult(line, result));
      printed += 1;
    }
  };
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const index = next++;
      results[index] = await replayFile(files[index] as string, runtime, { apply });
      flush();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
  const foreign = results.filter((result) => result?.outcome === 'rejected' && / this bot runs in \d{12}/.test(result.reason)).length;
  if (foreign > 0 && process.env.AWS_ENDPOINT_URL) {
    const samples = runtime.identity.account === '111122223333' ? '' : ', e.g. MOTO_ACCOUNT_ID=111122223333 for the samples';
    console.error(`\n${foreign} event(s) are for another account than the emulator's (${runtime.identity.account}): start moto with MOTO_ACCOUNT_ID=<the events' account>${samples}.`);
  }
  if (!values.json) console.error(`\n${files.length} event(s), ${bad} rejected, failed or not posted${apply ? '' : ' (dry run: nothing was changed; add --apply to act)'}`);
  return bad > 0 ? 1 : 0;
}

async function replayThroughBus(files: string[], bus: string, retarget: boolean, json: boolean): Promise<number> {
  const region = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION;
  const endpoint = process.env.AWS_ENDPOINT_URL || undefined;
  const { EventBridgeClient } = await import('@aws-sdk/client-eventbridge');
  const { GetCallerIdentityCommand, STSClient } = await import('@aws-sdk/client-sts');
  const client = new EventBridgeClient({ ...(region ? { region } : {}), ...(endpoint ? { endpoint } : {}) });
  let target: { account: string; region: string } | undefined;
  if (retarget) {
    const { Account } = await new STSClient({ ...(region ? { region } : {}), ...(endpoint ? { endpoint } : {}) }).send(new GetCallerIdentityCommand({}));
    target = { account: Account ?? '', region: await client.config.region() };
  }
  const lines: BusLine[] = [];
  const entries: Array<{ file: string; entry: PutEventsRequestEntry }> = [];
  for (const file of files) {
    const loaded = await loadEventFile(file);
    if (!loaded.ok) {
      lines.push({ file, outcome: 'rejected', reason: loaded.reason });
      continue;
    }
    try {
      entries.push({ file, entry: toBusEntry(loaded.event, bus, target) });
    } catch (error) {
      lines.push({ file, outcome: 'rejected', reason: (error as Error).message });
    }
  }
  lines.push(...(await putInBatches(client, entries)));
  for (const line of lines) console.log(json ? JSON.stringify(line) : `${line.outcome.padEnd(9)} ${line.file}\n    ${line.reason}`);
  const bad = lines.filter((line) => line.outcome !== 'sent').length;
  if (!json) console.error(`\n${lines.length - bad} sent to ${bus}, ${bad} not sent; the deployed functions record each one (marked replayed)`);
  return bad > 0 ? 1 : 0;
}

runCli('replay', main);
