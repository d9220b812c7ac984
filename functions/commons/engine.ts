import { randomUUID } from 'node:crypto';
import type { AnyRule, Plan, ReadClients, ReadContext, Step } from '../../rules/types.ts';
import { type CallLog, withCallLog } from './call-log.ts';
import { type ChangeRecord, isSettled, type PendingApproval, recordIdFor } from './change-record.ts';
import { LOCK_LEASE_MS, LOCK_WAIT_MS, type Mode, type Outcome } from './constants.ts';
import { applyStep } from './apply-steps.ts';
import { describeError, ResourceBusyError } from './errors.ts';
import { type Finding, resourceKey } from './finding.ts';
import { intakeEvent } from './intake.ts';
import type { RecordStore } from './record-store.ts';
import { chooseRule } from './routing.ts';
import type { Settings } from './settings.ts';

export interface EngineLog {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

/** Everything the engine touches, injected so tests and the local CLI can swap any of it. */
export interface EngineDeps {
  /** Every rule driftfix ships: the engine checks the event really belongs to this function's rule. */
  rules: readonly AnyRule[];
  clients: ReadClients;
  /** Required unless dry-running. */
  store?: RecordStore | undefined;
  settings: Settings;
  identity: { account: string; region: string };
  log: EngineLog;
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
}

/**
 * Handles one event for one rule's function: validate, choose, lock, read, plan, act, verify,
 * record. Never throws for bad input; throws only when it cannot record what happened.
 */
export async function processEvent(
  raw: unknown,
  functionRule: AnyRule,
  deps: EngineDeps,
  options: ProcessOptions,
): Promise<EventResult> {
  const now = deps.now ?? Date.now;
  const intake = intakeEvent(raw, { ...deps.identity, acceptReplay: deps.settings.acceptReplay, now });
  if (intake.kind !== 'finding') {
    return { outcome: intake.kind, reason: intake.reason, calls: [], writes: 0, ...(intake.eventId ? { eventId: intake.eventId } : {}) };
  }
  const { finding } = intake;
  const resource = resourceKey(finding);
  const base = { resource, eventId: finding.eventId };

  const choice = chooseRule(finding, deps.rules);
  if (choice.kind !== 'rule') return { outcome: choice.kind, reason: choice.reason, calls: [], writes: 0, ...base };
  const rule = choice.rule;
  if (rule.id !== functionRule.id) {
    return { outcome: 'skipped', rule: functionRule.id, reason: `event belongs to rule ${rule.id}, not ${functionRule.id}`, calls: [], writes: 0, ...base };
  }
  const mode = deps.settings.modes[rule.id] ?? rule.defaultMode;
  if (mode === 'off') return { outcome: 'skipped', rule: rule.id, reason: `rule ${rule.id} is off`, calls: [], writes: 0, ...base };

  const decision = new Decision(rule, finding, mode, deps, now);
  return withCallLog(async (callLog) => {
    decision.callLog = callLog;
    return options.dryRun ? decision.dryRun() : decision.applyUnderLock();
  });
}

class Decision {
  callLog: CallLog | undefined;
  private readonly context: ReadContext<unknown>;
  private readonly resource: string;
  private readonly recordId: string;

  constructor(
    private readonly rule: AnyRule,
    private readonly finding: Finding,
    private readonly mode: Mode,
    private readonly deps: EngineDeps,
    private readonly now: () => number,
  ) {
    this.resource = resourceKey(finding);
    this.recordId = recordIdFor(finding.eventId, rule.id);
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
      const reason = `dry run, would ${gate === 'auto' ? 'apply' : gate === 'approve' ? 'ask for approval to apply' : 'only notify'}: ${plan.summary}`;
      return this.result('planned', reason, { before, steps: plan.steps });
    } catch (error) {
      return this.result('failed', describeError(error));
    }
  }

  async applyUnderLock(): Promise<EventResult> {
    const store = this.deps.store;
    if (!store) throw new Error('a record store (REMEDIATION_TABLE) is required to apply');
    const owner = randomUUID();
    await this.acquire(store, owner);
    try {
      const previous = await store.getRecord(this.recordId);
      if (previous && isSettled(previous)) {
        // At-least-once delivery: this event was handled already; report that and touch nothing.
        return this.result(previous.outcome, `duplicate delivery, already handled: ${previous.reason}`, {
          recordId: previous.recordId,
          ...(previous.approvalId ? { approvalId: previous.approvalId } : {}),
        });
      }
      return await this.decideAndAct(store, previous);
    } finally {
      await store.releaseLock(this.resource, owner);
    }
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

  private async decideAndAct(store: RecordStore, previous: ChangeRecord | undefined): Promise<EventResult> {
    let state: unknown;
    let plan: Plan;
    try {
      const excluded = await this.exclusion();
      if (excluded) return await this.record(store, 'skipped', excluded, {});
      ({ plan, state } = await this.readAndPlan());
    } catch (error) {
      return this.record(store, 'failed', `could not read the resource: ${describeError(error)}`, {});
    }
    const before = { summary: this.rule.describe(state), state };
    if (plan.status === 'compliant') return this.record(store, 'compliant', plan.summary, { before });
    if (plan.status === 'unfixable') return this.record(store, 'skipped', plan.summary, { before });

    const gate = this.gateFor(plan);
    if (gate === 'notify') {
      return this.record(store, 'notified', `mode notify: ${plan.summary}`, { before, steps: plan.steps });
    }
    if (gate === 'approve') return this.requestApproval(store, plan, before);
    return this.applyAndVerify(store, plan, before, previous);
  }

  private gateFor(plan: Extract<Plan, { status: 'change' }>): Mode {
    if (this.mode === 'auto' && plan.approvalReason) return 'approve';
    return this.mode;
  }

  private async requestApproval(
    store: RecordStore,
    plan: Extract<Plan, { status: 'change' }>,
    before: { summary: string; state: unknown },
  ): Promise<EventResult> {
    const open = await store.findOpenApproval(this.rule.id, this.resource, this.now());
    if (open) {
      // Config re-evaluates periodically; one question per resource is enough.
      return this.record(store, 'pending-approval', `already waiting for approval ${open.approvalId}: ${plan.summary}`, {
        before,
        steps: plan.steps,
        approvalId: open.approvalId,
      });
    }
    const createdAt = new Date(this.now());
    const approval: PendingApproval = {
      approvalId: `apr-${randomUUID()}`,
      status: 'pending',
      recordId: this.recordId,
      eventId: this.finding.eventId,
      ruleId: this.rule.id,
      resource: this.resource,
      finding: this.finding,
      steps: plan.steps,
      reason: plan.approvalReason ?? `rule ${this.rule.id} runs in approve mode`,
      createdAt: createdAt.toISOString(),
      expiresAt: new Date(createdAt.getTime() + this.deps.settings.approvalTtlHours * 3_600_000).toISOString(),
    };
    await store.putApproval(approval);
    return this.record(store, 'pending-approval', `waiting for approval (${approval.reason}): ${plan.summary}`, {
      before,
      steps: plan.steps,
      approvalId: approval.approvalId,
    });
  }

  private async applyAndVerify(
    store: RecordStore,
    plan: Extract<Plan, { status: 'change' }>,
    before: { summary: string; state: unknown },
    previous: ChangeRecord | undefined,
  ): Promise<EventResult> {
    // Written before the first change, so that a crash between writes leaves a trace.
    await this.record(store, 'failed', 'in progress: the change started and did not finish', { before, steps: plan.steps }, 'in-progress', previous);
    const applied: string[] = [];
    try {
      for (const step of plan.steps) {
        await applyStep(this.deps.clients, step);
        applied.push(step.operation);
      }
    } catch (error) {
      const done = applied.length > 0 ? ` after ${applied.join(', ')} succeeded` : '; nothing was changed';
      return this.record(store, 'failed', `write failed${done}: ${describeError(error)}`, { before, steps: plan.steps });
    }
    try {
      const verified = await this.readAndPlan();
      const after = { summary: this.rule.describe(verified.state), state: verified.state };
      if (verified.plan.status !== 'compliant') {
        return this.record(store, 'failed', `verification failed: after the change the resource still needs: ${verified.plan.summary}`, {
          before,
          after,
          steps: plan.steps,
        });
      }
      return this.record(store, 'remediated', plan.summary, { before, after, steps: plan.steps });
    } catch (error) {
      return this.record(store, 'failed', `the change was made but could not be verified: ${describeError(error)}`, { before, steps: plan.steps });
    }
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

  private async record(
    store: RecordStore,
    outcome: Outcome,
    reason: string,
    details: { before?: ChangeRecord['before']; after?: ChangeRecord['after']; steps?: Step[]; approvalId?: string },
    status: ChangeRecord['status'] = 'final',
    previous?: ChangeRecord,
  ): Promise<EventResult> {
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
    };
    await store.putRecord(record);
    const log = outcome === 'failed' ? this.deps.log.error : this.deps.log.info;
    if (status === 'final') {
      log.call(this.deps.log, `${outcome}: ${reason}`, { recordId: record.recordId, rule: record.ruleId, resource: record.resource, eventId: record.eventId, outcome, calls: record.calls, writes: record.writes });
    }
    return this.result(outcome, reason, {
      recordId: this.recordId,
      ...(details.before ? { before: details.before.summary } : {}),
      ...(details.after ? { after: details.after.summary } : {}),
      ...(details.steps ? { steps: details.steps } : {}),
      ...(details.approvalId ? { approvalId: details.approvalId } : {}),
    });
  }

  private result(
    outcome: Outcome,
    reason: string,
    extra: { recordId?: string; approvalId?: string; before?: string; after?: string; steps?: Step[] } = {},
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

