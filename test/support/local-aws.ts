import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
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
import { RULES } from '../../rules/index.ts';
import { createResourceClients } from '../../core/aws/all-clients.ts';
import type { EngineDeps, EngineLog } from '../../core/engine/engine.ts';
import { DynamoRecordStore, ensureTable } from '../../core/aws/record-store.ts';
import { loadSettings } from '../../core/aws/settings.ts';
import { ACCOUNT, REGION } from './events.ts';

export const silentLog: EngineLog = { info() {}, warn() {}, error() {} };

export function motoEndpoint(): string {
  return inject('motoEndpoint');
}

/** A plain S3 client for arranging and checking state, outside the bot's call log. */
export function testS3(): S3Client {
  return new S3Client({ region: REGION, endpoint: motoEndpoint(), forcePathStyle: true });
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

export async function freshStore(): Promise<{ store: DynamoRecordStore; table: string; dynamo: DynamoDBClient }> {
  const table = uniqueName('driftfix-test');
  const dynamo = new DynamoDBClient({ region: REGION, endpoint: motoEndpoint() });
  await ensureTable(dynamo, table);
  return { store: new DynamoRecordStore(dynamo, table), table, dynamo };
}

export function localDeps(options: { store?: DynamoRecordStore; env?: Record<string, string> } = {}): EngineDeps {
  return {
    rules: RULES,
    clients: createResourceClients({ region: REGION, endpoint: motoEndpoint() }),
    store: options.store,
    settings: loadSettings(RULES, options.env ?? {}),
    identity: { account: ACCOUNT, region: REGION },
    log: silentLog,
  };
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
  if (setup.publicAccessBlock) {
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: setup.publicAccessBlock }));
  }
  if (setup.website) {
    await s3.send(new PutBucketWebsiteCommand({ Bucket: bucket, WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' } } }));
  }
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
