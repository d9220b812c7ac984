import { StartConfigRulesEvaluationCommand } from '@aws-sdk/client-config-service';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { s3DefaultEncryption } from '../../rules/s3-default-encryption.ts';
import { processEvent } from '../../core/engine/engine.ts';
import { configEvent } from '../support/events.ts';
import { bucketEncryption, createBucket, freshStore, localDeps } from '../support/local-aws.ts';

const KMS_KEY = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const rule = s3DefaultEncryption;
const event = (bucket: string, configRule = 's3-bucket-server-side-encryption-enabled') =>
  configEvent({ rule: configRule, resourceId: bucket });

describe('s3-default-encryption against moto', () => {
  it('sets SSE-S3 on an unencrypted bucket, verifies it and records before → after', async () => {
    const { store } = await freshStore();
    const bucket = await createBucket('enc-plain');
    const result = await processEvent(event(bucket), rule, localDeps({ store }), { dryRun: false });

    expect(result).toMatchObject({ outcome: 'remediated', rule: 's3-default-encryption', resource: `AWS::S3::Bucket/${bucket}`, writes: 1 });
    expect(result.calls).toEqual(['S3.GetBucketTagging', 'S3.GetBucketEncryption', 'S3.PutBucketEncryption', 'S3.GetBucketEncryption']);
    expect((await bucketEncryption(bucket))?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('AES256');
    const record = await store.getRecord(result.recordId ?? '');
    expect(record).toMatchObject({ outcome: 'remediated', status: 'final', mode: 'auto', writes: 1 });
    expect(record?.before?.summary).toBe('no default encryption');
    expect(record?.after?.summary).toBe('SSE-S3 (AES256)');
    expect(record?.steps[0]?.undo?.operation).toBe('S3.DeleteBucketEncryption');
  });

  it('uses SSE-KMS with the configured key and a Bucket Key', async () => {
    const { store } = await freshStore();
    const bucket = await createBucket('enc-kms');
    const deps = localDeps({ store, env: { RULE_PARAMS: JSON.stringify({ 's3-default-encryption': { kmsKeyArn: KMS_KEY } }) } });
    const result = await processEvent(event(bucket, 's3-default-encryption-kms'), rule, deps, { dryRun: false });

    expect(result.outcome).toBe('remediated');
    const applied = await bucketEncryption(bucket);
    expect(applied?.ApplyServerSideEncryptionByDefault).toMatchObject({ SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KMS_KEY });
    expect(applied?.BucketKeyEnabled).toBe(true);
  });

  it('asks AWS Config to evaluate the rule again after the fix, when so configured (moto lacks it: faked)', async () => {
    const { store } = await freshStore();
    const bucket = await createBucket('enc-reeval');
    const deps = localDeps({ store, env: { CONFIG_REEVALUATE: 'true' } });
    const config = mockClient(deps.clients.config);
    config.on(StartConfigRulesEvaluationCommand).resolves({});
    const result = await processEvent(event(bucket), rule, deps, { dryRun: false });
    expect(result).toMatchObject({ outcome: 'remediated', writes: 1 });
    expect(result.reason).toContain('asked AWS Config to evaluate s3-bucket-server-side-encryption-enabled again');
    expect(config.commandCalls(StartConfigRulesEvaluationCommand)[0]?.args[0].input).toEqual({ ConfigRuleNames: ['s3-bucket-server-side-encryption-enabled'] });

    const other = await createBucket('enc-reeval');
    config.on(StartConfigRulesEvaluationCommand).rejects(Object.assign(new Error('too many evaluations'), { name: 'LimitExceededException' }));
    const limited = await processEvent(event(other), rule, deps, { dryRun: false });
    expect(limited.outcome).toBe('remediated');
    expect(limited.reason).toContain('follow-up failed (the change stands): LimitExceededException');
  });

  it('moves an SSE-S3 bucket to the configured KMS key and keeps the old setting for undo', async () => {
    const { store } = await freshStore();
    const bucket = await createBucket('enc-upgrade', { encryption: 'AES256' });
    const deps = localDeps({ store, env: { RULE_PARAMS: JSON.stringify({ 's3-default-encryption': { kmsKeyArn: KMS_KEY } }) } });
    const result = await processEvent(event(bucket), rule, deps, { dryRun: false });

    expect(result.outcome).toBe('remediated');
    const record = await store.getRecord(result.recordId ?? '');
    expect(record?.steps[0]?.undo).toMatchObject({ operation: 'S3.PutBucketEncryption' });
    expect(JSON.stringify(record?.steps[0]?.undo?.input)).toContain('AES256');
  });

  it('reads only when the bucket is already encrypted the required way', async () => {
    const { store } = await freshStore();
    const bucket = await createBucket('enc-done', { encryption: 'AES256' });
    const result = await processEvent(event(bucket), rule, localDeps({ store }), { dryRun: false });

    expect(result).toMatchObject({ outcome: 'compliant', writes: 0 });
    expect(result.calls).toEqual(['S3.GetBucketTagging', 'S3.GetBucketEncryption']);
  });

  it('skips s3-default-encryption-kms findings when no key is configured, changing nothing', async () => {
    const { store } = await freshStore();
    const bucket = await createBucket('enc-nokey');
    const result = await processEvent(event(bucket, 's3-default-encryption-kms'), rule, localDeps({ store }), { dryRun: false });

    expect(result.outcome).toBe('skipped');
    expect(result.reason).toContain('no kmsKeyArn is configured');
    expect(await bucketEncryption(bucket)).toBeNull();
  });

  it('skips a bucket carrying the exclusion tag, with a record', async () => {
    const { store } = await freshStore();
    const bucket = await createBucket('enc-excluded', { tags: { 'remediation:skip': 'true' } });
    const result = await processEvent(event(bucket), rule, localDeps({ store }), { dryRun: false });

    expect(result).toMatchObject({ outcome: 'skipped', writes: 0, calls: ['S3.GetBucketTagging'] });
    expect(result.reason).toContain('remediation:skip=true');
    expect((await store.getRecord(result.recordId ?? ''))?.outcome).toBe('skipped');
    expect(await bucketEncryption(bucket)).toBeNull();
  });

  it('honours a configured exclusion tag', async () => {
    const { store } = await freshStore();
    const bucket = await createBucket('enc-owner', { tags: { 'owner-managed': 'yes' } });
    const result = await processEvent(event(bucket), rule, localDeps({ store, env: { EXCLUSION_TAG: 'owner-managed=yes' } }), { dryRun: false });
    expect(result.outcome).toBe('skipped');
  });

  it('only records and reports in notify mode', async () => {
    const { store } = await freshStore();
    const bucket = await createBucket('enc-notify');
    const deps = localDeps({ store, env: { RULE_MODES: 's3-default-encryption=notify' } });
    const result = await processEvent(event(bucket), rule, deps, { dryRun: false });

    expect(result).toMatchObject({ outcome: 'notified', writes: 0 });
    expect((await store.getRecord(result.recordId ?? ''))?.steps).toHaveLength(1);
    expect(await bucketEncryption(bucket)).toBeNull();
  });

  it('stores a pending approval in approve mode and changes nothing', async () => {
    const { store } = await freshStore();
    const bucket = await createBucket('enc-approve');
    const deps = localDeps({ store, env: { RULE_MODES: 's3-default-encryption=approve' } });
    const result = await processEvent(event(bucket), rule, deps, { dryRun: false });

    expect(result).toMatchObject({ outcome: 'pending-approval', writes: 0 });
    const approval = await store.getApproval(result.approvalId ?? '');
    expect(approval).toMatchObject({ status: 'pending', ruleId: 's3-default-encryption', resource: `AWS::S3::Bucket/${bucket}` });
    expect(Date.parse(approval?.expiresAt ?? '') - Date.parse(approval?.createdAt ?? '')).toBe(24 * 3_600_000);
    expect(await bucketEncryption(bucket)).toBeNull();
  });

  it('does nothing for a rule that is off', async () => {
    const bucket = await createBucket('enc-off');
    const deps = localDeps({ env: { RULE_MODES: 's3-default-encryption=off' } });
    const result = await processEvent(event(bucket), rule, deps, { dryRun: false });
    expect(result).toMatchObject({ outcome: 'skipped', calls: [], writes: 0 });
  });

  it('plans without writing in a dry run, and needs no table', async () => {
    const bucket = await createBucket('enc-dry');
    const result = await processEvent(event(bucket), rule, localDeps(), { dryRun: true });

    expect(result).toMatchObject({ outcome: 'planned', writes: 0 });
    expect(result.steps?.[0]?.operation).toBe('S3.PutBucketEncryption');
    expect(await bucketEncryption(bucket)).toBeNull();
  });

  it('skips, with a record, a bucket deleted since the finding', async () => {
    const { store } = await freshStore();
    const result = await processEvent(event('driftfix-no-such-bucket-4711'), rule, localDeps({ store }), { dryRun: false });
    expect(result).toMatchObject({ outcome: 'skipped', writes: 0 });
    expect(result.reason).toMatch(/no longer exists.*NoSuchBucket/);
    expect((await store.getRecord(result.recordId ?? ''))?.outcome).toBe('skipped');
  });
});
