import { StartResourceScanCommand } from '@aws-sdk/client-accessanalyzer';
import { CreateRoleCommand, GetRoleCommand } from '@aws-sdk/client-iam';
import { GetBucketPolicyCommand, PutBucketPolicyCommand } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { iamRoleTrustExternalAccess } from '../../rules/iam-role-trust-external-access.ts';
import { s3BucketPolicyExternalAccess } from '../../rules/s3-bucket-policy-external-access.ts';
import { s3BucketPublicAccessBlock } from '../../rules/s3-bucket-public-access-block.ts';
import type { AnyRule } from '../../core/model/rule.ts';
import { decideApproval } from '../../core/engine/approval-decisions.ts';
import { type EngineDeps, processEvent } from '../../core/engine/engine.ts';
import type { RecordStore } from '../../core/aws/record-store.ts';
import { rollbackRecord } from '../../core/engine/rollback.ts';
import { dispatchEvent } from '../../scripts/lib/local-runtime.ts';
import { ACCOUNT, analyzerEvent, loadSample, OTHER_ACCOUNT } from '../support/events.ts';
import { testIam } from '../support/iam.ts';
import { bucketPublicAccessBlock, createBucket, freshStore, localDeps, testS3, uniqueName } from '../support/local-aws.ts';

async function bucketPolicy(bucket: string): Promise<any> {
  try {
    return JSON.parse((await testS3().send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy ?? 'null');
  } catch (error) {
    if ((error as Error).name === 'NoSuchBucketPolicy') return null;
    throw error;
  }
}

async function trustPolicy(role: string): Promise<any> {
  const document = (await testIam().send(new GetRoleCommand({ RoleName: role }))).Role?.AssumeRolePolicyDocument ?? '';
  return JSON.parse(document.trimStart().startsWith('{') ? document : decodeURIComponent(document));
}

/** Approve mode is the default for these rules: ask, approve, apply. */
async function approveAndApply(rule: AnyRule, event: unknown) {
  const { store } = await freshStore();
  const deps = localDeps({ store }) as EngineDeps & { store: RecordStore };
  const pending = await processEvent(event, rule, deps, { dryRun: false });
  expect(pending.outcome, pending.reason).toBe('pending-approval');
  await decideApproval(store, { approvalId: pending.approvalId ?? '', decision: 'approve', by: 'U0APPROVER1', now: Date.now(), suppressionDays: 30 });
  const approvedEvent = {
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': 'Remediation Approved',
    source: 'driftfix.approvals',
    account: ACCOUNT,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: 'us-east-1',
    resources: [],
    detail: { approvalId: pending.approvalId, ruleId: rule.id },
  };
  const applied = await processEvent(approvedEvent, rule, deps, { dryRun: false });
  return { pending, applied, deps };
}

const policyWith = (_bucket: string, statements: unknown[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const grant = (sid: string, principal: unknown, bucket: string) => ({ Sid: sid, Effect: 'Allow', Principal: { AWS: principal }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` });

describe('Access Analyzer: public bucket', () => {
  it('blocks public access, then asks Access Analyzer to re-scan the bucket', async () => {
    const bucket = await createBucket('aa-public');
    const { store } = await freshStore();
    const deps = localDeps({ store });
    const analyzer = mockClient(deps.clients.accessAnalyzer);
    analyzer.on(StartResourceScanCommand).resolves({});
    const event = analyzerEvent({ bucket });
    const result = await processEvent(event, s3BucketPublicAccessBlock, deps, { dryRun: false });
    expect(result.outcome).toBe('remediated');
    expect(result.reason).toContain('asked Access Analyzer to re-scan');
    expect(analyzer.commandCalls(StartResourceScanCommand)[0]?.args[0].input).toEqual({
      analyzerArn: event.resources[0],
      resourceArn: `arn:aws:s3:::${bucket}`,
    });
    expect((await bucketPublicAccessBlock(bucket))?.BlockPublicPolicy).toBe(true);
  });

  it('a failed re-scan request does not undo or fail the fix', async () => {
    const bucket = await createBucket('aa-public');
    const { store } = await freshStore();
    const deps = localDeps({ store });
    mockClient(deps.clients.accessAnalyzer).on(StartResourceScanCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const result = await processEvent(analyzerEvent({ bucket }), s3BucketPublicAccessBlock, deps, { dryRun: false });
    expect(result.outcome).toBe('remediated');
    expect(result.reason).toContain('follow-up failed (the change stands): ThrottlingException');
  });
});

describe('Access Analyzer: bucket shared with another account', () => {
  it('removes exactly the external principal, with approval, and keeps the old policy for rollback', async () => {
    const bucket = await createBucket('aa-shared');
    const original = policyWith(bucket, [
      grant('Mixed', [`arn:aws:iam::${OTHER_ACCOUNT}:root`, `arn:aws:iam::${ACCOUNT}:role/reporting`], bucket),
      grant('OwnOnly', `arn:aws:iam::${ACCOUNT}:role/etl`, bucket),
      { Sid: 'DenyInsecure', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: `arn:aws:s3:::${bucket}/*`, Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
    ]);
    await testS3().send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: original }));
    const { pending, applied, deps } = await approveAndApply(s3BucketPolicyExternalAccess, analyzerEvent({ bucket, isPublic: false }));
    expect(pending.reason).toContain(`remove principal arn:aws:iam::${OTHER_ACCOUNT}:root`);
    expect(applied).toMatchObject({ outcome: 'remediated', writes: 1 });
    expect((await bucketPolicy(bucket)).Statement).toEqual([
      grant('Mixed', `arn:aws:iam::${ACCOUNT}:role/reporting`, bucket),
      grant('OwnOnly', `arn:aws:iam::${ACCOUNT}:role/etl`, bucket),
      { Sid: 'DenyInsecure', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: `arn:aws:s3:::${bucket}/*`, Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
    ]);
    const record = await deps.store.getRecord(applied.recordId ?? '');
    expect(record?.steps[0]?.undo).toMatchObject({ operation: 'S3.PutBucketPolicy', input: { Policy: original } });

    const rolledBack = await rollbackRecord(applied.recordId ?? '', deps, { force: false, by: 'cli:operator' });
    expect(rolledBack.outcome).toBe('rolled-back');
    expect(await bucketPolicy(bucket)).toEqual(JSON.parse(original));
  });

  it('deletes the bucket policy when the external grant was all it held', async () => {
    const bucket = await createBucket('aa-only');
    await testS3().send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policyWith(bucket, [grant('Partner', OTHER_ACCOUNT, bucket)]) }));
    const { applied } = await approveAndApply(s3BucketPolicyExternalAccess, analyzerEvent({ bucket, isPublic: false }));
    expect(applied).toMatchObject({ outcome: 'remediated', writes: 1 });
    expect(applied.calls).toContain('S3.DeleteBucketPolicy');
    expect(await bucketPolicy(bucket)).toBeNull();
  });
});

describe('Access Analyzer: role another account can assume', () => {
  it('removes the external account from the trust policy, keeping the other principals, and rolls back', async () => {
    const role = uniqueName('partner');
    const original = {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'Partner', Effect: 'Allow', Principal: { AWS: [OTHER_ACCOUNT, `arn:aws:iam::${ACCOUNT}:root`] }, Action: 'sts:AssumeRole' },
        { Sid: 'Lambda', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ],
    };
    await testIam().send(new CreateRoleCommand({ RoleName: role, AssumeRolePolicyDocument: JSON.stringify(original) }));
    const event = loadSample('access-analyzer/iam-role-cross-account.json');
    event.detail.resource = `arn:aws:iam::${ACCOUNT}:role/${role}`;
    const { applied, deps } = await approveAndApply(iamRoleTrustExternalAccess, event);
    expect(applied).toMatchObject({ outcome: 'remediated', writes: 1 });
    expect((await trustPolicy(role)).Statement).toEqual([
      { Sid: 'Partner', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' },
      { Sid: 'Lambda', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ]);
    expect((await rollbackRecord(applied.recordId ?? '', deps, { force: false, by: 'cli:operator' })).outcome).toBe('rolled-back');
    expect(await trustPolicy(role)).toEqual(original);
  });

  it('never empties a trust policy: reports instead', async () => {
    const role = uniqueName('partner');
    await testIam().send(
      new CreateRoleCommand({
        RoleName: role,
        AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: OTHER_ACCOUNT }, Action: 'sts:AssumeRole' }] }),
      }),
    );
    const event = loadSample('access-analyzer/iam-role-cross-account.json');
    event.detail.resource = `arn:aws:iam::${ACCOUNT}:role/${role}`;
    const { store } = await freshStore();
    const result = await processEvent(event, iamRoleTrustExternalAccess, localDeps({ store }), { dryRun: false });
    expect(result).toMatchObject({ outcome: 'skipped', writes: 0 });
    expect(result.reason).toContain('empty trust policy');
  });
});

describe('Access Analyzer findings with no fix', () => {
  it.each([
    ['an internal-access finding', 'access-analyzer/internal-access-skipped.json', /InternalAccess findings have no driftfix fix/],
    ['an error finding', 'access-analyzer/error-finding-skipped.json', /could not analyze/],
    ['an unused-access finding', 'access-analyzer/unused-access-skipped.json', /no driftfix rule answers/],
    ['a KMS key finding', 'access-analyzer/kms-key-skipped.json', /no driftfix rule fixes/],
  ])('%s is skipped with a reason, never an error', async (_name, file, reason) => {
    const result = await processEvent(loadSample(file), s3BucketPolicyExternalAccess, localDeps(), { dryRun: false });
    expect(result).toMatchObject({ outcome: 'skipped', calls: [], writes: 0 });
    expect(result.reason).toMatch(reason);
  });
});

describe('Access Analyzer findings with no fix, when the deployment asks to be told (UNHANDLED_FINDINGS=notify)', () => {
  it.each([
    ['a KMS key finding (unhandled-findings function)', 'access-analyzer/kms-key-skipped.json', 'AWS::KMS::Key/arn:aws:kms:'],
    ['an unused-access finding (unhandled-findings function)', 'access-analyzer/unused-access-skipped.json', 'AWS::IAM::Role/arn:aws:iam::111122223333:role/old-batch-job'],
    ['an internal-access finding (a rule function hands it over)', 'access-analyzer/internal-access-skipped.json', 'AWS::S3::Bucket/arn:aws:s3:::driftfix-demo-internal'],
    ['an error finding (unhandled-findings function)', 'access-analyzer/error-finding-skipped.json', 'AWS::S3::Bucket/arn:aws:s3:::driftfix-demo-unreadable'],
  ])('%s becomes a notified record, posted, and changes nothing', async (_name, file, resource) => {
    const { store } = await freshStore();
    const notifier = {
      enabled: true,
      posted: [] as string[],
      async post(message: { text: string }) {
        this.posted.push(message.text);
        return { channel: 'C0DRIFTFIX1', ts: '1.1' };
      },
      async update() {},
      async tellUser() {},
      async groupMembers() {
        return [];
      },
    };
    const deps = { ...localDeps({ store, env: { UNHANDLED_FINDINGS: 'notify' } }), notifier };
    const result = await dispatchEvent(loadSample(file), { settings: deps.settings, identity: deps.identity, deps }, { dryRun: false });
    expect(result).toMatchObject({ outcome: 'notified', writes: 0, calls: [], rule: 'unhandled-findings' });
    expect(result.resource?.startsWith(resource)).toBe(true);
    expect((await store.getRecord(result.recordId ?? ''))?.outcome).toBe('notified');
    expect(notifier.posted[0]).toContain('no automatic fix');

    const again = await dispatchEvent(loadSample(file), { settings: deps.settings, identity: deps.identity, deps }, { dryRun: false });
    expect(again.reason).toMatch(/^duplicate delivery/);
    expect(notifier.posted).toHaveLength(1);
  });

  it('a dry run only reports it skipped', async () => {
    const deps = localDeps({ env: { UNHANDLED_FINDINGS: 'notify' } });
    const result = await dispatchEvent(loadSample('access-analyzer/kms-key-skipped.json'), { settings: deps.settings, identity: deps.identity, deps }, { dryRun: true });
    expect(result.outcome).toBe('skipped');
  });
});
