import { describe, expect, it } from 'vitest';
import { deliver, harness, invoke, Killer, LEASE_MS, messagesOf, settleOrStop, widgetEvent, type Harness } from '../support/crash-harness.ts';

const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });

/** A finding whose first delivery failed and was posted as failed. */
async function failedFirst(h: Harness, widget: string, fail: (h: Harness) => void) {
  const event = widgetEvent(widget);
  fail(h);
  const first = await invoke(h, event);
  expect(first).toMatchObject({ outcome: 'failed', retryable: true, notification: 'posted' });
  expect(messagesOf(h, first.recordId ?? '')).toEqual({ posts: 1, last: 'failed' });
  h.clock.now += LEASE_MS + 1_000;
  h.ledger.requests = [];
  return { event, recordId: first.recordId ?? '' };
}

describe('one Slack message per record when a failed record is retried', () => {
  it('a retried fix updates the failed message to remediated, at one more table request', async () => {
    const h = harness();
    h.world.levels.set('f1', 'unsafe');
    const { event, recordId } = await failedFirst(h, 'f1', (x) => {
      x.world.failNextWrite = throttled();
    });
    const retried = await invoke(h, event);
    expect(retried).toMatchObject({ outcome: 'remediated', recordId, notification: 'posted' });
    expect(messagesOf(h, recordId)).toEqual({ posts: 1, last: 'remediated' });
    // The first claim is refused for the earlier message and returns it; the second carries it.
    expect(h.ledger.requests).toEqual(['claim', 'claim', 'finalize']);
    expect(h.ledger.records.get(recordId)?.notification).toMatchObject({ status: 'posted', channel: 'C0DRIFTFIX1', ts: '1.000001' });
  });

  it('a retry that finds the resource compliant updates the message so it no longer says failed', async () => {
    const h = harness();
    h.world.levels.set('f2', 'safe');
    const { event, recordId } = await failedFirst(h, 'f2', (x) => {
      x.world.failReads = throttled();
    });
    h.world.failReads = undefined;
    const retried = await invoke(h, event);
    expect(retried).toMatchObject({ outcome: 'compliant', recordId });
    expect(messagesOf(h, recordId)).toEqual({ posts: 1, last: 'compliant' });
    expect(h.ledger.records.get(recordId)).toMatchObject({ outcome: 'compliant', notification: { status: 'posted', ts: '1.000001' } });
    expect(h.ledger.requests).toEqual(['settle', 'settle', 'setNotification']);
  });

  it('a write failing again and again keeps one message', async () => {
    const h = harness();
    h.world.levels.set('f3', 'unsafe');
    const event = widgetEvent('f3');
    for (let attempt = 0; attempt < 3; attempt++) {
      h.world.failNextWrite = throttled();
      expect(await invoke(h, event)).toMatchObject({ outcome: 'failed', retryable: true });
      h.clock.now += LEASE_MS + 1_000;
    }
    const { result } = await deliver(h, event);
    expect(result?.outcome).toBe('remediated');
    expect(messagesOf(h, result?.recordId ?? '')).toEqual({ posts: 1, last: 'remediated' });
  });

  it('a retry that now asks a person puts the question in the failed message\'s place', async () => {
    const h = harness({ mode: 'approve' });
    h.world.levels.set('f4', 'unsafe');
    const { event, recordId } = await failedFirst(h, 'f4', (x) => {
      x.world.failReads = throttled();
    });
    h.world.failReads = undefined;
    const asked = await invoke(h, event);
    expect(asked).toMatchObject({ outcome: 'pending-approval', recordId });
    expect(messagesOf(h, recordId)).toEqual({ posts: 1, last: 'pending-approval' });
    expect(h.ledger.approvals.get(asked.approvalId ?? '')?.message).toEqual({ channel: 'C0DRIFTFIX1', ts: '1.000001' });
  });

  it('a retried fix that stops at any point still ends with one message, saying remediated', async () => {
    const probe = harness();
    probe.world.levels.set('s', 'unsafe');
    const { event: probeEvent } = await failedFirst(probe, 's', (x) => {
      x.world.failNextWrite = throttled();
    });
    const points = new Killer();
    await invoke(probe, probeEvent, points);
    const failures: Record<string, string[]> = {};
    for (let k = 1; k <= points.seq; k++) {
      for (const when of ['before', 'after'] as const) {
        const h = harness();
        h.world.levels.set('s', 'unsafe');
        const { event, recordId } = await failedFirst(h, 's', (x) => {
          x.world.failNextWrite = throttled();
        });
        const { result, log } = await deliver(h, event, [[k, when]]);
        const problems: string[] = [];
        if (result?.outcome !== 'remediated') problems.push(`outcome ${result?.outcome}`);
        if (h.world.writes !== 1) problems.push(`writes ${h.world.writes}`);
        const messages = messagesOf(h, recordId);
        if (messages.posts !== 1 || messages.last !== 'remediated') problems.push(`Slack ${JSON.stringify(messages)}`);
        if (h.ledger.records.get(recordId)?.before?.state === undefined) problems.push('no state before');
        if (problems.length > 0) failures[`${k}:${points.points[k - 1]}:${when}`] = [...problems, ...log];
      }
    }
    expect(failures).toEqual({});
  }, 60_000);
});

describe('requests per path stay as documented', () => {
  it('a fix: two table requests; a compliant resource: one; a redelivery of a settled event: one', async () => {
    const h = harness();
    h.world.levels.set('c1', 'unsafe');
    const event = widgetEvent('c1');
    await invoke(h, event);
    expect(h.ledger.requests).toEqual(['claim', 'finalize']);
    h.ledger.requests = [];
    await invoke(h, event);
    expect(h.ledger.requests).toEqual(['settle']);
    h.ledger.requests = [];
    h.clock.now += 1_000;
    await invoke(h, widgetEvent('c1'));
    expect(h.ledger.requests).toEqual(['settle']);
  });

  it('a change recovered after a stop: the refused write and the final one', async () => {
    const h = harness();
    h.world.levels.set('c2', 'unsafe');
    const event = widgetEvent('c2');
    h.world.stopAfterNextWrite = true;
    await settleOrStop(invoke(h, event));
    h.clock.now += LEASE_MS + 1_000;
    h.ledger.requests = [];
    expect((await invoke(h, event)).outcome).toBe('remediated');
    expect(h.ledger.requests).toEqual(['settle', 'finalize']);
  });
});
