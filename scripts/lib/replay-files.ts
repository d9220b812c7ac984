import type { EventResult } from '../../functions/commons/engine.ts';
import { describeError } from '../../functions/commons/errors.ts';
import { loadEventFile } from './event-files.ts';
import { dispatchEvent, type LocalRuntime } from './local-runtime.ts';

/** Replays one event file through the handler its pattern routes it to; never throws. */
export async function replayFile(file: string, runtime: LocalRuntime, options: { apply: boolean }): Promise<EventResult> {
  const loaded = await loadEventFile(file);
  if (!loaded.ok) return { outcome: 'rejected', reason: loaded.reason, calls: [], writes: 0 };
  try {
    return await dispatchEvent(loaded.event, runtime, { dryRun: !options.apply });
  } catch (error) {
    return { outcome: 'failed', reason: describeError(error), calls: [], writes: 0 };
  }
}
