import {
  type AnyRule,
  type ChangeRecord,
  guardKeys,
  type Finding,
  type Mode,
  type Outcome,
  type Plan,
  type ReadContext,
  recordIdFor,
  resourceKey,
  type Step,
} from '../model/index.ts';
import type { CallLog } from './call-log.ts';
import type { EngineDeps, Guards, Ledger } from './ports.ts';
import type { EventResult } from './results.ts';

export type RecordDetails = Partial<
  Pick<ChangeRecord, 'before' | 'after' | 'steps' | 'approvalId' | 'decidedBy' | 'notification' | 'risks' | 'recovered' | 'needsPerson' | 'claim' | 'rollbackOf'>
>;

/**
 * One rule's work on one finding in one invocation: the finding as the rule addresses it, the
 * record it writes, the calls it made. Everything the pipeline's steps share.
 */
export class Run {
  readonly mode: Mode;
  /** The resource key: locks, suppressions, exceptions and approvals use it. */
  resource: string;
  readonly context: ReadContext<unknown, Record<string, unknown>>;
  readonly createdAt: string;

  constructor(
    readonly rule: AnyRule,
    /** The finding, its resource named as the rule's API wants it. */
    readonly finding: Finding,
    readonly deps: EngineDeps,
    readonly callLog: CallLog,
    readonly recordId = recordIdFor(finding.dedupeKey ?? finding.eventId, rule.id),
  ) {
    this.mode = deps.settings.modes[rule.id] ?? rule.defaultMode;
    this.resource = resourceKey(rule.resource.type, finding.resourceId);
    this.context = {
      clients: deps.clientsFor(rule),
      target: { account: finding.account, region: finding.region, resourceId: finding.resourceId },
      params: deps.settings.params[rule.id] ?? {},
      finding,
    };
    this.createdAt = new Date(this.now()).toISOString();
  }

  now(): number {
    return (this.deps.now ?? Date.now)();
  }

  get ledger(): Ledger {
    const ledger = this.deps.ledger;
    if (!ledger) throw new Error('a record table (REMEDIATION_TABLE) is required to act; without one, only dry runs work');
    return ledger;
  }

  /** What the mode and the plan allow for a change: apply it, ask a person first, or only tell. */
  gateFor(plan: Plan): 'auto' | 'approve' | 'notify' {
    if (this.mode === 'notify') return 'notify';
    if (this.mode === 'approve' || (plan.status === 'change' && plan.approvalReason)) return 'approve';
    return 'auto';
  }

  get guards(): Guards {
    return { keys: guardKeys({ ruleId: this.rule.id, resource: this.resource, scope: this.scope }) };
  }

  /** The part of the resource this finding asks about, where the rule's plan depends on it. */
  get scope(): string | undefined {
    return this.rule.scope?.(this.finding, this.context.params);
  }

  /** The canonical resource id once the state is known (an IAM policy's ARN rather than its id). */
  adopt(canonicalId: string | undefined): void {
    if (canonicalId) this.resource = resourceKey(this.rule.resource.type, canonicalId);
  }

  record(outcome: Outcome, reason: string, details: RecordDetails = {}, status: ChangeRecord['status'] = 'final'): ChangeRecord {
    const at = new Date(this.now()).toISOString();
    const { steps = [], ...rest } = details;
    return {
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
      steps,
      calls: [...this.callLog.calls],
      writes: this.callLog.writes,
      createdAt: this.createdAt,
      updatedAt: at,
      ...Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined)),
    };
  }

  /** A failure says whether another delivery can help (`retryable`); unless told, it cannot. */
  result(outcome: Outcome, reason: string, extra: Partial<EventResult> & { stepList?: Step[] } = {}): EventResult {
    const { stepList, ...rest } = extra;
    return {
      ...(outcome === 'failed' ? { retryable: false } : {}),
      outcome,
      rule: this.rule.id,
      resource: this.resource,
      eventId: this.finding.eventId,
      reason,
      calls: [...this.callLog.calls],
      writes: this.callLog.writes,
      ...rest,
      ...(stepList ? { steps: stepList.map(({ operation, description }) => ({ operation, description })) } : {}),
    };
  }

  /** The result for a record: what the operator sees of it. */
  resultOf(record: ChangeRecord, extra: Partial<EventResult> = {}): EventResult {
    return this.result(record.outcome, record.reason, {
      recordId: record.recordId,
      ...(record.approvalId ? { approvalId: record.approvalId } : {}),
      ...(record.before ? { before: record.before.summary } : {}),
      ...(record.after ? { after: record.after.summary } : {}),
      ...(record.steps.length > 0 ? { steps: record.steps.map(({ operation, description }) => ({ operation, description })) } : {}),
      ...extra,
    });
  }
}
