import { describe, expect, it } from 'vitest';
import { needsRetry } from '../../core/aws/lambda.ts';
import { writeRefused } from '../../core/engine/apply.ts';
import { deliver, harness, invoke, LEASE_MS, lockOf, messagesOf, rollback, settleOrStop, widgetEvent } from '../support/crash-harness.ts';

const sdkError = (name: string, status: number | undefined, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(name), { name, $fault: status !== undefined && status < 500 ? 'client' : 'server', $metadata: { httpStatusCode: status, attempts: 1 }, ...extra });

describe('a write whose answer is lost', () => {
  for (const [label, error] of [
    ['a timeout', Object.assign(new Error('socket hang up'), { name: 'TimeoutError' })],
    ['a reset connection', Object.assign(new Error('read ECONNRESET'), { name: 'Error', code: 'ECONNRESET' })],
    ['a 500 after the write took effect', sdkError('InternalError', 500)],
    ['a throttle after the SDK retried (an earlier attempt may have landed)', sdkError('ThrottlingException', 400, { $metadata: { httpStatusCode: 400, attempts: 4 } })],
  ] as const) {
    it(`${label}: the intent and the claim stay, and the next delivery records the change from the resource`, async () => {
      const h = harness();
      h.world.levels.set('u1', 'unsafe');
      const event = widgetEvent('u1');
      h.world.loseNextAnswer = error;
      const first = await invoke(h, event);
      expect(first).toMatchObject({ outcome: 'failed', retryable: true });
      expect(first.reason).toMatch(/outcome of Fake.SetWidget is unknown/);
      expect(needsRetry(first)).toBe(true);
      expect(h.ledger.records.get(first.recordId ?? '')?.status).toBe('in-progress');
      expect(lockOf(h, 'u1')?.intent).toBe(first.recordId);
      expect(h.announcer.posts).toHaveLength(0);

      // Before the claim runs out, a redelivery changes nothing.
      expect(await invoke(h, event)).toMatchObject({ outcome: 'failed', retryable: true });
      h.clock.now += LEASE_MS + 1_000;
      const again = await invoke(h, event);
      expect(again).toMatchObject({ outcome: 'remediated', writes: 0 });
      expect(h.ledger.records.get(again.recordId ?? '')).toMatchObject({ before: { state: { level: 'unsafe' } }, recovered: true });
      expect(h.world.writes).toBe(1);
      expect(messagesOf(h, again.recordId ?? '')).toEqual({ posts: 1, last: 'remediated' });
      h.clock.now += 1_000;
      expect((await rollback(h, again.recordId ?? '')).outcome).toBe('rolled-back');
    });
  }

  it('an unknown outcome that did not land: the next delivery applies the plan, once', async () => {
    const h = harness();
    h.world.levels.set('u2', 'unsafe');
    h.world.failNextWrite = Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    const event = widgetEvent('u2');
    const { result } = await deliver(h, event);
    expect(result).toMatchObject({ outcome: 'remediated', writes: 1 });
    expect(h.world.writes).toBe(1);
    expect(h.ledger.records.get(result?.recordId ?? '')?.before?.state).toEqual({ level: 'unsafe' });
  });
});

describe('a write the service refused: nothing changed', () => {
  it('AccessDenied is recorded failed, the claim released, and not retried', async () => {
    const h = harness();
    h.world.levels.set('r1', 'unsafe');
    h.world.failNextWrite = sdkError('AccessDenied', 403);
    const result = await invoke(h, widgetEvent('r1'));
    expect(result).toMatchObject({ outcome: 'failed', retryable: false });
    expect(result.reason).toMatch(/nothing was changed/);
    expect(needsRetry(result)).toBe(false);
    expect(lockOf(h, 'r1')?.intent).toBeUndefined();
  });

  it('a throttle on the only attempt is retried, and the retry fixes it', async () => {
    const h = harness();
    h.world.levels.set('r2', 'unsafe');
    h.world.failNextWrite = sdkError('ThrottlingException', 400);
    const event = widgetEvent('r2');
    const first = await invoke(h, event);
    expect(first).toMatchObject({ outcome: 'failed', retryable: true });
    expect(lockOf(h, 'r2')?.intent).toBeUndefined();
    expect((await invoke(h, event)).outcome).toBe('remediated');
  });

  it('classifies by the SDK error: a client error on the only attempt is a refusal, anything else unknown', () => {
    expect(writeRefused(sdkError('ValidationException', 400))).toBe(true);
    expect(writeRefused(sdkError('AccessDenied', 403))).toBe(true);
    expect(writeRefused(sdkError('ServiceUnavailable', 503))).toBe(false);
    expect(writeRefused(sdkError('RequestTimeout', 408))).toBe(false);
    expect(writeRefused(sdkError('ValidationException', 400, { $metadata: { httpStatusCode: 400, attempts: 2 } }))).toBe(false);
    expect(writeRefused(Object.assign(new Error('Request aborted'), { name: 'AbortError' }))).toBe(false);
    expect(writeRefused(Object.assign(new Error('x'), { name: 'TimeoutError', $metadata: { attempts: 1 } }))).toBe(false);
    expect(writeRefused(new Error('something odd'))).toBe(false);
  });
});

describe('the claim bounds when a write can land', () => {
  it('a write still under way when the claim is about to run out is aborted; its outcome is unknown and the intent stays', async () => {
    const h = harness();
    h.clock.now = Date.now();
    const clock = h.clock;
    // A real clock: the abort is a timer.
    Object.defineProperty(clock, 'now', { get: () => Date.now(), set: () => {} });
    h.world.levels.set('l1', 'unsafe');
    h.world.hangNextWrite = 'after';
    const started = Date.now();
    const result = await invoke(h, widgetEvent('l1'), undefined, { lockLeaseSeconds: 2.5 });
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(1_300);
    // Well before the SDK's own timeouts (5 s × 4 attempts) would have ended it.
    expect(took).toBeLessThan(4_000);
    expect(h.world.signals[0]?.aborted).toBe(true);
    expect(result).toMatchObject({ outcome: 'failed', retryable: true });
    expect(result.reason).toMatch(/unknown \(AbortError/);
    expect(h.ledger.records.get(result.recordId ?? '')?.status).toBe('in-progress');
  });

  it('a takeover moves the intent\'s own claim: another delivery meanwhile waits, posting and recording nothing', async () => {
    const h = harness({ steps: 2 });
    h.world.levels.set('l2', 'unsafe');
    const event = widgetEvent('l2');
    h.world.stopAfterNextWrite = true;
    await settleOrStop(invoke(h, event));
    h.clock.now += LEASE_MS + 1_000;
    // The recovery takes the run-out claim over and stops in its own write.
    h.world.stopAfterNextWrite = true;
    expect(await settleOrStop(invoke(h, event))).toBe('stopped');
    const intent = [...h.ledger.records.values()][0];
    expect(intent?.claim?.leaseUntil).toBe(lockOf(h, 'l2')?.leaseUntil);
    h.clock.now += 5_000;
    const meanwhile = await invoke(h, event);
    expect(meanwhile).toMatchObject({ outcome: 'failed', retryable: true });
    expect(meanwhile.reason).toMatch(/being completed by another invocation/);
    expect(h.announcer.posts).toHaveLength(0);
    expect(h.ledger.records.get(intent?.recordId ?? '')?.status).toBe('in-progress');
    h.clock.now += LEASE_MS;
    expect((await invoke(h, event)).outcome).toBe('remediated');
    expect(h.world.writes).toBe(2);
  });
});

describe('a plan completed by a later invocation', () => {
  it('records every step of the intent, so that rollback undoes all of them', async () => {
    const h = harness({ steps: 2 });
    h.world.levels.set('p1', 'unsafe');
    const event = widgetEvent('p1');
    h.world.stopAfterNextWrite = true;
    await settleOrStop(invoke(h, event));
    expect(h.world.levels.get('p1')).toBe('warming');
    h.clock.now += LEASE_MS + 1_000;
    const done = await invoke(h, event);
    expect(done).toMatchObject({ outcome: 'remediated', writes: 1 });
    expect(done.reason).toMatch(/1 of 2 steps sent now/);
    const record = h.ledger.records.get(done.recordId ?? '');
    expect(record?.steps.map((step) => step.description)).toEqual(['level unsafe → warming', 'level warming → safe']);
    h.clock.now += 1_000;
    expect((await rollback(h, done.recordId ?? '')).outcome).toBe('rolled-back');
    expect(h.world.levels.get('p1')).toBe('unsafe');
  });

  it('a refused second step after the first was applied earlier is half-changed: for a person, not "nothing was changed"', async () => {
    const h = harness({ steps: 2 });
    h.world.levels.set('p2', 'unsafe');
    const event = widgetEvent('p2');
    h.world.stopAfterNextWrite = true;
    await settleOrStop(invoke(h, event));
    h.clock.now += LEASE_MS + 1_000;
    h.world.failNextWrite = Object.assign(new Error('denied'), { name: 'AccessDenied' });
    const result = await invoke(h, event);
    expect(result).toMatchObject({ outcome: 'failed', retryable: false });
    expect(result.reason).toMatch(/half-changed/);
    expect(h.ledger.records.get(result.recordId ?? '')).toMatchObject({ needsPerson: true });
  });
});

describe('a recovery that cannot read the resource right now', () => {
  it('a throttled read keeps the intent for the next delivery instead of handing it to a person', async () => {
    const h = harness();
    h.world.levels.set('t1', 'unsafe');
    const event = widgetEvent('t1');
    h.world.stopAfterNextWrite = true;
    await settleOrStop(invoke(h, event));
    h.clock.now += LEASE_MS + 1_000;
    h.world.failReads = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const throttled = await invoke(h, event);
    expect(throttled).toMatchObject({ outcome: 'failed', retryable: true });
    expect(h.ledger.records.get(throttled.recordId ?? '')?.status).toBe('in-progress');
    h.world.failReads = undefined;
    const again = await invoke(h, event);
    expect(again).toMatchObject({ outcome: 'remediated', recordId: throttled.recordId });
    expect(again.reason).toMatch(/recovered/);
  });
});

describe('whether the queue retries', () => {
  it('a permanent read failure and a failure for a person are not retried; a throttled read is', async () => {
    const denied = harness();
    denied.world.levels.set('q1', 'unsafe');
    denied.world.failReads = Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' });
    const read = await invoke(denied, widgetEvent('q1'));
    expect(read).toMatchObject({ outcome: 'failed', retryable: false });
    expect(needsRetry(read)).toBe(false);

    const throttled = harness();
    throttled.world.levels.set('q2', 'unsafe');
    throttled.world.failReads = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    expect(needsRetry(await invoke(throttled, widgetEvent('q2')))).toBe(true);

    const broken = harness();
    broken.world.levels.set('q3', 'unsafe');
    const event = widgetEvent('q3');
    broken.ledger.stopAt('claim', 'after');
    await settleOrStop(invoke(broken, event));
    broken.world.levels.set('q3', 'broken');
    broken.clock.now += LEASE_MS + 1_000;
    const person = await invoke(broken, event);
    expect(person).toMatchObject({ outcome: 'failed', retryable: false });
    expect(needsRetry(person)).toBe(false);
  });
});
