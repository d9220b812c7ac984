import { describe, expect, it } from 'vitest';
import { decideApproval } from '../../core/engine/decide.ts';
import { recordIdFor } from '../../core/model/index.ts';
import { approvedEvent, deliver, harness, invoke, Killer, LEASE_MS, lockOf, messagesOf, rollback, settleOrStop, widgetEvent, type Harness } from '../support/crash-harness.ts';

/** A question asked and approved: the approval id and the "Remediation Approved" event. */
async function approved(h: Harness, widget: string) {
  const asked = await invoke(h, widgetEvent(widget));
  const approvalId = asked.approvalId ?? '';
  await decideApproval(h.ledger, { approvalId, decision: 'approve', by: 'U0ALICE', now: h.clock.now, suppressionDays: 30 });
  return { approvalId, event: approvedEvent(approvalId), questionId: asked.recordId ?? '', recordId: recordIdFor(`approval:${approvalId}`, 'fake-widget') };
}

describe('an approved change that stopped after its write', () => {
  it('is recovered by the redelivered approval: remediated, the approval applied, the question updated, and it rolls back', async () => {
    const h = harness({ mode: 'approve' });
    h.world.levels.set('a1', 'unsafe');
    const { approvalId, event, recordId } = await approved(h, 'a1');
    h.world.stopAfterNextWrite = true;
    expect(await settleOrStop(invoke(h, event))).toBe('stopped');
    expect(h.world.levels.get('a1')).toBe('safe');

    h.clock.now += LEASE_MS + 1_000;
    const again = await invoke(h, event);
    expect(again).toMatchObject({ outcome: 'remediated', recordId, writes: 0 });
    expect(again.reason).toMatch(/recovered/);
    expect(h.ledger.approvals.get(approvalId)?.status).toBe('applied');
    expect(h.ledger.records.get(recordId)).toMatchObject({ status: 'final', before: { state: { level: 'unsafe' } } });
    expect(lockOf(h, 'a1')?.intent).toBeUndefined();
    // One message: the question, updated with the outcome.
    expect(h.announcer.posts).toHaveLength(1);
    expect(h.announcer.updates.at(-1)?.record).toMatchObject({ recordId, outcome: 'remediated' });

    // A redelivery after that is answered with the record, as a duplicate.
    const third = await invoke(h, event);
    expect(third).toMatchObject({ outcome: 'remediated', duplicate: true, recordId });
    h.clock.now += 1_000;
    expect((await rollback(h, recordId)).outcome).toBe('rolled-back');
    expect(h.world.levels.get('a1')).toBe('unsafe');
    expect(h.world.writes).toBe(2);
  });

  it('a new drift afterwards is asked about again, and its approval applies the new plan once', async () => {
    const h = harness({ mode: 'approve' });
    h.world.levels.set('a2', 'unsafe');
    const first = await approved(h, 'a2');
    h.world.stopAfterNextWrite = true;
    await settleOrStop(invoke(h, first.event));
    h.clock.now += LEASE_MS + 1_000;
    expect((await invoke(h, first.event)).outcome).toBe('remediated');

    h.world.levels.set('a2', 'unsafe');
    h.clock.now += 1_000;
    const second = await approved(h, 'a2');
    expect(second.approvalId).not.toBe(first.approvalId);
    const applied = await invoke(h, second.event);
    expect(applied).toMatchObject({ outcome: 'remediated', writes: 1 });
    expect(h.world.writes).toBe(2);
    expect(h.ledger.approvals.get(second.approvalId)?.status).toBe('applied');
  });

  it('a two-step approved plan that stopped half-way is completed, not called stale', async () => {
    const h = harness({ mode: 'approve', steps: 2 });
    h.world.levels.set('a3', 'unsafe');
    const { approvalId, event, recordId } = await approved(h, 'a3');
    h.world.stopAfterNextWrite = true;
    await settleOrStop(invoke(h, event));
    expect(h.world.levels.get('a3')).toBe('warming');
    h.clock.now += LEASE_MS + 1_000;
    const again = await invoke(h, event);
    expect(again).toMatchObject({ outcome: 'remediated', writes: 1 });
    expect(h.ledger.approvals.get(approvalId)?.status).toBe('applied');
    expect(h.ledger.records.get(recordId)?.steps).toHaveLength(2);
  });

  it('an intent whose approval moved back to pending (a hand-over undone) is not carried on', async () => {
    const h = harness({ mode: 'approve' });
    h.world.levels.set('a4', 'unsafe');
    const { approvalId, event, recordId } = await approved(h, 'a4');
    h.ledger.stopAt('claim', 'after');
    await settleOrStop(invoke(h, event));
    await h.ledger.transitionApproval(approvalId, { from: 'approved', to: 'pending' });
    h.clock.now += LEASE_MS + 1_000;
    const again = await invoke(h, event);
    expect(again).toMatchObject({ outcome: 'failed', retryable: false, recordId });
    expect(h.world.writes).toBe(0);
    expect(h.ledger.records.get(recordId)).toMatchObject({ status: 'final', outcome: 'failed' });
    expect(h.ledger.records.get(recordId)?.reason).toMatch(/is now pending: the rest was not applied/);
    expect(lockOf(h, 'a4')?.intent).toBeUndefined();
  });
});

describe('an approved change whose resource no longer needs it', () => {
  it('a stop between its record and the approval\'s move is completed by the redelivery: stale, one update', async () => {
    const h = harness({ mode: 'approve' });
    h.world.levels.set('s1', 'unsafe');
    const { approvalId, event, recordId } = await approved(h, 's1');
    h.world.levels.set('s1', 'safe');
    h.ledger.stopAt('settle', 'after');
    expect(await settleOrStop(invoke(h, event))).toBe('stopped');
    expect(h.ledger.approvals.get(approvalId)?.status).toBe('approved');
    const again = await invoke(h, event);
    expect(again).toMatchObject({ outcome: 'compliant', duplicate: true, recordId });
    expect(h.ledger.approvals.get(approvalId)).toMatchObject({ status: 'stale', resultRecordId: recordId });
    expect(messagesOf(h, recordId)).toEqual({ posts: 0, last: 'compliant' });
  });
});

describe('a failure a retry can settle keeps the approval', () => {
  it('a throttled approved write leaves the approval approved; the retry applies it and updates the one question', async () => {
    const h = harness({ mode: 'approve' });
    h.world.levels.set('t1', 'unsafe');
    const { approvalId, event, recordId } = await approved(h, 't1');
    h.world.failNextWrite = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const first = await invoke(h, event);
    expect(first).toMatchObject({ outcome: 'failed', retryable: true });
    expect(h.ledger.approvals.get(approvalId)?.status).toBe('approved');
    const { result } = await deliver(h, event);
    expect(result).toMatchObject({ outcome: 'remediated', recordId, writes: 1 });
    expect(h.ledger.approvals.get(approvalId)?.status).toBe('applied');
    expect(h.announcer.posts).toHaveLength(1);
    expect(messagesOf(h, recordId).last).toBe('remediated');
  });
});

describe('a stop at every await of an approved change', () => {
  it('ends applied once, with one message, whatever point the first delivery died at', async () => {
    const probe = harness({ mode: 'approve' });
    probe.world.levels.set('m', 'unsafe');
    const clean = await approved(probe, 'm');
    const points = new Killer();
    await invoke(probe, clean.event, points);
    const failures: Record<string, string[]> = {};
    for (let k = 1; k <= points.seq; k++) {
      for (const when of ['before', 'after'] as const) {
        const h = harness({ mode: 'approve' });
        h.world.levels.set('m', 'unsafe');
        const { approvalId, event, recordId } = await approved(h, 'm');
        const { result, log } = await deliver(h, event, [[k, when]]);
        const problems: string[] = [];
        if (h.world.writes !== 1) problems.push(`writes ${h.world.writes}`);
        if (result?.outcome !== 'remediated') problems.push(`outcome ${result?.outcome}`);
        if (h.ledger.approvals.get(approvalId)?.status !== 'applied') problems.push(`approval ${h.ledger.approvals.get(approvalId)?.status}`);
        if (h.ledger.records.get(recordId)?.status !== 'final') problems.push('record not final');
        if (lockOf(h, 'm')?.intent) problems.push('lock keeps the intent');
        if (h.announcer.posts.length !== 1) problems.push(`posts ${h.announcer.posts.length}`);
        if (messagesOf(h, recordId).last !== 'remediated') problems.push(`Slack says ${messagesOf(h, recordId).last}`);
        if (problems.length > 0) failures[`${k}:${points.points[k - 1]}:${when}`] = [...problems, ...log];
      }
    }
    expect(failures).toEqual({});
  }, 60_000);
});
