import type { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import type { Finding, Plan, Rule, Step } from '../core/model/index.ts';
import { S3 } from './lib/clients.ts';
import { S3_BUCKET } from './lib/resources.ts';
import { readBucketTags } from './lib/s3.ts';

/**
 * AWS Config s3-bucket-versioning-enabled (S3_BUCKET_VERSIONING_ENABLED): "Checks if versioning is
 * enabled for your S3 buckets. Optionally, the rule checks if MFA delete is enabled", parameter
 * isMfaDeleteEnabled (https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-versioning-enabled.html).
 * Security Hub S3.14 runs it with no parameters: "The control fails if versioning is suspended".
 *
 * The fix sends PutBucketVersioning with Status only, which leaves MFA delete as it is. MFA delete
 * is never touched: "When you configure MFA delete, only the root user can … change the versioning
 * configuration on your S3 bucket", with the x-amz-mfa header (S3 User Guide, UsingMFADelete). So a
 * bucket with MFA delete on, and a Config rule that asks for MFA delete, go to a person.
 *
 * Versioning can be suspended but never returns to "never enabled" (PutBucketVersioning): the undo
 * suspends it, and a rollback counts "suspended" as the "never enabled" it replaced.
 *
 * AWS: "When you enable versioning on a bucket for the first time, it might take a short amount of
 * time for the change to be fully propagated" (it recommends waiting 15 minutes before writing
 * objects). The engine re-reads up to 3 times (0, 300 ms, 1 s) to verify; a read that still lags
 * after that ends as a failed verification that a person looks at, and the bucket is versioned.
 *
 * Auto: enabling versioning removes no access and changes no object; old versions are kept, so
 * storage grows until lifecycle rules expire noncurrent versions.
 */

const params = z.strictObject({});

export interface S3BucketVersioningState {
  /** GetBucketVersioning's Status; null when versioning was never set on the bucket. */
  status: 'Enabled' | 'Suspended' | null;
  /** Returned only once MFA delete was ever configured on the bucket. */
  mfaDelete: 'Enabled' | 'Disabled' | null;
}

const ROOT_ONLY = 'MFA delete can be changed only by the root user with MFA';

/** The Config rule asks for MFA delete too (isMfaDeleteEnabled, a String parameter; "true" assumed). */
function wantsMfaDelete(finding: Finding): boolean {
  if (finding.trigger.kind !== 'config-rule') return false;
  return /^true$/i.test(finding.trigger.parameters?.isMfaDeleteEnabled?.trim() ?? '');
}

function describeVersioning(status: S3BucketVersioningState['status']): string {
  if (status === 'Enabled') return 'versioning enabled';
  if (status === 'Suspended') return 'versioning suspended';
  return 'versioning never enabled';
}

function describe(state: S3BucketVersioningState): string {
  return `${describeVersioning(state.status)}${state.mfaDelete === 'Enabled' ? ', MFA delete on' : ''}`;
}

const rule: Rule<S3BucketVersioningState, z.infer<typeof params>, { s3: S3Client }> = {
  id: 's3-bucket-versioning',
  title: 'S3 bucket versioning',
  resource: S3_BUCKET,
  clients: { s3: S3 },
  answers: {
    config: [{ identifier: 'S3_BUCKET_VERSIONING_ENABLED', resourceTypes: ['AWS::S3::Bucket'], defaultName: 's3-bucket-versioning-enabled' }],
    // S3.14 "S3 buckets should use versioning" (Security Hub controls reference; rule s3-bucket-versioning-enabled).
    securityHub: ['S3.14'],
  },
  defaultMode: 'auto',
  risk: 'low',
  params,
  permissions: { read: ['s3:GetBucketVersioning', 's3:GetBucketTagging'] },
  operations: {
    'S3.PutBucketVersioning': {
      client: 's3',
      iamAction: 's3:PutBucketVersioning',
      command: async () => (await import('@aws-sdk/client-s3')).PutBucketVersioningCommand,
    },
  },
  readTags: readBucketTags,

  async readState({ clients, target }) {
    const { GetBucketVersioningCommand } = await import('@aws-sdk/client-s3');
    const output = await clients.s3.send(new GetBucketVersioningCommand({ Bucket: target.resourceId, ExpectedBucketOwner: target.account }));
    const status = output.Status === 'Enabled' || output.Status === 'Suspended' ? output.Status : null;
    const mfaDelete = output.MFADelete === 'Enabled' || output.MFADelete === 'Disabled' ? output.MFADelete : null;
    return { status, mfaDelete };
  },

  plan(state, _params, finding): Plan {
    const current = describe(state);
    if (state.status !== 'Enabled' && state.mfaDelete === 'Enabled') {
      return {
        status: 'unfixable',
        summary: `${current}: with MFA delete on, S3 changes the versioning state only in a request of the root user with its MFA device; ${ROOT_ONLY}, so the root user must enable versioning`,
      };
    }
    if (wantsMfaDelete(finding) && state.mfaDelete !== 'Enabled') {
      const alsoOff = state.status === 'Enabled' ? '' : `; ${describeVersioning(state.status)} too: the root user can enable both in one PutBucketVersioning request with the x-amz-mfa header`;
      return {
        status: 'unfixable',
        summary: `AWS Config rule ${finding.trigger.kind === 'config-rule' ? finding.trigger.configRuleName : ''} asks for MFA delete (isMfaDeleteEnabled=true), which is off: ${ROOT_ONLY}${alsoOff}`,
      };
    }
    if (state.status === 'Enabled') return { status: 'compliant', summary: `already ${current}` };

    const bucket = { Bucket: finding.resourceId, ExpectedBucketOwner: finding.account };
    const never = state.status === null;
    const step: Step = {
      operation: 'S3.PutBucketVersioning',
      input: { ...bucket, VersioningConfiguration: { Status: 'Enabled' } },
      description: never
        ? 'enable versioning: never enabled → Enabled (a rollback can only suspend it: once versioned, a bucket never returns to unversioned)'
        : 'enable versioning: Suspended → Enabled',
      before: state,
      after: { ...state, status: 'Enabled' },
      undo: { operation: 'S3.PutBucketVersioning', input: { ...bucket, VersioningConfiguration: { Status: 'Suspended' } } },
    };
    return { status: 'change', summary: step.description, steps: [step] };
  },

  describe,

  /**
   * What a rollback compares: versioning on or off, and MFA delete. "Suspended" is as close to
   * "never enabled" as S3 allows, so a rollback that suspends versioning restored the bucket.
   */
  fingerprint: (state) => ({ versioning: state.status === 'Enabled' ? 'on' : 'off', mfaDelete: state.mfaDelete === 'Enabled' }),
};

export default rule;
