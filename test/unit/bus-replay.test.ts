import { readdirSync } from 'node:fs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { EVENT_SOURCE } from '../../core/model/index.ts';
import { putInBatches, toBusEntry } from '../../scripts/lib/bus-replay.ts';
import { ACCOUNT, EVENTS_DIR, loadSample, OTHER_ACCOUNT, REGION } from '../support/events.ts';

const eventBridge = mockClient(EventBridgeClient);
afterEach(() => eventBridge.reset());

type Json = Record<string, any>;

/** The first sample in events/ (in name order) that `accept` takes: found by content, whatever the files are called. */
function sampleWhere(accept: (event: Json) => boolean): Json {
  const files = (readdirSync(EVENTS_DIR, { recursive: true }) as string[]).filter((file) => file.endsWith('.json')).sort();
  for (const file of files) {
    const event = loadSample(file);
    if (accept(event)) return event;
  }
  throw new Error('no such sample in events/');
}

const analyzerFinding = () => sampleWhere((event) => event.source === 'aws.access-analyzer' && event['detail-type'] === 'Access Analyzer Finding' && event.resources?.length > 0);
const configChange = () => sampleWhere((event) => event.source === 'aws.config' && event.account === ACCOUNT && JSON.stringify(event.detail).includes(REGION));
const client = () => new EventBridgeClient({ region: REGION });

describe('replaying through a deployed bus: the PutEvents entry', () => {
  it('turns an aws.* source into the replay source and keeps detail-type, detail, resources and time', () => {
    const event = analyzerFinding();
    const entry = toBusEntry(event, 'driftfix-bus');
    expect(entry).toMatchObject({ EventBusName: 'driftfix-bus', Source: EVENT_SOURCE.replay, DetailType: event['detail-type'], Resources: event.resources });
    expect(JSON.parse(entry.Detail ?? '')).toEqual(event.detail);
    expect(entry.Time?.toISOString()).toBe(new Date(event.time).toISOString());
  });

  it('keeps a source that is not AWS’s, such as an approval', () => {
    const entry = toBusEntry({ source: EVENT_SOURCE.approvals, 'detail-type': 'Remediation Approved', detail: { approvalId: 'a-1' } }, 'b');
    expect(entry.Source).toBe(EVENT_SOURCE.approvals);
    expect(entry.Resources).toEqual([]);
    expect(entry).not.toHaveProperty('Time');
  });

  it('leaves out a time that is not a date', () => {
    expect(toBusEntry({ ...analyzerFinding(), time: 'yesterday' }, 'b')).not.toHaveProperty('Time');
  });

  it('with --retarget, re-addresses the sample to the bus’s account and region', () => {
    const event = configChange();
    const entry = toBusEntry(event, 'b', { account: OTHER_ACCOUNT, region: 'eu-west-1' });
    const detail = JSON.parse(entry.Detail ?? '');
    expect(detail.awsAccountId).toBe(OTHER_ACCOUNT);
    expect(detail.awsRegion).toBe('eu-west-1');
    expect(entry.Detail).not.toContain(ACCOUNT);
    expect(entry.Detail).not.toContain(REGION);
    for (const resource of entry.Resources ?? []) expect(resource).not.toContain(ACCOUNT);
  });

  it('without --retarget, the sample’s account and region stay', () => {
    expect(toBusEntry(configChange(), 'b').Detail).toContain(ACCOUNT);
  });

  it.each([
    ['an array', [], 'not an EventBridge event'],
    ['null', null, 'not an EventBridge event'],
    ['an event without detail-type', { source: 'aws.config', detail: {} }, 'no source or detail-type'],
    ['an event without source', { 'detail-type': 'x', detail: {} }, 'no source or detail-type'],
    ['an event without detail', { source: 'aws.config', 'detail-type': 'x' }, 'no detail'],
  ])('refuses %s', (_case, value, message) => {
    expect(() => toBusEntry(value, 'b')).toThrow(message);
  });
});

describe('replaying through a deployed bus: the PutEvents calls', () => {
  it('sends at most 10 entries per call and reports each failed entry with its error', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
      FailedEntryCount: 1,
      Entries: input.Entries.map((_, index) => (index === 0 ? { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' } : { EventId: `id-${index}` })),
    }));
    const entry = toBusEntry(configChange(), 'b');
    const lines = await putInBatches(
      client(),
      Array.from({ length: 25 }, (_, i) => ({ file: `f${i}.json`, entry })),
    );
    expect(eventBridge.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries?.length)).toEqual([10, 10, 5]);
    expect(lines.map((line) => line.file)).toEqual(Array.from({ length: 25 }, (_, i) => `f${i}.json`));
    expect(lines.filter((line) => line.outcome === 'failed').map((line) => line.file)).toEqual(['f0.json', 'f10.json', 'f20.json']);
    expect(lines.find((line) => line.file === 'f0.json')?.reason).toBe('ThrottlingException: Rate exceeded');
    expect(lines.find((line) => line.file === 'f1.json')).toMatchObject({ outcome: 'sent', eventId: 'id-1' });
  });

  it('keeps each call under 256 KB', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({ FailedEntryCount: 0, Entries: input.Entries.map((_, index) => ({ EventId: `id-${index}` })) }));
    const entry = toBusEntry({ source: 'aws.config', 'detail-type': 'x', detail: { padding: 'x'.repeat(100 * 1024) } }, 'b');
    const lines = await putInBatches(
      client(),
      Array.from({ length: 5 }, (_, i) => ({ file: `f${i}.json`, entry })),
    );
    const sizes = eventBridge.commandCalls(PutEventsCommand).map((call) => Buffer.byteLength(JSON.stringify(call.args[0].input.Entries), 'utf8'));
    expect(sizes).toHaveLength(3);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(256 * 1024);
    expect(lines.every((line) => line.outcome === 'sent')).toBe(true);
  });

  it('a PutEvents call that fails outright marks its whole batch failed', async () => {
    eventBridge.on(PutEventsCommand).rejects(new Error('AccessDeniedException: not allowed'));
    const entry = toBusEntry(configChange(), 'b');
    const lines = await putInBatches(client(), [
      { file: 'a.json', entry },
      { file: 'b.json', entry },
    ]);
    expect(lines.map((line) => [line.outcome, line.reason])).toEqual([
      ['failed', 'AccessDeniedException: not allowed'],
      ['failed', 'AccessDeniedException: not allowed'],
    ]);
  });

  it('an entry EventBridge answers without an event id is failed, not sent', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{}] });
    const lines = await putInBatches(client(), [{ file: 'a.json', entry: toBusEntry(configChange(), 'b') }]);
    expect(lines).toEqual([{ file: 'a.json', outcome: 'failed', reason: 'unknown error: EventBridge did not accept the entry' }]);
  });
});
