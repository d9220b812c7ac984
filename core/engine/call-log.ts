import { AsyncLocalStorage } from 'node:async_hooks';

/** The AWS calls one invocation made outside the bot's own table, as `Service.Operation`. */
export class CallLog {
  readonly calls: string[] = [];
  /** Calls that changed something: counted by the write gate, the only place writes are sent. */
  writes = 0;

  record(call: string): void {
    this.calls.push(call);
  }
}

const current = new AsyncLocalStorage<CallLog>();

/** Runs `work` with a fresh call log that every client made by the client factory writes to. */
export async function withCallLog<T>(work: (log: CallLog) => Promise<T>): Promise<T> {
  const log = new CallLog();
  return current.run(log, () => work(log));
}

export function currentCallLog(): CallLog | undefined {
  return current.getStore();
}
