import {
  CreateBucketCommand,
  DeleteBucketEncryptionCommand,
  DeletePublicAccessBlockCommand,
  PutBucketEncryptionCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketWebsiteCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { PutPublicAccessBlockCommand as PutAccountPublicAccessBlockCommand, type S3ControlClient } from '@aws-sdk/client-s3-control';
import { CreatePolicyCommand, CreateRoleCommand, type IAMClient, UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { type ConfigServiceClient, PutConfigRuleCommand } from '@aws-sdk/client-config-service';
import { DEFAULT_EXCLUSION_TAG } from '../../core/model/index.ts';
import { RULES } from '../../rules/index.ts';
import sampleConfigRules from './sample-config-rules.json' with { type: 'json' };

/**
 * The AWS Config rules the sample events were evaluated by: named as Security Hub, conformance
 * packs, Landing Zone Accelerator, Control Tower and people name them, each running a managed rule.
 * Custom rules are not created (moto needs a real Lambda function behind one).
 */
/** Managed rules whose pages give a periodic trigger only: as the rules declare it, and one no rule answers. */
const PERIODIC = new Set([
  ...RULES.flatMap((rule) => rule.answers.config ?? []).flatMap((answer) => (answer.periodic ? [answer.identifier] : [])),
  'CLOUD_TRAIL_ENABLED',
]);

export async function seedConfigRules(config: ConfigServiceClient): Promise<number> {
  let created = 0;
  for (const rule of sampleConfigRules as Array<{ name: string; owner: string; identifier: string }>) {
    if (rule.owner !== 'AWS') continue;
    const periodic = PERIODIC.has(rule.identifier) || rule.identifier.endsWith('_PERIODIC');
    await config.send(
      new PutConfigRuleCommand({
        ConfigRule: {
          ConfigRuleName: rule.name,
          Source: { Owner: 'AWS', SourceIdentifier: rule.identifier },
          ...(periodic ? { MaximumExecutionFrequency: 'TwentyFour_Hours' } : {}),
        },
      }),
    );
    created += 1;
  }
  return created;
}

/** How each bucket named by the sample events in events/ has drifted. */
export const DEMO_BUCKETS = {
  'driftfix-demo-unencrypted': 'no default encryption',
  'driftfix-demo-encrypted': 'already encrypted (SSE-S3)',
  'driftfix-demo-needs-kms': 'no default encryption',
  'driftfix-demo-public': 'Block Public Access off',
  'driftfix-demo-website': 'Block Public Access off, static website hosting on, public-read policy',
  'driftfix-demo-excluded': `Block Public Access off, public-write policy, tagged ${DEFAULT_EXCLUSION_TAG}=true`,
  'driftfix-demo-analyzer-public': 'Block Public Access partly off, public-read policy',
  'driftfix-demo-shared': 'bucket policy shares it with account 444455556666',
  'driftfix-demo-sh-public': 'Block Public Access off (reported by Security Hub)',
} as const;

export type DemoBucket = keyof typeof DEMO_BUCKETS;

async function createBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (error) {
    if ((error as Error).name !== 'BucketAlreadyOwnedByYou') throw error;
  }
}

/** A customer-managed policy that grants far too much: `*`, `s3:*` and a Deny that must stay. */
export const TOO_BROAD_POLICY = {
  Version: '2012-10-17',
  Statement: [
    { Sid: 'Everything', Effect: 'Allow', Action: '*', Resource: '*' },
    { Sid: 'ReportsBucket', Effect: 'Allow', Action: ['s3:*', 's3:GetObject'], Resource: ['arn:aws:s3:::reports', 'arn:aws:s3:::reports/*'] },
    { Sid: 'NeverDeleteVault', Effect: 'Deny', Action: '*', Resource: 'arn:aws:s3:::vault/*' },
  ],
};

/** Creates an over-broad policy (a new name each time) and returns its id, as AWS Config would report it. */
export async function seedTooBroadPolicy(iam: IAMClient): Promise<{ id: string; arn: string }> {
  const { Policy } = await iam.send(
    new CreatePolicyCommand({ PolicyName: `driftfix-demo-too-broad-${Date.now()}`, PolicyDocument: JSON.stringify(TOO_BROAD_POLICY, null, 2) }),
  );
  return { id: Policy?.PolicyId ?? '', arn: Policy?.Arn ?? '' };
}

/**
 * Creates (or resets) the drifted resources the sample events describe, in a local emulator:
 * never point this at a real account.
 */
/** A role that account 444455556666 may assume, next to a service it should keep trusting. */
async function seedPartnerRole(iam: IAMClient): Promise<void> {
  const trust = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Sid: 'Partner', Effect: 'Allow', Principal: { AWS: '444455556666' }, Action: 'sts:AssumeRole' },
      { Sid: 'Lambda', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ],
  });
  try {
    await iam.send(new CreateRoleCommand({ RoleName: 'driftfix-demo-partner-access', AssumeRolePolicyDocument: trust }));
  } catch (error) {
    if ((error as Error).name !== 'EntityAlreadyExists' && (error as Error).name !== 'EntityAlreadyExistsException') throw error;
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'driftfix-demo-partner-access', PolicyDocument: trust }));
  }
}

export async function seedDemoResources(clients: { s3: S3Client; s3control: S3ControlClient; iam?: IAMClient }, account: string): Promise<void> {
  const { s3 } = clients;
  for (const bucket of Object.keys(DEMO_BUCKETS)) {
    await createBucket(s3, bucket);
    await s3.send(new DeleteBucketEncryptionCommand({ Bucket: bucket }));
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
  }
  await s3.send(
    new PutBucketEncryptionCommand({
      Bucket: 'driftfix-demo-encrypted',
      ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
    }),
  );
  await s3.send(
    new PutBucketWebsiteCommand({
      Bucket: 'driftfix-demo-website',
      WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' } },
    }),
  );
  await s3.send(
    new PutBucketTaggingCommand({
      Bucket: 'driftfix-demo-excluded',
      Tagging: { TagSet: [{ Key: DEFAULT_EXCLUSION_TAG, Value: 'true' }, { Key: 'team', Value: 'web' }] },
    }),
  );
  await s3.send(
    new PutPublicAccessBlockCommand({
      Bucket: 'driftfix-demo-analyzer-public',
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: false },
    }),
  );
  await s3.send(
    new PutBucketPolicyCommand({
      Bucket: 'driftfix-demo-shared',
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Sid: 'PartnerRead', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::444455556666:root' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::driftfix-demo-shared/*' },
          { Sid: 'OwnReporting', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:role/reporting` }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::driftfix-demo-shared/*' },
        ],
      }),
    }),
  );
  // What makes AWS Config and Access Analyzer call these buckets public: a policy that lets anyone
  // read (the website, the analyzer's finding) or write (the tagged bucket), which Block Public
  // Access no longer stops ("If the policy allows public read access, the rule is noncompliant",
  // s3-bucket-public-read-prohibited in the AWS Config Developer Guide).
  const publicPolicy = (bucket: string, action: string) =>
    s3.send(
      new PutBucketPolicyCommand({
        Bucket: bucket,
        Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'Public', Effect: 'Allow', Principal: '*', Action: action, Resource: `arn:aws:s3:::${bucket}/*` }] }),
      }),
    );
  await publicPolicy('driftfix-demo-website', 's3:GetObject');
  await publicPolicy('driftfix-demo-analyzer-public', 's3:GetObject');
  await publicPolicy('driftfix-demo-excluded', 's3:PutObject');
  if (clients.iam) await seedPartnerRole(clients.iam);
  // Partly on: the change-triggered Config rule is "not invoked unless S3 Block Public Access is
  // enabled" and reports INSUFFICIENT_DATA without it (s3-account-level-public-access-blocks).
  await clients.s3control.send(
    new PutAccountPublicAccessBlockCommand({
      AccountId: account,
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: false },
    }),
  );
}
