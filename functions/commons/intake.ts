import { DETAIL_TYPE, EVENT_SOURCE } from './constants.ts';
import { describeError, InvalidEventError } from './errors.ts';
import {
  accessAnalyzerDetailSchema,
  type ConfigComplianceDetail,
  configComplianceDetailSchema,
  describeIssues,
  type Envelope,
  envelopeSchema,
} from './event-schemas.ts';
import type { Finding } from './finding.ts';
import { bucketFromArn, bucketNameProblem, policyFromArn, policyIdProblem } from './resource-names.ts';
import { assertSafeShape } from './safe-json.ts';
import { z } from 'zod';

const approvedDetailSchema = z.strictObject({
  approvalId: z.string().regex(/^apr-[0-9a-f-]{36}$/, 'expected an approval id (apr-…)'),
  ruleId: z.string().regex(/^[a-z0-9-]{1,64}$/, 'expected a rule id'),
});

export interface IntakeContext {
  /** The account and region the bot runs in; it acts nowhere else. */
  account: string;
  region: string;
  acceptReplay: boolean;
  now: () => number;
}

/** A person approved a stored plan; only the id is taken from the event, the rest from the table. */
export interface ApprovedEvent {
  eventId: string;
  approvalId: string;
  ruleId: string;
}

/** An Access Analyzer finding driftfix has no fix for: recorded as `notified` when so configured. */
export interface UnhandledFinding {
  eventId: string;
  account: string;
  region: string;
  replayed: boolean;
  findingId: string;
  resourceType: string;
  resource: string;
  findingType?: string;
  isPublic: boolean;
  reason: string;
}

export type IntakeResult =
  | { kind: 'finding'; finding: Finding }
  | { kind: 'approved'; approved: ApprovedEvent }
  | { kind: 'ignored'; reason: string; eventId?: string }
  | { kind: 'skipped'; reason: string; eventId?: string; unhandled?: UnhandledFinding }
  | { kind: 'rejected'; reason: string; eventId?: string };

type Reporter = Finding['reporter'];

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
  if (route.kind === 'skipped' && envelope.source === EVENT_SOURCE.accessAnalyzer && envelope.account === context.account && envelope.region === context.region) {
    return { ...route, eventId, unhandled: unhandledFinding(envelope, route.reason) };
  }
  if (route.kind !== 'reporter' && route.kind !== 'approved') return { ...route, eventId };

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
  return route.reporter === 'config'
    ? fromConfigEvent(envelope, replayed, context)
    : fromAccessAnalyzerEvent(envelope, replayed, context);
}

function classify(
  envelope: Envelope,
  context: IntakeContext,
): { kind: 'reporter'; reporter: Reporter } | { kind: 'approved' } | { kind: 'ignored' | 'skipped' | 'rejected'; reason: string } {
  const { source } = envelope;
  const detailType = envelope['detail-type'];
  if (source === EVENT_SOURCE.approvals) {
    return detailType === DETAIL_TYPE.remediationApproved
      ? { kind: 'approved' }
      : { kind: 'rejected', reason: `detail-type ${JSON.stringify(detailType)} does not come from ${source}` };
  }
  const reporterOfType: Record<string, Reporter> = {
    [DETAIL_TYPE.configComplianceChange]: 'config',
    [DETAIL_TYPE.accessAnalyzerFinding]: 'access-analyzer',
  };
  const reporter = reporterOfType[detailType];
  if (source === EVENT_SOURCE.replay) {
    if (!context.acceptReplay) return { kind: 'rejected', reason: `replayed events (source ${source}) are turned off for this deployment` };
    if (!reporter) return { kind: 'rejected', reason: `detail-type ${JSON.stringify(detailType)} cannot be replayed` };
    return { kind: 'reporter', reporter };
  }
  if (source === EVENT_SOURCE.config) {
    if (reporter === 'config') return { kind: 'reporter', reporter };
    if (detailType === DETAIL_TYPE.configItemChange) {
      return { kind: 'ignored', reason: 'configuration-item changes carry no compliance verdict' };
    }
    if (reporter) return { kind: 'rejected', reason: `detail-type ${JSON.stringify(detailType)} does not come from ${source}` };
    return { kind: 'skipped', reason: `no driftfix rule answers ${source} events of type ${JSON.stringify(detailType)}` };
  }
  if (source === EVENT_SOURCE.accessAnalyzer) {
    if (reporter === 'access-analyzer') return { kind: 'reporter', reporter };
    if (reporter) return { kind: 'rejected', reason: `detail-type ${JSON.stringify(detailType)} does not come from ${source}` };
    return { kind: 'skipped', reason: `no driftfix rule answers ${source} events of type ${JSON.stringify(detailType)}` };
  }
  return { kind: 'rejected', reason: `source ${JSON.stringify(source.slice(0, 80))} is not one driftfix accepts` };
}

function fromConfigEvent(envelope: Envelope, replayed: boolean, context: IntakeContext): IntakeResult {
  const eventId = envelope.id;
  const parsed = configComplianceDetailSchema(context.now).safeParse(envelope.detail);
  if (!parsed.success) return { kind: 'rejected', eventId, reason: describeIssues(parsed.error, 'detail') };
  const detail = parsed.data;
  const mismatch = configMismatch(envelope, detail);
  if (mismatch) return { kind: 'rejected', eventId, reason: mismatch };

  const resourceProblem = configResourceProblem(detail, envelope.account);
  if (resourceProblem) return { kind: 'rejected', eventId, reason: resourceProblem };

  const { complianceType } = detail.newEvaluationResult;
  if (complianceType !== 'NON_COMPLIANT') {
    return { kind: 'ignored', eventId, reason: `verdict ${complianceType} needs no action` };
  }
  return {
    kind: 'finding',
    finding: {
      eventId,
      reporter: 'config',
      replayed,
      account: envelope.account,
      region: envelope.region,
      time: envelope.time,
      resourceType: detail.resourceType,
      resourceId: detail.resourceId,
      ...(detail.resourceType === 'AWS::S3::Bucket' ? { resourceArn: `arn:aws:s3:::${detail.resourceId}` } : {}),
      trigger: {
        kind: 'config-rule',
        configRuleName: detail.configRuleName,
        complianceType,
        ...(detail.configRuleARN ? { configRuleArn: detail.configRuleARN } : {}),
        ...(detail.newEvaluationResult.annotation ? { annotation: detail.newEvaluationResult.annotation } : {}),
      },
    },
  };
}

/** Every copy of a fact in the event must agree; a disagreement means it was tampered with. */
function configMismatch(envelope: Envelope, detail: ConfigComplianceDetail): string | null {
  if (detail.awsAccountId !== envelope.account) {
    return `detail.awsAccountId ${detail.awsAccountId} differs from the event account ${envelope.account}`;
  }
  if (detail.awsRegion !== envelope.region) {
    return `detail.awsRegion ${detail.awsRegion} differs from the event region ${envelope.region}`;
  }
  const qualifier = detail.newEvaluationResult.evaluationResultIdentifier?.evaluationResultQualifier;
  const pairs: Array<[string, string | undefined, string]> = [
    ['configRuleName', qualifier?.configRuleName, detail.configRuleName],
    ['resourceType', qualifier?.resourceType, detail.resourceType],
    ['resourceId', qualifier?.resourceId, detail.resourceId],
  ];
  for (const [field, qualified, stated] of pairs) {
    if (qualified !== undefined && qualified !== stated) {
      return `evaluation result names ${field} ${JSON.stringify(qualified)} but the event says ${JSON.stringify(stated)}`;
    }
  }
  if (detail.configRuleARN) {
    const arnParts = detail.configRuleARN.split(':');
    if (arnParts[3] !== envelope.region || arnParts[4] !== envelope.account) {
      return `configRuleARN ${detail.configRuleARN} is not in ${envelope.account}/${envelope.region}`;
    }
  }
  return null;
}

function configResourceProblem(detail: ConfigComplianceDetail, account: string): string | null {
  switch (detail.resourceType) {
    case 'AWS::S3::Bucket': {
      const problem = bucketNameProblem(detail.resourceId);
      return problem ? `invalid bucket name ${JSON.stringify(detail.resourceId.slice(0, 80))}: ${problem}` : null;
    }
    case 'AWS::::Account':
      return detail.resourceId === account ? null : `account resource ${detail.resourceId} is not this account (${account})`;
    case 'AWS::IAM::Policy':
      if (detail.resourceId.startsWith('arn:')) {
        const parsed = policyFromArn(detail.resourceId, account);
        return 'problem' in parsed ? parsed.problem : null;
      }
      return policyIdProblem(detail.resourceId);
    default:
      return null;
  }
}

/** What a person needs to know of a finding with no fix, from whichever Access Analyzer shape it has. */
export function unhandledFinding(envelope: Envelope, reason: string): UnhandledFinding {
  const detail = envelope.detail;
  const text = (value: unknown) => (typeof value === 'string' ? value.slice(0, 2048) : '');
  return {
    eventId: envelope.id,
    account: envelope.account,
    region: envelope.region,
    replayed: envelope.source === EVENT_SOURCE.replay,
    findingId: text(detail.id) || text(detail.findingId) || envelope.id,
    resourceType: text(detail.resourceType) || 'unknown',
    resource: text(detail.resource) || 'unknown',
    ...(text(detail.findingType) ? { findingType: text(detail.findingType) } : {}),
    isPublic: detail.isPublic === true,
    reason,
  };
}

function fromAccessAnalyzerEvent(envelope: Envelope, replayed: boolean, context: IntakeContext): IntakeResult {
  const eventId = envelope.id;
  const parsed = accessAnalyzerDetailSchema(context.now).safeParse(envelope.detail);
  if (!parsed.success) return { kind: 'rejected', eventId, reason: describeIssues(parsed.error, 'detail') };
  const detail = parsed.data;
  if (detail.accountId !== envelope.account) {
    return { kind: 'rejected', eventId, reason: `detail.accountId ${detail.accountId} differs from the event account ${envelope.account}` };
  }
  if (detail.region !== undefined && detail.region !== envelope.region) {
    return { kind: 'rejected', eventId, reason: `detail.region ${detail.region} differs from the event region ${envelope.region}` };
  }
  const analyzerArn = envelope.resources.find((arn) => arn.includes(':access-analyzer:'));
  if (analyzerArn) {
    const parts = analyzerArn.split(':');
    if (parts[3] !== envelope.region || parts[4] !== envelope.account) {
      return { kind: 'rejected', eventId, reason: `analyzer ${analyzerArn} is not in ${envelope.account}/${envelope.region}` };
    }
  }

  let resourceId = detail.resource;
  if (detail.resourceType === 'AWS::S3::Bucket') {
    const bucket = bucketFromArn(detail.resource);
    if ('problem' in bucket) return { kind: 'rejected', eventId, reason: bucket.problem };
    resourceId = bucket.bucket;
  } else if (detail.resourceType === 'AWS::IAM::Role' || detail.resourceType === 'AWS::IAM::Policy') {
    const arnAccount = detail.resource.split(':')[4];
    if (arnAccount === 'aws') return { kind: 'rejected', eventId, reason: `${detail.resource} is AWS-managed; driftfix never changes it` };
    if (arnAccount !== envelope.account) {
      return { kind: 'rejected', eventId, reason: `${detail.resource} is not in account ${envelope.account}` };
    }
  }

  if (detail.isDeleted) return { kind: 'ignored', eventId, reason: 'the finding was deleted' };
  if (detail.status !== 'ACTIVE') return { kind: 'ignored', eventId, reason: `finding status ${detail.status} needs no action` };
  if (detail.error) {
    const reason = `Access Analyzer could not analyze the resource (${detail.error})`;
    return { kind: 'skipped', eventId, reason, unhandled: unhandledFinding(envelope, reason) };
  }
  if (detail.findingType && detail.findingType !== 'ExternalAccess') {
    const reason = `Access Analyzer ${detail.findingType} findings have no driftfix fix`;
    return { kind: 'skipped', eventId, reason, unhandled: unhandledFinding(envelope, reason) };
  }

  return {
    kind: 'finding',
    finding: {
      eventId,
      reporter: 'access-analyzer',
      replayed,
      account: envelope.account,
      region: envelope.region,
      time: envelope.time,
      resourceType: detail.resourceType,
      resourceId,
      resourceArn: detail.resource,
      trigger: {
        kind: 'access-analyzer',
        findingId: detail.id,
        status: detail.status,
        isPublic: detail.isPublic === true,
        ...(detail.findingType ? { findingType: detail.findingType } : {}),
        ...(analyzerArn ? { analyzerArn } : {}),
        ...(detail.principal ? { principal: detail.principal } : {}),
        ...(detail.action ? { actions: detail.action } : {}),
      },
    },
  };
}
