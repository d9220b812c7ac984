import { describe, expect, it } from 'vitest';
import { decideApproval } from '../../core/engine/decide.ts';
import { type ChangeRecord, decisionKey } from '../../core/model/index.ts';
import { approvedEvent, harness, invoke, Killer, LEASE_MS, lockOf, settleOrStop, WIDGET, widgetEvent, type Harness } from '../support/crash-harness.ts';

/**
 * The gates a change passed when it started (the rule's mode, an exception) are checked again when
 * it is completed later: a rule switched off or down, or a resource exempted meanwhile, is not
 * changed on the strength of an old claim or an old approval.
 */

/** Stops an automatic fix right after its claim (before any write), as a process that died there. */
async function stoppedAfterClaim(h: Harness, widget: string) {
  const probe = new Killer();
  const dry = harness();
  dry.world.levels.set(widget, 'unsafe');
  await invoke(dry, widgetEvent(widget), probe);
  const claimAt = probe.points.indexOf('ledger.claim') + 1;
  expect(claimAt).toBeGreaterThan(0);
  const event = widgetEvent(widget);
  const killer = new Killer(claimAt, 'after');
  expect(await settleOrStop(invoke(h, event, killer), killer)).toBe('stopped');
  expect(h.world.writes).toBe(0);
  expect(lockOf(h, widget)?.intent).toBeTruthy();
  h.clock.now += LEASE_MS + 1_000;
  return event;
}

describe('an unfinished automatic fix, delivered again after the gate moved', () => {
  it('mode off: the function touches nothing, the intent included; switched on again, a new finding completes it without a second write', async () => {
    const h = harness();
    h.world.levels.set('g0', 'unsafe');
    const event = await stoppedAfterClaim(h, 'g0');
    const off = await invoke(h, event, new Killer(), { modes: { 'fake-widget': 'off' } });
    expect(off).toMatchObject({ outcome: 'skipped', reason: 'rule fake-widget is off' });
    expect(h.world.writes).toBe(0);
    expect(lockOf(h, 'g0')?.intent).toBeTruthy();
    const later = await invoke(h, widgetEvent('g0'));
    expect(h.world.levels.get('g0')).toBe('safe');
    expect(h.world.writes).toBe(1);
    expect(later.outcome, later.reason).not.toBe('failed');
  });

  it.each([
    ['notify', 'notified', /now in mode notify: nothing was applied/],
    ['approve', 'notified', /now asks a person before this change/],
  ] as const)('mode %s: nothing is written, the record says why, and the claim is released', async (mode, outcome, reason) => {
    const h = harness();
    h.world.levels.set('g1', 'unsafe');
    const event = await stoppedAfterClaim(h, 'g1');
    const again = await invoke(h, event, new Killer(), { modes: { 'fake-widget': mode } });
    expect(again.outcome, again.reason).toBe(outcome);
    expect(again.reason).toMatch(reason);
    expect(h.world.writes).toBe(0);
    expect(h.world.levels.get('g1')).toBe('unsafe');
    expect(lockOf(h, 'g1')?.intent).toBeUndefined();
  });

  it('an exception granted meanwhile: skipped, naming it, nothing written', async () => {
    const h = harness();
    h.world.levels.set('g2', 'unsafe');
    const event = await stoppedAfterClaim(h, 'g2');
    const until = new Date(h.clock.now + 7 * 86_400_000).toISOString();
    const resource = `${WIDGET}/g2`;
    const exceptionRecord = { recordId: 'rec-exemption-g2', status: 'final', outcome: 'exempted', ruleId: 'fake-widget', resource } as unknown as ChangeRecord;
    expect(await h.ledger.exempt({ ruleId: 'fake-widget', resource, until, by: 'U0ALICE', reason: 'load test until Friday', recordId: 'rec-exemption-g2' }, exceptionRecord, new Date(h.clock.now).toISOString())).toBe(true);
    const again = await invoke(h, event);
    expect(again.outcome, again.reason).toBe('skipped');
    expect(again.reason).toMatch(/exempted until .* by U0ALICE: load test until Friday/);
    expect(h.world.writes).toBe(0);
    expect(h.world.levels.get('g2')).toBe('unsafe');
  });

  it('a Reject made meanwhile: skipped, naming it, nothing written', async () => {
    const h = harness();
    h.world.levels.set('g5', 'unsafe');
    const event = await stoppedAfterClaim(h, 'g5');
    const resource = `${WIDGET}/g5`;
    h.ledger.suppressions.set(decisionKey({ ruleId: 'fake-widget', resource }), { ruleId: 'fake-widget', resource, until: new Date(h.clock.now + 86_400_000).toISOString(), by: 'U0BOB', approvalId: 'apr-x' });
    const again = await invoke(h, event);
    expect(again.outcome, again.reason).toBe('skipped');
    expect(again.reason).toMatch(/^an earlier invocation stopped before it finished this change, and suppressed until .*: U0BOB rejected this fix \(approval apr-x\): nothing was applied/);
    expect(h.world.writes).toBe(0);
  });

  it('with the gate unchanged, the redelivery applies the change once', async () => {
    const h = harness();
    h.world.levels.set('g3', 'unsafe');
    const event = await stoppedAfterClaim(h, 'g3');
    const again = await invoke(h, event);
    expect(again.outcome, again.reason).toBe('remediated');
    expect(h.world.writes).toBe(1);
  });
});

describe('an approved change whose rule was switched off or down before it was applied', () => {
  it.each(['off', 'notify'] as const)('mode %s: not applied, the approval is settled as stale', async (mode) => {
    const h = harness({ mode: 'approve' });
    h.world.levels.set('g4', 'unsafe');
    const asked = await invoke(h, widgetEvent('g4'));
    const approvalId = asked.approvalId ?? '';
    await decideApproval(h.ledger, { approvalId, decision: 'approve', by: 'U0ALICE', now: h.clock.now, suppressionDays: 30 });
    const result = await invoke(h, approvedEvent(approvalId), new Killer(), { modes: { 'fake-widget': mode } });
    expect(result.outcome, result.reason).toBe('skipped');
    expect(result.reason).toMatch(/the approved change was not applied/);
    expect(h.world.writes).toBe(0);
    expect(h.ledger.approvals.get(approvalId)?.status).toBe('stale');
    // Switched back on, the same hand-over applies nothing: the approval is settled.
    const later = await invoke(h, approvedEvent(approvalId));
    expect(later.outcome).not.toBe('remediated');
    expect(h.world.writes).toBe(0);
  });
});
