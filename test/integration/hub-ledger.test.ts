import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoLedger, ensureTable } from '../../core/aws/ledger.ts';
import type { Ledger } from '../../core/engine/ports.ts';
import type { ChangeRecord, PendingApproval } from '../../core/model/index.ts';
import { REGION } from '../support/events.ts';
import { motoEndpoint, uniqueName } from '../support/local-aws.ts';
import { MemoryLedger } from '../support/memory-ledger.ts';

const MEMBER = '444455556666';
const OTHER = '777788889999';
const AT = '2026-11-20T10:00:00.000Z';

async function dynamo(): Promise<Ledger> {
  const client = new DynamoDBClient({ region: REGION, endpoint: motoEndpoint() });
  const table = uniqueName('driftfix-hub');
  await ensureTable(client, table);
  return new DynamoLedger(client, table);
}

function record(account: string, extra: Partial<ChangeRecord> = {}): ChangeRecord {
  return {
    recordId: 'rec-000000000000000000000001',
    status: 'final',
    eventId: 'e-1',
    ruleId: 'fake-widget',
    resource: 'AWS::Fake::Widget/w1',
    account,
    region: 'us-east-1',
    mode: 'approve',
    outcome: 'pending-approval',
    reason: 'approve mode',
    trigger: { kind: 'config-rule', configRuleName: 'x', complianceType: 'NON_COMPLIANT' },
    steps: [],
    calls: [],
    writes: 0,
    createdAt: AT,
    updatedAt: AT,
    approvalId: 'apr-00000000-0000-4000-8000-000000000001',
    ...extra,
  } as ChangeRecord;
}

function approval(account: string, extra: Partial<PendingApproval> = {}): PendingApproval {
  return {
    approvalId: 'apr-00000000-0000-4000-8000-000000000001',
    status: 'pending',
    recordId: 'rec-000000000000000000000001',
    eventId: 'e-1',
    ruleId: 'fake-widget',
    ruleTitle: 'Fake',
    resource: 'AWS::Fake::Widget/w1',
    finding: { eventId: 'e-1', reporter: 'config', replayed: false, account, region: 'us-east-1', time: AT, resourceType: 'AWS::Fake::Widget', resourceId: 'w1', trigger: { kind: 'config-rule', configRuleName: 'x', complianceType: 'NON_COMPLIANT' } },
    steps: [],
    reason: 'approve mode',
    risk: 'low',
    createdAt: AT,
    expiresAt: '2026-11-21T10:00:00.000Z',
    ...extra,
  };
}

describe.each([
  ['DynamoDB (moto)', dynamo],
  ['in memory', async () => new MemoryLedger() as Ledger],
])('the hub keeps each member’s items as its own: %s', (_name, make) => {
  it('mirrors a member’s record and approval, and its later reports of them', async () => {
    const ledger = await make();
    expect(await ledger.mirror(record(MEMBER), approval(MEMBER))).toBe(true);
    expect(await ledger.mirror(record(MEMBER, { outcome: 'remediated' }), approval(MEMBER, { status: 'applied' }))).toBe(true);
    expect(await ledger.getRecord('rec-000000000000000000000001')).toMatchObject({ account: MEMBER, outcome: 'remediated' });
    expect((await ledger.getApproval('apr-00000000-0000-4000-8000-000000000001'))?.status).toBe('applied');
  });

  it('refuses, as one, another account’s write over a member’s record or approval', async () => {
    const ledger = await make();
    await ledger.mirror(record(MEMBER), approval(MEMBER));
    expect(await ledger.mirror(record(OTHER, { recordId: 'rec-000000000000000000000002' }), approval(OTHER, { status: 'rejected', recordId: 'rec-000000000000000000000002' }))).toBe(false);
    expect(await ledger.mirror(record(OTHER, { outcome: 'remediated' }))).toBe(false);
    expect(await ledger.getRecord('rec-000000000000000000000002')).toBeUndefined();
    expect(await ledger.getRecord('rec-000000000000000000000001')).toMatchObject({ account: MEMBER, outcome: 'pending-approval' });
    expect(await ledger.getApproval('apr-00000000-0000-4000-8000-000000000001')).toMatchObject({ status: 'pending', finding: { account: MEMBER } });
  });

  it('refuses the same account’s stack in another region: each stack writes its own items only', async () => {
    const ledger = await make();
    await ledger.mirror(record(MEMBER), approval(MEMBER));
    const elsewhere = <T extends { region: string }>(value: T): T => ({ ...value, region: 'eu-west-1' });
    const moved = approval(MEMBER);
    expect(await ledger.mirror(record(MEMBER, { region: 'eu-west-1', outcome: 'remediated' }), { ...moved, finding: elsewhere(moved.finding), status: 'applied' })).toBe(false);
    expect(await ledger.mirror(record(MEMBER, { region: 'eu-west-1', outcome: 'remediated' }))).toBe(false);
    expect(await ledger.getRecord('rec-000000000000000000000001')).toMatchObject({ region: 'us-east-1', outcome: 'pending-approval' });
    expect(await ledger.getApproval('apr-00000000-0000-4000-8000-000000000001')).toMatchObject({ status: 'pending', finding: { region: 'us-east-1' } });
    // Its own stack's later report is taken.
    expect(await ledger.mirror(record(MEMBER, { outcome: 'remediated' }))).toBe(true);
  });
});
