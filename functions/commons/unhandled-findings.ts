import type { AnyRule } from '../../rules/types.ts';
import { announce } from './announce.ts';
import { type ChangeRecord, isSettled, recordIdFor } from './change-record.ts';
import { DETAIL_TYPE, EVENT_SOURCE } from './constants.ts';
import type { EngineDeps, EventResult } from './engine.ts';
import type { EventPattern } from './event-pattern.ts';
import { intakeEvent, type UnhandledFinding } from './intake.ts';
import { LogOnlyNotifier } from './slack/slack-notifier.ts';

/** The function that receives Access Analyzer findings no rule answers. */
export const UNHANDLED_FUNCTION = 'unhandled-findings';
const TITLE = { title: 'Access Analyzer finding with no automatic fix', risk: 'low' as const };

/**
 * The findings no rule's pattern takes: other resource types, exposures of a handled type that no
 * rule fixes (a public role, say), error findings and unused-access findings. Internal-access
 * findings of handled types reach the rules' functions, which hand them on the same way.
 */
export function unhandledFindingPatterns(rules: readonly AnyRule[], options: { acceptReplay: boolean }): EventPattern[] {
  const sources = options.acceptReplay ? [EVENT_SOURCE.accessAnalyzer, EVENT_SOURCE.replay] : [EVENT_SOURCE.accessAnalyzer];
  const handled = new Map<string, Set<boolean>>();
  for (const rule of rules) {
    const answer = rule.answers.accessAnalyzer;
    if (answer) handled.set(answer.resourceType, (handled.get(answer.resourceType) ?? new Set()).add(answer.isPublic));
  }
  const patterns: EventPattern[] = [
    {
      source: sources,
      'detail-type': [DETAIL_TYPE.accessAnalyzerFinding],
      detail: { status: ['ACTIVE'], resourceType: [{ 'anything-but': [...handled.keys()] }] },
    },
    { source: sources, 'detail-type': [{ prefix: 'Unused Access Finding' }] },
    { source: sources, 'detail-type': [DETAIL_TYPE.accessAnalyzerFinding], detail: { status: ['ACTIVE'], resourceType: [...handled.keys()], error: [{ exists: true }] } },
  ];
  for (const [resourceType, exposures] of handled) {
    for (const isPublic of [true, false].filter((value) => !exposures.has(value))) {
      patterns.push({ source: sources, 'detail-type': [DETAIL_TYPE.accessAnalyzerFinding], detail: { status: ['ACTIVE'], resourceType: [resourceType], isPublic: [isPublic] } });
    }
  }
  return patterns;
}

/**
 * Records a finding with no fix as `notified` and posts it, when the deployment asks for that
 * (UNHANDLED_FINDINGS=notify); otherwise, or in a dry run, returns null and the caller skips it.
 */
export async function notifyUnhandled(unhandled: UnhandledFinding, deps: EngineDeps, dryRun: boolean): Promise<EventResult | null> {
  const store = deps.store;
  if (deps.settings.unhandledFindings !== 'notify' || dryRun || !store) return null;
  const recordId = recordIdFor(unhandled.eventId, UNHANDLED_FUNCTION);
  const resource = `${unhandled.resourceType}/${unhandled.resource}`;
  const base = { rule: UNHANDLED_FUNCTION, resource, calls: [], writes: 0, recordId, eventId: unhandled.eventId };
  const previous = await store.getRecord(recordId);
  if (previous && isSettled(previous)) return { ...base, outcome: 'notified', reason: `duplicate delivery, already handled: ${previous.reason}` };
  const at = new Date((deps.now ?? Date.now)()).toISOString();
  const record: ChangeRecord = {
    recordId,
    status: 'final',
    eventId: unhandled.eventId,
    ruleId: UNHANDLED_FUNCTION,
    resource,
    account: unhandled.account,
    region: unhandled.region,
    mode: 'notify',
    outcome: 'notified',
    reason: `no automatic fix: ${unhandled.reason}`,
    trigger: {
      kind: 'access-analyzer',
      findingId: unhandled.findingId,
      status: 'ACTIVE',
      isPublic: unhandled.isPublic,
      ...(unhandled.findingType ? { findingType: unhandled.findingType } : {}),
    },
    replayed: unhandled.replayed,
    steps: [],
    calls: [],
    writes: 0,
    createdAt: at,
    updatedAt: at,
  };
  await store.putRecord(record);
  const notification = await announce(record, { store, notifier: deps.notifier ?? new LogOnlyNotifier(), rule: TITLE });
  return { ...base, outcome: 'notified', reason: record.reason, ...(notification !== 'not-announced' ? { notification } : {}) };
}

/** The unhandled-findings function's work: validate like every handler, then notify or skip. */
export async function handleUnhandledFinding(raw: unknown, deps: EngineDeps, options: { dryRun: boolean }): Promise<EventResult> {
  const intake = intakeEvent(raw, { ...deps.identity, acceptReplay: deps.settings.acceptReplay, now: deps.now ?? Date.now });
  if (intake.kind === 'skipped' && intake.unhandled) {
    return (await notifyUnhandled(intake.unhandled, deps, options.dryRun)) ?? { outcome: 'skipped', reason: intake.reason, calls: [], writes: 0, eventId: intake.eventId ?? '' };
  }
  if (intake.kind === 'finding') {
    const reason = `no driftfix rule fixes this ${intake.finding.trigger.kind === 'access-analyzer' && intake.finding.trigger.isPublic ? 'public' : 'cross-account'} access finding for ${intake.finding.resourceType}`;
    const unhandled: UnhandledFinding = {
      eventId: intake.finding.eventId,
      account: intake.finding.account,
      region: intake.finding.region,
      replayed: intake.finding.replayed,
      findingId: intake.finding.trigger.kind === 'access-analyzer' ? intake.finding.trigger.findingId : intake.finding.eventId,
      resourceType: intake.finding.resourceType,
      resource: intake.finding.resourceArn ?? intake.finding.resourceId,
      ...(intake.finding.trigger.kind === 'access-analyzer' && intake.finding.trigger.findingType ? { findingType: intake.finding.trigger.findingType } : {}),
      isPublic: intake.finding.trigger.kind === 'access-analyzer' && intake.finding.trigger.isPublic,
      reason,
    };
    return (await notifyUnhandled(unhandled, deps, options.dryRun)) ?? { outcome: 'skipped', reason, calls: [], writes: 0, eventId: unhandled.eventId };
  }
  if (intake.kind === 'approved') return { outcome: 'rejected', reason: 'approvals do not go to the unhandled-findings function', calls: [], writes: 0 };
  return { outcome: intake.kind, reason: intake.reason, calls: [], writes: 0, ...(intake.eventId ? { eventId: intake.eventId } : {}) };
}
