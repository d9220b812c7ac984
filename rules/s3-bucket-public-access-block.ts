import type { AccessAnalyzerClient } from '@aws-sdk/client-accessanalyzer';
import type { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import type { Plan, Rule, Step } from '../core/model/index.ts';
import { ACCESS_ANALYZER, S3 } from './lib/clients.ts';
import { ALL_BLOCKED, allBlocked, describeFlags, flagsFrom, type PublicAccessBlockFlags } from './lib/public-access-block-flags.ts';
import { S3_BUCKET } from './lib/resources.ts';
import { readBucketTags } from './lib/s3.ts';

const params = z.strictObject({});
type Params = z.infer<typeof params>;

export interface S3BucketPublicAccessBlockState {
  /** The bucket's configuration; null when it has none (every flag off). */
  flags: PublicAccessBlockFlags | null;
  /** A bucket with static website hosting looks public on purpose. */
  hostsWebsite: boolean;
}

const missing = (name: string, value: unknown) => (error: unknown) => {
  if ((error as Error).name === name) return value;
  throw error;
};

function readFlags(
  { clients, target }: { clients: { s3: S3Client }; target: { resourceId: string; account: string } },
  { GetPublicAccessBlockCommand }: typeof import('@aws-sdk/client-s3'),
): Promise<PublicAccessBlockFlags | null> {
  return clients.s3
    .send(new GetPublicAccessBlockCommand({ Bucket: target.resourceId, ExpectedBucketOwner: target.account }))
    .then((output) => flagsFrom(output.PublicAccessBlockConfiguration), missing('NoSuchPublicAccessBlockConfiguration', null)) as Promise<PublicAccessBlockFlags | null>;
}

const rule: Rule<S3BucketPublicAccessBlockState, Params, { s3: S3Client; accessAnalyzer: AccessAnalyzerClient }> = {
  id: 's3-bucket-public-access-block',
  title: 'S3 bucket Block Public Access',
  resource: S3_BUCKET,
  clients: { s3: S3, accessAnalyzer: ACCESS_ANALYZER },
  answers: {
    config: [
      { identifier: 'S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED', resourceTypes: ['AWS::S3::Bucket'], defaultName: 's3-bucket-level-public-access-prohibited' },
      { identifier: 'S3_BUCKET_PUBLIC_READ_PROHIBITED', resourceTypes: ['AWS::S3::Bucket'], defaultName: 's3-bucket-public-read-prohibited' },
      { identifier: 'S3_BUCKET_PUBLIC_WRITE_PROHIBITED', resourceTypes: ['AWS::S3::Bucket'], defaultName: 's3-bucket-public-write-prohibited' },
    ],
    accessAnalyzer: { resourceType: 'AWS::S3::Bucket', isPublic: true },
    // S3.2 public read, S3.3 public write, S3.8 bucket-level Block Public Access (Security Hub controls reference).
    securityHub: ['S3.2', 'S3.3', 'S3.8'],
  },
  defaultMode: 'auto',
  risk: 'medium',
  params,
  permissions: {
    read: ['s3:GetBucketPublicAccessBlock', 's3:GetBucketWebsite', 's3:GetBucketTagging'],
    alsoOn: [{ actions: ['access-analyzer:StartResourceScan'], resource: 'analyzer' }],
  },
  operations: {
    'S3.PutPublicAccessBlock': {
      client: 's3',
      iamAction: 's3:PutBucketPublicAccessBlock',
      command: async () => (await import('@aws-sdk/client-s3')).PutPublicAccessBlockCommand,
    },
    'S3.DeletePublicAccessBlock': {
      client: 's3',
      iamAction: 's3:PutBucketPublicAccessBlock',
      command: async () => (await import('@aws-sdk/client-s3')).DeletePublicAccessBlockCommand,
    },
  },
  readTags: readBucketTags,

  async readState(context) {
    const sdk = await import('@aws-sdk/client-s3');
    const { clients, target } = context;
    const [flags, hostsWebsite] = await Promise.all([
      readFlags(context, sdk),
      clients.s3.send(new sdk.GetBucketWebsiteCommand({ Bucket: target.resourceId, ExpectedBucketOwner: target.account })).then(() => true, missing('NoSuchWebsiteConfiguration', false)),
    ]);
    return { flags, hostsWebsite: hostsWebsite as boolean };
  },

  /** The write changes the flags only: the website read before it stands. */
  readAfter: async (context, before) => ({ ...before, flags: await readFlags(context, await import('@aws-sdk/client-s3')) }),

  plan(state, _params, finding): Plan {
    if (state.flags && allBlocked(state.flags)) {
      return { status: 'compliant', summary: 'all four Block Public Access flags are already on' };
    }
    const bucket = { Bucket: finding.resourceId, ExpectedBucketOwner: finding.account };
    const step: Step = {
      operation: 'S3.PutPublicAccessBlock',
      input: { ...bucket, PublicAccessBlockConfiguration: ALL_BLOCKED },
      description: `block public access: ${describeFlags(state.flags)} → ${describeFlags(ALL_BLOCKED)}`,
      before: state,
      after: { ...state, flags: ALL_BLOCKED },
      undo: state.flags
        ? { operation: 'S3.PutPublicAccessBlock', input: { ...bucket, PublicAccessBlockConfiguration: state.flags } }
        : { operation: 'S3.DeletePublicAccessBlock', input: bucket },
    };
    return {
      status: 'change',
      summary: step.description,
      steps: [step],
      ...(state.hostsWebsite
        ? {
            approvalReason: 'the bucket hosts a static website, so it may be public on purpose; blocking public access takes the site offline',
            risks: ['the static website this bucket hosts goes offline'],
          }
        : {}),
    };
  },

  describe: (state) => `${describeFlags(state.flags)}${state.hostsWebsite ? '; static website hosting on' : ''}`,

  /** An Access Analyzer finding resolves at the next scan; ask for that scan now. */
  async afterChange({ clients, finding }) {
    if (finding.trigger.kind !== 'access-analyzer' || !finding.trigger.analyzerArn || !finding.resourceArn) return '';
    const { StartResourceScanCommand } = await import('@aws-sdk/client-accessanalyzer');
    await clients.accessAnalyzer.send(new StartResourceScanCommand({ analyzerArn: finding.trigger.analyzerArn, resourceArn: finding.resourceArn }));
    return 'asked Access Analyzer to re-scan the bucket';
  },
};

export default rule;
