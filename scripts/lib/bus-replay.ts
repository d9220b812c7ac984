import type { EventBridgeClient, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { EVENT_SOURCE } from '../../core/model/constants.ts';

/** PutEvents takes at most 10 entries and 256 KB per call. */
const MAX_ENTRIES = 10;
const MAX_BATCH_BYTES = 256 * 1024;

export interface BusLine {
  file: string;
  outcome: 'sent' | 'failed' | 'rejected';
  eventId?: string;
  reason: string;
}

export interface Retarget {
  account: string;
  region: string;
}

/**
 * The PutEvents entry that re-sends an event as EventBridge delivered it. Sources starting with
 * `aws.` are refused by PutEvents, so they become the bot's replay source; detail-type and detail
 * stay. With `retarget`, the sample's account id and region are rewritten to the bus's own.
 */
export function toBusEntry(event: unknown, bus: string, retarget?: Retarget): PutEventsRequestEntry {
  if (!event || typeof event !== 'object' || Array.isArray(event)) throw new Error('not an EventBridge event');
  const record = event as Record<string, unknown>;
  const source = record.source;
  const detailType = record['detail-type'];
  if (typeof source !== 'string' || typeof detailType !== 'string') throw new Error('the event has no source or detail-type');
  if (!record.detail || typeof record.detail !== 'object') throw new Error('the event has no detail');
  let detail = JSON.stringify(record.detail);
  let resources = Array.isArray(record.resources) ? record.resources.map(String) : [];
  if (retarget && typeof record.account === 'string' && typeof record.region === 'string') {
    const swap = (text: string) => text.replaceAll(record.account as string, retarget.account).replaceAll(record.region as string, retarget.region);
    detail = swap(detail);
    resources = resources.map(swap);
  }
  const time = typeof record.time === 'string' ? new Date(record.time) : undefined;
  return {
    EventBusName: bus,
    Source: source.startsWith('aws.') ? EVENT_SOURCE.replay : source,
    DetailType: detailType,
    Detail: detail,
    Resources: resources,
    ...(time && !Number.isNaN(time.getTime()) ? { Time: time } : {}),
  };
}

/** Sends entries in PutEvents batches and reports each one: a failed entry names its error. */
export async function putInBatches(client: EventBridgeClient, entries: Array<{ file: string; entry: PutEventsRequestEntry }>): Promise<BusLine[]> {
  const lines: BusLine[] = [];
  let batch: typeof entries = [];
  let bytes = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const current = batch;
    batch = [];
    bytes = 0;
    try {
      const { PutEventsCommand } = await import('@aws-sdk/client-eventbridge');
      const output = await client.send(new PutEventsCommand({ Entries: current.map((item) => item.entry) }));
      current.forEach((item, index) => {
        const result = output.Entries?.[index];
        if (result?.EventId && !result.ErrorCode) {
          lines.push({ file: item.file, outcome: 'sent', eventId: result.EventId, reason: `sent to ${item.entry.EventBusName} as ${item.entry.Source}` });
        } else {
          lines.push({ file: item.file, outcome: 'failed', reason: `${result?.ErrorCode ?? 'unknown error'}: ${result?.ErrorMessage ?? 'EventBridge did not accept the entry'}` });
        }
      });
    } catch (error) {
      for (const item of current) lines.push({ file: item.file, outcome: 'failed', reason: (error as Error).message });
    }
  };
  for (const item of entries) {
    const size = Buffer.byteLength(JSON.stringify(item.entry), 'utf8');
    if (batch.length === MAX_ENTRIES || bytes + size > MAX_BATCH_BYTES) await flush();
    batch.push(item);
    bytes += size;
  }
  await flush();
  return lines;
}
