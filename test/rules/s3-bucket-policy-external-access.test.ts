
import { GetBucketPolicyCommand, PutBucketPolicyCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { decideApproval } from '../../core/engine/decide.ts';
import { rollbackRecord } from '../../core/engine/rollback.ts';
import type { Finding } from '../../core/model/index.ts';
import rule from '../../rules/s3-bucket-policy-external-access.ts';
import { replayEvent } from '../../scripts/lib/replay-files.ts';
import { ACCOUNT, afterTheFix, analyzerEvent, approvedEvent, OTHER_ACCOUNT, REGION } from '../support/events.ts';
import { createBucket, localRuntime, testS3 } from '../support/local-aws.ts';

type Runtime = Awaited<ReturnType<typeof localRuntime>>;

const BUCKET = 'shared-bucket';
const policyText = (...Statement: unknown[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const grant = (Sid: string, AWS: unknown, bucket = BUCKET) => ({ Sid, Effect: 'Allow', Principal: { AWS }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` });
const denyInsecure = (bucket = BUCKET) => ({
  Sid: 'DenyInsecure',
  Effect: 'Deny',
  Principal: '*',
  Action: 's3:*',
  Resource: `arn:aws:s3:::${bucket}/*`,
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
});
const APPROVAL_REASON = 'access for another account may be intended: a person decides';

function analyzerFinding(principal?: Record<string, string>): Finding {
  return {
    eventId: 'e-1',
    reporter: 'access-analyzer',
    replayed: false,
    account: ACCOUNT,
    region: REGION,
    time: '2026-11-20T10:02:33Z',
    resourceType: 'AWS::S3::Bucket',
    resourceId: BUCKET,
    resourceArn: `arn:aws:s3:::${BUCKET}`,
    trigger: { kind: 'access-analyzer', findingId: 'f-1', status: 'ACTIVE', isPublic: false, ...(principal ? { principal } : {}) },
  };
}
const other = analyzerFinding({ AWS: OTHER_ACCOUNT });
const bucketInput = { Bucket: BUCKET, ExpectedBucketOwner: ACCOUNT };

function changeOf(plan: ReturnType<typeof rule.plan>) {
  if (plan.status !== 'change') throw new Error(`expected a change, got ${plan.status}: ${plan.summary}`);
  return plan;
}

describe('plan (pure)', () => {
  it('removes exactly the external principal, keeps the rest and the Deny; undone by putting the old policy back; a person decides', () => {
    const original = policyText(grant('Mixed', [`arn:aws:iam::${OTHER_ACCOUNT}:root`, `arn:aws:iam::${ACCOUNT}:role/reporting`]), grant('OwnOnly', `arn:aws:iam::${ACCOUNT}:role/etl`), denyInsecure());
    const plan = changeOf(rule.plan({ policy: original }, {}, other));
    const expected = policyText(grant('Mixed', `arn:aws:iam::${ACCOUNT}:role/reporting`), grant('OwnOnly', `arn:aws:iam::${ACCOUNT}:role/etl`), denyInsecure());
    expect(plan.steps).toEqual([
      {
        operation: 'S3.PutBucketPolicy',
        input: { ...bucketInput, Policy: expected },
        description: `remove access for ${OTHER_ACCOUNT}: statement "Mixed": remove principal arn:aws:iam::${OTHER_ACCOUNT}:root; keep arn:aws:iam::${ACCOUNT}:role/reporting`,
        before: { policy: original },
        after: { policy: expected },
        undo: { operation: 'S3.PutBucketPolicy', input: { ...bucketInput, Policy: original } },
      },
    ]);
    expect(plan.approvalReason).toBe(APPROVAL_REASON);
    expect(plan.risks).toEqual([`${OTHER_ACCOUNT} loses the access the policy gave; anything there that reads or writes this bucket stops working`]);
  });

  it('a statement granting only the external account goes; a policy left with nothing is deleted, undone by putting it back', () => {
    const original = policyText(grant('Partner', OTHER_ACCOUNT));
    const plan = changeOf(rule.plan({ policy: original }, {}, other));
    expect(plan.steps).toEqual([
      {
        operation: 'S3.DeleteBucketPolicy',
        input: bucketInput,
        description: `remove access for ${OTHER_ACCOUNT}: statement "Partner": remove the statement; it grants only ${OTHER_ACCOUNT}; nothing else is left, so the bucket policy is deleted`,
        before: { policy: original },
        after: { policy: null },
        undo: { operation: 'S3.PutBucketPolicy', input: { ...bucketInput, Policy: original } },
      },
    ]);
  });

  it('keeps other kinds of principal in a statement it edits', () => {
    const original = policyText({ Sid: 'Both', Effect: 'Allow', Principal: { AWS: OTHER_ACCOUNT, Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject', Resource: `arn:aws:s3:::${BUCKET}/*` });
    const plan = changeOf(rule.plan({ policy: original }, {}, other));
    expect(JSON.parse(String(plan.steps[0]?.input.Policy)).Statement).toEqual([
      { Sid: 'Both', Effect: 'Allow', Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject', Resource: `arn:aws:s3:::${BUCKET}/*` },
    ]);
  });

  it('leaves statements for anyone ("*") or naming no AWS principal alone; a list keeps what is left as a list', () => {
    const anyone = { Sid: 'Public', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/public/*` };
    const service = { Sid: 'Logs', Effect: 'Allow', Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject', Resource: `arn:aws:s3:::${BUCKET}/logs/*` };
    const three = grant('Three', [OTHER_ACCOUNT, `arn:aws:iam::${ACCOUNT}:role/a`, `arn:aws:iam::${ACCOUNT}:role/b`]);
    const plan = changeOf(rule.plan({ policy: policyText(anyone, service, three) }, {}, other));
    expect(JSON.parse(String(plan.steps[0]?.input.Policy)).Statement).toEqual([
      anyone,
      service,
      grant('Three', [`arn:aws:iam::${ACCOUNT}:role/a`, `arn:aws:iam::${ACCOUNT}:role/b`]),
    ]);
  });

  it('takes the account from a principal ARN, and removes it however the policy names it', () => {
    const finding = analyzerFinding({ AWS: `arn:aws:iam::${OTHER_ACCOUNT}:role/reader` });
    const plan = changeOf(rule.plan({ policy: policyText(grant('Root', `arn:aws:iam::${OTHER_ACCOUNT}:root`), grant('Id', OTHER_ACCOUNT), grant('Own', ACCOUNT)) }, {}, finding));
    expect(JSON.parse(String(plan.steps[0]?.input.Policy)).Statement).toEqual([grant('Own', ACCOUNT)]);
    expect(plan.summary).toBe(
      `remove access for ${OTHER_ACCOUNT}: statement "Root": remove the statement; it grants only arn:aws:iam::${OTHER_ACCOUNT}:root; statement "Id": remove the statement; it grants only ${OTHER_ACCOUNT}`,
    );
  });

  it('compliant: no policy, or no Allow statement grants the account any more (a Deny naming it stays)', () => {
    expect(rule.plan({ policy: null }, {}, other).status).toBe('compliant');
    const denyOnly = policyText({ Sid: 'NoPartner', Effect: 'Deny', Principal: { AWS: OTHER_ACCOUNT }, Action: 's3:*', Resource: `arn:aws:s3:::${BUCKET}/*` });
    expect(rule.plan({ policy: denyOnly }, {}, other)).toEqual({ status: 'compliant', summary: `no Allow statement grants ${OTHER_ACCOUNT} any more` });
  });

  it('unfixable when the finding names no account to remove', () => {
    expect(rule.plan({ policy: policyText(grant('Any', '*')) }, {}, analyzerFinding({ AWS: '*' })).status).toBe('unfixable');
    expect(rule.plan({ policy: policyText(grant('Any', '*')) }, {}, analyzerFinding())).toEqual({ status: 'unfixable', summary: `the finding names no account other than ${ACCOUNT} to remove` });
  });

  it('never removes the bucket owner’s own account, whatever the finding names', () => {
    const own = analyzerFinding({ AWS: ACCOUNT });
    const policy = policyText(grant('Reporting', `arn:aws:iam::${ACCOUNT}:role/reporting`));
    expect(rule.plan({ policy }, {}, own)).toEqual({ status: 'unfixable', summary: `the finding names no account other than ${ACCOUNT} to remove` });
    // Named beside an external account: only the external one is removed.
    const both = analyzerFinding({ AWS: ACCOUNT, Federated: `arn:aws:iam::${OTHER_ACCOUNT}:saml-provider/x` });
    expect(changeOf(rule.plan({ policy: policyText(grant('Reporting', `arn:aws:iam::${ACCOUNT}:role/reporting`), grant('Partner', OTHER_ACCOUNT)) }, {}, both)).summary).toBe(
      `remove access for ${OTHER_ACCOUNT}: statement "Partner": remove the statement; it grants only ${OTHER_ACCOUNT}`,
    );
  });

  it('a grant to anyone under a condition (how the account may get in) is for a person, not "compliant"', () => {
    const conditioned = { Sid: 'ByAccount', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/*`, Condition: { StringEquals: { 'aws:PrincipalAccount': OTHER_ACCOUNT } } };
    const plan = rule.plan({ policy: policyText(conditioned) }, {}, other);
    expect(plan.status).toBe('unfixable');
    expect(plan.summary).toMatch(/statement "ByAccount" of the bucket policy allows any principal under conditions/);
  });

  it('describes the policy by its statements', () => {
    expect(rule.describe({ policy: null })).toBe('no bucket policy');
    expect(rule.describe({ policy: policyText(grant('A', OTHER_ACCOUNT), denyInsecure()) })).toBe('bucket policy with 2 statement(s)');
  });
});

describe('against moto (always a person’s decision)', () => {
  let runtime: Runtime;
  beforeAll(async () => {
    runtime = await localRuntime();
  });

  const withEnv = (env: Record<string, string>) => localRuntime({ table: runtime.table, env });
  const record = async (recordId: string | undefined, on: Runtime = runtime) => on.ledger?.getRecord(recordId ?? '');
  const rollback = async (recordId: string | undefined, force = false) => {
    await afterTheFix();
    await runtime.factory.forRule(rule);
    return rollbackRecord(recordId ?? '', runtime.deps, { force, by: 'cli:test' });
  };
  async function sharedBucket(prefix: string, statements: (bucket: string) => unknown[], tags?: Record<string, string>) {
    const bucket = await createBucket(prefix, tags ? { tags } : {});
    const policy = policyText(...statements(bucket));
    await testS3().send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy }));
    return { bucket, policy };
  }
  async function bucketPolicy(bucket: string): Promise<string | null> {
    try {
      return (await testS3().send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy ?? null;
    } catch (error) {
      if ((error as Error).name === 'NoSuchBucketPolicy') return null;
      throw error;
    }
  }
  async function approve(on: Runtime, approvalId: string | undefined) {
    const ledger = on.ledger;
    if (!ledger) throw new Error('no ledger');
    const decided = await decideApproval(ledger, { approvalId: approvalId ?? '', decision: 'approve', by: 'U0APPROVER1', now: Date.now(), suppressionDays: 30 });
    expect(decided.kind).toBe('decided');
    return approvedEvent(approvalId ?? '', rule.id);
  }
  const mixed = (bucket: string) => [
    grant('Mixed', [`arn:aws:iam::${OTHER_ACCOUNT}:root`, `arn:aws:iam::${ACCOUNT}:role/reporting`], bucket),
    grant('OwnOnly', `arn:aws:iam::${ACCOUNT}:role/etl`, bucket),
    denyInsecure(bucket),
  ];
  const READS = ['S3.GetBucketTagging', 'S3.GetBucketPolicy'];

  it('asks first (reads only); approved, removes exactly the external principal: tags, read, write, verify; redeliveries change nothing', async () => {
    const { bucket, policy } = await sharedBucket('xacct', mixed);
    const event = analyzerEvent({ bucket, isPublic: false });
    const pending = await replayEvent(event, runtime, { apply: true });
    expect(pending).toMatchObject({ outcome: 'pending-approval', rule: rule.id, resource: `AWS::S3::Bucket/${bucket}`, writes: 0, calls: READS });
    expect(pending.reason).toContain(`remove principal arn:aws:iam::${OTHER_ACCOUNT}:root`);
    expect(await runtime.ledger?.getApproval(pending.approvalId ?? '')).toMatchObject({
      status: 'pending',
      risk: 'high',
      reason: APPROVAL_REASON,
      risks: [`${OTHER_ACCOUNT} loses the access the policy gave; anything there that reads or writes this bucket stops working`],
    });
    expect(await bucketPolicy(bucket)).toBe(policy);

    const approved = await approve(runtime, pending.approvalId);
    const applied = await replayEvent(approved, runtime, { apply: true });
    expect(applied).toMatchObject({ outcome: 'remediated', writes: 1, calls: [...READS, 'S3.PutBucketPolicy', 'S3.GetBucketPolicy'] });
    expect(JSON.parse((await bucketPolicy(bucket)) ?? 'null').Statement).toEqual([
      grant('Mixed', `arn:aws:iam::${ACCOUNT}:role/reporting`, bucket),
      grant('OwnOnly', `arn:aws:iam::${ACCOUNT}:role/etl`, bucket),
      denyInsecure(bucket),
    ]);
    const stored = await record(applied.recordId);
    expect(stored).toMatchObject({ outcome: 'remediated', decidedBy: 'U0APPROVER1', approvalId: pending.approvalId });
    expect(stored?.steps[0]?.undo).toEqual({ operation: 'S3.PutBucketPolicy', input: { Bucket: bucket, ExpectedBucketOwner: ACCOUNT, Policy: policy } });

    const approvedAgain = await replayEvent(structuredClone(approved), runtime, { apply: true });
    expect(approvedAgain).toMatchObject({ outcome: 'remediated', duplicate: true, writes: 0, recordId: applied.recordId });
    const findingAgain = await replayEvent(structuredClone(event), runtime, { apply: true });
    expect(findingAgain).toMatchObject({ duplicate: true, writes: 0, outcome: 'remediated', recordId: pending.recordId });
    const later = await replayEvent(analyzerEvent({ bucket, isPublic: false }), runtime, { apply: true });
    expect(later).toMatchObject({ outcome: 'compliant', writes: 0, calls: READS });
  });

  it('deletes the bucket policy when the external grant was all it held', async () => {
    const { bucket } = await sharedBucket('xacct-only', (name) => [grant('Partner', OTHER_ACCOUNT, name)]);
    const pending = await replayEvent(analyzerEvent({ bucket, isPublic: false }), runtime, { apply: true });
    const applied = await replayEvent(await approve(runtime, pending.approvalId), runtime, { apply: true });
    expect(applied).toMatchObject({ outcome: 'remediated', writes: 1, calls: [...READS, 'S3.DeleteBucketPolicy', 'S3.GetBucketPolicy'] });
    expect(await bucketPolicy(bucket)).toBeNull();
  });

  it('asks even in auto mode: sharing with another account is often intended', async () => {
    const auto = await withEnv({ RULE_MODES: `${rule.id}=auto` });
    const { bucket, policy } = await sharedBucket('xacct-auto', mixed);
    const result = await replayEvent(analyzerEvent({ bucket, isPublic: false }), auto, { apply: true });
    expect(result).toMatchObject({ outcome: 'pending-approval', writes: 0 });
    expect(result.reason).toContain(APPROVAL_REASON);
    expect(await bucketPolicy(bucket)).toBe(policy);
  });

  it('rolls back to exactly the old policy; refuses a second time', async () => {
    const { bucket, policy } = await sharedBucket('xacct-rb', mixed);
    const pending = await replayEvent(analyzerEvent({ bucket, isPublic: false }), runtime, { apply: true });
    const applied = await replayEvent(await approve(runtime, pending.approvalId), runtime, { apply: true });
    expect(applied.outcome).toBe('remediated');

    const rolledBack = await rollback(applied.recordId);
    expect(rolledBack).toMatchObject({ outcome: 'rolled-back', writes: 1, calls: ['S3.GetBucketPolicy', 'S3.PutBucketPolicy', 'S3.GetBucketPolicy'] });
    expect(await bucketPolicy(bucket)).toBe(policy);
    expect(await record(rolledBack.rollbackRecordId)).toMatchObject({ outcome: 'rolled-back', decidedBy: 'cli:test', rollbackOf: applied.recordId });

    const second = await rollback(applied.recordId);
    expect(second).toMatchObject({ outcome: 'refused', writes: 0 });
    expect(second.reason).toContain('already rolled back');
  });

  it('refuses to roll back a deleted policy someone replaced since; forced, it puts the old one back', async () => {
    const { bucket, policy } = await sharedBucket('xacct-rbc', (name) => [grant('Partner', OTHER_ACCOUNT, name)]);
    const pending = await replayEvent(analyzerEvent({ bucket, isPublic: false }), runtime, { apply: true });
    const applied = await replayEvent(await approve(runtime, pending.approvalId), runtime, { apply: true });
    expect(await bucketPolicy(bucket)).toBeNull();
    const replaced = policyText(grant('Own', `arn:aws:iam::${ACCOUNT}:role/etl`, bucket));
    await testS3().send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: replaced }));

    const refused = await rollback(applied.recordId);
    expect(refused).toMatchObject({ outcome: 'refused', writes: 0 });
    expect(refused.reason).toMatch(/changed after the bot left it \(bot left: no bucket policy; now: bucket policy with 1 statement\(s\)\)/);
    expect(await bucketPolicy(bucket)).toBe(replaced);

    const forced = await rollback(applied.recordId, true);
    expect(forced).toMatchObject({ outcome: 'rolled-back', writes: 1 });
    expect(await bucketPolicy(bucket)).toBe(policy);
  });

  it('a Reject leaves the bucket shared and keeps the next finding from asking again', async () => {
    const { bucket, policy } = await sharedBucket('xacct-reject', mixed);
    const pending = await replayEvent(analyzerEvent({ bucket, isPublic: false }), runtime, { apply: true });
    const ledger = runtime.ledger;
    if (!ledger) throw new Error('no ledger');
    await decideApproval(ledger, { approvalId: pending.approvalId ?? '', decision: 'reject', by: 'U0APPROVER1', now: Date.now(), suppressionDays: 30 });
    const later = await replayEvent(analyzerEvent({ bucket, isPublic: false }), runtime, { apply: true });
    expect(later).toMatchObject({ outcome: 'skipped', writes: 0 });
    expect(later.reason).toMatch(/^suppressed until/);
    expect(await bucketPolicy(bucket)).toBe(policy);
  });

  it('notify mode records the plan and its risk, and changes nothing', async () => {
    const notify = await withEnv({ RULE_MODES: `${rule.id}=notify` });
    const { bucket, policy } = await sharedBucket('xacct-notify', mixed);
    const result = await replayEvent(analyzerEvent({ bucket, isPublic: false }), notify, { apply: true });
    expect(result).toMatchObject({ outcome: 'notified', writes: 0 });
    expect((await record(result.recordId, notify))?.risks?.[0]).toContain(`${OTHER_ACCOUNT} loses the access`);
    expect(await bucketPolicy(bucket)).toBe(policy);
  });

  it('skips a bucket carrying the exclusion tag', async () => {
    const { bucket, policy } = await sharedBucket('xacct-excluded', mixed, { 'remediation:skip': 'true' });
    const result = await replayEvent(analyzerEvent({ bucket, isPublic: false }), runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'skipped', writes: 0, calls: ['S3.GetBucketTagging'] });
    expect(result.reason).toContain('remediation:skip=true');
    expect(await bucketPolicy(bucket)).toBe(policy);
  });

  it("leaves a bucket of the bot's own stack alone, with the reason", async () => {
    const own = await withEnv({ STACK_NAME: 'driftfix-test' });
    const { bucket, policy } = await sharedBucket('driftfix-test', mixed);
    const result = await replayEvent(analyzerEvent({ bucket, isPublic: false }), own, { apply: true });
    expect(result).toMatchObject({ outcome: 'skipped', writes: 0, calls: [] });
    expect(result.reason).toContain("belongs to driftfix's own stack");
    expect(await bucketPolicy(bucket)).toBe(policy);
  });
});
