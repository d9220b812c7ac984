import { randomUUID } from 'node:crypto';
import type { AnyRule, ReadContext, Step } from '../../rules/types.ts';
import { announce } from './announce.ts';
import { applyStep } from './apply-steps.ts';
import { withCallLog } from './call-log.ts';
import { canonicalJson } from './canonical-json.ts';
import { type ChangeRecord, recordIdFor } from './change-record.ts';
import { LOCK_LEASE_MS } from './constants.ts';
import type { EngineDeps } from './engine.ts';
import { describeError } from './errors.ts';

export interface RollbackResult {
  recordId: string;
  outcome: 'rolled-back' | 'refused' | 'failed';
  reason: string;
  calls: string[];
  writes: number;
  rollbackRecordId?: string;
}

export interface RollbackOptions {
  /** Roll back even if the resource changed since the bot left it. */
  force: boolean;
  /** Who asked: `cli:<name>`. */
  by: string;
}

/**
 * Restores the recorded before-state of a change the bot made: only if the resource is still as
 * the bot left it (or `force`), with the undo steps the plan recorded, verified afterwards, and
 * recorded (and announced) as a change of its own.
 */
export async function rollbackRecord(recordId: string, deps: EngineDeps & { store: NonNullable<EngineDeps['store']> }, options: RollbackOptions): Promise<RollbackResult> {
  const refused = (reason: string): RollbackResult => ({ recordId, outcome: 'refused', reason, calls: [], writes: 0 });
  const record = await deps.store.getRecord(recordId);
  if (!record) return refused('no such record');
  if (record.outcome !== 'remediated' || !record.after || !record.before) {
    return refused(`record ${recordId} is ${record.outcome}: only changes the bot made and verified (remediated) can be rolled back`);
  }
  if (record.account !== deps.identity.account || record.region !== deps.identity.region) {
    return refused(`record ${recordId} is for ${record.account}/${record.region}; these credentials act in ${deps.identity.account}/${deps.identity.region}`);
  }
  const rule = deps.rules.find((candidate) => candidate.id === record.ruleId);
  if (!rule) return refused(`rule ${record.ruleId} is not part of this driftfix`);
  const rollbackId = recordIdFor(`rollback:${recordId}`, rule.id);
  const earlier = await deps.store.getRecord(rollbackId);
  if (earlier?.status === 'final' && earlier.outcome === 'rolled-back') return refused(`already rolled back (record ${rollbackId})`);
  const undo = [...record.steps].reverse().flatMap((step) => (step.undo ? [step.undo] : []));
  if (undo.length === 0) return refused('the record holds no step to undo');

  const owner = randomUUID();
  if (!(await deps.store.acquireLock(record.resource, owner, LOCK_LEASE_MS))) return refused(`${record.resource} is being changed right now; try again`);
  try {
    return await withCallLog(async (log) => {
      const result = (outcome: RollbackResult['outcome'], reason: string, extra: Partial<RollbackResult> = {}): RollbackResult => ({
        recordId,
        outcome,
        reason,
        calls: [...log.calls],
        writes: log.writes,
        ...extra,
      });
      const context = contextFor(record, rule, deps);
      const fingerprint = (state: unknown) => canonicalJson(rule.fingerprint ? rule.fingerprint(state) : state);
      let current: unknown;
      try {
        current = await rule.readState(context);
      } catch (error) {
        return result('failed', `could not read the resource: ${describeError(error)}`);
      }
      if (fingerprint(current) !== fingerprint(record.after?.state) && !options.force) {
        return result(
          'refused',
          `the resource changed after the bot left it (bot left: ${record.after?.summary}; now: ${rule.describe(current)}); nothing was changed (use --force to roll back anyway)`,
        );
      }
      const applied: string[] = [];
      try {
        for (const step of undo) {
          await applyStep(deps.clients, step);
          applied.push(step.operation);
        }
      } catch (error) {
        const done = applied.length > 0 ? ` after ${applied.join(', ')} succeeded` : '; nothing was changed';
        return result('failed', `rollback write failed${done}: ${describeError(error)}`);
      }
      const restored = await rule.readState(context);
      const verified = fingerprint(restored) === fingerprint(record.before?.state);
      const reason = verified
        ? `rolled back record ${recordId} (${record.reason}) at the request of ${options.by.replace(/^cli:/, '')}`
        : `rollback of record ${recordId} applied, but the resource now reads "${rule.describe(restored)}" rather than the recorded "${record.before?.summary}"`;
      const rollback: ChangeRecord = {
        ...record,
        recordId: rollbackId,
        status: 'final',
        eventId: `rollback:${recordId}`,
        outcome: verified ? 'rolled-back' : 'failed',
        reason,
        before: { summary: rule.describe(current), state: current },
        after: { summary: rule.describe(restored), state: restored },
        steps: undo.map(
          (step): Step => ({ operation: step.operation, input: step.input, description: `undo: ${step.operation}`, before: null, after: null, undo: null }),
        ),
        calls: [...log.calls],
        writes: log.writes,
        decidedBy: options.by,
        createdAt: new Date().toISOString(),
        updatedAt: new Date().toISOString(),
      };
      delete rollback.notification;
      delete rollback.approvalId;
      await deps.store.putRecord(rollback);
      if (deps.notifier) await announce(rollback, { store: deps.store, notifier: deps.notifier, rule });
      return result(verified ? 'rolled-back' : 'failed', reason, { rollbackRecordId: rollbackId });
    });
  } finally {
    await deps.store.releaseLock(record.resource, owner);
  }
}

function contextFor(record: ChangeRecord, rule: AnyRule, deps: EngineDeps): ReadContext<unknown> {
  const resourceId = record.resource.slice(record.resource.indexOf('/') + 1);
  return {
    clients: deps.clients,
    target: { account: record.account, region: record.region, resourceId },
    params: deps.settings.params[rule.id] ?? {},
  };
}
