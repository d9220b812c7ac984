import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { s3DefaultEncryption } from '../../rules/s3-default-encryption.ts';
import { processEvent } from '../../core/engine/engine.ts';
import { configEvent } from '../support/events.ts';
import { bucketEncryption, createBucket, freshStore, localDeps } from '../support/local-aws.ts';

const rule = s3DefaultEncryption;

describe('at-least-once delivery and concurrency against moto', () => {
  it('a redelivered event makes no second change and reports the first outcome', async () => {
    const { store } = await freshStore();
    const bucket = await createBucket('dup');
    const event = configEvent({ rule: 's3-bucket-server-side-encryption-enabled', resourceId: bucket });
    const first = await processEvent(event, rule, localDeps({ store }), { dryRun: false });
    const second = await processEvent(structuredClone(event), rule, localDeps({ store }), { dryRun: false });

    expect(first).toMatchObject({ outcome: 'remediated', writes: 1 });
    expect(second).toMatchObject({ outcome: 'remediated', writes: 0, calls: [], recordId: first.recordId });
    expect(second.reason).toMatch(/^duplicate delivery/);
  });

  it('a new event for a fixed resource reads and finds it compliant', async () => {
    const { store } = await freshStore();
    const bucket = await createBucket('dup-new');
    const deps = localDeps({ store });
    await processEvent(configEvent({ rule: 's3-bucket-server-side-encryption-enabled', resourceId: bucket }), rule, deps, { dryRun: false });
    const later = await processEvent(configEvent({ rule: 's3-bucket-server-side-encryption-enabled', resourceId: bucket }), rule, deps, { dryRun: false });
    expect(later).toMatchObject({ outcome: 'compliant', writes: 0 });
  });

  it('20 simultaneous deliveries of one finding make exactly one change and one record', async () => {
    const { store, dynamo, table } = await freshStore();
    const bucket = await createBucket('race');
    const event = configEvent({ rule: 's3-bucket-server-side-encryption-enabled', resourceId: bucket });
    const results = await Promise.all(
      Array.from({ length: 20 }, () => processEvent(structuredClone(event), rule, localDeps({ store }), { dryRun: false })),
    );

    expect(results.reduce((sum, result) => sum + result.writes, 0)).toBe(1);
    expect(results.filter((result) => result.reason.startsWith('duplicate delivery'))).toHaveLength(19);
    expect((await bucketEncryption(bucket))?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('AES256');
    const items = await dynamo.send(new ScanCommand({ TableName: table }));
    expect(items.Items?.filter((item) => item.itemType?.S === 'record')).toHaveLength(1);
    expect(items.Items?.filter((item) => item.itemType?.S === 'lock')).toHaveLength(0);
  });

  it('two different findings for one resource at once do not interleave: one change, one compliant', async () => {
    const { store } = await freshStore();
    const bucket = await createBucket('race2');
    const [a, b] = await Promise.all([
      processEvent(configEvent({ rule: 's3-bucket-server-side-encryption-enabled', resourceId: bucket }), rule, localDeps({ store }), { dryRun: false }),
      processEvent(configEvent({ rule: 's3-bucket-server-side-encryption-enabled', resourceId: bucket }), rule, localDeps({ store }), { dryRun: false }),
    ]);
    expect([a?.outcome, b?.outcome].sort()).toEqual(['compliant', 'remediated'].sort());
    expect((a?.writes ?? 0) + (b?.writes ?? 0)).toBe(1);
  });
});
