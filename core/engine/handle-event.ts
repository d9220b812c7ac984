import { type AnyRule, type ConfigRuleTrigger, decisionKey, type Finding, type PendingApproval, recordIdFor } from '../model/index.ts';
import { type HubDecision, type IntakeResult, intakeEvent } from '../intake/intake.ts';
import { chooseRule, targetOf } from '../intake/routing.ts';
import { announceRecord } from './announce.ts';
import { processApproved } from './approvals.ts';
import { withCallLog } from './call-log.ts';
import { decideApproval } from './decide.ts';
import type { EngineDeps } from './ports.ts';
import { remediate } from './remediate.ts';
import { bare, type EventResult } from './results.ts';
import { Run } from './run.ts';
import { notifyUnhandled } from './unhandled.ts';

export interface HandleOptions {
  /** Read and plan only: no write to the account or to the table. */
  dryRun: boolean;
}

export function intake(raw: unknown, deps: EngineDeps): IntakeResult {
  return intakeEvent(raw, {
    ...deps.identity,
    acceptReplay: deps.settings.acceptReplay,
    now: deps.now ?? Date.now,
    hubAccount: deps.settings.hubAccount,
  });
}

/**
 * A rule function's work on one event: validate it, find what it asks of this rule, and remediate.
 * Never throws for bad input; a rejected event is a result with a reason.
 */
export async function handleRuleEvent(raw: unknown, rule: AnyRule, deps: EngineDeps, options: HandleOptions): Promise<EventResult> {
  const intook = intake(raw, deps);
  switch (intook.kind) {
    case 'approved':
      return processApproved(intook.approved, rule, deps, options);
    case 'decision':
      return processDecision(intook.decision, rule, deps, options);
    case 'finding':
      return withCallLog(async (callLog) => {
        const routed = await route(intook.finding, [rule], deps);
        if (routed.kind !== 'rule') return { ...routed.result, calls: [...callLog.calls] };
        if (routed.rule.id !== rule.id) return bare('skipped', `event belongs to rule ${routed.rule.id}, not ${rule.id}`, { rule: rule.id, eventId: intook.finding.eventId });
        return remediate(new Run(rule, routed.finding, deps, callLog), options);
      });
    case 'skipped':
      if (intook.unhandled) return (await notifyUnhandled(intook.unhandled, deps, options.dryRun)) ?? bare('skipped', intook.reason, eventOf(intook));
      return bare('skipped', intook.reason, eventOf(intook));
    default:
      return bare(intook.kind, intook.reason, eventOf(intook));
  }
}

const eventOf = (intook: { eventId?: string }) => (intook.eventId ? { eventId: intook.eventId } : {});

export type Routed = { kind: 'rule'; rule: AnyRule; finding: Finding } | { kind: 'result'; result: EventResult };

/**
 * Which rule answers a finding, and the finding as that rule addresses its resource. For AWS
 * Config the managed rule's identifier is read from AWS Config (never from the event).
 */
export async function route(finding: Finding, rules: readonly AnyRule[], deps: EngineDeps): Promise<Routed> {
  const base = { eventId: finding.eventId };
  let found = finding;
  if (finding.trigger.kind === 'config-rule') {
    const resolved = await resolveConfigRule(finding.trigger, deps, rules);
    if ('skip' in resolved) return { kind: 'result', result: bare('skipped', resolved.skip, base) };
    found = { ...finding, trigger: resolved.trigger };
  }
  const choice = chooseRule(found, rules);
  if (choice.kind !== 'rule') return { kind: 'result', result: bare(choice.kind, choice.reason, base) };
  const target = targetOf(found, choice.rule);
  if ('problem' in target) return { kind: 'result', result: bare('rejected', target.problem, { ...base, rule: choice.rule.id }) };
  return { kind: 'rule', rule: choice.rule, finding: { ...found, resourceId: target.id, resourceType: choice.rule.resource.type } };
}

/**
 * The managed rule a Config rule runs (DescribeConfigRules, cached). When AWS Config has no rule
 * of that name at all (deleted since, or an emulator without rules), a rule under its default
 * name is taken at its word; a custom rule never is.
 */
async function resolveConfigRule(trigger: ConfigRuleTrigger, deps: EngineDeps, rules: readonly AnyRule[]): Promise<{ trigger: ConfigRuleTrigger } | { skip: string }> {
  const info = deps.configRules ? await deps.configRules.describe(trigger.configRuleName) : null;
  if (info) {
    if (info.owner !== 'AWS' || !info.identifier) {
      return { skip: `AWS Config rule ${trigger.configRuleName} is a custom rule (${info.owner}); driftfix answers AWS managed rules only` };
    }
    return { trigger: { ...trigger, identifier: info.identifier, ...(info.parameters ? { parameters: info.parameters } : {}) } };
  }
  const byDefaultName = rules.flatMap((rule) => rule.answers.config ?? []).find((answer) => answer.defaultName === trigger.configRuleName);
  if (byDefaultName) return { trigger: { ...trigger, identifier: byDefaultName.identifier } };
  return { skip: `AWS Config has no rule named ${trigger.configRuleName}${deps.configRules ? '' : ' (not looked up: no AWS Config client)'}` };
}

/** The router's work: validate, resolve the managed rule, and name the rule function that answers. */
export async function routeConfigEvent(raw: unknown, rules: readonly AnyRule[], deps: EngineDeps): Promise<{ kind: 'forward'; rule: AnyRule } | { kind: 'result'; result: EventResult }> {
  const intook = intake(raw, deps);
  if (intook.kind === 'approved' || intook.kind === 'decision') return { kind: 'result', result: bare('rejected', 'the router takes AWS Config compliance changes only') };
  if (intook.kind !== 'finding') return { kind: 'result', result: bare(intook.kind, intook.reason, eventOf(intook)) };
  if (intook.finding.trigger.kind !== 'config-rule') return { kind: 'result', result: bare('rejected', 'the router takes AWS Config compliance changes only', eventOf(intook.finding)) };
  return withCallLog(async (callLog) => {
    const routed = await route(intook.finding, rules, deps);
    if (routed.kind === 'result') return { kind: 'result', result: { ...routed.result, calls: [...callLog.calls] } };
    return { kind: 'forward', rule: routed.rule };
  });
}

/**
 * A decision the member did not take (decided here already, expired, …) is reported back, so that
 * the hub's copy and its message say what the member's approval is, instead of "applying…" for
 * ever. An expired question is closed (stale), so that the next finding may ask again.
 */
async function reportRefusal(approval: PendingApproval, reason: string, rule: AnyRule, deps: EngineDeps, eventId: string): Promise<string | undefined> {
  const ledger = deps.ledger;
  if (!ledger) return undefined;
  let current = approval;
  if (current.status === 'pending' && Date.parse(current.expiresAt) <= (deps.now ?? Date.now)()) {
    if (await ledger.transitionApproval(current.approvalId, { from: 'pending', to: 'stale', closeOpen: decisionKey(current) })) current = { ...current, status: 'stale' };
  }
  return withCallLog(async (callLog) => {
    const run = new Run(rule, current.finding, deps, callLog, recordIdFor(`decision:${eventId}`, rule.id));
    const record = run.record('skipped', reason, { approvalId: current.approvalId });
    const written = await ledger.settle(record);
    if (!written.ok) return undefined; // a redelivery of the same decision: reported the first time
    const notification = await announceRecord(record, { announcer: deps.announcer, log: deps.log, rule, approval: current });
    await ledger.setNotification(record, notification);
    return record.recordId;
  });
}

/** A member stack receives its hub's decision: it decides its own approval, under its own conditions, then acts. */
async function processDecision(decision: HubDecision, rule: AnyRule, deps: EngineDeps, options: HandleOptions): Promise<EventResult> {
  if (decision.ruleId !== rule.id) return bare('rejected', `decision is for rule ${decision.ruleId}, not ${rule.id}`, { eventId: decision.eventId });
  if (options.dryRun) return bare('skipped', 'decisions are only applied with --apply', { rule: rule.id });
  const ledger = deps.ledger;
  if (!ledger) throw new Error('a record table (REMEDIATION_TABLE) is required to take a decision');
  const outcome = await decideApproval(ledger, {
    approvalId: decision.approvalId,
    decision: decision.decision,
    by: decision.by,
    now: (deps.now ?? Date.now)(),
    suppressionDays: deps.settings.suppressionDays,
    days: decision.days,
    reason: decision.reason,
  });
  const approval = outcome.approval ?? (await ledger.getApproval(decision.approvalId));
  if (approval && approval.ruleId !== rule.id) return bare('rejected', `approval ${approval.approvalId} belongs to rule ${approval.ruleId}`, { eventId: decision.eventId });
  const redelivered = outcome.kind === 'refused' && decision.decision === 'approve' && approval?.status === 'approved' && approval.decidedBy === decision.by;
  if (outcome.kind === 'refused' && !redelivered) {
    const reason = `decision "${decision.decision}" by ${decision.by} not taken: ${outcome.reason}`;
    const reported = approval ? await reportRefusal(approval, reason, rule, deps, decision.eventId) : undefined;
    return bare('skipped', reason, { rule: rule.id, eventId: decision.eventId, approvalId: decision.approvalId, ...(reported ? { recordId: reported } : {}) });
  }
  if (decision.decision === 'approve') return processApproved({ eventId: decision.eventId, approvalId: decision.approvalId, ruleId: rule.id }, rule, deps, options);
  if (outcome.kind === 'decided' && outcome.record && approval) {
    const notification = await announceRecord(outcome.record, { announcer: deps.announcer, log: deps.log, rule, approval });
    await ledger.setNotification(outcome.record, notification);
    return bare('exempted', outcome.record.reason, { rule: rule.id, recordId: outcome.record.recordId, approvalId: approval.approvalId });
  }
  return bare('skipped', `rejected by ${decision.by}: not proposed again until ${outcome.kind === 'decided' ? outcome.suppression?.until : ''}`, {
    rule: rule.id,
    approvalId: decision.approvalId,
  });
}
