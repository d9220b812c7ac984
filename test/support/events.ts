import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ACCOUNT = '111122223333';
export const OTHER_ACCOUNT = '444455556666';
export const REGION = 'us-east-1';
export const EVENTS_DIR = join(import.meta.dirname, '..', '..', 'events');

type Json = Record<string, any>;

export function loadSample(relativePath: string): Json {
  return JSON.parse(readFileSync(join(EVENTS_DIR, relativePath), 'utf8')) as Json;
}

let counter = 0;
function freshId(): string {
  counter += 1;
  return `00000000-0000-4000-8000-${String(Date.now() % 1e6).padStart(6, '0')}${String(counter).padStart(6, '0')}`;
}

/** A Config compliance-change event for `resourceId`, built from the sample in events/. */
export function configEvent(options: { rule: string; resourceId: string; resourceType?: string; compliance?: string; id?: string }): Json {
  const event = loadSample('config/s3-bucket-server-side-encryption-enabled.json');
  const resourceType = options.resourceType ?? 'AWS::S3::Bucket';
  event.id = options.id ?? freshId();
  event.detail.configRuleName = options.rule;
  event.detail.resourceId = options.resourceId;
  event.detail.resourceType = resourceType;
  event.detail.newEvaluationResult.complianceType = options.compliance ?? 'NON_COMPLIANT';
  event.detail.newEvaluationResult.evaluationResultIdentifier.evaluationResultQualifier = {
    configRuleName: options.rule,
    resourceType,
    resourceId: options.resourceId,
    evaluationMode: 'DETECTIVE',
  };
  return event;
}

/** An Access Analyzer finding event for a bucket, built from the sample in events/. */
export function analyzerEvent(options: { bucket: string; isPublic?: boolean; status?: string; id?: string }): Json {
  const event = loadSample('access-analyzer/s3-bucket-public.json');
  event.id = options.id ?? freshId();
  event.detail.resource = `arn:aws:s3:::${options.bucket}`;
  event.detail.isPublic = options.isPublic ?? true;
  if (options.isPublic === false) event.detail.principal = { AWS: OTHER_ACCOUNT };
  event.detail.status = options.status ?? 'ACTIVE';
  return event;
}
