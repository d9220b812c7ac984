import { GetBucketWebsiteCommand, GetPublicAccessBlockCommand } from '@aws-sdk/client-s3';
import { z } from 'zod';
import {
  ALL_BLOCKED,
  allBlocked,
  describeFlags,
  flagsFrom,
  type PublicAccessBlockFlags,
} from './public-access-block-flags.ts';
import { readBucketTags } from './s3-bucket-tags.ts';
import type { Plan, Rule, Step } from './types.ts';

const params = z.strictObject({});
export type S3BucketPublicAccessBlockParams = z.infer<typeof params>;

export interface S3BucketPublicAccessBlockState {
  /** The bucket's configuration; null when it has none (every flag off). */
  flags: PublicAccessBlockFlags | null;
  /** A bucket with static website hosting looks public on purpose. */
  hostsWebsite: boolean;
}

function notFound(error: unknown, name: string): boolean {
  return (error as Error).name === name;
}

export const s3BucketPublicAccessBlock: Rule<S3BucketPublicAccessBlockState, S3BucketPublicAccessBlockParams> = {
  id: 's3-bucket-public-access-block',
  title: 'S3 bucket Block Public Access',
  resourceType: 'AWS::S3::Bucket',
  services: ['s3', 'accessAnalyzer', 'config'],
  answers: {
    configRules: [
      's3-bucket-level-public-access-prohibited',
      's3-bucket-public-read-prohibited',
      's3-bucket-public-write-prohibited',
    ],
    accessAnalyzer: { resourceType: 'AWS::S3::Bucket', isPublic: true },
  },
  defaultMode: 'auto',
  risk: 'medium',
  params,
  permissions: {
    read: ['s3:GetBucketPublicAccessBlock', 's3:GetBucketWebsite', 's3:GetBucketTagging'],
    write: ['s3:PutBucketPublicAccessBlock'],
    resource: 'bucket',
    wildcardOnly: [],
    alsoOn: [
      { actions: ['access-analyzer:StartResourceScan'], resource: 'analyzer' },
      { actions: ['config:StartConfigRulesEvaluation'], resource: 'config-rule' },
    ],
  },
  readTags: readBucketTags,

  async readState({ clients, target }) {
    const bucket = { Bucket: target.resourceId, ExpectedBucketOwner: target.account };
    const [flags, hostsWebsite] = await Promise.all([
      clients.s3.send(new GetPublicAccessBlockCommand(bucket)).then(
        (output) => flagsFrom(output.PublicAccessBlockConfiguration),
        (error: unknown) => {
          if (notFound(error, 'NoSuchPublicAccessBlockConfiguration')) return null;
          throw error;
        },
      ),
      clients.s3.send(new GetBucketWebsiteCommand(bucket)).then(
        () => true,
        (error: unknown) => {
          if (notFound(error, 'NoSuchWebsiteConfiguration')) return false;
          throw error;
        },
      ),
    ]);
    return { flags, hostsWebsite };
  },

  plan(state, _params, finding): Plan {
    if (state.flags && allBlocked(state.flags)) {
      return { status: 'compliant', summary: 'all four Block Public Access flags are already on' };
    }
    const bucket = finding.resourceId;
    const owner = finding.account;
    const step: Step = {
      operation: 'S3.PutPublicAccessBlock',
      input: { Bucket: bucket, ExpectedBucketOwner: owner, PublicAccessBlockConfiguration: ALL_BLOCKED },
      description: `block public access: ${describeFlags(state.flags)} → ${describeFlags(ALL_BLOCKED)}`,
      before: state,
      after: { ...state, flags: ALL_BLOCKED },
      undo: state.flags
        ? {
            operation: 'S3.PutPublicAccessBlock',
            input: { Bucket: bucket, ExpectedBucketOwner: owner, PublicAccessBlockConfiguration: state.flags },
          }
        : { operation: 'S3.DeletePublicAccessBlock', input: { Bucket: bucket, ExpectedBucketOwner: owner } },
    };
    return {
      status: 'change',
      summary: step.description,
      steps: [step],
      ...(state.hostsWebsite
        ? { approvalReason: 'the bucket hosts a static website, so it may be public on purpose; blocking public access takes the site offline' }
        : {}),
    };
  },

  describe: (state) => `${describeFlags(state.flags)}${state.hostsWebsite ? '; static website hosting on' : ''}`,

  /** An Access Analyzer finding resolves at the next scan; ask for that scan now. */
  async afterChange(clients, finding) {
    if (finding.trigger.kind !== 'access-analyzer' || !finding.trigger.analyzerArn) return '';
    const { StartResourceScanCommand } = await import('@aws-sdk/client-accessanalyzer');
    await clients.accessAnalyzer.send(new StartResourceScanCommand({ analyzerArn: finding.trigger.analyzerArn, resourceArn: finding.resourceArn }));
    return 'asked Access Analyzer to re-scan the bucket';
  },
};
