import { z } from 'zod';
import { DETAIL_TYPE, describeError, EVENT_SOURCE, type Finding, InvalidEventError } from '../model/index.ts';
import { fromAccessAnalyzerEvent, fromConfigEvent, fromSecurityHubEvent } from './findings.ts';
import { type IntakeContext, type IntakeResult, unhandledFinding } from './results.ts';
import { assertSafeShape } from './safe-json.ts';
import { describeIssues, type Envelope, envelopeSchema, PRINTABLE_ASCII } from './schemas.ts';

export type { ApprovedEvent, HubDecision, IntakeContext, IntakeResult, UnhandledFinding } from './results.ts';

const approvedDetailSchema = z.strictObject({
  approvalId: z.string().regex(/^apr-[0-9a-f-]{36}$/, 'expected an approval id (apr-…)'),
  ruleId: z.string().regex(/^[a-z0-9-]{1,64}$/, 'expected a rule id'),
});

const decisionDetailSchema = z.strictObject({
  approvalId: z.string().regex(/^apr-[0-9a-f-]{36}$/, 'expected an approval id (apr-…)'),
  ruleId: z.string().regex(/^[a-z0-9-]{1,64}$/, 'expected a rule id'),
  decision: z.enum(['approve', 'reject', 'exempt']),
  // A Slack user id, or `cli:<login name>`, which may be any letters (no control characters).
  by: z.string().min(1).max(128).regex(/^(?:[UW][A-Z0-9]{2,20}|cli:[^\p{Cc}]{1,120})$/u, 'expected a Slack user id or cli:<name>'),
  days: z.number().int().min(1).max(365).optional(),
  reason: z.string().min(1).max(500).optional(),
});

type Reporter = Finding['reporter'];

/** What each detail-type of the services driftfix listens to means to it (EventBridge events reference). */
type Route =
  | { kind: 'reporter'; reporter: Reporter }
  | { kind: 'approved' }
  | { kind: 'decision' }
  | { kind: 'ignored'; reason: string }
  | { kind: 'skipped'; reason: string; unhandled?: boolean }
  | { kind: 'rejected'; reason: string };

const SERVICE_TYPES: Record<string, Record<string, Route>> = {
  [EVENT_SOURCE.config]: {
    [DETAIL_TYPE.configComplianceChange]: { kind: 'reporter', reporter: 'config' },
    [DETAIL_TYPE.configItemChange]: { kind: 'ignored', reason: 'configuration-item changes carry no compliance verdict' },
    'Config Rules Re-evaluation Status': { kind: 'ignored', reason: 'a re-evaluation status carries no compliance verdict' },
    'Config Configuration Snapshot Delivery Status': { kind: 'ignored', reason: 'a snapshot delivery status carries no compliance verdict' },
    'Config Configuration History Delivery Status': { kind: 'ignored', reason: 'a history delivery status carries no compliance verdict' },
  },
  [EVENT_SOURCE.accessAnalyzer]: {
    [DETAIL_TYPE.accessAnalyzerFinding]: { kind: 'reporter', reporter: 'access-analyzer' },
    [DETAIL_TYPE.internalAccessFinding]: {
      kind: 'skipped',
      reason: 'Access Analyzer internal-access findings (access within the organization) have no driftfix fix',
      unhandled: true,
    },
    [DETAIL_TYPE.unusedAccessFinding]: {
      kind: 'skipped',
      reason: 'Access Analyzer unused-access findings have no driftfix fix',
      unhandled: true,
    },
    [DETAIL_TYPE.accessPreviewStateChange]: { kind: 'ignored', reason: 'an access preview is a what-if analysis, not a finding' },
  },
  [EVENT_SOURCE.securityHub]: {
    [DETAIL_TYPE.securityHubImported]: { kind: 'reporter', reporter: 'security-hub' },
  },
};

/**
 * Validates an EventBridge event completely, before any AWS call, and turns it into a Finding.
 * Never throws for bad input: a rejected event is a result with a reason.
 */
export function intakeEvent(raw: unknown, context: IntakeContext): IntakeResult {
  try {
    assertSafeShape(raw);
  } catch (error) {
    return { kind: 'rejected', reason: error instanceof InvalidEventError ? error.message : describeError(error) };
  }
  const parsedEnvelope = envelopeSchema(context.now).safeParse(raw);
  if (!parsedEnvelope.success) return { kind: 'rejected', reason: describeIssues(parsedEnvelope.error, '') };
  const envelope = parsedEnvelope.data;
  const eventId = envelope.id;

  const route = classify(envelope, context);
  if (route.kind === 'ignored') return { kind: 'ignored', reason: route.reason, eventId };
  if (route.kind === 'skipped') {
    // Like external-access findings: a status update or a deletion is no new finding to report.
    const { status, isDeleted } = envelope.detail;
    if (route.unhandled && (isDeleted === true || (status !== undefined && status !== 'ACTIVE'))) {
      return { kind: 'ignored', eventId, reason: isDeleted === true ? 'the finding was deleted' : `finding status ${String(status).slice(0, 32)} needs no action` };
    }
    const ours = envelope.account === context.account && envelope.region === context.region;
    return { kind: 'skipped', reason: route.reason, eventId, ...(route.unhandled && ours ? { unhandled: unhandledFinding(envelope, route.reason) } : {}) };
  }
  if (route.kind === 'rejected') return { kind: 'rejected', reason: route.reason, eventId };

  if (route.kind === 'decision') {
    // A decision comes from the hub account, onto this account's bus.
    if (envelope.account !== context.hubAccount) {
      return { kind: 'rejected', eventId, reason: `decisions are accepted only from the hub account, not from ${envelope.account}` };
    }
    if (envelope.region !== context.region) {
      return { kind: 'rejected', eventId, reason: `decision is for region ${envelope.region}; this bot runs in ${context.region}` };
    }
    const detail = decisionDetailSchema.safeParse(envelope.detail);
    if (!detail.success) return { kind: 'rejected', eventId, reason: describeIssues(detail.error, 'detail') };
    return { kind: 'decision', decision: { eventId, ...detail.data } };
  }
  if (envelope.account !== context.account) {
    return { kind: 'rejected', eventId, reason: `event is for account ${envelope.account}; this bot runs in ${context.account}` };
  }
  if (envelope.region !== context.region) {
    return { kind: 'rejected', eventId, reason: `event is for region ${envelope.region}; this bot runs in ${context.region}` };
  }
  if (route.kind === 'approved') {
    const detail = approvedDetailSchema.safeParse(envelope.detail);
    if (!detail.success) return { kind: 'rejected', eventId, reason: describeIssues(detail.error, 'detail') };
    return { kind: 'approved', approved: { eventId, ...detail.data } };
  }
  const replayed = envelope.source === EVENT_SOURCE.replay;
  switch (route.reporter) {
    case 'config':
      return fromConfigEvent(envelope, replayed, context);
    case 'access-analyzer':
      return fromAccessAnalyzerEvent(envelope, replayed, context);
    case 'security-hub':
      return fromSecurityHubEvent(envelope, replayed, context);
  }
}

function classify(envelope: Envelope, context: IntakeContext): Route {
  const { source } = envelope;
  const detailType = envelope['detail-type'];
  // AWS's sources and detail-types are plain ASCII: anything else is a look-alike.
  if (!PRINTABLE_ASCII.test(source) || !PRINTABLE_ASCII.test(detailType)) {
    return { kind: 'rejected', reason: `source or detail-type has characters AWS never uses (look-alike?): ${JSON.stringify(`${source} / ${detailType}`.slice(0, 120))}` };
  }
  if (source === EVENT_SOURCE.approvals) {
    return detailType === DETAIL_TYPE.remediationApproved
      ? { kind: 'approved' }
      : { kind: 'rejected', reason: `detail-type ${JSON.stringify(detailType)} does not come from ${source}` };
  }
  if (source === EVENT_SOURCE.hub) {
    if (!context.hubAccount) return { kind: 'rejected', reason: 'this stack is not a member of a hub: it takes no decisions from other accounts' };
    return detailType === DETAIL_TYPE.decision
      ? { kind: 'decision' }
      : { kind: 'rejected', reason: `detail-type ${JSON.stringify(detailType)} does not come from ${source}` };
  }
  if (source === EVENT_SOURCE.replay) {
    if (!context.acceptReplay) return { kind: 'rejected', reason: `replayed events (source ${source}) are turned off for this deployment` };
    // A replayed event is what the service it copies would have sent.
    for (const types of Object.values(SERVICE_TYPES)) {
      const route = types[detailType];
      if (route) return route;
    }
    return { kind: 'rejected', reason: `detail-type ${JSON.stringify(detailType)} cannot be replayed` };
  }
  const types = SERVICE_TYPES[source];
  if (!types) return { kind: 'rejected', reason: `source ${JSON.stringify(source.slice(0, 80))} is not one driftfix accepts` };
  const route = types[detailType];
  if (route) return route;
  // Another service's detail-type under this source is a forgery, not something new from AWS.
  if (Object.entries(SERVICE_TYPES).some(([other, known]) => other !== source && known[detailType])) {
    return { kind: 'rejected', reason: `detail-type ${JSON.stringify(detailType)} does not come from ${source}` };
  }
  return { kind: 'skipped', reason: `no driftfix rule answers ${source} events of type ${JSON.stringify(detailType)}` };
}

