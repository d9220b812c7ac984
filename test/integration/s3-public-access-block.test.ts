import { GetPublicAccessBlockCommand, PutPublicAccessBlockCommand, S3ControlClient } from '@aws-sdk/client-s3-control';
import { beforeEach, describe, expect, it } from 'vitest';
import { s3AccountPublicAccessBlock } from '../../rules/s3-account-public-access-block.ts';
import { s3BucketPublicAccessBlock } from '../../rules/s3-bucket-public-access-block.ts';
import { processEvent } from '../../core/engine/engine.ts';
import { rollbackRecord } from '../../core/engine/rollback.ts';
import { ACCOUNT, analyzerEvent, configEvent, REGION } from '../support/events.ts';
import { bucketPublicAccessBlock, createBucket, freshStore, localDeps, motoEndpoint } from '../support/local-aws.ts';

const ALL_ON = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };

describe('s3-bucket-public-access-block against moto', () => {
  const rule = s3BucketPublicAccessBlock;

  it.each([
    's3-bucket-level-public-access-prohibited',
    's3-bucket-public-read-prohibited',
    's3-bucket-public-write-prohibited',
  ])('turns on all four flags for %s', async (configRule) => {
    const { store } = await freshStore();
    const bucket = await createBucket('pab');
    const result = await processEvent(configEvent({ rule: configRule, resourceId: bucket }), rule, localDeps({ store }), { dryRun: false });

    expect(result).toMatchObject({ outcome: 'remediated', writes: 1 });
    expect(await bucketPublicAccessBlock(bucket)).toEqual(ALL_ON);
    const record = await store.getRecord(result.recordId ?? '');
    expect(record?.steps[0]?.undo?.operation).toBe('S3.DeletePublicAccessBlock');
  });

  it('answers an Access Analyzer public-bucket finding, keeping the previous flags for undo', async () => {
    const { store } = await freshStore();
    const bucket = await createBucket('pab-aa', { publicAccessBlock: { BlockPublicAcls: true, IgnorePublicAcls: true } });
    const result = await processEvent(analyzerEvent({ bucket }), rule, localDeps({ store }), { dryRun: false });

    expect(result.outcome).toBe('remediated');
    expect(await bucketPublicAccessBlock(bucket)).toEqual(ALL_ON);
    const record = await store.getRecord(result.recordId ?? '');
    expect(record?.trigger).toMatchObject({ kind: 'access-analyzer', isPublic: true });
    expect(record?.steps[0]?.undo).toMatchObject({
      operation: 'S3.PutPublicAccessBlock',
      input: { PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: false } },
    });
  });

  it('asks for approval instead of taking a static website offline', async () => {
    const { store } = await freshStore();
    const bucket = await createBucket('pab-site', { website: true });
    const event = configEvent({ rule: 's3-bucket-public-read-prohibited', resourceId: bucket });
    const result = await processEvent(event, rule, localDeps({ store }), { dryRun: false });

    expect(result).toMatchObject({ outcome: 'pending-approval', writes: 0 });
    expect(result.reason).toContain('static website');
    expect(await bucketPublicAccessBlock(bucket)).toBeNull();
    expect((await store.getApproval(result.approvalId ?? ''))?.steps[0]?.operation).toBe('S3.PutPublicAccessBlock');
  });

  it('reads only when all flags are already on', async () => {
    const { store } = await freshStore();
    const bucket = await createBucket('pab-done', { publicAccessBlock: ALL_ON });
    const event = configEvent({ rule: 's3-bucket-level-public-access-prohibited', resourceId: bucket });
    const result = await processEvent(event, rule, localDeps({ store }), { dryRun: false });
    expect(result).toMatchObject({ outcome: 'compliant', writes: 0 });
    expect(result.calls.every((call) => call.startsWith('S3.Get'))).toBe(true);
  });
});

describe('s3-account-public-access-block against moto', () => {
  const rule = s3AccountPublicAccessBlock;
  const control = () => new S3ControlClient({ region: REGION, endpoint: motoEndpoint(), endpointProvider: () => ({ url: new URL(motoEndpoint()) }) });
  const accountFlags = async () => (await control().send(new GetPublicAccessBlockCommand({ AccountId: ACCOUNT }))).PublicAccessBlockConfiguration;
  const event = () => configEvent({ rule: 's3-account-level-public-access-blocks-periodic', resourceType: 'AWS::::Account', resourceId: ACCOUNT });

  beforeEach(async () => {
    const off = { BlockPublicAcls: false, IgnorePublicAcls: false, BlockPublicPolicy: false, RestrictPublicBuckets: false };
    await control().send(new PutPublicAccessBlockCommand({ AccountId: ACCOUNT, PublicAccessBlockConfiguration: off }));
  });

  it('waits for approval by default: whole-account blast radius', async () => {
    const { store } = await freshStore();
    const result = await processEvent(event(), rule, localDeps({ store }), { dryRun: false });
    expect(result).toMatchObject({ outcome: 'pending-approval', writes: 0, calls: ['S3Control.GetPublicAccessBlock'] });
    expect((await accountFlags())?.BlockPublicAcls).toBe(false);
  });

  it('applies through S3 Control when the deployment sets it to auto', async () => {
    const { store } = await freshStore();
    const deps = localDeps({ store, env: { RULE_MODES: 's3-account-public-access-block=auto' } });
    const result = await processEvent(event(), rule, deps, { dryRun: false });
    expect(result).toMatchObject({ outcome: 'remediated', writes: 1 });
    expect(result.calls).toContain('S3Control.PutPublicAccessBlock');
    expect(await accountFlags()).toEqual(ALL_ON);

    const again = await processEvent(event(), rule, deps, { dryRun: false });
    expect(again).toMatchObject({ outcome: 'compliant', writes: 0 });
  });

  it('rolls back to exactly the earlier account flags (kept in this file: one account-level setting)', async () => {
    const earlier = { BlockPublicAcls: false, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: false };
    await control().send(new PutPublicAccessBlockCommand({ AccountId: ACCOUNT, PublicAccessBlockConfiguration: earlier }));
    const { store } = await freshStore();
    const deps = localDeps({ store, env: { RULE_MODES: 's3-account-public-access-block=auto' } });
    const fixed = await processEvent(event(), rule, deps, { dryRun: false });
    expect(fixed.outcome).toBe('remediated');
    const rolledBack = await rollbackRecord(fixed.recordId ?? '', { ...deps, store }, { force: false, by: 'cli:operator' });
    expect(rolledBack).toMatchObject({ outcome: 'rolled-back', writes: 1, calls: ['S3Control.GetPublicAccessBlock', 'S3Control.PutPublicAccessBlock', 'S3Control.GetPublicAccessBlock'] });
    expect(await accountFlags()).toEqual(earlier);
  });

  it('rejects an account resource that is not this account', async () => {
    const foreign = configEvent({ rule: 's3-account-level-public-access-blocks', resourceType: 'AWS::::Account', resourceId: '444455556666' });
    const result = await processEvent(foreign, rule, localDeps(), { dryRun: false });
    expect(result).toMatchObject({ outcome: 'rejected', calls: [] });
    expect(result.reason).toContain('444455556666');
  });
});
