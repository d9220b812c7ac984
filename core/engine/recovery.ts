import { randomUUID } from 'node:crypto';
import { type AnyRule, canonicalJson, type ChangeRecord, guardReason, type Plan, type Step } from '../model/index.ts';
import { carryThrough, finish, leaseMs } from './change.ts';
import { afterChange } from './follow-ups.ts';
import { isDone, type Observation, observe } from './observe.ts';
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

/** What two states must share to count as the same (the rule's `fingerprint`, or the whole state). */
export function fingerprintOf(rule: Pick<AnyRule, 'fingerprint'>): (state: unknown) => string {
  return (state) => canonicalJson(rule.fingerprint ? rule.fingerprint(state as never) : state);
}

/**
 * An intent left unfinished by an invocation that stopped (a crash, a timeout, a write whose answer
 * was lost) after claiming the resource. Its claim has run out (the record's claim names the live
 * lease, also after a takeover); the live resource says what happened:
 * - it complies: the change took effect; the record becomes `remediated` with the state before it,
 *   so that rollback works;
 * - it still calls for (the rest of) the planned steps: they are applied now (for an approved change,
 *   only while the approval is still approved), and the record keeps every step of the plan;
 * - anything else: the record is `failed` with both states, for a person.
 * An unfinished rollback is completed as a rollback (`recoverRollback`).
 */
export async function recover(run: Run, observed: Observation & { transient?: boolean }, intent: ChangeRecord): Promise<EventResult> {
  if (intent.claim && intent.claim.leaseUntil > run.now()) {
    return run.result('failed', `record ${intent.recordId} is being completed by another invocation (its claim runs until ${new Date(intent.claim.leaseUntil).toISOString()}); this delivery is retried`, {
      recordId: intent.recordId,
      retryable: true,
    });
  }
  // A read begun while the dead invocation's claim was live may have missed its write: read again.
  const stale = observed.kind === 'seen' && observed.readSince <= (intent.claim?.leaseUntil ?? 0);
  const seen = stale ? await observe(run) : observed;
  // The resource cannot be judged right now (not ready, throttled): the intent stays for the next delivery.
  if (seen.kind === 'unreadable' && (seen.notReady || seen.transient)) return run.result('failed', seen.reason, { recordId: intent.recordId, retryable: true });
  if (intent.rollbackOf) return recoverRollback(run, seen, intent);
  const approval = intent.approvalId ? await run.ledger.getApproval(intent.approvalId) : undefined;
  const before = intent.before ?? { summary: 'unknown', state: null };
  const base = {
    before,
    steps: intent.steps,
    recovered: true,
    ...(intent.approvalId ? { approvalId: intent.approvalId, decidedBy: intent.decidedBy } : {}),
    ...(intent.risks ? { risks: intent.risks } : {}),
    ...(intent.notification ? { notification: intent.notification } : {}),
  };
  const takeOver = { owner: randomUUID() };
  const completed = { takeOver: true, changed: true };
  if (seen.kind !== 'seen') {
    const record = run.record('failed', `an earlier invocation stopped in the middle of this change, and now: ${seen.reason}; a person should check the resource`, { ...base, needsPerson: true });
    return finish(run, record, takeOver, approval, completed);
  }
  if (isDone(seen.plan)) {
    const summary = intent.steps.map((step) => step.description).join('; ');
    const notes = await afterChange(run);
    const record = run.record('remediated', `${summary} (recovered: the invocation that made the change stopped before recording it; completed from the live resource)${notes}`, {
      ...base,
      after: seen.before,
    });
    return finish(run, record, takeOver, approval, completed);
  }
  const remaining = seen.plan.status === 'change' ? remainingSteps(intent.steps, seen.plan.steps) : null;
  if (remaining && approval && approval.status !== 'approved') {
    // The approval moved since the claim (a hand-over undone, a refusal): nothing more is applied on its strength.
    const partial = remaining.length < intent.steps.length;
    const record = run.record(
      'failed',
      `an earlier invocation stopped in the middle of this approved change, and approval ${approval.approvalId} is now ${approval.status}: the rest was not applied${partial ? '; the resource is half-changed, a person should finish or undo it' : ''}`,
      { ...base, after: seen.before, ...(partial ? { needsPerson: true } : {}) },
    );
    return finish(run, record, takeOver, approval, { ...completed, retryable: false });
  }
  const stop = remaining ? await stopsNow(run, intent, seen.plan) : undefined;
  if (remaining && stop) {
    // The gate that let the change start no longer does (the rule turned off or down, an exception
    // granted since): nothing more is written on the strength of the old claim.
    const partial = remaining.length < intent.steps.length;
    const record = run.record(
      partial ? 'failed' : stop.outcome,
      `an earlier invocation stopped before it finished this change, and ${stop.reason}: ${partial ? 'the rest was not applied; the resource is half-changed, a person should finish or undo it' : 'nothing was applied'}`,
      { ...base, after: seen.before, ...(partial ? { needsPerson: true } : {}) },
    );
    return finish(run, record, takeOver, approval, { ...completed, retryable: false });
  }
  if (remaining) {
    const now = run.now();
    const leaseUntil = now + leaseMs(run);
    const taken = await run.ledger.takeOver({ lockKey: intent.claim?.lockKey ?? run.resource, recordId: intent.recordId, owner: takeOver.owner, leaseUntil, now });
    if (!taken) return run.result('failed', `another invocation took over record ${intent.recordId} first; this delivery is retried`, { recordId: intent.recordId, retryable: true });
    return carryThrough(run, { owner: takeOver.owner, leaseUntil, steps: intent.steps, toApply: remaining, before, approval, recovered: true, notification: intent.notification });
  }
  const record = run.record(
    'failed',
    `an earlier invocation stopped in the middle of this change, and the resource is now neither as it was (${before.summary}) nor as planned (${seen.before.summary}); a person should compare the two states`,
    { ...base, after: seen.before, needsPerson: true },
  );
  return finish(run, record, takeOver, approval, completed);
}

/**
 * Why the rest of an unfinished change may not be applied now, though its claim allowed it: the
 * mode and, for a fix no person approved, the gate and any exception are checked again.
 */
async function stopsNow(run: Run, intent: ChangeRecord, plan: Plan): Promise<{ outcome: 'skipped' | 'notified'; reason: string } | undefined> {
  if (run.mode === 'off') return { outcome: 'skipped', reason: `rule ${run.rule.id} is now off` };
  if (run.mode === 'notify') return { outcome: 'notified', reason: `rule ${run.rule.id} is now in mode notify` };
  // A person approved this change (the approval's own status was checked above); anything else must pass the gate again.
  if (!intent.approvalId && run.gateFor(plan) === 'approve') {
    return { outcome: 'notified', reason: `rule ${run.rule.id} now asks a person before this change (the next finding asks)` };
  }
  // A Reject or an exception made since, on this question or one sharing a part of it (a port).
  const [suppression, exemption] = await Promise.all([run.ledger.getSuppression(run.rule.id, run.resource, run.scope), run.ledger.getExemption(run.rule.id, run.resource, run.scope)]);
  const guarded = guardReason({ suppression, exemption }, run.now());
  return guarded ? { outcome: 'skipped', reason: guarded } : undefined;
}

/**
 * A rollback that stopped (its process died, or its write's answer was lost), met by a delivery of
 * the same rule: completed as a rollback from what the resource shows. Back at the original's
 * state before → `rolled-back`, and the original marked; still as the bot left it → nothing was
 * undone, `failed` (running the rollback again starts it afresh); anything else → for a person.
 */
async function recoverRollback(run: Run, seen: Observation, intent: ChangeRecord): Promise<EventResult> {
  const originalId = intent.rollbackOf as string;
  const original = await run.ledger.getRecord(originalId);
  const base = {
    ...(intent.before ? { before: intent.before } : {}),
    steps: intent.steps,
    rollbackOf: originalId,
    recovered: true,
    ...(intent.decidedBy ? { decidedBy: intent.decidedBy } : {}),
    ...(intent.notification ? { notification: intent.notification } : {}),
  };
  const takeOver = { owner: randomUUID() };
  const completed = { takeOver: true, changed: true, retryable: false };
  if (seen.kind !== 'seen' || !original?.before) {
    const why = seen.kind !== 'seen' ? seen.reason : `record ${originalId} holds no state before`;
    const record = run.record('failed', `the rollback of record ${originalId} stopped, and now: ${why}; a person should check the resource`, { ...base, needsPerson: true });
    return finish(run, record, takeOver, undefined, completed);
  }
  const print = fingerprintOf(run.rule);
  const now = print(seen.state);
  if (now === print(original.before.state)) {
    const by = (intent.decidedBy ?? 'an operator').replace(/^cli:/, '');
    const record = run.record('rolled-back', `rolled back record ${originalId} (${original.reason}) at the request of ${by} (completed after the process that started it stopped)`, {
      ...base,
      after: seen.before,
    });
    return finish(run, record, takeOver, undefined, { ...completed, rolledBack: { recordId: originalId, by: intent.recordId } });
  }
  if (original.after && now === print(original.after.state)) {
    const record = run.record('failed', `the rollback of record ${originalId} stopped before it changed anything: the resource is as the bot left it (${seen.before.summary}); run the rollback again`, {
      ...base,
      after: seen.before,
    });
    return finish(run, record, takeOver, undefined, completed);
  }
  const record = run.record(
    'failed',
    `the rollback of record ${originalId} stopped, and the resource is now neither as the bot left it (${original.after?.summary}) nor as before the change (${original.before.summary}), but ${seen.before.summary}; a person should compare the states`,
    { ...base, after: seen.before, needsPerson: true },
  );
  return finish(run, record, takeOver, undefined, completed);
}
