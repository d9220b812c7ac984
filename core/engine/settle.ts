import { type ChangeRecord, guardReason, type Outcome, type PendingApproval, resourceKey } from '../model/index.ts';
import { announceRecord, earlierMessage, isAnnounced, notificationResult } from './announce.ts';
import { STALE_READ_MARGIN_MS } from './change.ts';
import { type Observation, observe } from './observe.ts';
import type { Conflict } from './ports.ts';
import { recover } from './recovery.ts';
import { reportExisting } from './report.ts';
import type { EventResult } from './results.ts';
import { type RecordDetails, Run } from './run.ts';

export interface SettleOptions {
  retryable?: boolean;
  /** With the suppression and exemption checks. */
  guarded?: boolean;
  /** The approval the record answers, as it leaves it (its question is updated). */
  approval?: PendingApproval;
  /** Once the record is written, before it is announced. */
  afterWrite?: () => Promise<unknown>;
  /** The write was refused: instead of `resolveConflict`. */
  onConflict?: (conflict: Conflict) => Promise<EventResult>;
}

/**
 * Records an outcome that changes nothing (one request), unless the event has a record already.
 * Announced outcomes are posted afterwards and the post noted (a second request). Over an earlier
 * failed attempt that was posted, the record is written carrying that message (one more request,
 * on that path only) and the message is updated, whatever the outcome: it must not keep saying failed.
 */
export async function settleOutcome(
  run: Run,
  seen: Observation,
  outcome: Outcome,
  reason: string,
  details: RecordDetails = {},
  options: SettleOptions = {},
): Promise<EventResult> {
  const refused = options.onConflict ?? ((conflict: Conflict) => answer(run, seen, conflict));
  let record = run.record(outcome, reason, details);
  // A record that refers to a message already posted (the open approval's) is not posted again.
  let announced = isAnnounced(record) && !details.notification;
  let written = await run.ledger.settle(announced ? { ...record, notification: { status: 'pending', attempts: 0 } } : record, options.guarded ? run.guards : undefined);
  const message = written.ok ? undefined : earlierMessage(written.conflict.record);
  if (!written.ok && message) {
    const { record: _failed, ...rest } = written.conflict;
    if (Object.keys(rest).length > 0) return refused(rest);
    record = { ...record, notification: { ...message, status: 'pending' } };
    announced = true;
    written = await run.ledger.settle(record, options.guarded ? run.guards : undefined);
  }
  const retryable = outcome === 'failed' ? { retryable: options.retryable === true } : {};
  if (!written.ok) return refused(written.conflict);
  await options.afterWrite?.();
  if (!announced) return run.resultOf(record, retryable);
  const notification = await announceRecord(record, { announcer: run.deps.announcer, log: run.deps.log, rule: run.rule, lookFirst: outcome === 'failed', approval: options.approval });
  await run.ledger.setNotification(record, notification);
  const reported = notificationResult(notification);
  return run.resultOf({ ...record, notification }, { ...(reported ? { notification: reported } : {}), ...retryable });
}

async function answer(run: Run, seen: Observation, conflict: Conflict): Promise<EventResult> {
  const next = await resolveConflict(run, seen, conflict, false);
  return next === 'look-again' ? run.result('failed', 'the resource changed while it was being read; retried', { retryable: true }) : next;
}

/** Why a conditional write was refused, and what to do about it. */
export async function resolveConflict(run: Run, seen: Observation, conflict: Conflict, mayLookAgain: boolean): Promise<EventResult | 'look-again'> {
  // A failure a retry may write over is no answer (the write carrying its message is refused only by something else).
  if (conflict.record && !earlierMessage(conflict.record)) {
    return conflict.record.status === 'in-progress' ? recover(run, seen, conflict.record) : reportExisting(run, conflict.record);
  }
  const guarded = guardReason(conflict, run.now());
  if (guarded) return settleOutcome(run, seen, 'skipped', guarded);
  if (conflict.approval) {
    return run.result('skipped', `approval ${conflict.approval.approvalId} is ${conflict.approval.status}, not approved: nothing applied`, { approvalId: conflict.approval.approvalId });
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
