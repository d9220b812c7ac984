import { handleRuleEvent } from '../../core/engine/handle-event.ts';
import type { Announcer, EngineDeps, Ledger } from '../../core/engine/ports.ts';
import type { EventResult } from '../../core/engine/results.ts';
import { rollbackRecord } from '../../core/engine/rollback.ts';
import { freshId } from './events.ts';
import { FakeAnnouncer, FakeWorld, fakeClient, fakeDeps, fakeRule, MemoryLedger } from './fake-rule.ts';

/**
 * Crash tests: an invocation that may stop at any await on the table, the resource or Slack (it
 * never returns, as a process that died there), and the deliveries that follow it.
 */

export const LEASE_MS = 50_000;
export const WIDGET = 'AWS::Fake::Widget';

/** A Config finding for a widget, answered by the fake rule under its default name (or another Config rule's). */
export function widgetEvent(widget: string, id = freshId(), configRuleName = 'fake-widget-safe') {
  return {
    version: '0',
    id,
    'detail-type': 'Config Rules Compliance Change',
    source: 'aws.config',
    account: '111122223333',
    time: '2026-11-20T09:14:03Z',
    region: 'us-east-1',
    resources: [],
    detail: {
      awsAccountId: '111122223333',
      awsRegion: 'us-east-1',
      configRuleName,
      resourceType: WIDGET,
      resourceId: widget,
      messageType: 'ComplianceChangeNotification',
      newEvaluationResult: { complianceType: 'NON_COMPLIANT', annotation: null, resultToken: null },
    },
  };
}

/** "Remediation Approved", as slack-actions puts it on the bus. */
export function approvedEvent(approvalId: string) {
  const detail = { approvalId, ruleId: 'fake-widget' };
  return { version: '0', id: freshId(), 'detail-type': 'Remediation Approved', source: 'driftfix.approvals', account: '111122223333', time: '2026-11-20T10:00:00Z', region: 'us-east-1', resources: [], detail };
}

/** The awaits of one invocation, named; the `killAt`-th one (before or after it takes effect) never returns. */
export class Killer {
  seq = 0;
  points: string[] = [];
  private fire: () => void = () => {};
  /** Settles when the invocation has stopped at its kill point. */
  readonly stopped = new Promise<void>((resolve) => {
    this.fire = resolve;
  });
  constructor(
    readonly killAt = -1,
    readonly when: 'before' | 'after' = 'before',
  ) {}

  async at<T>(name: string, work: () => Promise<T>): Promise<T> {
    this.seq += 1;
    this.points.push(name);
    if (this.seq === this.killAt && this.when === 'before') return this.halt<T>();
    const value = await work();
    if (this.seq === this.killAt && this.when === 'after') return this.halt<T>();
    return value;
  }

  private halt<T>(): Promise<T> {
    this.fire();
    return new Promise<T>(() => {});
  }
}

export interface Harness {
  world: FakeWorld;
  ledger: MemoryLedger;
  announcer: FakeAnnouncer;
  clock: { now: number };
  rule: ReturnType<typeof fakeRule>;
}

export function harness(options: { steps?: 1 | 2; mode?: 'auto' | 'approve' | 'notify' } = {}): Harness {
  return { world: new FakeWorld(), ledger: new MemoryLedger(), announcer: new FakeAnnouncer(), clock: { now: Date.parse('2026-11-20T10:00:00Z') }, rule: fakeRule(options) };
}

/** One invocation's dependencies, every await of which goes through the killer. */
export function depsFor(h: Harness, killer = new Killer(), env: Partial<EngineDeps['settings']> = {}): EngineDeps {
  const base = fakeDeps(h.world, h.ledger, { rule: h.rule, now: () => h.clock.now, announcer: h.announcer, env });
  const ledger = new Proxy(h.ledger, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string' || prop === 'stopAt') return value;
      return (...args: unknown[]) => killer.at(`ledger.${prop}`, () => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args));
    },
  }) as unknown as Ledger;
  const announcer: Announcer = { kind: 'slack', announce: (a, o) => killer.at('slack.announce', () => h.announcer.announce(a, o)) };
  const client = fakeClient(h.world);
  const store = { send: (command: object, options?: { abortSignal?: AbortSignal }) => killer.at(`world.${command.constructor.name}`, () => client.send(command, options)) };
  return { ...base, ledger, announcer, clientsFor: () => ({ store }) };
}

export function invoke(h: Harness, event: unknown, killer = new Killer(), env: Partial<EngineDeps['settings']> = {}): Promise<EventResult> {
  return handleRuleEvent(event, h.rule, depsFor(h, killer, env), { dryRun: false });
}

export function rollback(h: Harness, recordId: string, killer = new Killer(), options = { force: false, by: 'cli:op' }) {
  return rollbackRecord(recordId, depsFor(h, killer), options);
}

/**
 * The result, or 'stopped' when the invocation hangs (the process died): at once when `until` is
 * the killer that stopped it (after letting work already under way elsewhere in the invocation run
 * out, as it would have before the process died), else after `until` milliseconds.
 */
export async function settleOrStop<T>(promise: Promise<T>, until: number | Killer = 200): Promise<T | 'stopped'> {
  const stop =
    typeof until === 'number'
      ? new Promise<'stopped'>((resolve) => setTimeout(() => resolve('stopped'), until))
      : until.stopped.then(async () => {
          for (let tick = 0; tick < 5; tick++) await new Promise((resolve) => setTimeout(resolve, 0));
          return 'stopped' as const;
        });
  return Promise.race([promise, stop]);
}

/**
 * Delivers an event as SQS would: again after each stop or retryable failure (the clock moved past
 * the lease), until it settles. `kills` stops the first deliveries at those points.
 */
export async function deliver(h: Harness, event: unknown, kills: Array<[number, 'before' | 'after']> = []): Promise<{ result: EventResult | undefined; log: string[] }> {
  const log: string[] = [];
  for (let attempt = 0; attempt < 8; attempt++) {
    const [k, when] = kills[attempt] ?? [-1, 'before'];
    const killer = new Killer(k, when);
    const result = await settleOrStop(invoke(h, event, killer), killer);
    h.clock.now += LEASE_MS + 1_000;
    if (result === 'stopped') {
      log.push(`#${attempt} stopped at ${killer.points.at(-1)} (${when})`);
      continue;
    }
    log.push(`#${attempt} ${result.outcome}${result.duplicate ? ' (duplicate)' : ''}${result.retryable ? ' (retryable)' : ''}: ${result.reason.slice(0, 140)}`);
    if ((result.outcome === 'failed' && result.retryable) || result.notification === 'failed') continue;
    return { result, log };
  }
  return { result: undefined, log };
}

/** Every message Slack shows for a record, and what the last word on it says. */
export function messagesOf(h: Harness, recordId: string) {
  const posts = h.announcer.posts.filter((post) => post.record.recordId === recordId);
  const last = [...h.announcer.posts, ...h.announcer.updates].filter((message) => message.record.recordId === recordId).at(-1);
  return { posts: posts.length, last: last?.record.outcome };
}

export function lockOf(h: Harness, widget: string) {
  return h.ledger.locks.get(`${WIDGET}/${widget}`);
}
