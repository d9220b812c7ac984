import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoLedger, ensureTable } from '../../core/aws/ledger.ts';
import type { Ledger } from '../../core/engine/ports.ts';
import { type ChangeRecord, guardKeys, type PendingApproval } from '../../core/model/index.ts';
import { REGION } from '../support/events.ts';
import { motoEndpoint, uniqueName } from '../support/local-aws.ts';
import { MemoryLedger } from '../support/memory-ledger.ts';

/**
 * The ledger's contract, checked against DynamoDB (moto) and against the in-memory ledger the unit
 * tests use, so that the two cannot drift apart.
 */
async function dynamo(): Promise<Ledger> {
  const client = new DynamoDBClient({ region: REGION, endpoint: motoEndpoint() });
  const table = uniqueName('driftfix-contract');
  await ensureTable(client, table);
  return new DynamoLedger(client, table);
}

const NOW = Date.parse('2026-11-20T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

function record(recordId: string, extra: Partial<ChangeRecord> = {}): ChangeRecord {
  return {
    recordId,
    status: 'final',
    eventId: 'e-1',
    ruleId: 'fake-widget',
    resource: 'AWS::Fake::Widget/w1',
    account: '111122223333',
    region: 'us-east-1',
    mode: 'auto',
    outcome: 'compliant',
    reason: 'ok',
    trigger: { kind: 'config-rule', configRuleName: 'fake-widget-safe', complianceType: 'NON_COMPLIANT' },
    replayed: false,
    steps: [],
    calls: [],
    writes: 0,
    createdAt: iso(NOW),
    updatedAt: iso(NOW),
    ...extra,
  };
}

function approval(approvalId: string, extra: Partial<PendingApproval> = {}): PendingApproval {
  return {
    approvalId,
    status: 'pending',
    recordId: 'rec-a',
    eventId: 'e-1',
    ruleId: 'fake-widget',
    ruleTitle: 'Fake',
    resource: 'AWS::Fake::Widget/w1',
    finding: { eventId: 'e-1', reporter: 'config', replayed: false, account: '111122223333', region: 'us-east-1', time: iso(NOW), resourceType: 'AWS::Fake::Widget', resourceId: 'w1', trigger: { kind: 'config-rule', configRuleName: 'x', complianceType: 'NON_COMPLIANT' } },
    steps: [],
    reason: 'approve mode',
    risk: 'low',
    createdAt: iso(NOW),
    expiresAt: iso(NOW + 3_600_000),
    ...extra,
  };
}

const guards = { keys: ['fake-widget#AWS::Fake::Widget/w1'] };

describe.each([
  ['DynamoDB (moto)', dynamo],
  ['in memory', async () => new MemoryLedger() as Ledger],
])('the ledger contract: %s', (_name, make) => {
  it('settles a record once; a failed one may be written over, one for a person may not', async () => {
    const ledger = await make();
    expect(await ledger.settle(record('rec-1'))).toEqual({ ok: true });
    const again = await ledger.settle(record('rec-1', { reason: 'again' }));
    expect(again.ok).toBe(false);
    if (!again.ok) expect(again.conflict.record?.reason).toBe('ok');
    await ledger.settle(record('rec-2', { outcome: 'failed' }));
    expect(await ledger.settle(record('rec-2'))).toEqual({ ok: true });
    await ledger.settle(record('rec-3', { outcome: 'failed', needsPerson: true }));
    expect((await ledger.settle(record('rec-3'))).ok).toBe(false);
  });

  it('claims a resource once; a live claim, an unfinished intent and a change since the read each refuse, saying which', async () => {
    const ledger = await make();
    const intent = (id: string) => record(id, { status: 'in-progress', outcome: 'failed' });
    const claim = (id: string, owner: string, now: number, readSince = now) =>
      ledger.claim({ record: intent(id), lockKey: 'AWS::Fake::Widget/w1', owner, leaseUntil: now + 50_000, now, readSince, guards });
    expect(await claim('rec-a', 'o1', NOW)).toEqual({ ok: true });
    const live = await claim('rec-b', 'o2', NOW + 1_000);
    expect(live.ok).toBe(false);
    if (!live.ok) expect(live.conflict.lock).toMatchObject({ owner: 'o1', intent: 'rec-a' });
    const sameEvent = await claim('rec-a', 'o3', NOW + 1_000);
    if (!sameEvent.ok) expect(sameEvent.conflict.record?.status).toBe('in-progress');
    expect(sameEvent.ok).toBe(false);
    const runOut = await claim('rec-b', 'o2', NOW + 60_000);
    expect(runOut.ok).toBe(false);
    if (!runOut.ok) expect(runOut.conflict.lock?.intent).toBe('rec-a');

    expect(await ledger.finalize({ record: record('rec-a', { outcome: 'remediated' }), lockKey: 'AWS::Fake::Widget/w1', owner: 'o9', now: NOW + 2_000, changed: true })).toBe(false);
    expect(await ledger.finalize({ record: record('rec-a', { outcome: 'remediated' }), lockKey: 'AWS::Fake::Widget/w1', owner: 'o1', now: NOW + 2_000, changed: true })).toBe(true);
    expect((await ledger.getRecord('rec-a'))?.status).toBe('final');
    const stale = await claim('rec-b', 'o2', NOW + 3_000, NOW + 1_500);
    expect(stale.ok).toBe(false);
    if (!stale.ok) expect(stale.conflict.lock?.settledAt).toBe(NOW + 2_000);
    expect(await claim('rec-b', 'o2', NOW + 3_000, NOW + 2_500)).toEqual({ ok: true });
  });

  it('a failed record that was posted is written over only by a version carrying its message, and returned to one that does not', async () => {
    const ledger = await make();
    const message = { status: 'posted' as const, attempts: 1, channel: 'C1', ts: '1.5' };
    await ledger.settle(record('rec-m', { outcome: 'failed', notification: message }));
    const plain = await ledger.settle(record('rec-m'));
    expect(plain.ok).toBe(false);
    if (!plain.ok) expect(plain.conflict.record?.notification).toEqual(message);
    const intent = (notification?: typeof message) => record('rec-m', { status: 'in-progress', outcome: 'failed', ...(notification ? { notification } : {}) });
    const claim = (notification?: typeof message) => ledger.claim({ record: intent(notification), lockKey: 'AWS::Fake::Widget/m', owner: 'o', leaseUntil: NOW + 50_000, now: NOW, readSince: NOW, guards });
    const refused = await claim();
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.conflict).toEqual({ record: expect.objectContaining({ notification: message }) });
    const asked = await ledger.requestApproval({ record: record('rec-m', { outcome: 'pending-approval' }), approval: approval('apr-m'), openKey: 'k-m', now: NOW, guards });
    expect(asked.ok).toBe(false);
    expect(await claim({ ...message, ts: '9.9' })).toMatchObject({ ok: false });
    expect(await claim(message)).toEqual({ ok: true });
    expect((await ledger.getRecord('rec-m'))?.status).toBe('in-progress');
    // A failed record never posted is written over as before.
    await ledger.settle(record('rec-n', { outcome: 'failed', notification: { status: 'pending', attempts: 1 } }));
    expect(await ledger.settle(record('rec-n'))).toEqual({ ok: true });
  });

  it('a takeover moves the intent\'s own claim with the lock, so the record names the live lease', async () => {
    const ledger = await make();
    const intent = record('rec-o', { status: 'in-progress', outcome: 'failed', claim: { owner: 'dead', leaseUntil: NOW + 50_000, lockKey: 'AWS::Fake::Widget/o' } });
    await ledger.claim({ record: intent, lockKey: 'AWS::Fake::Widget/o', owner: 'dead', leaseUntil: NOW + 50_000, now: NOW, readSince: NOW, guards });
    expect(await ledger.takeOver({ lockKey: 'AWS::Fake::Widget/o', recordId: 'rec-o', owner: 'me', leaseUntil: NOW + 110_000, now: NOW + 60_000 })).toBe(true);
    expect((await ledger.getRecord('rec-o'))?.claim).toEqual({ owner: 'me', leaseUntil: NOW + 110_000, lockKey: 'AWS::Fake::Widget/o' });
    expect(await ledger.takeOver({ lockKey: 'AWS::Fake::Widget/o', recordId: 'rec-o', owner: 'third', leaseUntil: NOW + 120_000, now: NOW + 70_000 })).toBe(false);
    expect((await ledger.getRecord('rec-o'))?.claim?.owner).toBe('me');
  });

  it('finalizes a dead invocation\'s intent by taking over its run-out claim, and only then', async () => {
    const ledger = await make();
    const intent = record('rec-d', { status: 'in-progress', outcome: 'failed' });
    await ledger.claim({ record: intent, lockKey: 'AWS::Fake::Widget/w1', owner: 'dead', leaseUntil: NOW + 50_000, now: NOW, readSince: NOW, guards });
    const finished = record('rec-d', { outcome: 'remediated', recovered: true });
    expect(await ledger.finalize({ record: finished, lockKey: 'AWS::Fake::Widget/w1', owner: 'me', now: NOW + 10_000, takeOver: true, changed: true })).toBe(false);
    expect(await ledger.takeOver({ lockKey: 'AWS::Fake::Widget/w1', recordId: 'rec-d', owner: 'me', leaseUntil: NOW + 120_000, now: NOW + 10_000 })).toBe(false);
    expect(await ledger.finalize({ record: finished, lockKey: 'AWS::Fake::Widget/w1', owner: 'me', now: NOW + 60_000, takeOver: true, changed: true })).toBe(true);
    expect((await ledger.getRecord('rec-d'))?.recovered).toBe(true);
  });

  it('a suppression or an exception in force refuses a claim and a guarded settle; an ended one does not', async () => {
    const ledger = await make();
    await ledger.requestApproval({ record: record('rec-q', { outcome: 'pending-approval' }), approval: approval('apr-1'), openKey: 'fake-widget#AWS::Fake::Widget/w1', now: NOW, guards });
    const suppression = { ruleId: 'fake-widget', resource: 'AWS::Fake::Widget/w1', until: iso(NOW + 86_400_000), by: 'U0APPROVER1', approvalId: 'apr-1' };
    expect(await ledger.reject('apr-1', suppression, iso(NOW + 1_000))).toBe(true);
    expect(await ledger.reject('apr-1', suppression, iso(NOW + 1_000))).toBe(false);
    const refused = await ledger.settle(record('rec-s', { outcome: 'notified' }), guards);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.conflict.suppression?.by).toBe('U0APPROVER1');
    const later = await ledger.claim({
      record: record('rec-t', { status: 'in-progress', outcome: 'failed', updatedAt: iso(NOW + 2 * 86_400_000) }),
      lockKey: 'AWS::Fake::Widget/w1',
      owner: 'o',
      leaseUntil: NOW + 2 * 86_400_000 + 50_000,
      now: NOW + 2 * 86_400_000,
      readSince: NOW + 2 * 86_400_000,
      guards,
    });
    expect(later).toEqual({ ok: true });
  });

  it('one open question per rule and resource: a second is refused until the first is decided', async () => {
    const ledger = await make();
    const openKey = 'fake-widget#AWS::Fake::Widget/w1';
    expect(await ledger.requestApproval({ record: record('rec-p1', { outcome: 'pending-approval' }), approval: approval('apr-p1'), openKey, now: NOW, guards })).toEqual({ ok: true });
    const second = await ledger.requestApproval({ record: record('rec-p2', { outcome: 'pending-approval' }), approval: approval('apr-p2'), openKey, now: NOW, guards });
    expect(second.ok).toBe(false);
    if (!second.ok) expect(second.conflict.openApproval?.approvalId).toBe('apr-p1');
    expect(await ledger.transitionApproval('apr-p1', { from: 'pending', to: 'approved', notExpiredAt: iso(NOW), set: { decidedBy: 'U0APPROVER1' }, closeOpen: openKey })).toBe(true);
    expect(await ledger.transitionApproval('apr-p1', { from: 'pending', to: 'approved', notExpiredAt: iso(NOW) })).toBe(false);
    expect(await ledger.requestApproval({ record: record('rec-p3', { outcome: 'pending-approval' }), approval: approval('apr-p3'), openKey, now: NOW, guards })).toEqual({ ok: true });
    await ledger.setNotification(record('rec-p3'), { status: 'posted', attempts: 1, channel: 'C1', ts: '1.2' }, { approvalId: 'apr-p3', channel: 'C1', ts: '1.2' });
    expect((await ledger.getApproval('apr-p3'))?.message).toEqual({ channel: 'C1', ts: '1.2' });
    expect((await ledger.getRecord('rec-p3'))?.notification?.status).toBe('posted');
  });

  it('a decision undone goes back to pending, its pointer opened again only if it still names it; a hub’s mirrored copy has none and moves all the same', async () => {
    const ledger = await make();
    const openKey = 'fake-widget#AWS::Fake::Widget/w9';
    await ledger.requestApproval({ record: record('rec-u1', { outcome: 'pending-approval' }), approval: approval('apr-u1'), openKey, now: NOW, guards });
    await ledger.transitionApproval('apr-u1', { from: 'pending', to: 'approved', notExpiredAt: iso(NOW), closeOpen: openKey });
    expect(await ledger.transitionApproval('apr-u1', { from: 'approved', to: 'pending', set: { decidedBy: '' }, reopenOpen: openKey })).toBe(true);
    expect((await ledger.getApproval('apr-u1'))?.status).toBe('pending');
    // Open again: a second question for the resource is refused.
    expect((await ledger.requestApproval({ record: record('rec-u2', { outcome: 'pending-approval' }), approval: approval('apr-u2'), openKey, now: NOW, guards })).ok).toBe(false);

    await ledger.mirror(record('rec-m1', { outcome: 'pending-approval', account: '444455556666' }), approval('apr-m1', { finding: { ...approval('x').finding, account: '444455556666' } }));
    expect(await ledger.transitionApproval('apr-m1', { from: 'pending', to: 'rejected', notExpiredAt: iso(NOW) })).toBe(true);
    expect(await ledger.transitionApproval('apr-m1', { from: 'rejected', to: 'pending', reopenOpen: 'fake-widget#AWS::Fake::Widget/w1' })).toBe(true);
    expect((await ledger.getApproval('apr-m1'))?.status).toBe('pending');
  });

  it('an exception moves the approval, stores who, why and until, and writes its record, at most once', async () => {
    const ledger = await make();
    await ledger.requestApproval({ record: record('rec-e', { outcome: 'pending-approval' }), approval: approval('apr-e'), openKey: 'k', now: NOW, guards });
    const exemption = { ruleId: 'fake-widget', resource: 'AWS::Fake::Widget/w1', until: iso(NOW + 86_400_000), by: 'cli:alice', reason: 'freeze', recordId: 'rec-x', approvalId: 'apr-e' };
    expect(await ledger.exempt(exemption, record('rec-x', { outcome: 'exempted' }), iso(NOW + 1))).toBe(true);
    expect(await ledger.exempt(exemption, record('rec-x', { outcome: 'exempted' }), iso(NOW + 2))).toBe(false);
    expect(await ledger.getExemption('fake-widget', 'AWS::Fake::Widget/w1')).toMatchObject({ by: 'cli:alice', reason: 'freeze' });
    expect((await ledger.getApproval('apr-e'))?.status).toBe('exempted');
  });

  it('keeps an exception about several ports under each port; a shorter one later leaves a longer one on a shared port, and Rejects likewise', async () => {
    const ledger = await make();
    const resource = 'AWS::Fake::Widget/sg';
    const long = { ruleId: 'fake-widget', resource, scope: 'ports:3389', until: iso(NOW + 365 * 86_400_000), by: 'cli:alice', reason: 'bastion', recordId: 'rec-l' };
    const short = { ruleId: 'fake-widget', resource, scope: 'ports:3306,3389', until: iso(NOW + 7 * 86_400_000), by: 'cli:bob', reason: 'migration', recordId: 'rec-s' };
    expect(await ledger.exempt(long, record('rec-l', { outcome: 'exempted' }), iso(NOW))).toBe(true);
    expect(await ledger.exempt(short, record('rec-s', { outcome: 'exempted' }), iso(NOW))).toBe(true);
    expect(await ledger.getExemption('fake-widget', resource, 'ports:3389')).toMatchObject({ reason: 'bastion' });
    expect(await ledger.getExemption('fake-widget', resource, 'ports:3306')).toMatchObject({ reason: 'migration' });
    expect(await ledger.getExemption('fake-widget', resource, 'ports:22')).toBeUndefined();

    for (const id of ['apr-r1', 'apr-r2']) await ledger.requestApproval({ record: record(`rec-${id}`, { outcome: 'pending-approval' }), approval: approval(id), openKey: `k-${id}`, now: NOW, guards });
    expect(await ledger.reject('apr-r1', { ruleId: 'fake-widget', resource, scope: 'ports:22', until: iso(NOW + 30 * 86_400_000), by: 'cli:carol', approvalId: 'apr-r1' }, iso(NOW + 1))).toBe(true);
    expect(await ledger.reject('apr-r2', { ruleId: 'fake-widget', resource, scope: 'ports:22,80', until: iso(NOW + 86_400_000), by: 'cli:dan', approvalId: 'apr-r2' }, iso(NOW + 1))).toBe(true);
    expect(await ledger.getSuppression('fake-widget', resource, 'ports:22')).toMatchObject({ by: 'cli:carol' });
    expect(await ledger.getSuppression('fake-widget', resource, 'ports:80')).toMatchObject({ by: 'cli:dan' });
    // A claim about port 3389 meets the exception; one about port 443 meets nothing.
    const claimFor = (scope: string, id: string) =>
      ledger.claim({ record: record(id, { status: 'in-progress', outcome: 'failed' }), lockKey: `${resource}-${id}`, owner: id, leaseUntil: NOW + 60_000, now: NOW + 2, readSince: NOW + 2, guards: { keys: guardKeys({ ruleId: 'fake-widget', resource, scope }) } });
    expect(await claimFor('ports:3389', 'rec-c1')).toMatchObject({ ok: false, conflict: { exemption: { reason: 'bastion' } } });
    expect(await claimFor('ports:443', 'rec-c2')).toEqual({ ok: true });
  });
});
