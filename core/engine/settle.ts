import { type ChangeRecord, type Outcome, type PendingApproval, resourceKey } from '../model/index.ts';
import { announceRecord, isAnnounced, notificationResult } from './announce.ts';
import { STALE_READ_MARGIN_MS } from './change.ts';
import { type Observation, observe } from './observe.ts';
import type { Conflict } from './ports.ts';
import { recover } from './recovery.ts';
import { reportExisting } from './report.ts';
import type { EventResult } from './results.ts';
import { type RecordDetails, Run } from './run.ts';

/**
 * Records an outcome that changes nothing (one request), unless the event has a record already.
 * Announced outcomes are posted afterwards and the post noted (a second request).
 */
export async function settleOutcome(
  run: Run,
  seen: Observation,
  outcome: Outcome,
  reason: string,
  details: RecordDetails = {},
  options: { retryable?: boolean; guarded?: boolean; approval?: PendingApproval } = {},
): Promise<EventResult> {
  const record = run.record(outcome, reason, details);
  // A record that refers to a message already posted (the open approval's) is not posted again.
  const announced = isAnnounced(record) && !details.notification;
  const written = await run.ledger.settle(announced ? { ...record, notification: { status: 'pending', attempts: 0 } } : record, options.guarded ? run.guards : undefined);
  if (!written.ok) {
    const next = await resolveConflict(run, seen, written.conflict, false);
    return next === 'look-again' ? run.result('failed', 'the resource changed while it was being read; retried', { retryable: true }) : next;
  }
  if (!announced) return run.resultOf(record, options.retryable ? { retryable: true } : {});
  const notification = await announceRecord(record, { announcer: run.deps.announcer, log: run.deps.log, rule: run.rule, lookFirst: outcome === 'failed', approval: options.approval });
  await run.ledger.setNotification(record, notification);
  const reported = notificationResult(notification);
  return run.resultOf({ ...record, notification }, { ...(reported ? { notification: reported } : {}), ...(options.retryable ? { retryable: true } : {}) });
}

/** Why a conditional write was refused, and what to do about it. */
export async function resolveConflict(run: Run, seen: Observation, conflict: Conflict, mayLookAgain: boolean): Promise<EventResult | 'look-again'> {
  if (conflict.record) {
    return conflict.record.status === 'in-progress' ? recover(run, seen, conflict.record) : reportExisting(run, conflict.record);
  }
  const now = new Date(run.now()).toISOString();
  if (conflict.suppression && conflict.suppression.until > now) {
    const { until, by, approvalId } = conflict.suppression;
    return settleOutcome(run, seen, 'skipped', `suppressed until ${until}: ${by.replace(/^cli:/, '')} rejected this fix (approval ${approvalId})`);
  }
  if (conflict.exemption && conflict.exemption.until > now) {
    const { until, by, reason } = conflict.exemption;
    return settleOutcome(run, seen, 'skipped', `exempted until ${until} by ${by.replace(/^cli:/, '')}: ${reason}`);
  }
  if (conflict.approval) {
    return run.result('skipped', `approval ${conflict.approval.approvalId} is ${conflict.approval.status}, not approved: nothing applied`);
  }
  const lock = conflict.lock;
  if (lock?.leaseUntil !== undefined && lock.leaseUntil > run.now()) {
    return run.result('failed', `${run.resource} is being changed by another invocation (its claim runs until ${new Date(lock.leaseUntil).toISOString()}); nothing was changed, and this delivery is retried`, {
      retryable: true,
    });
  }
  if (lock?.intent) return recoverAbandoned(run, lock.intent, mayLookAgain);
  const settledAt = lock?.settledAt;
  if (seen.kind === 'seen' && settledAt !== undefined && settledAt >= seen.readSince - STALE_READ_MARGIN_MS) {
    if (mayLookAgain) {
      // A change on this resource ended while it was being read: read again.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, settledAt + STALE_READ_MARGIN_MS + 1 - run.now())));
      return 'look-again';
    }
    return run.result('failed', `${run.resource} kept changing while it was being read; this delivery is retried`, { retryable: true });
  }
  return run.result('failed', `could not claim ${run.resource}; this delivery is retried`, { retryable: true });
}

/** The resource is held by the run-out intent of another event: complete it first (same rule), or leave it to its rule. */
async function recoverAbandoned(run: Run, recordId: string, mayLookAgain: boolean): Promise<EventResult | 'look-again'> {
  const record = await run.ledger.getRecord(recordId);
  if (record?.status !== 'in-progress') return mayLookAgain ? 'look-again' : run.result('failed', `${run.resource} was busy; retried`, { retryable: true });
  if (record.ruleId !== run.rule.id) {
    return run.result('failed', `an unfinished change of rule ${record.ruleId} (record ${recordId}) holds ${run.resource}; that rule's next delivery completes it, and this delivery is retried`, {
      retryable: true,
    });
  }
  const other = runForRecord(run, record);
  const seen = await observe(other);
  const done = await recover(other, seen, record);
  run.deps.log.info(`completed the unfinished record ${recordId} before acting: ${done.outcome}`, { recordId });
  return mayLookAgain ? 'look-again' : run.result('failed', `completed the unfinished record ${recordId} first; this delivery is retried`, { retryable: true });
}

/** A run that completes an earlier event's record, from what the record says. */
function runForRecord(run: Run, record: ChangeRecord): Run {
  const id = record.resource.slice(record.resource.indexOf('/') + 1);
  const finding = {
    ...run.finding,
    eventId: record.eventId,
    replayed: record.replayed,
    resourceId: id,
    resourceType: run.rule.resource.type,
    trigger: record.trigger,
  };
  const other = new Run(run.rule, finding, run.deps, run.callLog, record.recordId);
  if (other.resource !== record.resource) other.resource = resourceKey(run.rule.resource.type, id);
  return other;
}
