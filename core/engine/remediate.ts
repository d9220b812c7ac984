
import { requestApproval } from './approvals.ts';
import { carryThrough, claimChange } from './change.ts';
import { type Observation, observe } from './observe.ts';
import type { EventResult } from './results.ts';
import type { Run } from './run.ts';
import { resolveConflict, settleOutcome } from './settle.ts';

const MAX_LOOKS = 3;

/**
 * The pipeline for one finding: observe (tags, state, plan: reads only), then by the plan and the
 * rule's mode record it (compliant, skipped, notified), ask a person (approval), or claim the
 * resource and carry the change through (apply, verify, announce, record). Every path ends in a
 * record; a redelivered event is answered from its record.
 */
export async function remediate(run: Run, options: { dryRun: boolean }): Promise<EventResult> {
  if (run.mode === 'off') return run.result('skipped', `rule ${run.rule.id} is off`);
  for (let look = 1; ; look++) {
    const seen = await observe(run);
    if (options.dryRun) return dryRun(run, seen);
    // Not ready: no record, no message; the queue delivers the event again.
    if (seen.kind === 'unreadable' && seen.notReady) return run.result('failed', seen.reason, { retryable: true });
    if (seen.kind === 'unreadable') return settleOutcome(run, seen, 'failed', seen.reason, {}, { retryable: seen.transient === true });
    if (seen.kind !== 'seen') return settleOutcome(run, seen, 'skipped', seen.reason);
    const { plan, before } = seen;
    if (plan.status === 'compliant') return settleOutcome(run, seen, 'compliant', plan.summary, { before });
    if (plan.status === 'unfixable') return settleOutcome(run, seen, 'skipped', plan.summary, { before });
    const gate = run.gateFor(plan);
    const details = { before, steps: plan.steps, ...(plan.risks ? { risks: plan.risks } : {}) };
    if (gate === 'notify') return settleOutcome(run, seen, 'notified', `mode notify: ${plan.summary}`, details, { guarded: true });
    if (gate === 'approve') return requestApproval(run, seen, plan);
    const claim = await claimChange(run, plan, before, seen.readSince);
    if (claim.kind === 'claimed') return carryThrough(run, claim.claimed);
    const next = await resolveConflict(run, seen, claim.conflict, look < MAX_LOOKS);
    if (next !== 'look-again') return next;
  }
}

function dryRun(run: Run, seen: Observation): EventResult {
  if (seen.kind === 'unreadable') return run.result('failed', seen.reason);
  if (seen.kind !== 'seen') return run.result('skipped', seen.reason);
  const { plan, before } = seen;
  if (plan.status === 'compliant') return run.result('compliant', plan.summary, { before: before.summary });
  if (plan.status === 'unfixable') return run.result('skipped', plan.summary, { before: before.summary });
  const gate = run.gateFor(plan);
  const would = gate === 'auto' ? 'apply' : gate === 'approve' ? 'ask for approval to apply' : 'only notify';
  return run.result('planned', `dry run, would ${would}: ${plan.summary}`, { before: before.summary, stepList: plan.steps });
}

