import { AsyncLocalStorage } from 'node:async_hooks';
import { isWriteOperation } from './write-operations.ts';

/** The AWS calls one event caused on the account's resources, as `Service.Operation`. */
export class CallLog {
  readonly calls: string[] = [];
  writes = 0;

  record(call: string, succeeded: boolean): void {
    this.calls.push(call);
    if (succeeded && isWriteOperation(call)) this.writes += 1;
  }
}

const current = new AsyncLocalStorage<CallLog>();

/** Runs `work` with a fresh call log that every client created by aws-clients.ts writes to. */
export async function withCallLog<T>(work: (log: CallLog) => Promise<T>): Promise<T> {
  const log = new CallLog();
  return current.run(log, () => work(log));
}

export function currentCallLog(): CallLog | undefined {
  return current.getStore();
}
