import { z } from 'zod';
import type { Announcement, Announcer, EngineDeps, EngineLog } from '../../core/engine/ports.ts';
import type { AnyRule, Finding, Notification, Plan, ResourceKind } from '../../core/model/index.ts';
import { MemoryLedger } from './memory-ledger.ts';

/**
 * A resource in memory for engine tests: each named widget has a `level` that must be `safe`.
 * Writes can fail, or stop the process right after they take effect (they never return), as a
 * crashed or timed-out Lambda would.
 */
export class FakeWorld {
  readonly levels = new Map<string, string>();
  readonly tags = new Map<string, Record<string, string>>();
  readonly calls: string[] = [];
  writes = 0;
  failNextWrite: Error | undefined;
  stopAfterNextWrite = false;
  /** The next write takes effect, and then its answer is lost with this error (a timeout, a reset connection). */
  loseNextAnswer: Error | undefined;
  /** The next write hangs, before or after it takes effect, until its abort signal fires. */
  hangNextWrite: 'before' | 'after' | undefined;
  /** Abort signals the writes were sent with. */
  readonly signals: Array<AbortSignal | undefined> = [];
  /** A read that throws (the resource could not be read). */
  failReads: Error | undefined;
}

class ReadWidget {
  constructor(readonly input: { id: string }) {}
}
class TagsOfWidget {
  constructor(readonly input: { id: string }) {}
}
export class SetWidgetCommand {
  constructor(readonly input: { id: string; level: string }) {}
}

/** The fake's SDK client: answers commands from the world. */
export function fakeClient(world: FakeWorld) {
  return {
    async send(command: object, options: { abortSignal?: AbortSignal } = {}): Promise<unknown> {
      if (command instanceof ReadWidget) {
        world.calls.push('Fake.ReadWidget');
        if (world.failReads) throw world.failReads;
        const level = world.levels.get(command.input.id);
        if (level === undefined) throw Object.assign(new Error('no such widget'), { name: 'NoSuchEntity' });
        return { level };
      }
      if (command instanceof TagsOfWidget) {
        world.calls.push('Fake.TagsOfWidget');
        return { tags: world.tags.get(command.input.id) ?? {} };
      }
      if (command instanceof SetWidgetCommand) {
        world.calls.push('Fake.SetWidget');
        world.signals.push(options.abortSignal);
        if (world.failNextWrite) {
          const error = world.failNextWrite;
          world.failNextWrite = undefined;
          throw error;
        }
        const hang = world.hangNextWrite;
        world.hangNextWrite = undefined;
        if (hang === 'before') await aborted(options.abortSignal);
        world.levels.set(command.input.id, command.input.level);
        world.writes += 1;
        if (hang === 'after') await aborted(options.abortSignal);
        if (world.loseNextAnswer) {
          const error = world.loseNextAnswer;
          world.loseNextAnswer = undefined;
          throw error;
        }
        if (world.stopAfterNextWrite) {
          world.stopAfterNextWrite = false;
          return new Promise(() => {});
        }
        return {};
      }
      throw new Error(`unknown command ${command.constructor.name}`);
    },
  };
}

/** Waits for the signal (for ever without one), then fails as the SDK does when a request is aborted. */
function aborted(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_resolve, reject) => {
    const fail = () => reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
    if (signal?.aborted) fail();
    signal?.addEventListener('abort', fail, { once: true });
  });
}

export const WIDGET: ResourceKind = {
  type: 'AWS::Fake::Widget',
  securityHubTypes: ['FakeWidget'],
  parseId: (value) => (/^[a-z0-9-]+$/.test(value) ? { id: value } : { problem: `bad widget ${value}` }),
  protected: (id, { stackPrefix }) => (stackPrefix && id.startsWith(stackPrefix) ? 'it is the bot\'s own' : null),
};

export interface FakeState {
  level: string;
}

/** A rule that sets a widget's level to `safe`; `steps: 2` plans two writes (unsafe → warming → safe). */
export function fakeRule(options: { id?: string; mode?: 'auto' | 'approve' | 'notify'; steps?: 1 | 2; approvalFor?: string; scoped?: boolean | ((configRuleName: string) => string | undefined) } = {}): AnyRule {
  return {
    id: options.id ?? 'fake-widget',
    title: 'Fake widget level',
    resource: WIDGET,
    clients: { store: { service: 'Fake', load: async () => Object as never } },
    answers: { config: [{ identifier: 'FAKE_WIDGET_SAFE', resourceTypes: ['AWS::Fake::Widget'], defaultName: 'fake-widget-safe' }], securityHub: ['Fake.1'] },
    defaultMode: options.mode ?? 'auto',
    risk: 'low',
    params: z.strictObject({}),
    permissions: { read: ['fake:Read'] },
    operations: { 'Fake.SetWidget': { client: 'store', iamAction: 'fake:Set', command: async () => SetWidgetCommand } },
    readTags: async ({ clients, target }) => ((await (clients as any).store.send(new TagsOfWidget({ id: target.resourceId }))) as { tags: Record<string, string> }).tags,
    readState: async ({ clients, target }) => ({ level: ((await (clients as any).store.send(new ReadWidget({ id: target.resourceId }))) as FakeState).level }),
    plan(state: FakeState, _params, finding: Finding): Plan {
      if (state.level === 'safe') return { status: 'compliant', summary: 'the widget is safe' };
      if (state.level === 'broken') return { status: 'unfixable', summary: 'the widget is broken' };
      const set = (from: string, to: string) => ({
        operation: 'Fake.SetWidget',
        input: { id: finding.resourceId, level: to },
        description: `level ${from} → ${to}`,
        before: { level: from },
        after: { level: to },
        undo: { operation: 'Fake.SetWidget', input: { id: finding.resourceId, level: from } },
      });
      const steps = options.steps === 2 && state.level !== 'warming' ? [set(state.level, 'warming'), set('warming', 'safe')] : [set(state.level, 'safe')];
      return {
        status: 'change',
        summary: steps.map((step) => step.description).join('; '),
        steps,
        ...(options.approvalFor && state.level === options.approvalFor ? { approvalReason: `level ${state.level} needs a person`, risks: ['the widget restarts'] } : {}),
      };
    },
    describe: (state: FakeState) => `level ${state.level}`,
    // Scoped: each Config rule name asks its own question about the widget (as ports do for a security group).
    ...(options.scoped
      ? {
          scope: (finding: Finding) => {
            if (finding.trigger.kind !== 'config-rule') return undefined;
            return typeof options.scoped === 'function' ? options.scoped(finding.trigger.configRuleName) : finding.trigger.configRuleName;
          },
        }
      : {}),
  };
}

/** An announcer that keeps its messages, finds them by record id, and can fail. */
export class FakeAnnouncer implements Announcer {
  readonly kind = 'slack' as const;
  readonly posts: Announcement[] = [];
  readonly updates: Announcement[] = [];
  readonly lookups: string[] = [];
  private readonly byRecord = new Map<string, { channel: string; ts: string }>();
  fail = 0;
  private next = 1;

  async announce(announcement: Announcement, options: { lookFirst: boolean }): Promise<Notification> {
    if (this.fail > 0) {
      this.fail -= 1;
      throw new Error('Slack is down');
    }
    const { recordId } = announcement.record;
    let ref = announcement.updates;
    if (!ref && options.lookFirst) {
      this.lookups.push(recordId);
      ref = this.byRecord.get(recordId);
    }
    if (ref) this.updates.push(announcement);
    else {
      ref = { channel: 'C0DRIFTFIX1', ts: `1.${String(this.next++).padStart(6, '0')}` };
      this.posts.push(announcement);
      this.byRecord.set(recordId, ref);
    }
    return { status: 'posted', attempts: 1, ...ref };
  }
}

export const silentLog: EngineLog = { info() {}, warn() {}, error() {} };

/** Engine dependencies around a fake world, one invocation's worth: a new call for each "Lambda invocation". */
export function fakeDeps(world: FakeWorld, ledger: MemoryLedger, options: { rule?: AnyRule; now?: () => number; announcer?: Announcer; env?: Partial<EngineDeps['settings']> } = {}): EngineDeps {
  const rule = options.rule ?? fakeRule();
  return {
    rules: [rule],
    clientsFor: () => ({ store: fakeClient(world) }),
    ledger,
    settings: {
      table: 'memory',
      modes: { [rule.id]: rule.defaultMode },
      params: { [rule.id]: {} },
      exclusionTag: { key: 'remediation:skip', value: 'true' },
      acceptReplay: true,
      approvalTtlHours: 24,
      suppressionDays: 30,
      unhandledFindings: 'skip',
      reevaluateConfigRules: false,
      updateSecurityHub: false,
      ruleFollowUps: false,
      lockLeaseSeconds: 50,
      stackName: 'driftfix-test',
      hubAccount: undefined,
      ...options.env,
    },
    identity: { account: '111122223333', region: 'us-east-1' },
    log: silentLog,
    ...(options.announcer ? { announcer: options.announcer } : {}),
    ...(options.now ? { now: options.now } : {}),
  };
}

export { MemoryLedger };
