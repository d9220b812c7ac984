import { describe, expect, it } from 'vitest';
import { replayEvent } from '../../scripts/lib/replay-files.ts';
import { configEvent, securityHubEvent } from '../support/events.ts';
import { bucketEncryption, createBucket, createConfigRule, localRuntime, uniqueName } from '../support/local-aws.ts';

describe('at-least-once delivery, many deliveries at once', () => {
  it('20 simultaneous deliveries of one finding make exactly one change and one record', async () => {
    const runtime = await localRuntime();
    const bucket = await createBucket('twenty');
    const event = configEvent({ configRuleName: 's3-bucket-server-side-encryption-enabled', resourceId: bucket });
    const results = await Promise.all(Array.from({ length: 20 }, () => replayEvent(event, runtime, { apply: true })));
    expect(results.reduce((sum, result) => sum + result.writes, 0)).toBe(1);
    expect(results.filter((result) => result.outcome === 'remediated')).toHaveLength(20);
    expect(new Set(results.map((result) => result.recordId)).size).toBe(1);
    expect(results.filter((result) => result.duplicate)).toHaveLength(19);
    expect((await bucketEncryption(bucket))?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('AES256');
  }, 60_000);

  it('a Config finding and a Security Hub finding for the same bucket at once make one change', async () => {
    const runtime = await localRuntime();
    const bucket = await createBucket('twice');
    const name = uniqueName('securityhub-s3-bucket-level-public-access-prohibited');
    await createConfigRule(name, 'S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED');
    const events = [
      configEvent({ configRuleName: name, resourceId: bucket }),
      securityHubEvent({ controlId: 'S3.8', resourceType: 'AwsS3Bucket', resourceId: `arn:aws:s3:::${bucket}` }),
      configEvent({ configRuleName: name, resourceId: bucket }),
    ];
    const results = await Promise.all(events.map((event) => replayEvent(event, runtime, { apply: true })));
    expect(results.reduce((sum, result) => sum + result.writes, 0)).toBe(1);
    expect(results.map((result) => result.outcome).sort()).toEqual(['compliant', 'compliant', 'remediated']);
  }, 60_000);
});
