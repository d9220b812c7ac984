import type { Finding } from '../model/index.ts';
import { arnIsLocal, type IntakeContext, type IntakeResult, unhandledFinding } from './results.ts';
import {
  accessAnalyzerDetailSchema,
  type ConfigComplianceDetail,
  configComplianceDetailSchema,
  describeIssues,
  type Envelope,
  PRINTABLE_ASCII,
  securityHubFindingSchema,
} from './schemas.ts';

/** The three shapes of finding driftfix answers, each turned into a Finding after every check. */

export function fromConfigEvent(envelope: Envelope, replayed: boolean, context: IntakeContext): IntakeResult {
  const eventId = envelope.id;
  const parsed = configComplianceDetailSchema(context.now).safeParse(envelope.detail);
  if (!parsed.success) return { kind: 'rejected', eventId, reason: describeIssues(parsed.error, 'detail') };
  const detail = parsed.data;
  const mismatch = configMismatch(envelope, detail);
  if (mismatch) return { kind: 'rejected', eventId, reason: mismatch };
  if (!PRINTABLE_ASCII.test(detail.resourceId)) return { kind: 'rejected', eventId, reason: 'detail.resourceId has characters no AWS resource id has' };

  const { complianceType, annotation } = detail.newEvaluationResult;
  if (complianceType !== 'NON_COMPLIANT') return { kind: 'ignored', eventId, reason: `verdict ${complianceType} needs no action` };
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
      trigger: {
        kind: 'config-rule',
        configRuleName: detail.configRuleName,
        complianceType,
        ...(detail.configRuleARN ? { configRuleArn: detail.configRuleARN } : {}),
        ...(annotation ? { annotation } : {}),
      },
    },
  };
}

/** Every copy of a fact in the event must agree; a disagreement means it was tampered with. */
function configMismatch(envelope: Envelope, detail: ConfigComplianceDetail): string | null {
  if (detail.awsAccountId !== envelope.account) return `detail.awsAccountId ${detail.awsAccountId} differs from the event account ${envelope.account}`;
  if (detail.awsRegion !== envelope.region) return `detail.awsRegion ${detail.awsRegion} differs from the event region ${envelope.region}`;
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
  if (detail.configRuleARN && !arnIsLocal(detail.configRuleARN, envelope)) {
    return `configRuleARN ${detail.configRuleARN} is not in ${envelope.account}/${envelope.region}`;
  }
  return null;
}

export function fromAccessAnalyzerEvent(envelope: Envelope, replayed: boolean, context: IntakeContext): IntakeResult {
  const eventId = envelope.id;
  const parsed = accessAnalyzerDetailSchema(context.now).safeParse(envelope.detail);
  if (!parsed.success) return { kind: 'rejected', eventId, reason: describeIssues(parsed.error, 'detail') };
  const detail = parsed.data;
  // "In the detail object, the values for the accountId and region attributes refer to the account
  // and region reported in the finding" (IAM User Guide, EventBridge for Access Analyzer): an
  // organization analyzer reports member accounts' resources. Theirs to fix, by their own stack.
  if (detail.accountId !== envelope.account) {
    return { kind: 'ignored', eventId, reason: `a finding of account ${detail.accountId} from an organization analyzer: that account's own driftfix acts on it` };
  }
  if (detail.region !== undefined && detail.region !== envelope.region) {
    return { kind: 'rejected', eventId, reason: `detail.region ${detail.region} differs from the event region ${envelope.region}` };
  }
  const analyzerArn = envelope.resources.find((arn) => arn.includes(':access-analyzer:'));
  if (analyzerArn && !arnIsLocal(analyzerArn, envelope)) {
    return { kind: 'rejected', eventId, reason: `analyzer ${analyzerArn} is not in ${envelope.account}/${envelope.region}` };
  }
  if (!detail.resource.startsWith('arn:') || !PRINTABLE_ASCII.test(detail.resource)) {
    return { kind: 'rejected', eventId, reason: `detail.resource ${JSON.stringify(detail.resource.slice(0, 80))} is not an ARN` };
  }
  if (detail.resource.split(':')[4] === 'aws') return { kind: 'rejected', eventId, reason: `${detail.resource} is AWS-managed; driftfix never changes it` };

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
      resourceId: detail.resource,
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

/** Security Hub's own control findings: one finding per event (Security Hub User Guide, EventBridge event formats). */
const SECURITY_HUB_PRODUCT = /^arn:aws[a-z-]*:securityhub:[a-z0-9-]+::product\/aws\/securityhub$/;

export function fromSecurityHubEvent(envelope: Envelope, replayed: boolean, context: IntakeContext): IntakeResult {
  const eventId = envelope.id;
  const findings = envelope.detail.findings;
  if (!Array.isArray(findings) || findings.length !== 1) {
    return { kind: 'rejected', eventId, reason: 'detail.findings: Security Hub sends exactly one finding per event' };
  }
  const parsed = securityHubFindingSchema(context.now).safeParse(findings[0]);
  if (!parsed.success) return { kind: 'rejected', eventId, reason: describeIssues(parsed.error, 'detail.findings.0') };
  const finding = parsed.data;
  // "For administrator accounts, the event feed … includes events for findings from … their member
  // accounts. In an aggregation Region, the event feed includes events for findings from … the linked
  // Regions" (Security Hub User Guide, EventBridge for Security Hub): AWS sends these, and they are
  // the member's or the other region's to fix, by its own stack.
  if (finding.AwsAccountId !== envelope.account) {
    return { kind: 'ignored', eventId, reason: `a finding of account ${finding.AwsAccountId} in the Security Hub administrator's feed: that account's own driftfix acts on it` };
  }
  if (finding.Region && finding.Region !== envelope.region) {
    return { kind: 'ignored', eventId, reason: `a finding of region ${finding.Region} in the aggregation region's feed: that region's own driftfix acts on it` };
  }
  if (!SECURITY_HUB_PRODUCT.test(finding.ProductArn)) {
    return { kind: 'skipped', eventId, reason: `findings of product ${finding.ProductArn} have no driftfix fix (only Security Hub's own controls)` };
  }
  const controlId = finding.Compliance?.SecurityControlId;
  if (!controlId) return { kind: 'skipped', eventId, reason: 'the finding names no Security Hub control (Compliance.SecurityControlId)' };
  if (finding.RecordState !== 'ACTIVE') return { kind: 'ignored', eventId, reason: `finding is ${finding.RecordState}` };
  const status = finding.Compliance?.Status ?? 'NOT_AVAILABLE';
  if (status !== 'FAILED') return { kind: 'ignored', eventId, reason: `control ${controlId} is ${status}: nothing to fix` };
  const workflow = finding.Workflow?.Status ?? 'NEW';
  if (workflow !== 'NEW' && workflow !== 'NOTIFIED') {
    // Our own BatchUpdateFindings (RESOLVED) comes back as an imported event too.
    return { kind: 'ignored', eventId, reason: `finding workflow is ${workflow}: already settled` };
  }
  const [resource] = finding.Resources;
  if (!resource || finding.Resources.length !== 1) {
    return { kind: 'skipped', eventId, reason: 'control findings name one resource; this one names several' };
  }
  if (resource.Region && resource.Region !== envelope.region && resource.Type !== 'AwsIamPolicy' && resource.Type !== 'AwsIamRole') {
    return { kind: 'rejected', eventId, reason: `resource region ${resource.Region} differs from the event region ${envelope.region}` };
  }
  if (!PRINTABLE_ASCII.test(resource.Id)) return { kind: 'rejected', eventId, reason: 'Resources[0].Id has characters no AWS resource id has' };
  const configRuleName = Object.entries(finding.ProductFields ?? {}).find(([key]) => /^RelatedAWSResources:\d+\/name$/.test(key))?.[1];
  const found: Finding = {
    eventId,
    ...(finding.UpdatedAt ? { dedupeKey: `${finding.Id}@${finding.UpdatedAt}` } : {}),
    reporter: 'security-hub',
    replayed,
    account: envelope.account,
    region: envelope.region,
    time: envelope.time,
    resourceType: resource.Type,
    resourceId: resource.Id,
    ...(resource.Id.startsWith('arn:') ? { resourceArn: resource.Id } : {}),
    trigger: {
      kind: 'security-hub',
      findingId: finding.Id,
      productArn: finding.ProductArn,
      controlId,
      complianceStatus: status,
      workflowStatus: workflow,
      ...(configRuleName ? { configRuleName } : {}),
    },
  };
  return { kind: 'finding', finding: found };
}
