
import { ConfigServiceClient, DeleteConfigRuleCommand } from '@aws-sdk/client-config-service';
import { PutBucketEncryptionCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideApproval } from '../../core/engine/decide.ts';
import { rollbackRecord } from '../../core/engine/rollback.ts';
import type { Finding } from '../../core/model/index.ts';
import rule from '../../rules/s3-default-encryption.ts';
import { replayEvent } from '../../scripts/lib/replay-files.ts';
import { ACCOUNT, afterTheFix, approvedEvent, configEvent, REGION, securityHubEvent } from '../support/events.ts';
import { bucketEncryption, createBucket, createConfigRule, localRuntime, motoEndpoint, testS3, uniqueName } from '../support/local-aws.ts';

const KMS_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const OTHER_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/0000aaaa-00aa-00aa-00aa-000000000000`;
const ENABLED = 'S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED';
const KMS = 'S3_DEFAULT_ENCRYPTION_KMS';

type Runtime = Awaited<ReturnType<typeof localRuntime>>;

/** The finding as the rule gets it after routing: the managed rule's identifier read from AWS Config. */
function configFinding(identifier: string, configRuleName = `rule-${identifier.toLowerCase()}`, resourceId = 'plan-bucket'): Finding {
  return {
    eventId: 'e-1',
    reporter: 'config',
    replayed: false,
    account: ACCOUNT,
    region: REGION,
    time: '2026-11-20T09:14:03Z',
    resourceType: 'AWS::S3::Bucket',
    resourceId,
    trigger: { kind: 'config-rule', configRuleName, identifier, complianceType: 'NON_COMPLIANT' },
  };
}

const sse = (SSEAlgorithm: 'AES256' | 'aws:kms' | 'aws:kms:dsse', KMSMasterKeyID?: string, BucketKeyEnabled?: boolean) => ({
  rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm, ...(KMSMasterKeyID ? { KMSMasterKeyID } : {}) }, ...(BucketKeyEnabled ? { BucketKeyEnabled } : {}) }],
});

function changeOf(plan: ReturnType<typeof rule.plan>) {
  if (plan.status !== 'change') throw new Error(`expected a change, got ${plan.status}: ${plan.summary}`);
  return plan;
}

describe('plan (pure)', () => {
  const enabled = configFinding(ENABLED);
  const kms = configFinding(KMS);
  const bucket = { Bucket: 'plan-bucket', ExpectedBucketOwner: ACCOUNT };

  it('no default encryption → one PutBucketEncryption with SSE-S3, undone by deleting the configuration', () => {
    const plan = changeOf(rule.plan({ rules: null }, {}, enabled));
    expect(plan.steps).toEqual([
      {
        operation: 'S3.PutBucketEncryption',
        input: { ...bucket, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } },
        description: 'set default encryption: no default encryption → SSE-S3 (AES256)',
        before: { rules: null },
        after: { rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        undo: { operation: 'S3.DeleteBucketEncryption', input: bucket },
      },
    ]);
    expect(plan.summary).toBe(plan.steps[0]?.description);
    // Low risk, auto mode: nothing asks a person.
    expect(plan.approvalReason).toBeUndefined();
    expect(plan.risks).toBeUndefined();
  });

  it('a KMS key configured → SSE-KMS under that key with an S3 Bucket Key', () => {
    const plan = changeOf(rule.plan({ rules: null }, { kmsKeyArn: KMS_KEY }, enabled));
    expect(plan.steps[0]?.input).toEqual({
      ...bucket,
      ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KMS_KEY }, BucketKeyEnabled: true }] },
    });
    expect(plan.steps[0]?.description).toBe(`set default encryption: no default encryption → SSE-KMS (aws:kms, key ${KMS_KEY}, Bucket Key on)`);
  });

  it.each([
    ['SSE-S3, no key required', sse('AES256'), {}, enabled],
    ['SSE-KMS, no key required (never downgraded to SSE-S3)', sse('aws:kms', 'some-key'), {}, enabled],
    ['SSE-KMS with the configured key, by ARN', sse('aws:kms', KMS_KEY), { kmsKeyArn: KMS_KEY }, enabled],
    ['SSE-KMS with the configured key, by key id', sse('aws:kms', '1234abcd-12ab-34cd-56ef-1234567890ab'), { kmsKeyArn: KMS_KEY }, kms],
    ['DSSE-KMS with the configured key', sse('aws:kms:dsse', KMS_KEY), { kmsKeyArn: KMS_KEY }, kms],
    ['SSE-KMS under any key, for the KMS rule with no key configured', sse('aws:kms', 'any-key'), {}, kms],
  ])('compliant: %s', (_name, state, params, finding) => {
    expect(rule.plan(state, params, finding).status).toBe('compliant');
  });

  it('SSE-S3 with a key configured → moves to the key; the undo puts back exactly the old configuration', () => {
    const plan = changeOf(rule.plan(sse('AES256'), { kmsKeyArn: KMS_KEY }, enabled));
    expect(plan.steps[0]?.undo).toEqual({ operation: 'S3.PutBucketEncryption', input: { ...bucket, ServerSideEncryptionConfiguration: { Rules: sse('AES256').rules } } });
  });

  it('SSE-KMS under another key than the configured one → the configured key; the undo restores the other key', () => {
    const plan = changeOf(rule.plan(sse('aws:kms', OTHER_KEY, true), { kmsKeyArn: KMS_KEY }, enabled));
    expect(plan.steps[0]?.undo).toEqual({ operation: 'S3.PutBucketEncryption', input: { ...bucket, ServerSideEncryptionConfiguration: { Rules: sse('aws:kms', OTHER_KEY, true).rules } } });
    expect(plan.steps[0]?.description).toBe(
      `set default encryption: SSE-KMS (aws:kms, key ${OTHER_KEY}, Bucket Key on) → SSE-KMS (aws:kms, key ${KMS_KEY}, Bucket Key on)`,
    );
  });

  it('a configured key of another Region is never written (S3 would accept it and refuse uploads): unfixable, saying which Region', () => {
    const elsewhere = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    for (const state of [{ rules: null }, sse('AES256')]) {
      expect(rule.plan(state, { kmsKeyArn: elsewhere }, enabled)).toEqual({ status: 'unfixable', summary: expect.stringMatching(/a key in eu-west-1, and S3 encrypts a bucket in us-east-1 only with a key of its own Region/) });
    }
  });

  it('the KMS managed rule with no key configured cannot be fixed, whatever the bucket has; it says what to configure', () => {
    expect(rule.plan({ rules: null }, {}, kms)).toEqual({ status: 'unfixable', summary: expect.stringContaining('kmsKeyArn') });
    expect(rule.plan(sse('AES256'), {}, kms)).toMatchObject({ status: 'unfixable', summary: expect.stringContaining('RULE_PARAMS') });
  });

  it('asks for SSE-KMS by the managed rule the Config rule runs, not by its name', () => {
    // A Config rule named like the KMS one but running the plain encryption check: SSE-S3 is enough.
    expect(rule.plan(sse('AES256'), {}, configFinding(ENABLED, 's3-default-encryption-kms')).status).toBe('compliant');
    expect(rule.plan(sse('AES256'), {}, configFinding(KMS, 'team-encryption-check')).status).toBe('unfixable');
  });

  it('a Security Hub S3.4 finding asks for default encryption of any kind', () => {
    const finding: Finding = {
      ...configFinding(ENABLED),
      reporter: 'security-hub',
      trigger: { kind: 'security-hub', findingId: 'f-1', productArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub', controlId: 'S3.4', complianceStatus: 'FAILED', workflowStatus: 'NEW' },
    };
    expect(rule.plan(sse('AES256'), {}, finding).status).toBe('compliant');
    expect(changeOf(rule.plan({ rules: null }, {}, finding)).steps[0]?.operation).toBe('S3.PutBucketEncryption');
  });

  it('describes each state in words', () => {
    expect(rule.describe({ rules: null })).toBe('no default encryption');
    expect(rule.describe(sse('AES256'))).toBe('SSE-S3 (AES256)');
    expect(rule.describe(sse('aws:kms'))).toBe('SSE-KMS (aws:kms, key aws/s3)');
    expect(rule.describe(sse('aws:kms', KMS_KEY, true))).toBe(`SSE-KMS (aws:kms, key ${KMS_KEY}, Bucket Key on)`);
  });

  it('accepts a key or alias ARN as kmsKeyArn, and refuses anything else or an unknown parameter', () => {
    expect(rule.params.safeParse({ kmsKeyArn: KMS_KEY }).success).toBe(true);
    expect(rule.params.safeParse({ kmsKeyArn: `arn:aws:kms:${REGION}:${ACCOUNT}:alias/data-buckets` }).success).toBe(true);
    expect(rule.params.safeParse({ kmsKeyArn: '1234abcd-12ab-34cd-56ef-1234567890ab' }).success).toBe(false);
    expect(rule.params.safeParse({ kmsKeyArm: KMS_KEY }).success).toBe(false);
  });
});

describe('against moto, through the Config router', () => {
  let runtime: Runtime;
  /** Config rules under names other than AWS's defaults, as Security Hub and people name them. */
  const enabledRule = uniqueName('securityhub-s3-bucket-server-side-encryption-enabled');
  const kmsRule = uniqueName('prod-data-buckets-kms-required');

  beforeAll(async () => {
    runtime = await localRuntime();
    await createConfigRule(enabledRule, ENABLED);
    await createConfigRule(kmsRule, KMS);
  });
  afterAll(async () => {
    const config = new ConfigServiceClient({ region: REGION, endpoint: motoEndpoint() });
    for (const name of [enabledRule, kmsRule]) await config.send(new DeleteConfigRuleCommand({ ConfigRuleName: name }));
  });

  const withEnv = (env: Record<string, string>) => localRuntime({ table: runtime.table, env });
  const record = async (recordId: string | undefined, on: Runtime = runtime) => on.ledger?.getRecord(recordId ?? '');
  /** As `npm run rollback` does; a person asks some time after the fix (see afterTheFix). */
  const rollback = async (recordId: string | undefined, force = false, on: Runtime = runtime) => {
    await afterTheFix();
    await on.factory.forRule(rule);
    return rollbackRecord(recordId ?? '', on.deps, { force, by: 'cli:test' });
  };
  const algorithm = async (bucket: string) => (await bucketEncryption(bucket))?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm ?? null;

  it('fixes an unencrypted bucket (tags, read, write, verify), answers a redelivery from the record, and a later finding reads only', async () => {
    const bucket = await createBucket('enc-plain');
    const event = configEvent({ configRuleName: enabledRule, resourceId: bucket });

    const result = await replayEvent(event, runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'remediated', rule: rule.id, resource: `AWS::S3::Bucket/${bucket}`, writes: 1, eventId: event.id });
    expect(result.calls).toEqual(['S3.GetBucketTagging', 'S3.GetBucketEncryption', 'S3.PutBucketEncryption', 'S3.GetBucketEncryption']);
    expect(result).toMatchObject({ before: 'no default encryption', after: 'SSE-S3 (AES256)' });
    expect(await bucketEncryption(bucket)).toEqual({ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false });

    const stored = await record(result.recordId);
    expect(stored).toMatchObject({ outcome: 'remediated', status: 'final', mode: 'auto', writes: 1, ruleId: rule.id });
    expect(stored?.trigger).toMatchObject({ kind: 'config-rule', configRuleName: enabledRule, identifier: ENABLED });
    expect(stored?.before?.summary).toBe('no default encryption');
    expect(stored?.after?.summary).toBe('SSE-S3 (AES256)');
    expect(stored?.steps[0]?.undo).toEqual({ operation: 'S3.DeleteBucketEncryption', input: { Bucket: bucket, ExpectedBucketOwner: ACCOUNT } });

    const again = await replayEvent(structuredClone(event), runtime, { apply: true });
    expect(again).toMatchObject({ outcome: 'remediated', duplicate: true, writes: 0, recordId: result.recordId });
    expect(again.reason).toMatch(/^duplicate delivery, already handled: /);
    expect(again.calls.filter((call) => !call.startsWith('S3.Get'))).toEqual([]);

    const later = await replayEvent(configEvent({ configRuleName: enabledRule, resourceId: bucket }), runtime, { apply: true });
    expect(later).toMatchObject({ outcome: 'compliant', writes: 0, calls: ['S3.GetBucketTagging', 'S3.GetBucketEncryption'] });
    expect(later.recordId).not.toBe(result.recordId);
    expect(later.duplicate).toBeUndefined();
    expect((await record(later.recordId))?.outcome).toBe('compliant');
  });

  it('rolls back to no default encryption, records the rollback on both records, and refuses a second one', async () => {
    const bucket = await createBucket('enc-rollback');
    const fixed = await replayEvent(configEvent({ configRuleName: enabledRule, resourceId: bucket }), runtime, { apply: true });
    expect(fixed.outcome).toBe('remediated');

    const rolledBack = await rollback(fixed.recordId);
    expect(rolledBack).toMatchObject({ outcome: 'rolled-back', writes: 1, calls: ['S3.GetBucketEncryption', 'S3.DeleteBucketEncryption', 'S3.GetBucketEncryption'] });
    expect(await bucketEncryption(bucket)).toBeNull();
    expect(await record(rolledBack.rollbackRecordId)).toMatchObject({ outcome: 'rolled-back', decidedBy: 'cli:test', rollbackOf: fixed.recordId });
    expect((await record(fixed.recordId))?.rolledBackBy).toBe(rolledBack.rollbackRecordId);

    const second = await rollback(fixed.recordId);
    expect(second).toMatchObject({ outcome: 'refused', writes: 0 });
    expect(second.reason).toContain('already rolled back');
    expect(await bucketEncryption(bucket)).toBeNull();
  });

  it('refuses to roll back a bucket someone changed since, and --force rolls it back anyway', async () => {
    const bucket = await createBucket('enc-changed');
    const fixed = await replayEvent(configEvent({ configRuleName: enabledRule, resourceId: bucket }), runtime, { apply: true });
    await testS3().send(
      new PutBucketEncryptionCommand({
        Bucket: bucket,
        ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: OTHER_KEY } }] },
      }),
    );

    const refused = await rollback(fixed.recordId);
    expect(refused).toMatchObject({ outcome: 'refused', writes: 0 });
    expect(refused.reason).toMatch(/changed after the bot left it.*bot left: SSE-S3 \(AES256\).*now: SSE-KMS/);
    expect(await algorithm(bucket)).toBe('aws:kms');

    const forced = await rollback(fixed.recordId, true);
    expect(forced).toMatchObject({ outcome: 'rolled-back', writes: 1 });
    expect(await bucketEncryption(bucket)).toBeNull();
  });

  it('the KMS managed rule with no key configured: skipped with the reason, nothing written', async () => {
    const bucket = await createBucket('enc-nokey');
    const result = await replayEvent(configEvent({ configRuleName: kmsRule, resourceId: bucket }), runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'skipped', writes: 0, calls: ['S3.GetBucketTagging', 'S3.GetBucketEncryption'] });
    expect(result.reason).toContain('no kmsKeyArn is configured');
    expect((await record(result.recordId))?.outcome).toBe('skipped');
    expect(await bucketEncryption(bucket)).toBeNull();
  });

  it('with a key configured, moves an SSE-S3 bucket to SSE-KMS with a Bucket Key; a rollback puts SSE-S3 back', async () => {
    const keyed = await withEnv({ RULE_PARAMS: JSON.stringify({ [rule.id]: { kmsKeyArn: KMS_KEY } }) });
    const bucket = await createBucket('enc-kms', { encryption: 'AES256' });
    const result = await replayEvent(configEvent({ configRuleName: kmsRule, resourceId: bucket }), keyed, { apply: true });
    expect(result).toMatchObject({ outcome: 'remediated', writes: 1 });
    expect(await bucketEncryption(bucket)).toEqual({ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KMS_KEY }, BucketKeyEnabled: true });
    expect((await record(result.recordId, keyed))?.steps[0]?.undo).toMatchObject({
      operation: 'S3.PutBucketEncryption',
      input: { ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } },
    });

    expect((await rollback(result.recordId, false, keyed)).outcome).toBe('rolled-back');
    expect(await algorithm(bucket)).toBe('AES256');
  });

  it('answers a Security Hub S3.4 finding for the bucket', async () => {
    const bucket = await createBucket('enc-hub');
    const event = securityHubEvent({ controlId: 'S3.4', resourceType: 'AwsS3Bucket', resourceId: `arn:aws:s3:::${bucket}` });
    const result = await replayEvent(event, runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'remediated', rule: rule.id, resource: `AWS::S3::Bucket/${bucket}`, writes: 1 });
    expect(await algorithm(bucket)).toBe('AES256');
    expect((await record(result.recordId))?.trigger).toMatchObject({ kind: 'security-hub', controlId: 'S3.4' });
  });

  it('skips, with a record, a bucket carrying the exclusion tag, reading nothing but its tags', async () => {
    const bucket = await createBucket('enc-excluded', { tags: { 'remediation:skip': 'true' } });
    const result = await replayEvent(configEvent({ configRuleName: enabledRule, resourceId: bucket }), runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'skipped', writes: 0, calls: ['S3.GetBucketTagging'] });
    expect(result.reason).toContain('remediation:skip=true');
    expect((await record(result.recordId))?.outcome).toBe('skipped');
    expect(await bucketEncryption(bucket)).toBeNull();
  });

  it('honours a configured exclusion tag instead of the default one', async () => {
    const owned = await withEnv({ EXCLUSION_TAG: 'owner-managed=yes' });
    const tagged = await createBucket('enc-owner', { tags: { 'owner-managed': 'yes' } });
    expect((await replayEvent(configEvent({ configRuleName: enabledRule, resourceId: tagged }), owned, { apply: true })).outcome).toBe('skipped');
    expect(await bucketEncryption(tagged)).toBeNull();
    // The default tag means nothing once another is configured.
    const defaultTag = await createBucket('enc-owner', { tags: { 'remediation:skip': 'true' } });
    expect((await replayEvent(configEvent({ configRuleName: enabledRule, resourceId: defaultTag }), owned, { apply: true })).outcome).toBe('remediated');
  });

  it("leaves a bucket of the bot's own stack alone, with the reason, without reading it", async () => {
    const own = await withEnv({ STACK_NAME: 'driftfix-test' });
    const bucket = await createBucket('driftfix-test');
    const result = await replayEvent(configEvent({ configRuleName: enabledRule, resourceId: bucket }), own, { apply: true });
    expect(result).toMatchObject({ outcome: 'skipped', writes: 0, calls: [] });
    expect(result.reason).toContain("belongs to driftfix's own stack (driftfix-test…)");
    expect(await bucketEncryption(bucket)).toBeNull();
  });

  it('notify mode records the plan and changes nothing', async () => {
    const notify = await withEnv({ RULE_MODES: `${rule.id}=notify` });
    const bucket = await createBucket('enc-notify');
    const result = await replayEvent(configEvent({ configRuleName: enabledRule, resourceId: bucket }), notify, { apply: true });
    expect(result).toMatchObject({ outcome: 'notified', writes: 0 });
    expect((await record(result.recordId, notify))?.steps.map((step) => step.operation)).toEqual(['S3.PutBucketEncryption']);
    expect(await bucketEncryption(bucket)).toBeNull();
  });

  it('approve mode asks first; the approved change is applied once, by the rule, as approved', async () => {
    const approve = await withEnv({ RULE_MODES: `${rule.id}=approve` });
    const bucket = await createBucket('enc-approve');
    const pending = await replayEvent(configEvent({ configRuleName: enabledRule, resourceId: bucket }), approve, { apply: true });
    expect(pending).toMatchObject({ outcome: 'pending-approval', writes: 0 });
    expect(await bucketEncryption(bucket)).toBeNull();
    const approval = await approve.ledger?.getApproval(pending.approvalId ?? '');
    expect(approval).toMatchObject({ status: 'pending', ruleId: rule.id, resource: `AWS::S3::Bucket/${bucket}`, reason: `rule ${rule.id} runs in approve mode` });
    expect(Date.parse(approval?.expiresAt ?? '') - Date.parse(approval?.createdAt ?? '')).toBe(24 * 3_600_000);

    const ledger = approve.ledger;
    if (!ledger) throw new Error('no ledger');
    const decided = await decideApproval(ledger, { approvalId: pending.approvalId ?? '', decision: 'approve', by: 'U0APPROVER1', now: Date.now(), suppressionDays: 30 });
    expect(decided.kind).toBe('decided');
    const approved = approvedEvent(pending.approvalId ?? '', rule.id);
    const applied = await replayEvent(approved, approve, { apply: true });
    expect(applied).toMatchObject({ outcome: 'remediated', writes: 1, approvalId: pending.approvalId });
    expect(await algorithm(bucket)).toBe('AES256');
    expect((await record(applied.recordId, approve))?.decidedBy).toBe('U0APPROVER1');
    expect((await ledger.getApproval(pending.approvalId ?? ''))?.status).toBe('applied');

    const again = await replayEvent(structuredClone(approved), approve, { apply: true });
    expect(again.writes).toBe(0);
  });

  it('a dry run plans and writes nothing, and needs no table', async () => {
    const dry = await localRuntime({ store: false });
    const bucket = await createBucket('enc-dry');
    const result = await replayEvent(configEvent({ configRuleName: enabledRule, resourceId: bucket }), dry, { apply: false });
    expect(result).toMatchObject({ outcome: 'planned', writes: 0, calls: ['S3.GetBucketTagging', 'S3.GetBucketEncryption'] });
    expect(result.steps).toEqual([{ operation: 'S3.PutBucketEncryption', description: 'set default encryption: no default encryption → SSE-S3 (AES256)' }]);
    expect(await bucketEncryption(bucket)).toBeNull();
  });

  it('skips, with a record, a bucket deleted since the finding', async () => {
    const result = await replayEvent(configEvent({ configRuleName: enabledRule, resourceId: uniqueName('enc-gone') }), runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'skipped', writes: 0 });
    expect(result.reason).toMatch(/no longer exists.*NoSuchBucket/);
    expect((await record(result.recordId))?.outcome).toBe('skipped');
  });
});

/**
 * A claim refuses reads that began less than STALE_READ_MARGIN_MS after the last change settled
 * (clock skew between invocations), so a rollback sent the same instant as the fix is refused.
 */
