import { randomBytes } from 'node:crypto';
import { ConfigServiceClient, PutConfigRuleCommand } from '@aws-sdk/client-config-service';
import {
  CreateBucketCommand,
  GetBucketEncryptionCommand,
  GetPublicAccessBlockCommand,
  PutBucketEncryptionCommand,
  PutBucketTaggingCommand,
  PutBucketWebsiteCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { inject } from 'vitest';
import type { EngineLog } from '../../core/engine/ports.ts';
import type { AnyRule } from '../../core/model/index.ts';
import { createLocalRuntime, type LocalRuntime } from '../../scripts/lib/local-runtime.ts';
import { REGION } from './events.ts';

export const silentLog: EngineLog = { info() {}, warn() {}, error() {} };

/** This worker's moto server (the global setup starts one per worker; VITEST_POOL_ID counts from 1). */
export function motoEndpoint(): string {
  const endpoints = inject('motoEndpoints');
  const worker = Math.max(1, Number(process.env.VITEST_POOL_ID) || 1);
  return endpoints[(worker - 1) % endpoints.length] as string;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

const local = () => ({ region: REGION, endpoint: motoEndpoint() });

/** A plain S3 client for arranging and checking state, outside the bot's call log. */
export function testS3(): S3Client {
  return new S3Client({ ...local(), forcePathStyle: true });
}

/**
 * What `npm run replay` builds, against the tests' moto: every rule, a table of the test's own
 * (created when `table` is not given), and the settings in `env`.
 */
export async function localRuntime(
  options: { env?: Record<string, string>; store?: boolean; table?: string; rules?: readonly AnyRule[] } = {},
): Promise<LocalRuntime & { table: string }> {
  const table = options.table ?? uniqueName('driftfix-test');
  const env = {
    AWS_REGION: REGION,
    AWS_ENDPOINT_URL: motoEndpoint(),
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    ...(options.store === false ? {} : { REMEDIATION_TABLE: table }),
    ...options.env,
  };
  // Rule tests fake what moto lacks themselves.
  const runtime = await createLocalRuntime({ needStore: options.store !== false, env, log: silentLog, shims: false, ...(options.rules ? { rules: options.rules } : {}) });
  return { ...runtime, table };
}

/** An AWS Config rule in moto, running a managed rule under any name. */
export async function createConfigRule(name: string, identifier: string, options: { periodic?: boolean; parameters?: Record<string, string> } = {}): Promise<void> {
  await new ConfigServiceClient(local()).send(
    new PutConfigRuleCommand({
      ConfigRule: {
        ConfigRuleName: name,
        Source: { Owner: 'AWS', SourceIdentifier: identifier },
        ...(options.periodic ? { MaximumExecutionFrequency: 'TwentyFour_Hours' } : {}),
        ...(options.parameters ? { InputParameters: JSON.stringify(options.parameters) } : {}),
      },
    }),
  );
}

export interface BucketSetup {
  encryption?: 'AES256' | { kmsKeyArn: string };
  publicAccessBlock?: Partial<Record<'BlockPublicAcls' | 'IgnorePublicAcls' | 'BlockPublicPolicy' | 'RestrictPublicBuckets', boolean>>;
  website?: boolean;
  tags?: Record<string, string>;
}

export async function createBucket(prefix: string, setup: BucketSetup = {}): Promise<string> {
  const s3 = testS3();
  const bucket = uniqueName(prefix);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  if (setup.encryption) {
    const rule =
      setup.encryption === 'AES256'
        ? { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' as const } }
        : { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' as const, KMSMasterKeyID: setup.encryption.kmsKeyArn } };
    await s3.send(new PutBucketEncryptionCommand({ Bucket: bucket, ServerSideEncryptionConfiguration: { Rules: [rule] } }));
  }
  if (setup.publicAccessBlock) await s3.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: setup.publicAccessBlock }));
  if (setup.website) await s3.send(new PutBucketWebsiteCommand({ Bucket: bucket, WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' } } }));
  if (setup.tags) {
    const TagSet = Object.entries(setup.tags).map(([Key, Value]) => ({ Key, Value }));
    await s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet } }));
  }
  return bucket;
}

export async function bucketEncryption(bucket: string) {
  try {
    const output = await testS3().send(new GetBucketEncryptionCommand({ Bucket: bucket }));
    return output.ServerSideEncryptionConfiguration?.Rules?.[0] ?? null;
  } catch (error) {
    if ((error as Error).name === 'ServerSideEncryptionConfigurationNotFoundError') return null;
    throw error;
  }
}

export async function bucketPublicAccessBlock(bucket: string) {
  try {
    const output = await testS3().send(new GetPublicAccessBlockCommand({ Bucket: bucket }));
    return output.PublicAccessBlockConfiguration ?? null;
  } catch (error) {
    if ((error as Error).name === 'NoSuchPublicAccessBlockConfiguration') return null;
    throw error;
  }
}
