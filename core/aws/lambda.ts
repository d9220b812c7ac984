import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { EventResult } from '../engine/results.ts';
import { parseStrictJson } from '../intake/safe-json.ts';
import { describeError, NotificationFailedError, RemediationFailedError, ResourceBusyError } from '../model/index.ts';

export interface HandlerLog {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

function isSqsEvent(event: unknown): event is SQSEvent {
  const records = (event as { Records?: unknown })?.Records;
  return Array.isArray(records) && records.length > 0 && records.every((record) => (record as { eventSource?: unknown }).eventSource === 'aws:sqs');
}

/**
 * Whether another delivery should try again: a failure a retry can settle, or a record Slack did
 * not get. The engine says on every failure whether a retry can help (`retryable`); a failure that
 * does not say (from code outside it) is retried, the safe side: the queue gives up after its
 * receive count, into the dead-letter queue.
 */
export function needsRetry(result: EventResult): boolean {
  return (result.outcome === 'failed' && result.retryable !== false && !result.duplicate) || result.notification === 'failed';
}

/** Logs an outcome at the level it deserves. */
export function logResult(log: HandlerLog, result: EventResult): void {
  if (result.outcome === 'rejected') log.warn(`rejected event: ${result.reason}`, { result });
  else if (result.outcome === 'failed') log.error(`failed: ${result.reason}`, { result });
  else log.info(`${result.outcome}: ${result.reason}`, { result });
}

/**
 * Events arrive through the function's SQS queue (one at a time), or directly (a test, a manual
 * invoke). From the queue, an event that needs another try is reported as a batch item failure:
 * SQS delivers it again after the visibility timeout, and after the last try it goes to the
 * dead-letter queue. A direct invocation throws instead, for Lambda's own retries.
 */
export async function processLambdaEvent(
  event: unknown,
  handle: (raw: unknown) => Promise<EventResult>,
  log: HandlerLog,
): Promise<SQSBatchResponse | EventResult> {
  if (!isSqsEvent(event)) {
    const result = await handle(event);
    logResult(log, result);
    throwIfRetry(result);
    return result;
  }
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    let raw: unknown;
    try {
      // The queue hands over the text: duplicate keys and oversized events are caught here too.
      raw = parseStrictJson(record.body);
    } catch (error) {
      logResult(log, { outcome: 'rejected', reason: describeError(error), calls: [], writes: 0 });
      continue;
    }
    try {
      const result = await handle(raw);
      logResult(log, result);
      if (needsRetry(result)) batchItemFailures.push({ itemIdentifier: record.messageId });
    } catch (error) {
      log.error(`could not handle the event: ${describeError(error)}`, { messageId: record.messageId });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}

function throwIfRetry(result: EventResult): void {
  if (!needsRetry(result)) return;
  const where = `${result.rule ?? 'driftfix'}${result.recordId ? ` (record ${result.recordId})` : ''}`;
  if (result.notification === 'failed' && result.outcome !== 'failed') {
    throw new NotificationFailedError(`${where}: ${result.outcome}, but Slack did not get the record`);
  }
  if (/being changed by another invocation|is being completed by another/.test(result.reason)) throw new ResourceBusyError(`${where}: ${result.reason}`);
  throw new RemediationFailedError(`${where}: ${result.reason}`);
}

export type LambdaContext = Pick<Context, 'invokedFunctionArn' | 'awsRequestId'> & Partial<Pick<Context, 'getRemainingTimeInMillis' | 'functionName'>>;

/** The account a function runs in, from its own ARN (no STS call). */
export function accountOf(context: LambdaContext): string {
  return context.invokedFunctionArn.split(':')[4] ?? '';
}
