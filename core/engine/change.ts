import { randomUUID } from 'node:crypto';
import { type ChangeRecord, describeError, type PendingApproval, type Step } from '../model/index.ts';
import { announceRecord, notificationResult } from './announce.ts';
import { applySteps } from './apply.ts';
import { afterChange } from './follow-ups.ts';
import { verify } from './observe.ts';
import type { Conflict } from './ports.ts';
import type { EventResult } from './results.ts';
import type { Run } from './run.ts';

/** A write is sent only with this much of the claim left, so no write lands after the claim ran out. */
const LEASE_MARGIN_MS = 2_000;
/** A change that ended this long before a read started may have been missed by it (clock skew between invocations). */
export const STALE_READ_MARGIN_MS = 250;
/** Reads after a change before it counts as not taking effect: some services are eventually consistent. */
const VERIFY_DELAYS_MS = [0, 300, 1_000];

export interface Claimed {
  owner: string;
  leaseUntil: number;
  steps: Step[];
  before: { summary: string; state: unknown };
  approval?: PendingApproval | undefined;
  /** Completing the intent of an invocation that stopped. */
  recovered?: boolean;
  risks?: string[] | undefined;
}

export function leaseMs(run: Run): number {
  const configured = run.deps.settings.lockLeaseSeconds * 1000;
  return Math.max(1_000, Math.min(configured, run.deps.maxLeaseMs?.() ?? configured));
}

/**
 * Claims the resource and writes the intent — the plan and the state before it — in one request.
 * Refused when someone holds a live claim, a change ended after this invocation began reading,
 * the event was handled already, or a person's Reject or exception stands.
 */
export async function claimChange(
  run: Run,
  plan: { steps: Step[]; risks?: string[] | undefined },
  before: { summary: string; state: unknown },
  readSince: number,
  approval?: PendingApproval,
): Promise<{ kind: 'claimed'; claimed: Claimed } | { kind: 'conflict'; conflict: Conflict }> {
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
  if (!written.ok) return { kind: 'conflict', conflict: written.conflict };
  return { kind: 'claimed', claimed: { owner, leaseUntil, steps: plan.steps, before, approval, risks: plan.risks } };
}

/**
 * Applies the claimed steps, verifies, follows up, announces and writes the final record with
 * the claim released (one request). Where the process may stop, the intent stays behind for the
 * next delivery to complete; a failure that leaves the resource half-changed is for a person.
 */
export async function carryThrough(run: Run, claimed: Claimed): Promise<EventResult> {
  const { steps, before, approval } = claimed;
  const base = {
    before,
    steps,
    ...(approval ? { approvalId: approval.approvalId, decidedBy: approval.decidedBy } : {}),
    ...(claimed.recovered ? { recovered: true } : {}),
    ...(claimed.risks ? { risks: claimed.risks } : {}),
  };
  const applied = await applySteps(run.rule, run.context.clients, steps, run.callLog, () => {
    if (run.now() > claimed.leaseUntil - LEASE_MARGIN_MS) throw new Error('the claim on the resource ran out before the write; nothing more was sent');
  });
  let record: ChangeRecord;
  if (!applied.ok) {
    const partial = applied.applied.length > 0;
    record = run.record(
      'failed',
      partial
        ? `write failed after ${applied.applied.join(', ')} succeeded, so the resource is half-changed; a person should finish or undo it: ${describeError(applied.error)}`
        : `write failed; nothing was changed: ${describeError(applied.error)}`,
      { ...base, ...(partial ? { needsPerson: true } : {}) },
    );
  } else {
    let checked: Awaited<ReturnType<typeof verify>> | undefined;
    try {
      for (const delay of VERIFY_DELAYS_MS) {
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
        checked = await verify(run);
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
      const recovered = claimed.recovered ? ' (completed after the invocation that started it stopped)' : '';
      const notes = await afterChange(run);
      record = run.record('remediated', `${summary}${recovered}${notes}`, { ...base, after: checked.after });
    }
  }
  return finish(run, record, claimed, approval);
}

/** Announces, then writes the final record and releases the claim. */
export async function finish(
  run: Run,
  record: ChangeRecord,
  claim: { owner: string },
  approval?: PendingApproval,
  options: { takeOver?: boolean; changed?: boolean } = {},
): Promise<EventResult> {
  const settledTo: 'applied' | 'failed' = record.outcome === 'remediated' ? 'applied' : 'failed';
  // The approval as this record leaves it: a hub keeps its organization-wide view from what it is told.
  const settled = approval ? { ...approval, status: settledTo, resultRecordId: run.recordId } : undefined;
  const notification = await announceRecord(record, { announcer: run.deps.announcer, log: run.deps.log, rule: run.rule, approval: settled });
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
      ...(approval ? { approval: { approvalId: approval.approvalId, to: settledTo } } : {}),
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
  const retryable = final.outcome === 'failed' && !final.needsPerson;
  return run.resultOf(final, { ...(reported ? { notification: reported } : {}), ...(retryable ? { retryable } : {}) });
}
