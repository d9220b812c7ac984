import { describe, expect, it } from 'vitest';
import type { Finding } from '../../core/model/finding.ts';
import { s3AccountPublicAccessBlock } from '../../rules/s3-account-public-access-block.ts';
import { s3BucketPublicAccessBlock } from '../../rules/s3-bucket-public-access-block.ts';
import { s3DefaultEncryption } from '../../rules/s3-default-encryption.ts';
import { ACCOUNT, REGION } from '../support/events.ts';

const KEY = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

function finding(configRuleName: string, resourceId = 'plan-bucket', resourceType = 'AWS::S3::Bucket'): Finding {
  return {
    eventId: 'e-1',
    reporter: 'config',
    replayed: false,
    account: ACCOUNT,
    region: REGION,
    time: '2026-11-20T09:14:03Z',
    resourceType,
    resourceId,
    trigger: { kind: 'config-rule', configRuleName, complianceType: 'NON_COMPLIANT' },
  };
}

const sse = (SSEAlgorithm: 'AES256' | 'aws:kms', KMSMasterKeyID?: string) => ({
  rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm, ...(KMSMasterKeyID ? { KMSMasterKeyID } : {}) } }],
});

describe('s3-default-encryption plan', () => {
  const plan = s3DefaultEncryption.plan;
  const enabled = finding('s3-bucket-server-side-encryption-enabled');
  const kms = finding('s3-default-encryption-kms');

  it('no encryption → one PutBucketEncryption step with SSE-S3, undone by deleting it', () => {
    const result = plan({ rules: null }, {}, enabled);
    expect(result.status).toBe('change');
    if (result.status !== 'change') return;
    expect(result.steps).toHaveLength(1);
    expect(result.steps[0]).toMatchObject({
      operation: 'S3.PutBucketEncryption',
      input: { Bucket: 'plan-bucket', ExpectedBucketOwner: ACCOUNT, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } },
      undo: { operation: 'S3.DeleteBucketEncryption', input: { Bucket: 'plan-bucket' } },
    });
    expect(result.steps[0]?.description).toBe('set default encryption: no default encryption → SSE-S3 (AES256)');
  });

  it('a KMS key configured → SSE-KMS with that key and a Bucket Key', () => {
    const result = plan({ rules: null }, { kmsKeyArn: KEY }, enabled);
    if (result.status !== 'change') throw new Error(result.status);
    expect(result.steps[0]?.input).toMatchObject({
      ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KEY }, BucketKeyEnabled: true }] },
    });
  });

  it.each([
    ['SSE-S3, no key required', sse('AES256'), {}, enabled],
    ['SSE-KMS, no key required (never downgraded)', sse('aws:kms', 'some-key'), {}, enabled],
    ['SSE-KMS with the configured key, by ARN', sse('aws:kms', KEY), { kmsKeyArn: KEY }, enabled],
    ['SSE-KMS with the configured key, by id', sse('aws:kms', '1234abcd-12ab-34cd-56ef-1234567890ab'), { kmsKeyArn: KEY }, kms],
    ['SSE-KMS for the KMS rule with no key configured', sse('aws:kms', 'any-key'), {}, kms],
  ])('compliant: %s', (_name, state, params, trigger) => {
    expect(plan(state, params, trigger).status).toBe('compliant');
  });

  it('SSE-KMS under another key than the configured one → changes to the configured key, undo restores the old one', () => {
    const result = plan(sse('aws:kms', 'arn:aws:kms:us-east-1:111122223333:key/other'), { kmsKeyArn: KEY }, enabled);
    if (result.status !== 'change') throw new Error(result.status);
    expect(JSON.stringify(result.steps[0]?.undo?.input)).toContain('key/other');
  });

  it('the KMS rule without a configured key cannot be fixed: says why', () => {
    expect(plan({ rules: null }, {}, kms)).toMatchObject({ status: 'unfixable', summary: expect.stringContaining('kmsKeyArn') });
    expect(plan(sse('AES256'), {}, kms).status).toBe('unfixable');
  });
});

describe('s3-bucket-public-access-block plan', () => {
  const plan = s3BucketPublicAccessBlock.plan;
  const trigger = finding('s3-bucket-public-read-prohibited');
  const all = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };

  it('all four flags on → compliant', () => {
    expect(plan({ flags: all, hostsWebsite: false }, {}, trigger).status).toBe('compliant');
  });

  it.each(['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'])('%s off → sets all four, undo restores exactly the old flags', (flag) => {
    const flags = { ...all, [flag]: false };
    const result = plan({ flags, hostsWebsite: false }, {}, trigger);
    if (result.status !== 'change') throw new Error(result.status);
    expect(result.steps[0]?.input).toMatchObject({ PublicAccessBlockConfiguration: all });
    expect(result.steps[0]?.undo).toEqual({
      operation: 'S3.PutPublicAccessBlock',
      input: { Bucket: 'plan-bucket', ExpectedBucketOwner: ACCOUNT, PublicAccessBlockConfiguration: flags },
    });
    expect(result.approvalReason).toBeUndefined();
  });

  it('a static website → the change needs approval', () => {
    const result = plan({ flags: null, hostsWebsite: true }, {}, trigger);
    expect(result).toMatchObject({ status: 'change', approvalReason: expect.stringContaining('static website') });
  });
});

describe('s3-account-public-access-block plan', () => {
  const plan = s3AccountPublicAccessBlock.plan;
  const trigger = finding('s3-account-level-public-access-blocks', ACCOUNT, 'AWS::::Account');

  it('no configuration → S3 Control PutPublicAccessBlock for this account, undone by deleting it', () => {
    const result = plan({ flags: null }, {}, trigger);
    if (result.status !== 'change') throw new Error(result.status);
    expect(result.steps[0]).toMatchObject({
      operation: 'S3Control.PutPublicAccessBlock',
      input: { AccountId: ACCOUNT },
      undo: { operation: 'S3Control.DeletePublicAccessBlock', input: { AccountId: ACCOUNT } },
    });
  });

  it('declares approval by default and high risk', () => {
    expect(s3AccountPublicAccessBlock.defaultMode).toBe('approve');
    expect(s3AccountPublicAccessBlock.risk).toBe('high');
  });
});
