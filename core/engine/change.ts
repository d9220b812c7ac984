import { randomUUID } from 'node:crypto';
import { type ChangeRecord, describeError, type Notification, type PendingApproval, type Step } from '../model/index.ts';
import { announceRecord, earlierMessage, notificationResult } from './announce.ts';
import { applySteps, NotSentError, writeRefused } from './apply.ts';
import { afterChange } from './follow-ups.ts';
import { isTransient, verify } from './observe.ts';
import type { Conflict } from './ports.ts';
import type { EventResult } from './results.ts';
import type { Run } from './run.ts';

/** A write is sent only with this much of the claim left, so no write lands after the claim ran out. */
export const LEASE_MARGIN_MS = 2_000;
/** A write still under way this long before the claim runs out is aborted (the SDK may retry it for ~20 s). */
export const ABORT_MARGIN_MS = 1_000;
/** A change that ended this long before a read started may have been missed by it (clock skew between invocations). */
export const STALE_READ_MARGIN_MS = 250;
/** Reads after a change before it counts as not taking effect: some services are eventually consistent. */
const VERIFY_DELAYS_MS = [0, 300, 1_000];

export interface Claimed {
  owner: string;
  leaseUntil: number;
  /** The intent's steps: all of them are recorded (and undone by a rollback). */
  steps: Step[];
  /** The steps to send now: the rest of a plan an earlier invocation began. All of `steps` when absent. */
  toApply?: Step[];
  before: { summary: string; state: unknown };
  approval?: PendingApproval | undefined;
  /** Completing the intent of an invocation that stopped. */
  recovered?: boolean;
  risks?: string[] | undefined;
  /** The message an earlier, failed attempt of this record posted: it is updated, not posted again. */
  notification?: Notification | undefined;
}

export function leaseMs(run: Run): number {
  const configured = run.deps.settings.lockLeaseSeconds * 1000;
  return Math.max(1_000, Math.min(configured, run.deps.maxLeaseMs?.() ?? configured));
}

/** Aborts the writes sent under a claim a moment before it runs out: an aborted write's outcome is unknown. */
export function leaseSignal(run: Run, leaseUntil: number): { signal: AbortSignal; done: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`the claim on ${run.resource} ran out`)), Math.max(0, leaseUntil - ABORT_MARGIN_MS - run.now()));
  timer.unref?.();
  return { signal: controller.signal, done: () => clearTimeout(timer) };
}

/**
 * Claims the resource and writes the intent — the plan and the state before it — in one request.
 * Refused when someone holds a live claim, a change ended after this invocation began reading,
 * the event was handled already, or a person's Reject or exception stands. A failed earlier
 * attempt of the same record that posted a message is written over only by an intent that carries
 * that message (one more request, on that path only), so that the outcome updates it.
 */
export async function claimChange(
  run: Run,
  plan: { steps: Step[]; risks?: string[] | undefined },
  before: { summary: string; state: unknown },
  readSince: number,
  approval?: PendingApproval,
): Promise<{ kind: 'claimed'; claimed: Claimed } | { kind: 'conflict'; conflict: Conflict }> {
  let notification: Notification | undefined;
  for (let attempt = 1; ; attempt++) {
    const owner = randomUUID();
    const now = run.now();
    const leaseUntil = now + leaseMs(run);
    const intent = run.record(
      'failed',
      'in progress: the change started and did not finish',
      {
        before,
        steps: plan.steps,
        claim: { owner, leaseUntil, lockKey: run.resource },
        ...(approval ? { approvalId: approval.approvalId, decidedBy: approval.decidedBy } : {}),
        ...(plan.risks ? { risks: plan.risks } : {}),
        ...(notification ? { notification } : {}),
      },
      'in-progress',
    );
    const written = await run.ledger.claim({
      record: intent,
      lockKey: run.resource,
      owner,
      leaseUntil,
      now,
      readSince: readSince - STALE_READ_MARGIN_MS,
      guards: run.guards,
      ...(approval ? { approvalId: approval.approvalId } : {}),
    });
    if (written.ok) return { kind: 'claimed', claimed: { owner, leaseUntil, steps: plan.steps, before, approval, risks: plan.risks, notification } };
    const { record: earlier, ...rest } = written.conflict;
    const message = earlierMessage(earlier);
    if (!message) return { kind: 'conflict', conflict: written.conflict };
    // Anything else in the way is answered first; a writable failure is not a record to report.
    if (Object.keys(rest).length > 0 || attempt > 1) return { kind: 'conflict', conflict: rest };
    notification = message;
  }
}

/**
 * Applies the claimed steps, verifies, follows up, announces and writes the final record with
 * the claim released (one request). Where the process may stop, or a write's outcome is unknown,
 * the intent stays behind for the next delivery to complete from the resource; a failure that
 * leaves the resource half-changed is for a person.
 */
export async function carryThrough(run: Run, claimed: Claimed): Promise<EventResult> {
  const { steps, before, approval } = claimed;
  const toApply = claimed.toApply ?? steps;
  const doneBefore = steps.length - toApply.length;
  const base = {
    before,
    steps,
    ...(approval ? { approvalId: approval.approvalId, decidedBy: approval.decidedBy } : {}),
    ...(claimed.recovered ? { recovered: true } : {}),
    ...(claimed.risks ? { risks: claimed.risks } : {}),
    ...(claimed.notification ? { notification: claimed.notification } : {}),
  };
  const lease = leaseSignal(run, claimed.leaseUntil);
  const applied = await applySteps(run.rule, run.context.clients, toApply, run.callLog, {
    signal: lease.signal,
    beforeEach: () => {
      if (run.now() > claimed.leaseUntil - LEASE_MARGIN_MS) throw new NotSentError('the claim on the resource ran out before the write; nothing more was sent');
    },
  }).finally(lease.done);
  let record: ChangeRecord;
  let retryable: boolean | undefined;
  if (!applied.ok) {
    const failedStep = toApply[applied.applied.length]?.operation ?? 'the write';
    if (!writeRefused(applied.error)) {
      // The write may have landed: only the resource can tell. The intent and the claim stay, and the
      // next delivery (after the claim has run out) completes the record from the resource, as after a crash.
      return run.result(
        'failed',
        `the outcome of ${failedStep} is unknown (${describeError(applied.error)}); the change stays in progress, and the next delivery completes it from what the resource shows`,
        { recordId: run.recordId, retryable: true },
      );
    }
    const done = [...steps.slice(0, doneBefore).map((step) => step.operation), ...applied.applied];
    const partial = done.length > 0;
    retryable = !partial && ((applied.error as { notSent?: boolean }).notSent === true || isTransient(applied.error));
    record = run.record(
      'failed',
      partial
        ? `write failed after ${done.join(', ')} succeeded, so the resource is half-changed; a person should finish or undo it: ${describeError(applied.error)}`
        : `write failed; nothing was changed: ${describeError(applied.error)}`,
      { ...base, ...(partial ? { needsPerson: true } : {}) },
    );
  } else {
    let checked: Awaited<ReturnType<typeof verify>> | undefined;
    try {
      for (const delay of VERIFY_DELAYS_MS) {
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
        checked = await verify(run, before);
        if (checked.ok) break;
      }
    } catch (error) {
      // The change was made; the intent stays, and the next delivery completes the record from the resource.
      return run.result('failed', `the change was made but could not be verified: ${describeError(error)}; the next delivery completes the record`, {
        recordId: run.recordId,
        retryable: true,
      });
    }
    if (!checked?.ok) {
      record = run.record('failed', `verification failed: after the change the resource still needs: ${checked?.summary}`, {
        ...base,
        ...(checked ? { after: checked.after } : {}),
        needsPerson: true,
      });
    } else {
      const summary = steps.map((step) => step.description).join('; ');
      const recovered = claimed.recovered
        ? ` (completed after the invocation that started it stopped${doneBefore > 0 ? `: ${toApply.length} of ${steps.length} steps sent now` : ''})`
        : '';
      const notes = await afterChange(run);
      record = run.record('remediated', `${summary}${recovered}${notes}`, { ...base, after: checked.after });
    }
  }
  return finish(run, record, claimed, approval, { ...(retryable !== undefined ? { retryable } : {}) });
}

export interface FinishOptions {
  takeOver?: boolean;
  changed?: boolean;
  /** Whether another delivery can help a failed record: by default, unless a person must decide. */
  retryable?: boolean;
  /** A rollback marks the record it undid. */
  rolledBack?: { recordId: string; by: string };
}

/** Announces, then writes the final record and releases the claim. */
export async function finish(
  run: Run,
  record: ChangeRecord,
  claim: { owner: string; leaseUntil?: number },
  approval?: PendingApproval,
  options: FinishOptions = {},
): Promise<EventResult> {
  const settledTo: 'applied' | 'failed' = record.outcome === 'remediated' ? 'applied' : 'failed';
  const retryable = record.outcome === 'failed' ? (options.retryable ?? !record.needsPerson) && !record.needsPerson : undefined;
  // Only an approval still approved is settled by this record (the claim checked it; a recovery may
  // find it moved), and not by a failure a retry can settle: the approval stays for the retry.
  const settles = approval?.status === 'approved' && retryable !== true;
  // The approval as this record leaves it: a hub keeps its organization-wide view from what it is told.
  const shown = approval ? (settles ? { ...approval, status: settledTo, resultRecordId: run.recordId } : approval) : undefined;
  // Past its claim, another invocation may have posted this record already: look for its message first.
  const overran = claim.leaseUntil !== undefined && run.now() >= claim.leaseUntil;
  const notification = await announceRecord(record, { announcer: run.deps.announcer, log: run.deps.log, rule: run.rule, approval: shown, lookFirst: overran });
  const final: ChangeRecord = { ...record, notification, calls: [...run.callLog.calls], writes: run.callLog.writes };
  let finalized: boolean;
  try {
    finalized = await run.ledger.finalize({
      record: final,
      lockKey: run.resource,
      owner: claim.owner,
      now: run.now(),
      // Writes here, or an earlier invocation's that this one completes: reads begun before now are stale.
      changed: options.changed ?? run.callLog.writes > 0,
      ...(options.takeOver ? { takeOver: true } : {}),
      ...(approval && settles ? { approval: { approvalId: approval.approvalId, to: settledTo } } : {}),
      ...(options.rolledBack ? { rolledBack: options.rolledBack } : {}),
    });
  } catch (error) {
    return run.result('failed', `${record.outcome === 'remediated' ? 'the change was made and verified' : record.reason}, but its record could not be written: ${describeError(error)}; the next delivery completes it`, {
      recordId: run.recordId,
      retryable: true,
    });
  }
  if (!finalized) {
    const now = await run.ledger.getRecord(run.recordId);
    return run.result('failed', `the claim on ${run.resource} ran out before this invocation finished; the record is as another invocation left it: ${now?.outcome ?? 'missing'}: ${now?.reason ?? ''}`, {
      recordId: run.recordId,
      retryable: true,
    });
  }
  const reported = notificationResult(notification);
  return run.resultOf(final, { ...(reported ? { notification: reported } : {}), ...(retryable !== undefined ? { retryable } : {}) });
}
