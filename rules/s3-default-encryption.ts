import { GetBucketEncryptionCommand, type ServerSideEncryptionRule } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { readBucketTags } from './s3-bucket-tags.ts';
import type { Plan, Rule, Step } from './types.ts';

const params = z.strictObject({
  /** When set, buckets are encrypted with SSE-KMS under this key, with S3 Bucket Keys. */
  kmsKeyArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[A-Za-z0-9/_-]+$/, 'expected a KMS key or alias ARN')
    .optional(),
});
export type S3DefaultEncryptionParams = z.infer<typeof params>;

export interface S3DefaultEncryptionState {
  /** The bucket's default encryption rules; null when it has none. */
  rules: ServerSideEncryptionRule[] | null;
}

const KMS_ALGORITHMS = new Set(['aws:kms', 'aws:kms:dsse']);

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

export const s3DefaultEncryption: Rule<S3DefaultEncryptionState, S3DefaultEncryptionParams> = {
  id: 's3-default-encryption',
  title: 'S3 default encryption',
  resourceType: 'AWS::S3::Bucket',
  services: ['s3', 'config'],
  answers: { configRules: ['s3-bucket-server-side-encryption-enabled', 's3-default-encryption-kms'] },
  defaultMode: 'auto',
  risk: 'low',
  params,
  permissions: {
    read: ['s3:GetEncryptionConfiguration', 's3:GetBucketTagging'],
    write: ['s3:PutEncryptionConfiguration'],
    resource: 'bucket',
    wildcardOnly: [],
    alsoOn: [{ actions: ['config:StartConfigRulesEvaluation'], resource: 'config-rule' }],
  },
  readTags: readBucketTags,

  async readState({ clients, target }) {
    try {
      const output = await clients.s3.send(
        new GetBucketEncryptionCommand({ Bucket: target.resourceId, ExpectedBucketOwner: target.account }),
      );
      return { rules: output.ServerSideEncryptionConfiguration?.Rules ?? null };
    } catch (error) {
      if ((error as Error).name === 'ServerSideEncryptionConfigurationNotFoundError') return { rules: null };
      throw error;
    }
  },

  plan(state, { kmsKeyArn }, finding): Plan {
    const algorithm = algorithmOf(state);
    const current = describe(state);
    const wantsKms = finding.trigger.kind === 'config-rule' && finding.trigger.configRuleName === 's3-default-encryption-kms';
    if (kmsKeyArn) {
      const defaults = state.rules?.[0]?.ApplyServerSideEncryptionByDefault;
      if (algorithm && KMS_ALGORITHMS.has(algorithm) && sameKey(kmsKeyArn, defaults?.KMSMasterKeyID)) {
        return { status: 'compliant', summary: `already encrypted with the configured key: ${current}` };
      }
    } else if (algorithm && (!wantsKms || KMS_ALGORITHMS.has(algorithm))) {
      return { status: 'compliant', summary: `already encrypted by default: ${current}` };
    } else if (wantsKms) {
      return {
        status: 'unfixable',
        summary: 's3-default-encryption-kms asks for SSE-KMS but no kmsKeyArn is configured for s3-default-encryption',
      };
    }

    const wanted: ServerSideEncryptionRule = kmsKeyArn
      ? { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: kmsKeyArn }, BucketKeyEnabled: true }
      : { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } };
    const bucket = finding.resourceId;
    const after: S3DefaultEncryptionState = { rules: [wanted] };
    const step: Step = {
      operation: 'S3.PutBucketEncryption',
      input: { Bucket: bucket, ExpectedBucketOwner: finding.account, ServerSideEncryptionConfiguration: { Rules: [wanted] } },
      description: `set default encryption: ${current} → ${describe(after)}`,
      before: state,
      after,
      undo: state.rules
        ? {
            operation: 'S3.PutBucketEncryption',
            input: { Bucket: bucket, ExpectedBucketOwner: finding.account, ServerSideEncryptionConfiguration: { Rules: state.rules } },
          }
        : { operation: 'S3.DeleteBucketEncryption', input: { Bucket: bucket, ExpectedBucketOwner: finding.account } },
    };
    return { status: 'change', summary: step.description, steps: [step] };
  },

  describe,
};
