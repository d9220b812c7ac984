import { randomUUID } from 'node:crypto';
import { type AnyRule, type ChangeRecord, describeError, type Finding, recordIdFor, type Step } from '../model/index.ts';
import { announceRecord, earlierMessage } from './announce.ts';
import { applySteps, NotSentError, writeRefused } from './apply.ts';
import { withCallLog } from './call-log.ts';
import { LEASE_MARGIN_MS, leaseMs, leaseSignal, STALE_READ_MARGIN_MS } from './change.ts';
import { fingerprintOf } from './recovery.ts';
import type { EngineDeps } from './ports.ts';
import { Run } from './run.ts';

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
 * recorded (and announced) as a change of its own. Crash-safe like a fix: the intent is written
 * first, and running the same rollback again completes it from what the resource shows.
 */
export async function rollbackRecord(recordId: string, deps: EngineDeps, options: RollbackOptions): Promise<RollbackResult> {
  const refused = (reason: string): RollbackResult => ({ recordId, outcome: 'refused', reason, calls: [], writes: 0 });
  const ledger = deps.ledger;
  if (!ledger) throw new Error('a record table (REMEDIATION_TABLE) is required to roll back');
  const record = await ledger.getRecord(recordId);
  if (!record) return refused('no such record');
  if (record.outcome !== 'remediated' || record.status !== 'final' || !record.after || !record.before) {
    return refused(`record ${recordId} is ${record.outcome}: only changes the bot made and verified (remediated) can be rolled back`);
  }
  if (record.rolledBackBy) return refused(`already rolled back (record ${record.rolledBackBy})`);
  if (record.account !== deps.identity.account || record.region !== deps.identity.region) {
    return refused(`record ${recordId} is for ${record.account}/${record.region}; these credentials act in ${deps.identity.account}/${deps.identity.region}`);
  }
  const rule = deps.rules.find((candidate) => candidate.id === record.ruleId);
  if (!rule) return refused(`rule ${record.ruleId} is not part of this driftfix`);
  const undo = [...record.steps].reverse().flatMap((step) => (step.undo ? [step.undo] : []));
  if (undo.length === 0) return refused('the record holds no step to undo');

  return withCallLog(async (callLog) => {
    const run = new Run(rule, findingOf(record, rule), deps, callLog, recordIdFor(`rollback:${recordId}`, rule.id));
    run.resource = record.resource;
    const result = (outcome: RollbackResult['outcome'], reason: string, extra: Partial<RollbackResult> = {}): RollbackResult => ({
      recordId,
      outcome,
      reason,
      calls: [...callLog.calls],
      writes: callLog.writes,
      ...extra,
    });
    const fingerprint = fingerprintOf(rule);
    const readSince = run.now();
    let current: unknown;
    try {
      current = await rule.readState(run.context);
    } catch (error) {
      return result('failed', `could not read the resource: ${describeError(error)}`);
    }
    const asLeft = fingerprint(current) === fingerprint(record.after?.state);
    const restoredAlready = fingerprint(current) === fingerprint(record.before?.state);
    const owner = randomUUID();
    const leaseUntil = run.now() + leaseMs(run);
    const steps: Step[] = undo.map((step) => ({ operation: step.operation, input: step.input, description: `undo: ${step.operation}`, before: null, after: null, undo: null }));
    const earlier = await run.ledger.getRecord(run.recordId);
    if (earlier?.status === 'final' && earlier.outcome === 'rolled-back') {
      return result('refused', `already rolled back (record ${earlier.recordId})`, { rollbackRecordId: earlier.recordId });
    }
    if (earlier?.status === 'final' && earlier.needsPerson) {
      return result('refused', `an earlier rollback of this record stopped half-way and is for a person (record ${earlier.recordId}: ${earlier.reason})`, { rollbackRecordId: earlier.recordId });
    }
    // A rollback that stopped half-way is completed from what the resource shows.
    const takeOver = earlier?.status === 'in-progress';
    if (takeOver && earlier.claim && earlier.claim.leaseUntil > run.now()) {
      return result('refused', `this rollback is running in another process until ${new Date(earlier.claim.leaseUntil).toISOString()}; try again then`);
    }
    const mustApply = !(takeOver && restoredAlready);
    if (mustApply && !asLeft && !options.force) {
      return result(
        'refused',
        `the resource changed after the bot left it (bot left: ${record.after?.summary}; now: ${rule.describe(current)}); nothing was changed (use --force to roll back anyway)`,
      );
    }
    // The message of an earlier attempt (a failed one, or the stopped intent's): updated, not posted again.
    const message = takeOver ? earlier.notification : earlierMessage(earlier);
    const kept = message ? { notification: message } : {};
    const intent = run.record(
      'failed',
      `in progress: rollback of record ${recordId}`,
      { before: record.after, steps, decidedBy: options.by, rollbackOf: recordId, claim: { owner, leaseUntil, lockKey: record.resource }, ...kept },
      'in-progress',
    );
    let claimed: boolean;
    if (takeOver) {
      claimed = await run.ledger.takeOver({ lockKey: record.resource, recordId: run.recordId, owner, leaseUntil, now: run.now() });
    } else {
      const written = await run.ledger.claim({ record: intent, lockKey: record.resource, owner, leaseUntil, now: run.now(), readSince: readSince - STALE_READ_MARGIN_MS });
      const settledAt = written.ok ? undefined : written.conflict.lock?.settledAt;
      if (!written.ok && settledAt !== undefined && settledAt >= readSince - STALE_READ_MARGIN_MS && !(written.conflict.lock?.leaseUntil && written.conflict.lock.leaseUntil > run.now())) {
        return result('refused', `${record.resource} changed moments before this rollback read it; nothing was changed: run the rollback again`);
      }
      claimed = written.ok;
    }
    if (!claimed) return result('refused', `${record.resource} is being changed right now; try again`);
    if (mustApply) {
      const lease = leaseSignal(run, leaseUntil);
      const sent = await applySteps(rule, run.context.clients, undo, callLog, {
        signal: lease.signal,
        beforeEach: () => {
          if (run.now() > leaseUntil - LEASE_MARGIN_MS) throw new NotSentError('the claim on the resource ran out before the write; nothing more was sent');
        },
      }).finally(lease.done);
      if (!sent.ok && !writeRefused(sent.error)) {
        // The write may have landed: the intent stays, and running the rollback again completes it from the resource.
        const until = new Date(leaseUntil).toISOString();
        return result('failed', `the outcome of the rollback's write is unknown (${describeError(sent.error)}); run the rollback again after ${until} to complete it from what the resource shows`);
      }
      if (!sent.ok) {
        const done = sent.applied.length > 0 ? ` after ${sent.applied.join(', ')} succeeded` : '; nothing was changed';
        const failed = run.record('failed', `rollback write failed${done}: ${describeError(sent.error)}`, {
          steps,
          decidedBy: options.by,
          rollbackOf: recordId,
          ...kept,
          ...(sent.applied.length > 0 ? { needsPerson: true } : {}),
        });
        await run.ledger.finalize({ record: failed, lockKey: record.resource, owner, now: run.now(), changed: sent.applied.length > 0 });
        return result('failed', failed.reason);
      }
    }
    let restored: unknown;
    try {
      restored = await rule.readState(run.context);
    } catch (error) {
      return result('failed', `the rollback was applied but could not be verified: ${describeError(error)}; run it again to complete the record`);
    }
    const verified = fingerprint(restored) === fingerprint(record.before?.state);
    const recovered = takeOver ? ' (completed after the process that started it stopped)' : '';
    const reason = verified
      ? `rolled back record ${recordId} (${record.reason}) at the request of ${options.by.replace(/^cli:/, '')}${recovered}`
      : `rollback of record ${recordId} applied, but the resource now reads "${rule.describe(restored)}" rather than the recorded "${record.before?.summary}"`;
    const rollback: ChangeRecord = run.record(verified ? 'rolled-back' : 'failed', reason, {
      before: record.after,
      after: { summary: rule.describe(restored), state: restored },
      steps,
      decidedBy: options.by,
      rollbackOf: recordId,
      ...(verified ? {} : { needsPerson: true }),
      ...(takeOver ? { recovered: true } : {}),
      ...kept,
    });
    const notification = await announceRecord(rollback, { announcer: deps.announcer, log: deps.log, rule, lookFirst: takeOver });
    const finalized = await run.ledger.finalize({
      record: { ...rollback, notification, calls: [...callLog.calls], writes: callLog.writes },
      lockKey: record.resource,
      owner,
      now: run.now(),
      changed: true,
      ...(verified ? { rolledBack: { recordId, by: run.recordId } } : {}),
    });
    if (!finalized) return result('failed', `the rollback was applied, but its claim ran out before it was recorded; run it again to complete the record`);
    return result(verified ? 'rolled-back' : 'failed', reason, { rollbackRecordId: run.recordId });
  });
}

function findingOf(record: ChangeRecord, rule: AnyRule): Finding {
  const resourceId = record.resource.slice(record.resource.indexOf('/') + 1);
  const reporter = record.trigger.kind === 'config-rule' ? 'config' : record.trigger.kind === 'security-hub' ? 'security-hub' : 'access-analyzer';
  return {
    eventId: `rollback:${record.recordId}`,
    reporter,
    replayed: false,
    account: record.account,
    region: record.region,
    time: record.createdAt,
    resourceType: rule.resource.type,
    resourceId,
    trigger: record.trigger,
  };
}
