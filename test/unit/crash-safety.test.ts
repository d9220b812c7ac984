import { describe, expect, it } from 'vitest';
import { handleRuleEvent } from '../../core/engine/handle-event.ts';
import type { EventResult } from '../../core/engine/results.ts';
import { rollbackRecord } from '../../core/engine/rollback.ts';
import { LEASE_MS, widgetEvent } from '../support/crash-harness.ts';
import { FakeAnnouncer, FakeWorld, fakeDeps, fakeRule, MemoryLedger } from '../support/fake-rule.ts';



/**
 * One "Lambda invocation" that may never return: started, and left running when it hangs (the
 * process died there). The clock is shared, so the next invocation can be put after the lease.
 */
function invoke(event: unknown, world: FakeWorld, ledger: MemoryLedger, clock: { now: number }, options: { announcer?: FakeAnnouncer; rule?: ReturnType<typeof fakeRule> } = {}) {
  const rule = options.rule ?? fakeRule();
  const deps = fakeDeps(world, ledger, { rule, now: () => clock.now, ...(options.announcer ? { announcer: options.announcer } : {}) });
  return handleRuleEvent(event, rule, deps, { dryRun: false });
}

/** Resolves with the result, or with 'stopped' when the invocation hangs (the process died). */
async function settleOrStop(result: Promise<EventResult>): Promise<EventResult | 'stopped'> {
  return Promise.race([result, new Promise<'stopped'>((resolve) => setTimeout(() => resolve('stopped'), 200))]);
}

describe('a fix, and the requests it costs', () => {
  it('claims and finalizes in two table requests, with four calls on the resource', async () => {
    const world = new FakeWorld();
    world.levels.set('w1', 'unsafe');
    const ledger = new MemoryLedger();
    const result = await invoke(widgetEvent('w1'), world, ledger, { now: Date.now() });
    expect(result.outcome).toBe('remediated');
    expect(ledger.requests).toEqual(['claim', 'finalize']);
    expect(world.calls).toEqual(['Fake.TagsOfWidget', 'Fake.ReadWidget', 'Fake.SetWidget', 'Fake.ReadWidget']);
    expect(result.writes).toBe(1);
    const record = ledger.records.get(result.recordId ?? '');
    expect(record?.status).toBe('final');
    expect(record?.before?.state).toEqual({ level: 'unsafe' });
    expect(record?.after?.state).toEqual({ level: 'safe' });
    expect(ledger.locks.get('AWS::Fake::Widget/w1')).toMatchObject({ leaseUntil: 0 });
  });

  it('records a compliant resource with reads only and one table request', async () => {
    const world = new FakeWorld();
    world.levels.set('w2', 'safe');
    const ledger = new MemoryLedger();
    const result = await invoke(widgetEvent('w2'), world, ledger, { now: Date.now() });
    expect(result.outcome).toBe('compliant');
    expect(ledger.requests).toEqual(['settle']);
    expect(world.writes).toBe(0);
  });
});

describe('a crash at each point of a fix', () => {
  it('before the write: the redelivery finds the intent, sees the resource untouched and applies the plan once', async () => {
    const world = new FakeWorld();
    world.levels.set('w3', 'unsafe');
    const ledger = new MemoryLedger();
    const clock = { now: Date.now() };
    const event = widgetEvent('w3');
    ledger.stopAt('claim', 'after');
    expect(await settleOrStop(invoke(event, world, ledger, clock))).toBe('stopped');
    expect(world.writes).toBe(0);
    expect([...ledger.records.values()][0]?.status).toBe('in-progress');

    clock.now += LEASE_MS + 1_000;
    const retried = await invoke(event, world, ledger, clock);
    expect(retried.outcome).toBe('remediated');
    expect(world.writes).toBe(1);
    expect(ledger.records.get(retried.recordId ?? '')?.before?.state).toEqual({ level: 'unsafe' });
  });

  it('after the write: the redelivery records the change as remediated (recovered) with the state before it, and it rolls back', async () => {
    const world = new FakeWorld();
    world.levels.set('w4', 'unsafe');
    const ledger = new MemoryLedger();
    const clock = { now: Date.now() };
    const event = widgetEvent('w4');
    world.stopAfterNextWrite = true;
    expect(await settleOrStop(invoke(event, world, ledger, clock))).toBe('stopped');
    expect(world.levels.get('w4')).toBe('safe');

    clock.now += LEASE_MS + 1_000;
    const retried = await invoke(event, world, ledger, clock);
    expect(retried.outcome).toBe('remediated');
    expect(retried.reason).toMatch(/recovered/);
    expect(retried.writes).toBe(0);
    expect(world.writes).toBe(1);
    const record = ledger.records.get(retried.recordId ?? '');
    expect(record).toMatchObject({ status: 'final', recovered: true, before: { state: { level: 'unsafe' } }, after: { state: { level: 'safe' } } });

    const rule = fakeRule();
    clock.now += 1_000;
    const rolledBack = await rollbackRecord(retried.recordId ?? '', fakeDeps(world, ledger, { rule, now: () => clock.now }), { force: false, by: 'cli:test' });
    expect(rolledBack.outcome).toBe('rolled-back');
    expect(world.levels.get('w4')).toBe('unsafe');
  });

  it('after the Slack post, before the record: the redelivery finds the message and posts no second one', async () => {
    const world = new FakeWorld();
    world.levels.set('w5', 'unsafe');
    const ledger = new MemoryLedger();
    const announcer = new FakeAnnouncer();
    const clock = { now: Date.now() };
    const event = widgetEvent('w5');
    ledger.stopAt('finalize', 'before');
    expect(await settleOrStop(invoke(event, world, ledger, clock, { announcer }))).toBe('stopped');
    expect(announcer.posts).toHaveLength(1);

    clock.now += LEASE_MS + 1_000;
    const retried = await invoke(event, world, ledger, clock, { announcer });
    expect(retried.outcome).toBe('remediated');
    expect(announcer.posts).toHaveLength(1);
    expect(announcer.updates).toHaveLength(1);
    expect(announcer.lookups).toEqual([retried.recordId]);
    expect(world.writes).toBe(1);
  });

  it('a redelivery while the first invocation still holds its claim fails fast and retryably, changing nothing', async () => {
    const world = new FakeWorld();
    world.levels.set('w6', 'unsafe');
    const ledger = new MemoryLedger();
    const clock = { now: Date.now() };
    const event = widgetEvent('w6');
    ledger.stopAt('claim', 'after');
    expect(await settleOrStop(invoke(event, world, ledger, clock))).toBe('stopped');
    const started = Date.now();
    const second = await invoke(event, world, ledger, clock);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(second).toMatchObject({ outcome: 'failed', retryable: true });
    expect(world.writes).toBe(0);
  });

  it('a different event for the same resource during a live claim also fails fast', async () => {
    const world = new FakeWorld();
    world.levels.set('w7', 'unsafe');
    const ledger = new MemoryLedger();
    const clock = { now: Date.now() };
    ledger.stopAt('claim', 'after');
    expect(await settleOrStop(invoke(widgetEvent('w7'), world, ledger, clock))).toBe('stopped');
    const other = await invoke(widgetEvent('w7'), world, ledger, clock);
    expect(other).toMatchObject({ outcome: 'failed', retryable: true });
    expect(other.reason).toMatch(/being changed by another invocation/);
  });

  it('when the resource is neither as it was nor as planned, the record is failed for a person and not retried', async () => {
    const world = new FakeWorld();
    world.levels.set('w8', 'unsafe');
    const ledger = new MemoryLedger();
    const clock = { now: Date.now() };
    const event = widgetEvent('w8');
    ledger.stopAt('claim', 'after');
    expect(await settleOrStop(invoke(event, world, ledger, clock))).toBe('stopped');
    world.levels.set('w8', 'broken');
    clock.now += LEASE_MS + 1_000;
    const retried = await invoke(event, world, ledger, clock);
    expect(retried.outcome).toBe('failed');
    expect(retried.retryable).toBe(false);
    const record = ledger.records.get(retried.recordId ?? '');
    expect(record).toMatchObject({ needsPerson: true, before: { state: { level: 'unsafe' } }, after: { state: { level: 'broken' } } });
    const again = await invoke(event, world, ledger, clock);
    expect(again.duplicate).toBe(true);
    expect(world.writes).toBe(0);
  });

  it('a two-step plan that stopped after its first step completes the second only', async () => {
    const world = new FakeWorld();
    world.levels.set('w9', 'unsafe');
    const ledger = new MemoryLedger();
    const clock = { now: Date.now() };
    const rule = fakeRule({ steps: 2 });
    const event = widgetEvent('w9');
    world.stopAfterNextWrite = true;
    expect(await settleOrStop(invoke(event, world, ledger, clock, { rule }))).toBe('stopped');
    expect(world.levels.get('w9')).toBe('warming');
    clock.now += LEASE_MS + 1_000;
    const retried = await invoke(event, world, ledger, clock, { rule });
    expect(retried.outcome).toBe('remediated');
    expect(world.levels.get('w9')).toBe('safe');
    expect(world.writes).toBe(2);
    expect(ledger.records.get(retried.recordId ?? '')?.before?.state).toEqual({ level: 'unsafe' });
  });

  it('an abandoned intent of another event on the same resource is completed before acting', async () => {
    const world = new FakeWorld();
    world.levels.set('w10', 'unsafe');
    const ledger = new MemoryLedger();
    const clock = { now: Date.now() };
    ledger.stopAt('claim', 'after');
    expect(await settleOrStop(invoke(widgetEvent('w10'), world, ledger, clock))).toBe('stopped');
    clock.now += LEASE_MS + 1_000;
    const second = await invoke(widgetEvent('w10'), world, ledger, clock);
    expect(second.outcome).toBe('compliant');
    const records = [...ledger.records.values()];
    expect(records.map((record) => record.outcome).sort()).toEqual(['compliant', 'remediated']);
    expect(records.every((record) => record.status === 'final')).toBe(true);
    expect(world.writes).toBe(1);
  });

  it('a compliant resource with another event\'s unfinished intent is recorded compliant; that event\'s own redelivery completes its record', async () => {
    const world = new FakeWorld();
    world.levels.set('w17', 'unsafe');
    const ledger = new MemoryLedger();
    const clock = { now: Date.now() };
    const first = widgetEvent('w17');
    world.stopAfterNextWrite = true;
    expect(await settleOrStop(invoke(first, world, ledger, clock))).toBe('stopped');
    clock.now += LEASE_MS + 1_000;
    expect((await invoke(widgetEvent('w17'), world, ledger, clock)).outcome).toBe('compliant');
    const redelivered = await invoke(first, world, ledger, clock);
    expect(redelivered.outcome).toBe('remediated');
    expect(redelivered.reason).toMatch(/recovered/);
    expect(world.writes).toBe(1);
  });
});

describe('redeliveries and outcomes without a change', () => {
  it('a redelivered event after the fix reports its record as it is now and changes nothing', async () => {
    const world = new FakeWorld();
    world.levels.set('w11', 'unsafe');
    const ledger = new MemoryLedger();
    const clock = { now: Date.now() };
    const event = widgetEvent('w11');
    const first = await invoke(event, world, ledger, clock);
    const again = await invoke(event, world, ledger, clock);
    expect(again).toMatchObject({ outcome: 'remediated', duplicate: true, recordId: first.recordId, writes: 0 });
    expect(world.writes).toBe(1);
  });

  it('a write that fails with nothing changed is retryable, and the retry fixes it', async () => {
    const world = new FakeWorld();
    world.levels.set('w12', 'unsafe');
    world.failNextWrite = Object.assign(new Error('slow down'), { name: 'ThrottlingException' });
    const ledger = new MemoryLedger();
    const clock = { now: Date.now() };
    const event = widgetEvent('w12');
    const failed = await invoke(event, world, ledger, clock);
    expect(failed).toMatchObject({ outcome: 'failed', retryable: true });
    expect(ledger.locks.get('AWS::Fake::Widget/w12')?.intent).toBeUndefined();
    const retried = await invoke(event, world, ledger, clock);
    expect(retried.outcome).toBe('remediated');
  });

  it('a tagged widget, a suppressed one and an exempted one are left alone with the reason', async () => {
    const world = new FakeWorld();
    const ledger = new MemoryLedger();
    const clock = { now: Date.now() };
    for (const id of ['w13', 'w14', 'w15']) world.levels.set(id, 'unsafe');
    world.tags.set('w13', { 'remediation:skip': 'true' });
    const until = new Date(clock.now + 86_400_000).toISOString();
    ledger.suppressions.set('fake-widget#AWS::Fake::Widget/w14', { ruleId: 'fake-widget', resource: 'AWS::Fake::Widget/w14', until, by: 'U0APPROVER1', approvalId: 'apr-x' });
    ledger.exemptions.set('fake-widget#AWS::Fake::Widget/w15', { ruleId: 'fake-widget', resource: 'AWS::Fake::Widget/w15', until, by: 'cli:alice', reason: 'migration window', recordId: 'rec-x' });
    expect((await invoke(widgetEvent('w13'), world, ledger, clock)).reason).toBe('resource is tagged remediation:skip=true');
    expect((await invoke(widgetEvent('w14'), world, ledger, clock)).reason).toMatch(/^suppressed until .*U0APPROVER1 rejected/);
    expect((await invoke(widgetEvent('w15'), world, ledger, clock)).reason).toMatch(/^exempted until .* by alice: migration window/);
    expect(world.writes).toBe(0);
  });

  it('once an exception ends, the next finding acts again', async () => {
    const world = new FakeWorld();
    world.levels.set('w16', 'unsafe');
    const ledger = new MemoryLedger();
    const clock = { now: Date.now() };
    ledger.exemptions.set('fake-widget#AWS::Fake::Widget/w16', {
      ruleId: 'fake-widget',
      resource: 'AWS::Fake::Widget/w16',
      until: new Date(clock.now - 1_000).toISOString(),
      by: 'cli:alice',
      reason: 'over',
      recordId: 'rec-y',
    });
    expect((await invoke(widgetEvent('w16'), world, ledger, clock)).outcome).toBe('remediated');
  });

  it('the bot leaves its own stack alone', async () => {
    const world = new FakeWorld();
    world.levels.set('driftfix-test-queue', 'unsafe');
    const ledger = new MemoryLedger();
    const result = await invoke(widgetEvent('driftfix-test-queue'), world, ledger, { now: Date.now() });
    expect(result.outcome).toBe('skipped');
    expect(result.reason).toMatch(/left alone: it is the bot's own/);
    expect(world.calls).toEqual([]);
  });
});
