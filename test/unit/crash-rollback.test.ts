import { describe, expect, it } from 'vitest';
import { recordIdFor } from '../../core/model/index.ts';
import { harness, invoke, Killer, LEASE_MS, lockOf, messagesOf, rollback, settleOrStop, widgetEvent, type Harness } from '../support/crash-harness.ts';

/** A fix, then a rollback of it that stops where `stop` says. */
async function stoppedRollback(h: Harness, widget: string, stop: (h: Harness) => void) {
  h.world.levels.set(widget, 'unsafe');
  const fixed = await invoke(h, widgetEvent(widget));
  expect(fixed.outcome).toBe('remediated');
  h.clock.now += 10_000;
  stop(h);
  expect(await settleOrStop(rollback(h, fixed.recordId ?? ''))).toBe('stopped');
  h.clock.now += LEASE_MS + 1_000;
  return { original: fixed.recordId ?? '', rollbackId: recordIdFor(`rollback:${fixed.recordId}`, 'fake-widget') };
}

describe('a rollback that stopped, met by a finding of the same rule', () => {
  it('after its undo write: completed as a rollback — rolled-back, the original marked, posted once; rollback again says so', async () => {
    const h = harness();
    const { original, rollbackId } = await stoppedRollback(h, 'b1', (x) => {
      x.world.stopAfterNextWrite = true;
    });
    expect(h.world.levels.get('b1')).toBe('unsafe');
    await invoke(h, widgetEvent('b1'));
    expect(h.ledger.records.get(rollbackId)).toMatchObject({ status: 'final', outcome: 'rolled-back', rollbackOf: original, recovered: true, after: { state: { level: 'unsafe' } } });
    expect(h.ledger.records.get(original)?.rolledBackBy).toBe(rollbackId);
    expect(h.ledger.records.get(original)?.outcome).toBe('remediated');
    expect(messagesOf(h, rollbackId)).toEqual({ posts: 1, last: 'rolled-back' });
    const again = await rollback(h, original);
    expect(again).toMatchObject({ outcome: 'refused' });
    expect(again.reason).toMatch(/already rolled back/);
  });

  it('before its undo write: a compliant finding leaves the intent alone, and running the rollback again completes it', async () => {
    const h = harness();
    const { original, rollbackId } = await stoppedRollback(h, 'b2', (x) => x.ledger.stopAt('claim', 'after'));
    expect(h.world.levels.get('b2')).toBe('safe');
    expect((await invoke(h, widgetEvent('b2'))).outcome).toBe('compliant');
    expect(h.ledger.records.get(rollbackId)?.status).toBe('in-progress');
    h.clock.now += 1_000;
    const again = await rollback(h, original);
    expect(again).toMatchObject({ outcome: 'rolled-back', writes: 1 });
    expect(h.world.levels.get('b2')).toBe('unsafe');
    expect(h.ledger.records.get(original)?.rolledBackBy).toBe(rollbackId);
    expect(lockOf(h, 'b2')?.intent).toBeUndefined();
    expect(messagesOf(h, rollbackId)).toEqual({ posts: 1, last: 'rolled-back' });
  });

  it('anything else: for a person, with both states, and rollback says why it will not run', async () => {
    const h = harness();
    const { original, rollbackId } = await stoppedRollback(h, 'b3', (x) => {
      x.world.stopAfterNextWrite = true;
    });
    h.world.levels.set('b3', 'other');
    await invoke(h, widgetEvent('b3'));
    expect(h.ledger.records.get(rollbackId)).toMatchObject({ status: 'final', outcome: 'failed', needsPerson: true, after: { state: { level: 'other' } } });
    expect(h.ledger.records.get(rollbackId)?.reason).toMatch(/neither as the bot left it \(level safe\) nor as before the change \(level unsafe\), but level other/);
    expect(h.ledger.records.get(original)?.rolledBackBy).toBeUndefined();
    expect(lockOf(h, 'b3')?.intent).toBeUndefined();
    expect((await rollback(h, original)).reason).toMatch(/is for a person/);
  });
});

describe('running a stopped rollback again', () => {
  it('takes over its run-out intent and completes it, whatever point it stopped at', async () => {
    const probe = harness();
    probe.world.levels.set('r', 'unsafe');
    const clean = await invoke(probe, widgetEvent('r'));
    probe.clock.now += 10_000;
    const points = new Killer();
    expect((await rollback(probe, clean.recordId ?? '', points)).outcome).toBe('rolled-back');
    const failures: Record<string, string> = {};
    for (let k = 1; k <= points.seq; k++) {
      for (const when of ['before', 'after'] as const) {
        const h = harness();
        h.world.levels.set('r', 'unsafe');
        const fixed = await invoke(h, widgetEvent('r'));
        h.clock.now += 10_000;
        const killer = new Killer(k, when);
        const first = await settleOrStop(rollback(h, fixed.recordId ?? '', killer), killer);
        h.clock.now += LEASE_MS + 1_000;
        const again = await rollback(h, fixed.recordId ?? '');
        const rollbackId = recordIdFor(`rollback:${fixed.recordId}`, 'fake-widget');
        const settled = first !== 'stopped' && first.outcome === 'rolled-back' ? first : again;
        const problems = [
          settled.outcome === 'rolled-back' || again.reason.includes('already rolled back') ? '' : `again: ${again.outcome}: ${again.reason}`,
          h.world.levels.get('r') === 'unsafe' ? '' : `level ${h.world.levels.get('r')}`,
          h.ledger.records.get(fixed.recordId ?? '')?.rolledBackBy === rollbackId ? '' : 'original not marked',
          h.ledger.records.get(rollbackId)?.status === 'final' ? '' : 'rollback record not final',
          lockOf(h, 'r')?.intent ? 'lock keeps the intent' : '',
          messagesOf(h, rollbackId).posts <= 1 ? '' : `posted ${messagesOf(h, rollbackId).posts}x`,
        ].filter(Boolean);
        if (problems.length > 0) failures[`${k}:${points.points[k - 1]}:${when}`] = problems.join('; ');
      }
    }
    expect(failures).toEqual({});
  }, 60_000);
});
