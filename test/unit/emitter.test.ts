import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { announcerFor } from '../../core/aws/announcers.ts';
import { ClientFactory } from '../../core/aws/clients.ts';
import { EventBridgeSink, HubAnnouncer, partitionOf } from '../../core/aws/emitter.ts';
import { DETAIL_TYPE, EVENT_SOURCE, type PendingApproval } from '../../core/model/index.ts';

const HUB = '111122223333';
const MEMBER = '444455556666';
const client = new EventBridgeClient({ region: 'us-east-1' });
const events = mockClient(client);
beforeEach(() => {
  events.reset();
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
});

function approval(account: string, region = 'us-east-1'): PendingApproval {
  return { approvalId: 'apr-00000000-0000-4000-8000-000000000001', ruleId: 'example-rule', finding: { account, region } } as unknown as PendingApproval;
}
const entries = () => events.commandCalls(PutEventsCommand).flatMap((call) => call.args[0].input.Entries ?? []);

describe('EventBridgeSink: where a decision goes', () => {
  it('a single stack sends approvals to its own bus and serves only its own account', async () => {
    const sink = new EventBridgeSink(async () => client, 'default');
    sink.ownAccount = HUB;
    expect(sink.isRemote(approval(HUB))).toBe(false);
    expect(sink.serves(approval(HUB))).toBe(true);
    expect(sink.serves(approval(MEMBER))).toBe(false);
    await sink.deliver(approval(HUB), { decision: 'approve', by: 'U0APPROVER1' });
    expect(entries()).toEqual([
      { EventBusName: 'default', Source: EVENT_SOURCE.approvals, DetailType: DETAIL_TYPE.remediationApproved, Detail: JSON.stringify({ approvalId: approval(HUB).approvalId, ruleId: 'example-rule' }) },
    ]);
  });

  it('a hub sends every decision on a member’s approval to that member’s driftfix bus, in the member’s partition', async () => {
    const sink = new EventBridgeSink(async () => client, 'default', 'driftfix');
    sink.ownAccount = HUB;
    expect(sink.serves(approval(MEMBER))).toBe(true);
    expect(sink.isRemote(approval(MEMBER, 'us-gov-west-1'))).toBe(true);
    await sink.deliver(approval(MEMBER, 'us-gov-west-1'), { decision: 'exempt', by: 'U0APPROVER1', days: 7, reason: 'migration' });
    const [entry] = entries();
    expect(entry?.EventBusName).toBe(`arn:aws-us-gov:events:us-gov-west-1:${MEMBER}:event-bus/driftfix`);
    expect(entry?.Source).toBe(EVENT_SOURCE.hub);
    expect(entry?.DetailType).toBe(DETAIL_TYPE.decision);
    expect(JSON.parse(entry?.Detail ?? '{}')).toEqual({ approvalId: approval(MEMBER).approvalId, ruleId: 'example-rule', decision: 'exempt', by: 'U0APPROVER1', days: 7, reason: 'migration' });
  });

  it('a hub puts a decision through a client in the member’s region (one hub serves every region)', async () => {
    const asked: Array<string | undefined> = [];
    const sink = new EventBridgeSink(async (region) => {
      asked.push(region);
      return client;
    }, 'default', 'driftfix');
    sink.ownAccount = HUB;
    await sink.deliver(approval(MEMBER, 'eu-west-1'), { decision: 'approve', by: 'U0APPROVER1' });
    await sink.deliver(approval(HUB), { decision: 'approve', by: 'U0APPROVER1' });
    expect(asked).toEqual(['eu-west-1', undefined]);
  });

  it('a hub’s own account is not remote: its approvals go to its own bus', async () => {
    const sink = new EventBridgeSink(async () => client, 'default', 'driftfix');
    sink.ownAccount = HUB;
    await sink.deliver(approval(HUB), { decision: 'approve', by: 'U0APPROVER1' });
    expect(entries()[0]?.EventBusName).toBe('default');
  });

  it('the hub account’s stacks in other regions are members: their decisions go to their region’s driftfix bus', async () => {
    const sink = new EventBridgeSink(async () => client, 'default', 'driftfix');
    sink.ownAccount = HUB;
    sink.ownRegion = 'us-east-1';
    expect(sink.isRemote(approval(HUB, 'eu-west-1'))).toBe(true);
    await sink.deliver(approval(HUB, 'eu-west-1'), { decision: 'reject', by: 'U0APPROVER1' });
    expect(entries()[0]?.EventBusName).toBe(`arn:aws:events:eu-west-1:${HUB}:event-bus/driftfix`);
  });

  it('a single stack serves its own account and region only', () => {
    const sink = new EventBridgeSink(async () => client, 'default');
    sink.ownAccount = HUB;
    sink.ownRegion = 'us-east-1';
    expect(sink.serves(approval(HUB))).toBe(true);
    expect(sink.serves(approval(HUB, 'eu-west-1'))).toBe(false);
  });

  it('a refused entry is an error (PutEvents answers 200 with FailedEntryCount)', async () => {
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'AccessDeniedException', ErrorMessage: 'not authorized' }] });
    const sink = new EventBridgeSink(async () => client, 'default');
    await expect(sink.deliver(approval(HUB), { decision: 'approve', by: 'U0APPROVER1' })).rejects.toThrow('AccessDeniedException not authorized');
  });

  it('knows the partitions', () => {
    expect([partitionOf('eu-west-1'), partitionOf('cn-north-1'), partitionOf('us-gov-east-1')]).toEqual(['aws', 'aws-cn', 'aws-us-gov']);
  });
});

describe('HubAnnouncer: a member’s record to the hub’s bus', () => {
  it('a member in another region than its hub sends through a client in the hub’s region', async () => {
    const factory = new ClientFactory({ region: 'ap-southeast-2' });
    const announcer = announcerFor({ env: { HUB_EVENT_BUS_ARN: `arn:aws:events:eu-west-1:${HUB}:event-bus/driftfix-prod-bus` }, factory });
    expect(announcer?.kind).toBe('hub');
    const made = await (announcer as unknown as { client: () => Promise<EventBridgeClient> }).client();
    expect(await made.config.region()).toBe('eu-west-1');
  });

  const record = (size: number) => ({
    recordId: 'rec-000000000000000000000001',
    before: { summary: 'before', state: { blob: 'x'.repeat(size) } },
    after: { summary: 'after', state: { blob: 'y'.repeat(size) } },
    steps: [{ operation: 'S3.PutX', input: { big: 'z'.repeat(size) }, description: 'put x', before: {}, after: {}, undo: null }],
  });

  it('sends the record as is when it fits', async () => {
    const announcer = new HubAnnouncer(async () => client, `arn:aws:events:us-east-1:${HUB}:event-bus/driftfix-hub`);
    const sent = await announcer.announce({ record: record(10), ruleTitle: 'Example', risk: 'low' } as never, { lookFirst: false });
    expect(sent).toEqual({ status: 'sent', attempts: 1 });
    const [entry] = entries();
    expect(entry?.EventBusName).toBe(`arn:aws:events:us-east-1:${HUB}:event-bus/driftfix-hub`);
    expect(JSON.parse(entry?.Detail ?? '{}').record.steps[0].input.big).toHaveLength(10);
  });

  it('leaves states and step inputs out when the record would pass EventBridge’s entry limit, keeping the summaries', async () => {
    const announcer = new HubAnnouncer(async () => client, `arn:aws:events:us-east-1:${HUB}:event-bus/driftfix-hub`);
    const big = record(90_000);
    await announcer.announce({ record: big, approval: { approvalId: 'apr-1', steps: big.steps, finding: {} }, ruleTitle: 'Example', risk: 'low' } as never, { lookFirst: true });
    const detail = JSON.parse(entries()[0]?.Detail ?? '{}');
    expect(Buffer.byteLength(entries()[0]?.Detail ?? '')).toBeLessThan(256 * 1024);
    expect(detail.record.before).toEqual({ summary: 'before', state: null });
    expect(detail.record.steps[0]).toMatchObject({ operation: 'S3.PutX', description: 'put x', input: {} });
    expect(detail.approval.steps[0]).toMatchObject({ operation: 'S3.PutX', description: 'put x', input: {} });
    expect(detail.lookFirst).toBe(true);
  });
});
