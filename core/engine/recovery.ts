import { randomUUID } from 'node:crypto';
import { canonicalJson, type ChangeRecord, type Step } from '../model/index.ts';
import { carryThrough, finish, leaseMs } from './change.ts';
import { afterChange } from './follow-ups.ts';
import { isDone, type Observation } from './observe.ts';
import type { EventResult } from './results.ts';
import type { Run } from './run.ts';

/** The steps still to do: a suffix of the intended steps equal to what the live resource calls for, or null. */
export function remainingSteps(intended: Step[], live: Step[]): Step[] | null {
  const key = (step: Step) => canonicalJson([step.operation, step.input, step.before]);
  const wanted = live.map(key);
  for (let done = 0; done <= intended.length; done++) {
    const rest = intended.slice(done);
    if (rest.length === wanted.length && rest.every((step, index) => key(step) === wanted[index])) return rest;
  }
  return null;
}

/**
 * An intent left unfinished by an invocation that stopped (a crash, a timeout) after claiming the
 * resource. Its claim has run out; the live resource says what happened:
 * - it complies: the change took effect; the record becomes `remediated` with the state before it,
 *   so that rollback works;
 * - it still calls for (the rest of) the planned steps: they are applied now;
 * - anything else: the record is `failed` with both states, for a person.
 */
export async function recover(run: Run, seen: Observation, intent: ChangeRecord): Promise<EventResult> {
  const now = run.now();
  if (intent.claim && intent.claim.leaseUntil > now) {
    return run.result('failed', `record ${intent.recordId} is being completed by another invocation (its claim runs until ${new Date(intent.claim.leaseUntil).toISOString()}); this delivery is retried`, {
      recordId: intent.recordId,
      retryable: true,
    });
  }
  // What the rule needs to judge the resource is still being prepared: look again with the next delivery.
  if (seen.kind === 'unreadable' && seen.notReady) return run.result('failed', seen.reason, { recordId: intent.recordId, retryable: true });
  const approval = intent.approvalId ? await run.ledger.getApproval(intent.approvalId) : undefined;
  const before = intent.before ?? { summary: 'unknown', state: null };
  const base = {
    before,
    steps: intent.steps,
    recovered: true,
    ...(intent.approvalId ? { approvalId: intent.approvalId, decidedBy: intent.decidedBy } : {}),
    ...(intent.risks ? { risks: intent.risks } : {}),
  };
  const takeOver = { owner: randomUUID() };
  if (seen.kind !== 'seen') {
    const record = run.record('failed', `an earlier invocation stopped in the middle of this change, and now: ${seen.reason}; a person should check the resource`, { ...base, needsPerson: true });
    return finish(run, record, takeOver, approval, { takeOver: true, changed: true });
  }
  if (isDone(seen.plan)) {
    const summary = intent.steps.map((step) => step.description).join('; ');
    const notes = await afterChange(run);
    const record = run.record('remediated', `${summary} (recovered: the invocation that made the change stopped before recording it; completed from the live resource)${notes}`, {
      ...base,
      after: seen.before,
    });
    return finish(run, record, takeOver, approval, { takeOver: true, changed: true });
  }
  const remaining = seen.plan.status === 'change' ? remainingSteps(intent.steps, seen.plan.steps) : null;
  if (remaining) {
    const leaseUntil = now + leaseMs(run);
    const taken = await run.ledger.takeOver({ lockKey: intent.claim?.lockKey ?? run.resource, recordId: intent.recordId, owner: takeOver.owner, leaseUntil, now });
    if (!taken) return run.result('failed', `another invocation took over record ${intent.recordId} first; this delivery is retried`, { retryable: true });
    return carryThrough(run, { owner: takeOver.owner, leaseUntil, steps: remaining, before, approval, recovered: true });
  }
  const record = run.record(
    'failed',
    `an earlier invocation stopped in the middle of this change, and the resource is now neither as it was (${before.summary}) nor as planned (${seen.before.summary}); a person should compare the two states`,
    { ...base, after: seen.before, needsPerson: true },
  );
  return finish(run, record, takeOver, approval, { takeOver: true, changed: true });
}
