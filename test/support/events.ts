import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { STALE_READ_MARGIN_MS } from '../../core/engine/change.ts';

export const ACCOUNT = '111122223333';
export const OTHER_ACCOUNT = '444455556666';
export const REGION = 'us-east-1';
export const EVENTS_DIR = join(import.meta.dirname, '..', '..', 'events');

type Json = Record<string, any>;

export function loadSample(relativePath: string): Json {
  return JSON.parse(readFileSync(join(EVENTS_DIR, relativePath), 'utf8')) as Json;
}

let counter = 0;
export function freshId(): string {
  counter += 1;
  return `00000000-0000-4000-8000-${String(Date.now() % 1e6).padStart(6, '0')}${String(counter).padStart(6, '0')}`;
}

/** A Config compliance-change event, built from AWS's documented shape in events/. */
export function configEvent(options: { configRuleName: string; resourceId: string; resourceType?: string; compliance?: string; id?: string; configRuleArn?: string }): Json {
  const event = loadSample('config/s3-bucket-server-side-encryption-enabled.remediated.json');
  const resourceType = options.resourceType ?? 'AWS::S3::Bucket';
  event.id = options.id ?? freshId();
  const detail = event.detail;
  detail.configRuleName = options.configRuleName;
  if (options.configRuleArn) detail.configRuleARN = options.configRuleArn;
  detail.resourceId = options.resourceId;
  detail.resourceType = resourceType;
  detail.newEvaluationResult.complianceType = options.compliance ?? 'NON_COMPLIANT';
  for (const result of [detail.newEvaluationResult, detail.oldEvaluationResult]) {
    if (result) result.evaluationResultIdentifier.evaluationResultQualifier = { configRuleName: options.configRuleName, resourceType, resourceId: options.resourceId };
  }
  return event;
}

/** An Access Analyzer finding event for a bucket, built from the sample in events/. */
export function analyzerEvent(options: { bucket: string; isPublic?: boolean; status?: string; id?: string }): Json {
  const event = loadSample('access-analyzer/s3-bucket-public.remediated.json');
  event.id = options.id ?? freshId();
  event.detail.id = freshId();
  event.detail.resource = `arn:aws:s3:::${options.bucket}`;
  event.detail.isPublic = options.isPublic ?? true;
  if (options.isPublic === false) event.detail.principal = { AWS: OTHER_ACCOUNT };
  event.detail.status = options.status ?? 'ACTIVE';
  return event;
}

/** A Security Hub control finding event, built from the sample in events/. */
export function securityHubEvent(options: { controlId: string; resourceType: string; resourceId: string; workflow?: string; status?: string; id?: string; updatedAt?: string }): Json {
  const event = loadSample('security-hub/s3.8-bucket-level-block-public-access.remediated.json');
  event.id = options.id ?? freshId();
  const [finding] = event.detail.findings;
  finding.Id = `arn:aws:securityhub:${REGION}:${ACCOUNT}:security-control/${options.controlId}/finding/${freshId()}`;
  finding.Compliance.SecurityControlId = options.controlId;
  finding.Compliance.Status = options.status ?? 'FAILED';
  finding.Workflow.Status = options.workflow ?? 'NEW';
  finding.Resources = [{ Type: options.resourceType, Id: options.resourceId, Partition: 'aws', Region: REGION }];
  if (options.updatedAt) finding.UpdatedAt = options.updatedAt;
  return event;
}

/** "Remediation Approved", as the Slack endpoint or `npm run approvals` puts it on the bus for the rule's function. */
export function approvedEvent(approvalId: string, ruleId: string, options: { region?: string; account?: string } = {}) {
  return {
    version: '0',
    id: freshId(),
    'detail-type': 'Remediation Approved',
    source: 'driftfix.approvals',
    account: options.account ?? ACCOUNT,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: options.region ?? REGION,
    resources: [],
    detail: { approvalId, ruleId },
  };
}

/** A claim refuses reads begun less than STALE_READ_MARGIN_MS after the last change settled: wait that out. */
export function afterTheFix(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, STALE_READ_MARGIN_MS + 50));
}
