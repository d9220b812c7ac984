import { type ChangeRecord, recordIdFor } from '../model/index.ts';
import { type UnhandledFinding, intakeEvent } from '../intake/intake.ts';
import { UNHANDLED_FUNCTION } from '../intake/routing.ts';
import { announceRecord, notificationResult } from './announce.ts';
import type { EngineDeps } from './ports.ts';
import { bare, type EventResult } from './results.ts';

const TITLE = { title: 'Access Analyzer finding with no automatic fix', risk: 'low' as const, resource: { type: 'finding', parseId: (id: string) => ({ id }) } };

/**
 * Records a finding with no fix as `notified` and posts it, when the deployment asks for that
 * (UNHANDLED_FINDINGS=notify); otherwise, or in a dry run, returns null and the caller skips it.
 */
export async function notifyUnhandled(unhandled: UnhandledFinding, deps: EngineDeps, dryRun: boolean): Promise<EventResult | null> {
  const ledger = deps.ledger;
  if (deps.settings.unhandledFindings !== 'notify' || dryRun || !ledger) return null;
  const recordId = recordIdFor(unhandled.eventId, UNHANDLED_FUNCTION);
  const resource = `${unhandled.resourceType}/${unhandled.resource}`;
  const base = { rule: UNHANDLED_FUNCTION, resource, recordId, eventId: unhandled.eventId };
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
    notification: { status: 'pending', attempts: 0 },
    createdAt: at,
    updatedAt: at,
  };
  const written = await ledger.settle(record);
  if (!written.ok) {
    const existing = written.conflict.record;
    return bare('notified', `duplicate delivery, already handled: ${existing?.reason ?? record.reason}`, { ...base, duplicate: true });
  }
  const notification = await announceRecord(record, { announcer: deps.announcer, log: deps.log, rule: TITLE });
  await ledger.setNotification(record, notification);
  const reported = notificationResult(notification);
  return bare('notified', record.reason, { ...base, ...(reported ? { notification: reported } : {}) });
}

/** The unhandled-findings function's work: validate like every handler, then notify or skip. */
export async function handleUnhandledFinding(raw: unknown, deps: EngineDeps, options: { dryRun: boolean }): Promise<EventResult> {
  const intook = intakeEvent(raw, { ...deps.identity, acceptReplay: deps.settings.acceptReplay, now: deps.now ?? Date.now });
  if (intook.kind === 'skipped' && intook.unhandled) {
    return (await notifyUnhandled(intook.unhandled, deps, options.dryRun)) ?? bare('skipped', intook.reason, { eventId: intook.eventId ?? '' });
  }
  if (intook.kind === 'finding') {
    const { finding } = intook;
    const isPublic = finding.trigger.kind === 'access-analyzer' && finding.trigger.isPublic;
    const reason = `no driftfix rule fixes this ${isPublic ? 'public' : 'cross-account'} access finding for ${finding.resourceType}`;
    const unhandled: UnhandledFinding = {
      eventId: finding.eventId,
      account: finding.account,
      region: finding.region,
      replayed: finding.replayed,
      findingId: finding.trigger.kind === 'access-analyzer' ? finding.trigger.findingId : finding.eventId,
      resourceType: finding.resourceType,
      resource: finding.resourceArn ?? finding.resourceId,
      ...(finding.trigger.kind === 'access-analyzer' && finding.trigger.findingType ? { findingType: finding.trigger.findingType } : {}),
      isPublic,
      reason,
    };
    return (await notifyUnhandled(unhandled, deps, options.dryRun)) ?? bare('skipped', reason, { eventId: unhandled.eventId });
  }
  if (intook.kind === 'approved' || intook.kind === 'decision') return bare('rejected', 'approvals do not go to the unhandled-findings function');
  return bare(intook.kind, intook.reason, intook.eventId ? { eventId: intook.eventId } : {});
}
