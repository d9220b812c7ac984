import { randomUUID } from 'node:crypto';
import type { AnyRule, Plan, ReadContext, ReadClients, Step } from '../../rules/types.ts';
import { type AnnounceResult, announce, isAnnounced, needsAnnouncement } from './announce.ts';
import { applyStep } from './apply-steps.ts';
import { canonicalJson } from './canonical-json.ts';
import { type CallLog, withCallLog } from './call-log.ts';
import { type ChangeRecord, isSettled, type PendingApproval, recordIdFor } from './change-record.ts';
import { LOCK_LEASE_MS, LOCK_WAIT_MS, type Mode, type Outcome } from './constants.ts';
import { describeError, isResourceGone, ResourceBusyError } from './errors.ts';
import { type Finding, resourceKey } from './finding.ts';
import { type ApprovedEvent, intakeEvent } from './intake.ts';
import type { RecordStore } from './record-store.ts';
import { chooseRule } from './routing.ts';
import type { Settings } from './settings.ts';
import { notifyUnhandled } from './unhandled-findings.ts';
import { LogOnlyNotifier, type Notifier } from './slack/slack-notifier.ts';

export interface EngineLog {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

/** Everything the engine touches, injected so tests and the local CLI can swap any of it. */
export interface EngineDeps {
  /** The rules this function may choose from: its own (Lambda) or all of them (local tools). */
  rules: readonly AnyRule[];
  clients: ReadClients;
  /** Required unless dry-running. */
  store?: RecordStore | undefined;
  settings: Settings;
  identity: { account: string; region: string };
  log: EngineLog;
  /** Slack, or the log when Slack is not configured. */
  notifier?: Notifier | undefined;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface ProcessOptions {
  /** Read and plan only: no write to the account or to the table. */
  dryRun: boolean;
}

/** The operator contract: one of these per event, as `npm run replay -- --json` prints it. */
export interface EventResult {
  outcome: Outcome;
  rule?: string;
  resource?: string;
  reason: string;
  calls: string[];
  writes: number;
  recordId?: string;
  approvalId?: string;
  eventId?: string;
  steps?: Array<Pick<Step, 'operation' | 'description'>>;
  before?: string;
  after?: string;
  /** Whether the record reached Slack; `failed` makes the Lambda retry (the change is not repeated). */
  notification?: Exclude<AnnounceResult, 'not-announced'>;
}

type Details = {
  before?: ChangeRecord['before'];
  after?: ChangeRecord['after'];
  steps?: Step[];
  approvalId?: string;
  approval?: PendingApproval;
  notification?: ChangeRecord['notification'];
  note?: string;
};

/**
 * Handles one event for one rule's function: validate, choose, lock, read, plan, act, verify,
 * record, announce. Never throws for bad input; throws only when it cannot record what happened.
 */
export async function processEvent(raw: unknown, functionRule: AnyRule, deps: EngineDeps, options: ProcessOptions): Promise<EventResult> {
  const now = deps.now ?? Date.now;
  const intake = intakeEvent(raw, { ...deps.identity, acceptReplay: deps.settings.acceptReplay, now });
  if (intake.kind === 'approved') return processApproved(intake.approved, functionRule, deps, options);
  if (intake.kind === 'skipped' && intake.unhandled) {
    // An error or internal-access finding of a resource type this rule handles: nothing to fix.
    const notified = await notifyUnhandled(intake.unhandled, deps, options.dryRun);
    if (notified) return notified;
  }
  if (intake.kind !== 'finding') {
    return { outcome: intake.kind, reason: intake.reason, calls: [], writes: 0, ...(intake.eventId ? { eventId: intake.eventId } : {}) };
  }
  const { finding } = intake;
  const base = { resource: resourceKey(finding), eventId: finding.eventId };

  const choice = chooseRule(finding, deps.rules);
  if (choice.kind !== 'rule') return { outcome: choice.kind, reason: choice.reason, calls: [], writes: 0, ...base };
  const rule = choice.rule;
  if (rule.id !== functionRule.id) {
    return { outcome: 'skipped', rule: functionRule.id, reason: `event belongs to rule ${rule.id}, not ${functionRule.id}`, calls: [], writes: 0, ...base };
  }
  const mode = deps.settings.modes[rule.id] ?? rule.defaultMode;
  if (mode === 'off') return { outcome: 'skipped', rule: rule.id, reason: `rule ${rule.id} is off`, calls: [], writes: 0, ...base };

  const decision = new Decision(rule, finding, mode, deps, now, recordIdFor(finding.eventId, rule.id));
  return withCallLog(async (callLog) => {
    decision.callLog = callLog;
    return options.dryRun ? decision.dryRun() : decision.underLock((store, previous) => decision.decideAndAct(store, previous));
  });
}

/** An approved change: the plan comes from the table, is re-checked against the live resource, applied once. */
async function processApproved(event: ApprovedEvent, functionRule: AnyRule, deps: EngineDeps, options: ProcessOptions): Promise<EventResult> {
  const refuse = (reason: string): EventResult => ({ outcome: 'rejected', reason, calls: [], writes: 0, eventId: event.eventId });
  if (event.ruleId !== functionRule.id) return refuse(`approval is for rule ${event.ruleId}, not ${functionRule.id}`);
  if (options.dryRun) return { outcome: 'skipped', rule: functionRule.id, reason: 'approvals are only applied with --apply', calls: [], writes: 0 };
  const store = deps.store;
  if (!store) throw new Error('a record store (REMEDIATION_TABLE) is required to apply an approval');
  const approval = await store.getApproval(event.approvalId);
  if (!approval) return refuse(`approval ${event.approvalId} does not exist`);
  if (approval.ruleId !== functionRule.id) return refuse(`approval ${approval.approvalId} belongs to rule ${approval.ruleId}`);
  const { finding } = approval;
  if (finding.account !== deps.identity.account || finding.region !== deps.identity.region) {
    return refuse(`approval ${approval.approvalId} is for ${finding.account}/${finding.region}, not this bot's account and region`);
  }
  const now = deps.now ?? Date.now;
  const mode = deps.settings.modes[functionRule.id] ?? functionRule.defaultMode;
  const decision = new Decision(functionRule, finding, mode, deps, now, recordIdFor(`approval:${approval.approvalId}`, functionRule.id));
  return withCallLog(async (callLog) => {
    decision.callLog = callLog;
    return decision.underLock(async (lockedStore, previous) => {
      // Read again under the lock: the approval's status is the only permission to write.
      const current = await lockedStore.getApproval(approval.approvalId);
      if (current?.status !== 'approved') {
        return decision.result('skipped', `approval ${approval.approvalId} is ${current?.status ?? 'gone'}, not approved: nothing applied`);
      }
      return decision.applyApproved(lockedStore, current, previous);
    });
  });
}

class Decision {
  callLog: CallLog | undefined;
  private readonly context: ReadContext<unknown>;
  private readonly resource: string;
  private readonly notifier: Notifier;

  constructor(
    private readonly rule: AnyRule,
    private readonly finding: Finding,
    private readonly mode: Mode,
    private readonly deps: EngineDeps,
    private readonly now: () => number,
    private readonly recordId: string,
  ) {
    this.resource = resourceKey(finding);
    this.notifier = deps.notifier ?? new LogOnlyNotifier();
    this.context = {
      clients: deps.clients,
      target: { account: finding.account, region: finding.region, resourceId: finding.resourceId },
      params: deps.settings.params[rule.id] ?? {},
    };
  }

  async dryRun(): Promise<EventResult> {
    try {
      const excluded = await this.exclusion();
      if (excluded) return this.result('skipped', excluded);
      const { plan, state } = await this.readAndPlan();
      const before = this.rule.describe(state);
      if (plan.status === 'compliant') return this.result('compliant', plan.summary, { before });
      if (plan.status === 'unfixable') return this.result('skipped', plan.summary, { before });
      const gate = this.gateFor(plan);
      const would = gate === 'auto' ? 'apply' : gate === 'approve' ? 'ask for approval to apply' : 'only notify';
      return this.result('planned', `dry run, would ${would}: ${plan.summary}`, { before, steps: plan.steps });
    } catch (error) {
      if (isResourceGone(error)) return this.result('skipped', `the resource no longer exists: ${describeError(error)}`);
      return this.result('failed', describeError(error));
    }
  }

  /** Serializes work on one resource across invocations, and answers redeliveries from the record. */
  async underLock(work: (store: RecordStore, previous: ChangeRecord | undefined) => Promise<EventResult>): Promise<EventResult> {
    const store = this.deps.store;
    if (!store) throw new Error('a record store (REMEDIATION_TABLE) is required to apply');
    const owner = randomUUID();
    await this.acquire(store, owner);
    try {
      const previous = await store.getRecord(this.recordId);
      if (previous && isSettled(previous)) return await this.duplicate(store, previous);
      return await work(store, previous);
    } finally {
      await store.releaseLock(this.resource, owner);
    }
  }

  /** At-least-once delivery: handled already. Touch nothing, but post the record if Slack missed it. */
  private async duplicate(store: RecordStore, previous: ChangeRecord): Promise<EventResult> {
    let notification: AnnounceResult = 'not-announced';
    if (needsAnnouncement(previous)) {
      const approval = previous.approvalId ? await store.getApproval(previous.approvalId) : undefined;
      notification = await announce(previous, { store, notifier: this.notifier, rule: this.rule, approval });
    }
    return this.result(previous.outcome, `duplicate delivery, already handled: ${previous.reason}`, {
      recordId: previous.recordId,
      ...(previous.approvalId ? { approvalId: previous.approvalId } : {}),
      ...(notification !== 'not-announced' ? { notification } : {}),
    });
  }

  private async acquire(store: RecordStore, owner: string): Promise<void> {
    const sleep = this.deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    const deadline = this.now() + LOCK_WAIT_MS;
    let delay = 50;
    while (!(await store.acquireLock(this.resource, owner, LOCK_LEASE_MS))) {
      if (this.now() >= deadline) throw new ResourceBusyError(`${this.resource} is being changed by another invocation`);
      await sleep(delay + Math.floor(Math.random() * delay));
      delay = Math.min(delay * 2, 500);
    }
  }

  async decideAndAct(store: RecordStore, previous: ChangeRecord | undefined): Promise<EventResult> {
    const suppressed = await store.getSuppression(this.rule.id, this.resource, this.now());
    if (suppressed) {
      const by = suppressed.by.startsWith('cli:') ? suppressed.by.slice(4) : suppressed.by;
      return this.record(store, 'skipped', `suppressed until ${suppressed.until}: ${by} rejected this fix (approval ${suppressed.approvalId})`, {});
    }
    let state: unknown;
    let plan: Plan;
    try {
      const excluded = await this.exclusion();
      if (excluded) return await this.record(store, 'skipped', excluded, {});
      ({ plan, state } = await this.readAndPlan());
    } catch (error) {
      if (isResourceGone(error)) return this.record(store, 'skipped', `the resource no longer exists: ${describeError(error)}`, {});
      return this.record(store, 'failed', `could not read the resource: ${describeError(error)}`, {});
    }
    const before = { summary: this.rule.describe(state), state };
    if (plan.status === 'compliant') return this.record(store, 'compliant', plan.summary, { before });
    if (plan.status === 'unfixable') return this.record(store, 'skipped', plan.summary, { before });

    const gate = this.gateFor(plan);
    if (gate === 'notify') return this.record(store, 'notified', `mode notify: ${plan.summary}`, { before, steps: plan.steps });
    if (gate === 'approve') return this.requestApproval(store, plan, before);
    return this.applyAndVerify(store, plan.steps, before, previous, {});
  }

  /** The approved steps are applied only if the live resource still calls for exactly them. */
  async applyApproved(store: RecordStore, approval: PendingApproval, previous: ChangeRecord | undefined): Promise<EventResult> {
    const extra = { approval, approvalId: approval.approvalId };
    let state: unknown;
    let plan: Plan;
    try {
      const excluded = await this.exclusion();
      if (excluded) {
        await store.transitionApproval(approval.approvalId, { from: 'approved', to: 'stale' });
        return await this.record(store, 'skipped', `${excluded}; the approved change was not applied`, extra);
      }
      ({ plan, state } = await this.readAndPlan());
    } catch (error) {
      if (isResourceGone(error)) {
        await store.transitionApproval(approval.approvalId, { from: 'approved', to: 'stale' });
        return this.record(store, 'skipped', `the resource no longer exists: ${describeError(error)}`, extra);
      }
      return this.record(store, 'failed', `could not read the resource: ${describeError(error)}`, extra);
    }
    const before = { summary: this.rule.describe(state), state };
    if (plan.status !== 'change') {
      await store.transitionApproval(approval.approvalId, { from: 'approved', to: 'stale', set: { resultRecordId: this.recordId } });
      const outcome = plan.status === 'compliant' ? 'compliant' : 'skipped';
      return this.record(store, outcome, `nothing to apply since the approval: ${plan.summary}`, { ...extra, before });
    }
    if (!sameSteps(plan.steps, approval.steps)) {
      await store.transitionApproval(approval.approvalId, { from: 'approved', to: 'stale', set: { resultRecordId: this.recordId } });
      return this.record(store, 'skipped', 'the resource changed after the approval, so the approved plan no longer holds; nothing was applied (a new finding will ask again)', {
        ...extra,
        before,
        steps: plan.steps,
      });
    }
    const result = await this.applyAndVerify(store, approval.steps, before, previous, extra);
    await store.transitionApproval(approval.approvalId, {
      from: 'approved',
      to: result.outcome === 'remediated' ? 'applied' : 'failed',
      set: { resultRecordId: this.recordId },
    });
    return result;
  }

  private gateFor(plan: Extract<Plan, { status: 'change' }>): Mode {
    if (this.mode === 'auto' && plan.approvalReason) return 'approve';
    return this.mode;
  }

  private async requestApproval(store: RecordStore, plan: Extract<Plan, { status: 'change' }>, before: { summary: string; state: unknown }): Promise<EventResult> {
    const open = await store.findOpenApproval(this.rule.id, this.resource, this.now());
    if (open) {
      // Config re-evaluates periodically; one question per resource is enough.
      return this.record(store, 'pending-approval', `already waiting for approval ${open.approvalId}: ${plan.summary}`, {
        before,
        steps: plan.steps,
        approvalId: open.approvalId,
        approval: open,
        ...(open.message ? { notification: { status: 'posted', attempts: 0, ...open.message } } : {}),
      });
    }
    const createdAt = new Date(this.now());
    const approval: PendingApproval = {
      approvalId: `apr-${randomUUID()}`,
      status: 'pending',
      recordId: this.recordId,
      eventId: this.finding.eventId,
      ruleId: this.rule.id,
      ruleTitle: this.rule.title,
      resource: this.resource,
      finding: this.finding,
      steps: plan.steps,
      reason: plan.approvalReason ?? `rule ${this.rule.id} runs in approve mode`,
      risk: plan.approvalReason ? 'high' : this.rule.risk,
      createdAt: createdAt.toISOString(),
      expiresAt: new Date(createdAt.getTime() + this.deps.settings.approvalTtlHours * 3_600_000).toISOString(),
    };
    await store.putApproval(approval);
    return this.record(store, 'pending-approval', `waiting for approval (${approval.reason}): ${plan.summary}`, {
      before,
      steps: plan.steps,
      approvalId: approval.approvalId,
      approval,
    });
  }

  private async applyAndVerify(
    store: RecordStore,
    steps: Step[],
    before: { summary: string; state: unknown },
    previous: ChangeRecord | undefined,
    extra: Details,
  ): Promise<EventResult> {
    // Written before the first change, so that a crash between writes leaves a trace.
    await this.write(store, 'failed', 'in progress: the change started and did not finish', { ...extra, before, steps }, 'in-progress', previous);
    const applied: string[] = [];
    try {
      for (const step of steps) {
        await applyStep(this.deps.clients, step);
        applied.push(step.operation);
      }
    } catch (error) {
      const done = applied.length > 0 ? ` after ${applied.join(', ')} succeeded` : '; nothing was changed';
      return this.record(store, 'failed', `write failed${done}: ${describeError(error)}`, { ...extra, before, steps });
    }
    try {
      const verified = await this.readAndPlan();
      const after = { summary: this.rule.describe(verified.state), state: verified.state };
      if (verified.plan.status !== 'compliant') {
        return this.record(store, 'failed', `verification failed: after the change the resource still needs: ${verified.plan.summary}`, {
          ...extra,
          before,
          after,
          steps,
        });
      }
      const summary = steps.map((step) => step.description).join('; ');
      return this.record(store, 'remediated', `${summary}${await this.afterChange()}`, { ...extra, before, after, steps });
    } catch (error) {
      return this.record(store, 'failed', `the change was made but could not be verified: ${describeError(error)}`, { ...extra, before, steps });
    }
  }

  /**
   * Follow-ups after a verified change: the rule's own (an Access Analyzer re-scan), and asking AWS
   * Config to evaluate the rule that reported it again, so its compliance turns green now.
   * A failure is noted, never fatal: the change stands.
   */
  private async afterChange(): Promise<string> {
    const notes: string[] = [];
    const follow = async (work: () => Promise<string>) => {
      try {
        const note = await work();
        if (note) notes.push(note);
      } catch (error) {
        notes.push(`follow-up failed (the change stands): ${describeError(error)}`);
      }
    };
    if (this.rule.afterChange) await follow(() => this.rule.afterChange?.(this.deps.clients, this.finding) ?? Promise.resolve(''));
    const trigger = this.finding.trigger;
    if (trigger.kind === 'config-rule' && this.deps.settings.reevaluateConfigRules && this.rule.services.includes('config')) {
      await follow(async () => {
        const { StartConfigRulesEvaluationCommand } = await import('@aws-sdk/client-config-service');
        await this.deps.clients.config.send(new StartConfigRulesEvaluationCommand({ ConfigRuleNames: [trigger.configRuleName] }));
        return `asked AWS Config to evaluate ${trigger.configRuleName} again`;
      });
    }
    return notes.map((note) => `; ${note}`).join('');
  }

  private async exclusion(): Promise<string | null> {
    if (!this.rule.readTags) return null;
    const tags = await this.rule.readTags(this.context);
    const { key, value } = this.deps.settings.exclusionTag;
    return tags[key] === value ? `resource is tagged ${key}=${value}` : null;
  }

  private async readAndPlan(): Promise<{ state: unknown; plan: Plan }> {
    const state = await this.rule.readState(this.context);
    return { state, plan: this.rule.plan(state, this.context.params, this.finding) };
  }

  private async write(
    store: RecordStore,
    outcome: Outcome,
    reason: string,
    details: Details,
    status: ChangeRecord['status'],
    previous?: ChangeRecord,
  ): Promise<ChangeRecord> {
    const at = new Date(this.now()).toISOString();
    const record: ChangeRecord = {
      recordId: this.recordId,
      status,
      eventId: this.finding.eventId,
      ruleId: this.rule.id,
      resource: this.resource,
      account: this.finding.account,
      region: this.finding.region,
      mode: this.mode,
      outcome,
      reason,
      trigger: this.finding.trigger,
      replayed: this.finding.replayed,
      steps: details.steps ?? [],
      calls: [...(this.callLog?.calls ?? [])],
      writes: this.callLog?.writes ?? 0,
      createdAt: previous?.createdAt ?? at,
      updatedAt: at,
      ...(details.before ? { before: details.before } : {}),
      ...(details.after ? { after: details.after } : {}),
      ...(details.approvalId ? { approvalId: details.approvalId } : {}),
      ...(details.approval?.decidedBy && details.approval.status !== 'pending' ? { decidedBy: details.approval.decidedBy } : {}),
      ...(details.notification ? { notification: details.notification } : {}),
    };
    // Without Slack the record is only logged: mark it so in this write, which saves announce.ts
    // a second write (it still marks records made elsewhere, such as rollbacks).
    if (!record.notification && status === 'final' && !this.notifier.enabled && isAnnounced(outcome)) {
      record.notification = { status: 'log-only', attempts: 1 };
    }
    await store.putRecord(record);
    return record;
  }

  private async record(store: RecordStore, outcome: Outcome, reason: string, details: Details): Promise<EventResult> {
    const record = await this.write(store, outcome, reason, details, 'final');
    const log = outcome === 'failed' ? this.deps.log.error : this.deps.log.info;
    log.call(this.deps.log, `${outcome}: ${reason}`, {
      recordId: record.recordId,
      rule: record.ruleId,
      resource: record.resource,
      eventId: record.eventId,
      outcome,
      calls: record.calls,
      writes: record.writes,
      ...(record.decidedBy ? { decidedBy: record.decidedBy } : {}),
    });
    const notification = await announce(record, {
      store,
      notifier: this.notifier,
      rule: this.rule,
      approval: details.approval,
      ...(details.note ? { note: details.note } : {}),
    });
    return this.result(outcome, reason, {
      recordId: this.recordId,
      ...(details.before ? { before: details.before.summary } : {}),
      ...(details.after ? { after: details.after.summary } : {}),
      ...(details.steps ? { steps: details.steps } : {}),
      ...(details.approvalId ? { approvalId: details.approvalId } : {}),
      ...(notification !== 'not-announced' ? { notification } : {}),
    });
  }

  result(
    outcome: Outcome,
    reason: string,
    extra: { recordId?: string; approvalId?: string; before?: string; after?: string; steps?: Step[]; notification?: EventResult['notification'] } = {},
  ): EventResult {
    const { steps, ...rest } = extra;
    return {
      outcome,
      rule: this.rule.id,
      resource: this.resource,
      eventId: this.finding.eventId,
      reason,
      calls: [...(this.callLog?.calls ?? [])],
      writes: this.callLog?.writes ?? 0,
      ...rest,
      ...(steps ? { steps: steps.map(({ operation, description }) => ({ operation, description })) } : {}),
    };
  }
}

/**
 * The approver approved a transition from a given state: the live plan must start from the same
 * state and send the same operations with the same inputs.
 */
function sameSteps(a: Step[], b: Step[]): boolean {
  const key = (steps: Step[]) => canonicalJson(steps.map((step) => [step.operation, step.input, step.before]));
  return key(a) === key(b);
}
