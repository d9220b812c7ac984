import { GetBucketPolicyCommand } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { externalAccounts, removeAccounts } from './external-principals.ts';
import { parsePolicy, serializePolicy } from './iam-policy-document.ts';
import { readBucketTags } from './s3-bucket-tags.ts';
import type { Plan, Rule, Step } from './types.ts';

const params = z.strictObject({});

export interface S3BucketPolicyState {
  /** The bucket policy as S3 returns it; null when the bucket has none. */
  policy: string | null;
}

export const s3BucketPolicyExternalAccess: Rule<S3BucketPolicyState, z.infer<typeof params>> = {
  id: 's3-bucket-policy-external-access',
  title: 'S3 bucket shared with another account',
  resourceType: 'AWS::S3::Bucket',
  services: ['s3'],
  answers: { configRules: [], accessAnalyzer: { resourceType: 'AWS::S3::Bucket', isPublic: false } },
  // Sharing with another account is often intended: always a person's decision.
  defaultMode: 'approve',
  risk: 'high',
  params,
  permissions: {
    read: ['s3:GetBucketPolicy', 's3:GetBucketTagging'],
    write: ['s3:PutBucketPolicy', 's3:DeleteBucketPolicy'],
    resource: 'bucket',
    wildcardOnly: [],
  },
  readTags: readBucketTags,

  async readState({ clients, target }) {
    try {
      const output = await clients.s3.send(new GetBucketPolicyCommand({ Bucket: target.resourceId, ExpectedBucketOwner: target.account }));
      return { policy: output.Policy ?? null };
    } catch (error) {
      if ((error as Error).name === 'NoSuchBucketPolicy') return { policy: null };
      throw error;
    }
  },

  plan(state, _params, finding): Plan {
    const accounts = finding.trigger.kind === 'access-analyzer' ? externalAccounts(finding.trigger.principal) : [];
    if (accounts.length === 0) return { status: 'unfixable', summary: 'the finding names no external account to remove' };
    if (!state.policy) return { status: 'compliant', summary: 'the bucket has no policy: no statement grants access to another account' };
    const parsed = parsePolicy(state.policy);
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
    return { status: 'change', summary, steps: [step], approvalReason: 'access for another account may be intended: a person decides' };
  },

  describe: (state) => (state.policy ? `bucket policy with ${parsePolicy(state.policy).statements.length} statement(s)` : 'no bucket policy'),
};
