import { spawn } from 'node:child_process';
import { PutBucketEncryptionCommand, PutPublicAccessBlockCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { iamPolicyWildcards } from '../../rules/iam-policy-wildcards.ts';
import { s3BucketPublicAccessBlock } from '../../rules/s3-bucket-public-access-block.ts';
import { s3DefaultEncryption } from '../../rules/s3-default-encryption.ts';
import type { AnyRule } from '../../core/model/rule.ts';
import { type EngineDeps, processEvent } from '../../core/engine/engine.ts';
import type { RecordStore } from '../../core/aws/record-store.ts';
import { rollbackRecord } from '../../core/engine/rollback.ts';
import type { SlackMessage } from '../../core/slack/messages.ts';
import type { Notifier } from '../../core/slack/notifier.ts';
import { configEvent, REGION } from '../support/events.ts';
import { createPolicy, defaultDocument } from '../support/iam.ts';
import { bucketEncryption, bucketPublicAccessBlock, createBucket, freshStore, localDeps, motoEndpoint, testS3, uniqueName } from '../support/local-aws.ts';
import { ROOT } from '../support/packaged.ts';

const KMS_KEY = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

class CapturingNotifier implements Notifier {
  readonly enabled = true;
  readonly posted: SlackMessage[] = [];
  async post(message: SlackMessage) {
    this.posted.push(message);
    return { channel: 'C0DRIFTFIX1', ts: `${this.posted.length}.0001` };
  }
  async update() {}
  async tellUser() {}
  async groupMembers() {
    return [];
  }
}

async function fix(rule: AnyRule, configRule: string, resourceId: string, env: Record<string, string> = {}, resourceType = 'AWS::S3::Bucket') {
  const { store } = await freshStore();
  const notifier = new CapturingNotifier();
  const deps = { ...localDeps({ store, env }), notifier } as EngineDeps & { store: RecordStore };
  const result = await processEvent(configEvent({ rule: configRule, resourceId, resourceType }), rule, deps, { dryRun: false });
  expect(result.outcome).toBe('remediated');
  return { deps, notifier, recordId: result.recordId ?? '' };
}

const by = { force: false, by: 'cli:operator' };

describe('rollback of every kind of change', () => {
  it('default encryption set where there was none: removed again, recorded and posted', async () => {
    const bucket = await createBucket('rb-enc');
    const { deps, notifier, recordId } = await fix(s3DefaultEncryption, 's3-bucket-server-side-encryption-enabled', bucket);
    const result = await rollbackRecord(recordId, deps, by);
    expect(result).toMatchObject({ outcome: 'rolled-back', writes: 1 });
    expect(result.calls).toContain('S3.DeleteBucketEncryption');
    expect(await bucketEncryption(bucket)).toBeNull();
    const record = await deps.store.getRecord(result.rollbackRecordId ?? '');
    expect(record).toMatchObject({ outcome: 'rolled-back', decidedBy: 'cli:operator', notification: { status: 'posted' } });
    expect(JSON.stringify(notifier.posted.at(-1)?.blocks)).toContain('Rolled back');
  });

  it('SSE-S3 moved to SSE-KMS: SSE-S3 restored', async () => {
    const bucket = await createBucket('rb-kms', { encryption: 'AES256' });
    const { deps, recordId } = await fix(s3DefaultEncryption, 's3-bucket-server-side-encryption-enabled', bucket, {
      RULE_PARAMS: JSON.stringify({ 's3-default-encryption': { kmsKeyArn: KMS_KEY } }),
    });
    expect((await rollbackRecord(recordId, deps, by)).outcome).toBe('rolled-back');
    expect((await bucketEncryption(bucket))?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('AES256');
  });

  it('Block Public Access flags: exactly the earlier flags restored', async () => {
    const earlier = { BlockPublicAcls: true, IgnorePublicAcls: false, BlockPublicPolicy: true, RestrictPublicBuckets: false };
    const bucket = await createBucket('rb-pab', { publicAccessBlock: earlier });
    const { deps, recordId } = await fix(s3BucketPublicAccessBlock, 's3-bucket-level-public-access-prohibited', bucket);
    expect((await rollbackRecord(recordId, deps, by)).outcome).toBe('rolled-back');
    expect(await bucketPublicAccessBlock(bucket)).toEqual(earlier);
  });

  it('an IAM policy version: the previous default version is the default again', async () => {
    const original = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }, { Effect: 'Allow', Action: 'sns:Publish', Resource: '*' }] };
    const policy = await createPolicy(original);
    const { deps, recordId } = await fix(iamPolicyWildcards, 'iam-policy-no-statements-with-admin-access', policy.id, { RULE_MODES: 'iam-policy-wildcards=auto' }, 'AWS::IAM::Policy');
    expect((await defaultDocument(policy.arn)).versionId).toBe('v2');
    const result = await rollbackRecord(recordId, deps, by);
    expect(result).toMatchObject({ outcome: 'rolled-back', writes: 1 });
    expect(result.calls).toContain('IAM.SetDefaultPolicyVersion');
    const restored = await defaultDocument(policy.arn);
    expect(restored.versionId).toBe('v1');
    expect(JSON.parse(restored.document)).toEqual(original);
  });
});

describe('rollback refuses', () => {
  it('after someone changed the resource since, unless --force', async () => {
    const bucket = await createBucket('rb-changed');
    const { deps, recordId } = await fix(s3DefaultEncryption, 's3-bucket-server-side-encryption-enabled', bucket);
    await testS3().send(
      new PutBucketEncryptionCommand({
        Bucket: bucket,
        ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KMS_KEY } }] },
      }),
    );
    const refused = await rollbackRecord(recordId, deps, by);
    expect(refused).toMatchObject({ outcome: 'refused', writes: 0 });
    expect(refused.reason).toMatch(/changed after the bot left it.*bot left: SSE-S3.*now: SSE-KMS/);
    expect((await bucketEncryption(bucket))?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('aws:kms');

    const forced = await rollbackRecord(recordId, deps, { ...by, force: true });
    expect(forced.outcome).toBe('rolled-back');
    expect(await bucketEncryption(bucket)).toBeNull();
  });

  it('a second time, an unknown record, and a record that changed nothing', async () => {
    const bucket = await createBucket('rb-twice');
    const { deps, recordId } = await fix(s3BucketPublicAccessBlock, 's3-bucket-public-write-prohibited', bucket);
    expect((await rollbackRecord(recordId, deps, by)).outcome).toBe('rolled-back');
    await testS3().send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: { BlockPublicAcls: true } }));
    expect((await rollbackRecord(recordId, deps, by)).reason).toContain('already rolled back');
    expect((await rollbackRecord('rec-000000000000000000000000', deps, by)).reason).toBe('no such record');

    const compliant = await createBucket('rb-nothing', { encryption: 'AES256' });
    const result = await processEvent(configEvent({ rule: 's3-bucket-server-side-encryption-enabled', resourceId: compliant }), s3DefaultEncryption, deps, { dryRun: false });
    expect((await rollbackRecord(result.recordId ?? '', deps, by)).reason).toContain('only changes the bot made');
  });
});

describe('npm run rollback', () => {
  it('prints one JSON line and exits 0 when rolled back, 1 when refused', async () => {
    const table = uniqueName('driftfix-rollback');
    const bucket = await createBucket('rb-cli');
    const env = { ...process.env, AWS_ENDPOINT_URL: motoEndpoint(), AWS_REGION: REGION, REMEDIATION_TABLE: table };
    const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
    const { DynamoRecordStore, ensureTable } = await import('../../core/aws/record-store.ts');
    const dynamo = new DynamoDBClient({ region: REGION, endpoint: motoEndpoint() });
    await ensureTable(dynamo, table);
    const deps = { ...localDeps({ store: new DynamoRecordStore(dynamo, table) }) } as EngineDeps & { store: RecordStore };
    const fixed = await processEvent(configEvent({ rule: 's3-bucket-server-side-encryption-enabled', resourceId: bucket }), s3DefaultEncryption, deps, { dryRun: false });

    const run = async (args: string[]) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/rollback.ts', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
      return { status, line: JSON.parse(stdout.trim()) };
    };
    const first = await run(['--json', fixed.recordId ?? '']);
    expect(first.status).toBe(0);
    expect(Object.keys(first.line).sort()).toEqual(['calls', 'outcome', 'reason', 'recordId', 'writes']);
    expect(first.line).toMatchObject({ recordId: fixed.recordId, outcome: 'rolled-back', writes: 1 });
    const second = await run(['--json', fixed.recordId ?? '']);
    expect(second.status).toBe(1);
    expect(second.line.outcome).toBe('refused');
  });
});
