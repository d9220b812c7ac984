import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { putInBatches, toBusEntry } from '../../scripts/lib/bus-replay.ts';
import { loadSample } from '../support/events.ts';

const eventBridge = mockClient(EventBridgeClient);
afterEach(() => eventBridge.reset());

describe('replaying through a deployed bus', () => {
  it('turns aws.* sources into the replay source and keeps detail-type, detail and resources', () => {
    const event = loadSample('access-analyzer/s3-bucket-public.json');
    const entry = toBusEntry(event, 'driftfix-bus');
    expect(entry).toMatchObject({ EventBusName: 'driftfix-bus', Source: 'driftfix.replay', DetailType: 'Access Analyzer Finding', Resources: event.resources });
    expect(JSON.parse(entry.Detail ?? '')).toEqual(event.detail);
  });

  it('with --retarget, re-addresses the sample to the bus’s account and region', () => {
    const entry = toBusEntry(loadSample('config/s3-bucket-server-side-encryption-enabled.json'), 'b', { account: '444455556666', region: 'eu-west-1' });
    const detail = JSON.parse(entry.Detail ?? '');
    expect(detail.awsAccountId).toBe('444455556666');
    expect(detail.awsRegion).toBe('eu-west-1');
    expect(entry.Detail).not.toContain('111122223333');
  });

  it('refuses what is not an EventBridge event', () => {
    expect(() => toBusEntry([], 'b')).toThrow('not an EventBridge event');
    expect(() => toBusEntry({ source: 'aws.config' }, 'b')).toThrow('no source or detail-type');
  });

  it('sends at most 10 entries per PutEvents call and reports each failed entry with its error', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
      FailedEntryCount: 1,
      Entries: input.Entries.map((_, index) => (index === 0 ? { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' } : { EventId: `id-${index}` })),
    }));
    const entry = toBusEntry(loadSample('config/s3-bucket-server-side-encryption-enabled.json'), 'b');
    const lines = await putInBatches(new EventBridgeClient({ region: 'us-east-1' }), Array.from({ length: 25 }, (_, i) => ({ file: `f${i}.json`, entry })));
    expect(eventBridge.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries?.length)).toEqual([10, 10, 5]);
    expect(lines).toHaveLength(25);
    expect(lines.filter((line) => line.outcome === 'failed').map((line) => line.file)).toEqual(['f0.json', 'f10.json', 'f20.json']);
    expect(lines.find((line) => line.file === 'f0.json')?.reason).toBe('ThrottlingException: Rate exceeded');
  });

  it('a PutEvents call that fails outright marks its whole batch failed', async () => {
    eventBridge.on(PutEventsCommand).rejects(new Error('AccessDeniedException: not allowed'));
    const entry = toBusEntry(loadSample('config/s3-bucket-server-side-encryption-enabled.json'), 'b');
    const lines = await putInBatches(new EventBridgeClient({ region: 'us-east-1' }), [{ file: 'a.json', entry }, { file: 'b.json', entry }]);
    expect(lines.map((line) => line.outcome)).toEqual(['failed', 'failed']);
  });
});
