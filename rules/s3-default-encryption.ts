import type { S3Client, ServerSideEncryptionRule } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { parseArn, type Plan, type Rule, type Step } from '../core/model/index.ts';
import { S3 } from './lib/clients.ts';
import { S3_BUCKET } from './lib/resources.ts';
import { readBucketTags } from './lib/s3.ts';

const params = z.strictObject({
  /** When set, buckets are encrypted with SSE-KMS under this key, with S3 Bucket Keys. */
  kmsKeyArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[A-Za-z0-9/_-]+$/, 'expected a KMS key or alias ARN')
    .optional(),
});
type Params = z.infer<typeof params>;

export interface S3DefaultEncryptionState {
  /** The bucket's default encryption rules; null when it has none. */
  rules: ServerSideEncryptionRule[] | null;
}

const KMS_ALGORITHMS = new Set(['aws:kms', 'aws:kms:dsse']);
/** The managed rule that asks for SSE-KMS rather than any default encryption. */
const KMS_RULE = 'S3_DEFAULT_ENCRYPTION_KMS';

function algorithmOf(state: S3DefaultEncryptionState): string | undefined {
  return state.rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm;
}

/** Keys can be named by id or ARN; compare the part both forms share. */
function sameKey(configured: string, actual: string | undefined): boolean {
  if (!actual) return false;
  return actual === configured || configured.endsWith(`/${actual}`);
}

function describe(state: S3DefaultEncryptionState): string {
  const defaults = state.rules?.[0]?.ApplyServerSideEncryptionByDefault;
  if (!defaults?.SSEAlgorithm) return 'no default encryption';
  if (defaults.SSEAlgorithm === 'AES256') return 'SSE-S3 (AES256)';
  const bucketKey = state.rules?.[0]?.BucketKeyEnabled ? ', Bucket Key on' : '';
  return `SSE-KMS (${defaults.SSEAlgorithm}, key ${defaults.KMSMasterKeyID ?? 'aws/s3'}${bucketKey})`;
}

const rule: Rule<S3DefaultEncryptionState, Params, { s3: S3Client }> = {
  id: 's3-default-encryption',
  title: 'S3 default encryption',
  resource: S3_BUCKET,
  clients: { s3: S3 },
  answers: {
    config: [
      { identifier: 'S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED', resourceTypes: ['AWS::S3::Bucket'], defaultName: 's3-bucket-server-side-encryption-enabled' },
      { identifier: KMS_RULE, resourceTypes: ['AWS::S3::Bucket'], defaultName: 's3-default-encryption-kms' },
    ],
    // S3.4 "S3 buckets should have server-side encryption enabled" (Security Hub controls reference).
    securityHub: ['S3.4'],
  },
  defaultMode: 'auto',
  risk: 'low',
  params,
  permissions: { read: ['s3:GetEncryptionConfiguration', 's3:GetBucketTagging'] },
  operations: {
    'S3.PutBucketEncryption': {
      client: 's3',
      iamAction: 's3:PutEncryptionConfiguration',
      command: async () => (await import('@aws-sdk/client-s3')).PutBucketEncryptionCommand,
    },
    'S3.DeleteBucketEncryption': {
      client: 's3',
      iamAction: 's3:PutEncryptionConfiguration',
      command: async () => (await import('@aws-sdk/client-s3')).DeleteBucketEncryptionCommand,
    },
  },
  readTags: readBucketTags,

  async readState({ clients, target }) {
    const { GetBucketEncryptionCommand } = await import('@aws-sdk/client-s3');
    try {
      const output = await clients.s3.send(new GetBucketEncryptionCommand({ Bucket: target.resourceId, ExpectedBucketOwner: target.account }));
      return { rules: output.ServerSideEncryptionConfiguration?.Rules ?? null };
    } catch (error) {
      if ((error as Error).name === 'ServerSideEncryptionConfigurationNotFoundError') return { rules: null };
      throw error;
    }
  },

  plan(state, { kmsKeyArn }, finding): Plan {
    const algorithm = algorithmOf(state);
    const current = describe(state);
    const wantsKms = finding.trigger.kind === 'config-rule' && finding.trigger.identifier === KMS_RULE;
    if (kmsKeyArn) {
      // S3 does not check the key of PutBucketEncryption (S3 API Reference); a key in another Region
      // would be accepted and every later upload refused. The key must be in the bucket's Region.
      const keyRegion = parseArn(kmsKeyArn)?.region;
      if (keyRegion !== finding.region) {
        return { status: 'unfixable', summary: `the configured kmsKeyArn is a key in ${keyRegion}, and S3 encrypts a bucket in ${finding.region} only with a key of its own Region: set a key of ${finding.region} for this rule (RULE_PARAMS)` };
      }
      const defaults = state.rules?.[0]?.ApplyServerSideEncryptionByDefault;
      if (algorithm && KMS_ALGORITHMS.has(algorithm) && sameKey(kmsKeyArn, defaults?.KMSMasterKeyID)) {
        return { status: 'compliant', summary: `already encrypted with the configured key: ${current}` };
      }
    } else if (algorithm && (!wantsKms || KMS_ALGORITHMS.has(algorithm))) {
      return { status: 'compliant', summary: `already encrypted by default: ${current}` };
    } else if (wantsKms) {
      return { status: 'unfixable', summary: `${KMS_RULE} asks for SSE-KMS but no kmsKeyArn is configured for this rule (RULE_PARAMS)` };
    }

    const wanted: ServerSideEncryptionRule = kmsKeyArn
      ? { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: kmsKeyArn }, BucketKeyEnabled: true }
      : { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } };
    const bucket = { Bucket: finding.resourceId, ExpectedBucketOwner: finding.account };
    const after: S3DefaultEncryptionState = { rules: [wanted] };
    const step: Step = {
      operation: 'S3.PutBucketEncryption',
      input: { ...bucket, ServerSideEncryptionConfiguration: { Rules: [wanted] } },
      description: `set default encryption: ${current} → ${describe(after)}`,
      before: state,
      after,
      undo: state.rules
        ? { operation: 'S3.PutBucketEncryption', input: { ...bucket, ServerSideEncryptionConfiguration: { Rules: state.rules } } }
        : { operation: 'S3.DeleteBucketEncryption', input: bucket },
    };
    return { status: 'change', summary: step.description, steps: [step] };
  },

  describe,
};

export default rule;
