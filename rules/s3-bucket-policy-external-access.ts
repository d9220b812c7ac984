import type { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import type { Plan, Rule, Step } from '../core/model/index.ts';
import { S3 } from './lib/clients.ts';
import { externalAccounts, removeAccounts, wildcardGrants } from './lib/external-principals.ts';
import { parsePolicy, serializePolicy } from './lib/iam-policy-document.ts';
import { S3_BUCKET } from './lib/resources.ts';
import { readBucketPolicy, readBucketTags, S3_WRITES } from './lib/s3.ts';

const params = z.strictObject({});

export interface S3BucketPolicyState {
  /** The bucket policy as S3 returns it; null when the bucket has none. */
  policy: string | null;
}

const rule: Rule<S3BucketPolicyState, z.infer<typeof params>, { s3: S3Client }> = {
  id: 's3-bucket-policy-external-access',
  title: 'S3 bucket shared with another account',
  resource: S3_BUCKET,
  clients: { s3: S3 },
  answers: { accessAnalyzer: { resourceType: 'AWS::S3::Bucket', isPublic: false } },
  // Sharing with another account is often intended: always a person's decision.
  defaultMode: 'approve',
  risk: 'high',
  params,
  permissions: { read: ['s3:GetBucketPolicy', 's3:GetBucketTagging'] },
  operations: S3_WRITES,
  readTags: readBucketTags,

  async readState(context) {
    return { policy: await readBucketPolicy(context, await import('@aws-sdk/client-s3')) };
  },

  plan(state, _params, finding): Plan {
    const accounts = finding.trigger.kind === 'access-analyzer' ? externalAccounts(finding.trigger.principal, finding.account) : [];
    if (accounts.length === 0) return { status: 'unfixable', summary: `the finding names no account other than ${finding.account} to remove` };
    if (!state.policy) return { status: 'compliant', summary: 'the bucket has no policy: no statement grants access to another account' };
    const parsed = parsePolicy(state.policy);
    const anyone = wildcardGrants(parsed.statements);
    if (anyone.length > 0) {
      return { status: 'unfixable', summary: `${anyone.join(', ')} of the bucket policy allows any principal under conditions, which may be how ${accounts.join(', ')} gets in; removing named accounts cannot end that: change the policy by hand` };
    }
    const removal = removeAccounts(parsed.statements, accounts);
    if (removal.changes.length === 0) return { status: 'compliant', summary: `no Allow statement grants ${accounts.join(', ')} any more` };
    const bucket = finding.resourceId;
    const owner = finding.account;
    const restore = { operation: 'S3.PutBucketPolicy' as const, input: { Bucket: bucket, ExpectedBucketOwner: owner, Policy: state.policy } };
    const summary = `remove access for ${accounts.join(', ')}: ${removal.changes.join('; ')}`;
    const step: Step =
      removal.statements.length === 0
        ? {
            operation: 'S3.DeleteBucketPolicy',
            input: { Bucket: bucket, ExpectedBucketOwner: owner },
            description: `${summary}; nothing else is left, so the bucket policy is deleted`,
            before: state,
            after: { policy: null },
            undo: restore,
          }
        : {
            operation: 'S3.PutBucketPolicy',
            input: { Bucket: bucket, ExpectedBucketOwner: owner, Policy: serializePolicy(parsed, removal.statements) },
            description: summary,
            before: state,
            after: { policy: serializePolicy(parsed, removal.statements) },
            undo: restore,
          };
    return {
      status: 'change',
      summary,
      steps: [step],
      approvalReason: 'access for another account may be intended: a person decides',
      risks: [`${accounts.join(', ')} lose${accounts.length === 1 ? 's' : ''} the access the policy gave; anything there that reads or writes this bucket stops working`],
    };
  },

  describe: (state) => (state.policy ? `bucket policy with ${parsePolicy(state.policy).statements.length} statement(s)` : 'no bucket policy'),
};

export default rule;
