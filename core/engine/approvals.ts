import { randomUUID } from 'node:crypto';
import { type AnyRule, canonicalJson, decisionKey, type Finding, type PendingApproval, recordIdFor, type Step } from '../model/index.ts';
import type { ApprovedEvent } from '../intake/intake.ts';
import { announceRecord, earlierMessage, notificationResult } from './announce.ts';
import { withCallLog } from './call-log.ts';
import { carryThrough, claimChange } from './change.ts';
import { afterApprovalRequest } from './follow-ups.ts';
import { type Observation, observe } from './observe.ts';
import type { Conflict, EngineDeps } from './ports.ts';
import { recover } from './recovery.ts';
import { reportExisting } from './report.ts';
import { resolveConflict, settleOutcome } from './settle.ts';
import { bare, type EventResult } from './results.ts';
import { Run } from './run.ts';

type ChangePlan = { status: 'change'; summary: string; steps: Step[]; approvalReason?: string; risks?: string[] };

/**
 * Asks a person: the approval (with the plan and an expiry), the record and the one-open-approval
 * pointer in one request, then the message with the buttons, then where it went (a second).
 */
export async function requestApproval(run: Run, seen: Observation & { kind: 'seen' }, plan: ChangePlan): Promise<EventResult> {
  const createdAt = new Date(run.now());
  const approval: PendingApproval = {
    approvalId: `apr-${randomUUID()}`,
    status: 'pending',
    recordId: run.recordId,
    eventId: run.finding.eventId,
    ruleId: run.rule.id,
    ruleTitle: run.rule.title,
    resource: run.resource,
    finding: run.finding,
    ...(run.scope ? { scope: run.scope } : {}),
    steps: plan.steps,
    reason: plan.approvalReason ?? `rule ${run.rule.id} runs in approve mode`,
    ...(plan.risks ? { risks: plan.risks } : {}),
    risk: plan.approvalReason ? 'high' : run.rule.risk,
    createdAt: createdAt.toISOString(),
    expiresAt: new Date(createdAt.getTime() + run.deps.settings.approvalTtlHours * 3_600_000).toISOString(),
  };
  const details = { before: seen.before, steps: plan.steps, approvalId: approval.approvalId, ...(plan.risks ? { risks: plan.risks } : {}) };
  let record = run.record('pending-approval', `waiting for approval (${approval.reason}): ${plan.summary}`, {
    ...details,
    notification: { status: 'pending', attempts: 0 },
  });
  const request = { approval, openKey: decisionKey({ ruleId: run.rule.id, resource: run.resource, scope: approval.scope }), now: run.now(), guards: run.guards };
  let written = await run.ledger.requestApproval({ ...request, record });
  // Over an earlier failed attempt that was posted: the question takes that message's place.
  const earlier = written.ok ? undefined : earlierMessage(written.conflict.record);
  if (!written.ok && earlier && Object.keys(written.conflict).length === 1) {
    record = { ...record, notification: { ...earlier, status: 'pending' } };
    written = await run.ledger.requestApproval({ ...request, record });
  }
  if (!written.ok) {
    const open = written.conflict.openApproval;
    if (open && (!written.conflict.record || earlierMessage(written.conflict.record))) {
      // AWS Config re-evaluates periodically; one question per resource is enough.
      return settleOutcome(run, seen, 'pending-approval', `already waiting for approval ${open.approvalId}: ${plan.summary}`, {
        ...details,
        approvalId: open.approvalId,
        notification: { status: 'posted', attempts: 0 },
      });
    }
    const next = await resolveConflict(run, seen, written.conflict, false);
    return next === 'look-again' ? run.result('failed', 'the resource changed while it was being read; retried', { retryable: true }) : next;
  }
  const notes = await afterApprovalRequest(run, approval.approvalId);
  const notification = await announceRecord(record, { announcer: run.deps.announcer, log: run.deps.log, rule: run.rule, approval });
  const message = notification.channel && notification.ts ? { approvalId: approval.approvalId, channel: notification.channel, ts: notification.ts } : undefined;
  const final = { ...record, reason: `${record.reason}${notes}`, notification, calls: [...run.callLog.calls] };
  await run.ledger.setNotification(final, notification, message);
  const reported = notificationResult(notification);
  return run.resultOf(final, reported ? { notification: reported } : {});
}

/** The approver approved a transition from a given state: the live plan must start there and send the same writes. */
export function sameSteps(a: Step[], b: Step[]): boolean {
  const key = (steps: Step[]) => canonicalJson(steps.map((step) => [step.operation, step.input, step.before]));
  return key(a) === key(b);
}

/**
 * An approved change, handed back to the rule's own function: the plan comes from the table, is
 * checked against the live resource, and is applied once, only if the resource is still as the
 * approver saw it.
 */
export async function processApproved(event: ApprovedEvent, rule: AnyRule, deps: EngineDeps, options: { dryRun: boolean }): Promise<EventResult> {
  const refuse = (reason: string) => bare('rejected', reason, { eventId: event.eventId });
  if (event.ruleId !== rule.id) return refuse(`approval is for rule ${event.ruleId}, not ${rule.id}`);
  if (options.dryRun) return bare('skipped', 'approvals are only applied with --apply', { rule: rule.id });
  if (!deps.ledger) throw new Error('a record table (REMEDIATION_TABLE) is required to apply an approval');
  const approval = await deps.ledger.getApproval(event.approvalId);
  if (!approval) return refuse(`approval ${event.approvalId} does not exist`);
  if (approval.ruleId !== rule.id) return refuse(`approval ${approval.approvalId} belongs to rule ${approval.ruleId}`);
  const finding: Finding = approval.finding;
  if (finding.account !== deps.identity.account || finding.region !== deps.identity.region) {
    const reason = `approval ${approval.approvalId} is for ${finding.account}/${finding.region}, not this bot's account and region`;
    // Nobody else will apply it here: it must not stay "approved" for ever.
    if (approval.status === 'approved') await deps.ledger.transitionApproval(approval.approvalId, { from: 'approved', to: 'failed' });
    deps.log.warn(`refused ${reason}`);
    return refuse(reason);
  }
  return withCallLog(async (callLog) => {
    const run = new Run(rule, finding, deps, callLog, recordIdFor(`approval:${approval.approvalId}`, rule.id));
    if (approval.status !== 'approved') {
      // Handled before (applied, stale, failed): a redelivery is answered with that record as it is now.
      // An intent of this approval left unfinished is completed (without applying more: it is not approved).
      const handled = await run.ledger.getRecord(approval.resultRecordId ?? run.recordId);
      if (handled?.status === 'in-progress') return recover(run, await observe(run), handled);
      if (handled) return reportExisting(run, handled);
      return run.result('skipped', `approval ${approval.approvalId} is ${approval.status}, not approved: nothing applied`, { approvalId: approval.approvalId });
    }
    return applyApproved(run, approval);
  });
}

/**
 * The approved plan, against the live resource. Its own intent (record `approval:<id>`) is found
 * by the record's conditional write, before the approval is ever marked stale: an invocation that
 * stopped after its write is completed from the resource (`recover`), never taken for a plan that
 * no longer holds.
 */
async function applyApproved(run: Run, approval: PendingApproval): Promise<EventResult> {
  // The record first: refused while an intent of this approval exists, which is then completed instead.
  const stale = (outcome: 'skipped' | 'compliant', reason: string, seen: Observation, extra = {}) =>
    settleOutcome(run, seen, outcome, reason, { approvalId: approval.approvalId, decidedBy: approval.decidedBy, ...extra }, {
      approval: { ...approval, status: 'stale', resultRecordId: run.recordId },
      afterWrite: () => run.ledger.transitionApproval(approval.approvalId, { from: 'approved', to: 'stale', set: { resultRecordId: run.recordId } }),
      onConflict: (conflict) => approvedConflict(run, seen, conflict, approval),
    });
  const seen = await observe(run);
  if (seen.kind === 'unreadable') return run.result('failed', seen.reason, { retryable: true, approvalId: approval.approvalId });
  if (seen.kind !== 'seen') return stale('skipped', `${seen.reason}; the approved change was not applied`, seen);
  const { plan, before } = seen;
  if (plan.status !== 'change') {
    return stale(plan.status === 'compliant' ? 'compliant' : 'skipped', `nothing to apply since the approval: ${plan.summary}`, seen, { before });
  }
  if (!sameSteps(plan.steps, approval.steps)) {
    return stale('skipped', 'the resource changed after the approval, so the approved plan no longer holds; nothing was applied (a new finding will ask again)', seen, {
      before,
      steps: plan.steps,
    });
  }
  if (run.mode === 'off' || run.mode === 'notify') {
    // Switched off or down since the approval: an approved change waits for no one, it is dropped.
    return stale('skipped', `rule ${run.rule.id} is ${run.mode === 'off' ? 'off' : 'in mode notify'} now, so the approved change was not applied`, seen, {
      before,
      steps: plan.steps,
    });
  }
  const claim = await claimChange(run, { steps: approval.steps, risks: approval.risks }, before, seen.readSince, approval);
  if (claim.kind === 'claimed') return carryThrough(run, claim.claimed);
  return approvedConflict(run, seen, claim.conflict, approval);
}

/**
 * Why the approved change's write was refused. Its intent is recovered; a record settled while the
 * approval still reads approved (the process stopped between the two) settles the approval too,
 * and the redelivery is answered with the record.
 */
async function approvedConflict(run: Run, seen: Observation, conflict: Conflict, approval: PendingApproval): Promise<EventResult> {
  const record = conflict.record;
  if (record?.status === 'final' && !earlierMessage(record)) {
    const to = record.outcome === 'remediated' ? 'applied' : record.outcome === 'failed' ? 'failed' : 'stale';
    await run.ledger.transitionApproval(approval.approvalId, { from: 'approved', to, set: { resultRecordId: record.recordId } });
    return reportExisting(run, record);
  }
  const next = await resolveConflict(run, seen, conflict, false);
  return next === 'look-again' ? run.result('failed', 'the resource changed while it was being read; retried', { retryable: true }) : next;
}
