import { needsRetry } from '../../core/aws/lambda.ts';
import type { EventResult } from '../../core/engine/results.ts';
import { describeError } from '../../core/model/index.ts';
import { loadEventFile } from './event-files.ts';
import { dispatchEvent, type LocalRuntime } from './local-runtime.ts';

/** How long a local replay keeps delivering an event another invocation is busy with, as SQS would. */
const BUSY_RETRY_MS = 60_000;

function isBusy(result: EventResult): boolean {
  return needsRetry(result) && /being changed by another invocation|is being completed by another|took over record|kept changing while/.test(result.reason);
}

/** Replays one event file through the function its pattern routes it to; never throws. */
export async function replayFile(file: string, runtime: LocalRuntime, options: { apply: boolean; rewrite?: (text: string) => string }): Promise<EventResult> {
  const loaded = await loadEventFile(file, options.rewrite);
  if (!loaded.ok) return { outcome: 'rejected', reason: loaded.reason, calls: [], writes: 0 };
  return replayEvent(loaded.event, runtime, options);
}

/** One event, delivered again while another invocation holds the resource (the deployed queue does the same). */
export async function replayEvent(event: unknown, runtime: LocalRuntime, options: { apply: boolean }): Promise<EventResult> {
  const deadline = Date.now() + BUSY_RETRY_MS;
  let delay = 50;
  for (;;) {
    let result: EventResult;
    try {
      result = await dispatchEvent(event, runtime, { dryRun: !options.apply });
    } catch (error) {
      return { outcome: 'failed', reason: describeError(error), calls: [], writes: 0 };
    }
    if (!isBusy(result) || Date.now() + delay > deadline) return result;
    await new Promise((resolve) => setTimeout(resolve, delay + Math.floor(Math.random() * delay)));
    delay = Math.min(delay * 2, 1_000);
  }
}
