import { ConfigServiceClient, DeleteConfigRuleCommand } from '@aws-sdk/client-config-service';
import { GetBucketTaggingCommand, GetBucketVersioningCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STALE_READ_MARGIN_MS } from '../../core/engine/change.ts';
import { rollbackRecord } from '../../core/engine/rollback.ts';
import type { Finding } from '../../core/model/index.ts';
import { RULES } from '../../rules/index.ts';
import rule from '../../rules/s3-bucket-versioning.ts';
import { replayEvent } from '../../scripts/lib/replay-files.ts';
import { ACCOUNT, configEvent, freshId, loadSample, REGION, securityHubEvent } from '../support/events.ts';
import { createBucket, createConfigRule, localRuntime, motoEndpoint, testS3, uniqueName } from '../support/local-aws.ts';

type Runtime = Awaited<ReturnType<typeof localRuntime>>;
type State = Parameters<typeof rule.plan>[0];

const IDENTIFIER = 'S3_BUCKET_VERSIONING_ENABLED';
const BUCKET = 'versioning-plan-bucket';
const bucketInput = { Bucket: BUCKET, ExpectedBucketOwner: ACCOUNT };
const ROOT_ONLY = 'MFA delete can be changed only by the root user with MFA';
const NEVER_NOTE = 'a rollback can only suspend it: once versioned, a bucket never returns to unversioned';

function configFinding(parameters?: Record<string, string>): Finding {
  return {
    eventId: 'e-1',
    reporter: 'config',
    replayed: false,
    account: ACCOUNT,
    region: REGION,
    time: '2026-11-20T09:14:03Z',
    resourceType: 'AWS::S3::Bucket',
    resourceId: BUCKET,
    trigger: { kind: 'config-rule', configRuleName: 'backup-buckets-versioned', identifier: IDENTIFIER, complianceType: 'NON_COMPLIANT', ...(parameters ? { parameters } : {}) },
  };
}
const plain = configFinding();
const mfaRequired = configFinding({ isMfaDeleteEnabled: 'true' });
const hub: Finding = {
  ...plain,
  reporter: 'security-hub',
  trigger: { kind: 'security-hub', findingId: 'f-1', productArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub', controlId: 'S3.14', complianceStatus: 'FAILED', workflowStatus: 'NEW' },
};
const state = (status: State['status'], mfaDelete: State['mfaDelete'] = null): State => ({ status, mfaDelete });

function changeOf(plan: ReturnType<typeof rule.plan>) {
  if (plan.status !== 'change') throw new Error(`expected a change, got ${plan.status}: ${plan.summary}`);
  return plan;
}

describe('plan (pure)', () => {
  it('never enabled → PutBucketVersioning with Status Enabled only (never MFADelete); the undo suspends it, and says it cannot un-version', () => {
    const plan = changeOf(rule.plan(state(null), {}, plain));
    expect(plan.steps).toEqual([
      {
        operation: 'S3.PutBucketVersioning',
        input: { ...bucketInput, VersioningConfiguration: { Status: 'Enabled' } },
        description: `enable versioning: never enabled → Enabled (${NEVER_NOTE})`,
        before: state(null),
        after: state('Enabled'),
        undo: { operation: 'S3.PutBucketVersioning', input: { ...bucketInput, VersioningConfiguration: { Status: 'Suspended' } } },
      },
    ]);
    expect(plan.summary).toBe(plan.steps[0]?.description);
    expect(plan.approvalReason).toBeUndefined();
    expect(plan.risks).toBeUndefined();
  });

  it('suspended → enabled; the undo suspends it again; MFA delete "Disabled" is kept as it is', () => {
    const plan = changeOf(rule.plan(state('Suspended', 'Disabled'), {}, plain));
    expect(plan.steps[0]).toMatchObject({
      input: { ...bucketInput, VersioningConfiguration: { Status: 'Enabled' } },
      description: 'enable versioning: Suspended → Enabled',
      after: state('Enabled', 'Disabled'),
      undo: { operation: 'S3.PutBucketVersioning', input: { ...bucketInput, VersioningConfiguration: { Status: 'Suspended' } } },
    });
  });

  it.each([
    ['enabled', state('Enabled'), plain],
    ['enabled with MFA delete on', state('Enabled', 'Enabled'), plain],
    ['enabled, MFA delete on, and the rule asks for it', state('Enabled', 'Enabled'), mfaRequired],
    ['enabled, for a rule deployed with isMfaDeleteEnabled=false', state('Enabled', 'Disabled'), configFinding({ isMfaDeleteEnabled: 'false' })],
    ['enabled, for Security Hub S3.14', state('Enabled'), hub],
  ])('compliant: %s', (_name, current, finding) => {
    expect(rule.plan(current, {}, finding).status).toBe('compliant');
  });

  it('a rule that asks for MFA delete, when versioning is on and MFA delete is off: unfixable, it is the root user’s', () => {
    expect(rule.plan(state('Enabled', 'Disabled'), {}, mfaRequired)).toEqual({
      status: 'unfixable',
      summary: `AWS Config rule backup-buckets-versioned asks for MFA delete (isMfaDeleteEnabled=true), which is off: ${ROOT_ONLY}`,
    });
    expect(rule.plan(state('Enabled'), {}, configFinding({ isMfaDeleteEnabled: ' TRUE ' })).status).toBe('unfixable');
  });

  it('a rule that asks for MFA delete, with versioning off too: unfixable (enabling versioning alone would not satisfy it)', () => {
    const plan = rule.plan(state(null), {}, mfaRequired);
    expect(plan.status).toBe('unfixable');
    expect(plan.summary).toContain(ROOT_ONLY);
    expect(plan.summary).toContain('versioning never enabled too: the root user can enable both in one PutBucketVersioning request');
  });

  it('versioning suspended with MFA delete on: S3 takes the change only from the root user with MFA, so unfixable', () => {
    for (const finding of [plain, hub]) {
      expect(rule.plan(state('Suspended', 'Enabled'), {}, finding)).toEqual({
        status: 'unfixable',
        summary: `versioning suspended, MFA delete on: with MFA delete on, S3 changes the versioning state only in a request of the root user with its MFA device; ${ROOT_ONLY}, so the root user must enable versioning`,
      });
    }
  });

  it('Security Hub S3.14 carries no parameters: versioning only', () => {
    expect(changeOf(rule.plan(state('Suspended'), {}, hub)).steps[0]?.input).toEqual({ ...bucketInput, VersioningConfiguration: { Status: 'Enabled' } });
  });

  it('describes each state in words', () => {
    expect(rule.describe(state(null))).toBe('versioning never enabled');
    expect(rule.describe(state('Suspended'))).toBe('versioning suspended');
    expect(rule.describe(state('Enabled', 'Disabled'))).toBe('versioning enabled');
    expect(rule.describe(state('Enabled', 'Enabled'))).toBe('versioning enabled, MFA delete on');
  });

  it('a rollback counts "suspended" as the "never enabled" it replaces, but tells enabled from off and MFA delete on from off', () => {
    const fingerprint = rule.fingerprint ?? ((value: unknown) => value);
    expect(fingerprint(state('Suspended'))).toEqual(fingerprint(state(null)));
    expect(fingerprint(state('Suspended', 'Disabled'))).toEqual(fingerprint(state(null)));
    expect(fingerprint(state('Enabled'))).not.toEqual(fingerprint(state('Suspended')));
    expect(fingerprint(state('Enabled', 'Enabled'))).not.toEqual(fingerprint(state('Enabled')));
  });

  it('declares what it answers, reads and writes', () => {
    expect(rule.answers).toEqual({
      config: [{ identifier: IDENTIFIER, resourceTypes: ['AWS::S3::Bucket'], defaultName: 's3-bucket-versioning-enabled' }],
      securityHub: ['S3.14'],
    });
    expect(rule.defaultMode).toBe('auto');
    expect(rule.permissions.read).toEqual(['s3:GetBucketVersioning', 's3:GetBucketTagging']);
    expect(Object.entries(rule.operations).map(([name, op]) => [name, op.iamAction, op.undoOnly ?? false])).toEqual([['S3.PutBucketVersioning', 's3:PutBucketVersioning', false]]);
    expect(rule.params.safeParse({}).success).toBe(true);
    expect(rule.params.safeParse({ mfaDelete: true }).success).toBe(false);
  });
});

describe('readState (a fake client)', () => {
  const read = (answer: () => Promise<unknown>) => {
    const sent: unknown[] = [];
    const send = async (command: { input: unknown }) => {
      sent.push(command.input);
      return answer();
    };
    const s3 = { send } as unknown as S3Client;
    return { sent, state: rule.readState({ clients: { s3 }, target: { account: ACCOUNT, region: REGION, resourceId: BUCKET }, params: {}, finding: plain }) };
  };

  it('a bucket never versioned answers no Status (state, not an error); MFADelete is read when S3 returns it', async () => {
    const never = read(async () => ({}));
    expect(await never.state).toEqual(state(null));
    expect(never.sent).toEqual([bucketInput]);
    expect(await read(async () => ({ Status: 'Enabled', MFADelete: 'Enabled' })).state).toEqual(state('Enabled', 'Enabled'));
    expect(await read(async () => ({ Status: 'Suspended', MFADelete: 'Disabled' })).state).toEqual(state('Suspended', 'Disabled'));
  });

  it('an error is an error', async () => {
    await expect(read(async () => Promise.reject(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }))).state).rejects.toThrow('Access Denied');
  });
});

describe('against moto, through the Config router', () => {
  let runtime: Runtime;
  const rules = [...new Set([...RULES, rule])];
  const configRule = uniqueName('securityhub-s3-bucket-versioning-enabled');
  const mfaRule = uniqueName('backup-buckets-versioned-mfa');

  beforeAll(async () => {
    runtime = await localRuntime({ rules });
    await createConfigRule(configRule, IDENTIFIER);
    await createConfigRule(mfaRule, IDENTIFIER, { parameters: { isMfaDeleteEnabled: 'true' } });
  });
  afterAll(async () => {
    const config = new ConfigServiceClient({ region: REGION, endpoint: motoEndpoint() });
    for (const name of [configRule, mfaRule]) await config.send(new DeleteConfigRuleCommand({ ConfigRuleName: name }));
  });

  const record = async (recordId: string | undefined) => runtime.ledger?.getRecord(recordId ?? '');
  const rollback = async (recordId: string | undefined) => {
    await new Promise((resolve) => setTimeout(resolve, STALE_READ_MARGIN_MS + 50));
    await runtime.factory.forRule(rule);
    return rollbackRecord(recordId ?? '', runtime.deps, { force: false, by: 'cli:test' });
  };
  const event = (bucket: string, name = configRule) => configEvent({ configRuleName: name, resourceId: bucket });
  const versioning = async (bucket: string) => (await testS3().send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status ?? null;
  async function suspendedBucket(prefix: string) {
    const bucket = await createBucket(prefix);
    for (const Status of ['Enabled', 'Suspended'] as const) await testS3().send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status } }));
    return bucket;
  }

  it('enables versioning on a bucket never versioned (tags, read, write, verify); a redelivery writes nothing; a later finding reads only', async () => {
    const bucket = await createBucket('ver-never');
    const first = event(bucket);
    const result = await replayEvent(first, runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'remediated', rule: rule.id, resource: `AWS::S3::Bucket/${bucket}`, writes: 1, eventId: first.id });
    expect(result.calls).toEqual(['S3.GetBucketTagging', 'S3.GetBucketVersioning', 'S3.PutBucketVersioning', 'S3.GetBucketVersioning']);
    expect(result).toMatchObject({ before: 'versioning never enabled', after: 'versioning enabled' });
    expect(await versioning(bucket)).toBe('Enabled');
    const stored = await record(result.recordId);
    expect(stored).toMatchObject({ outcome: 'remediated', status: 'final', mode: 'auto', writes: 1 });
    expect(stored?.trigger).toMatchObject({ kind: 'config-rule', configRuleName: configRule, identifier: IDENTIFIER });
    expect(stored?.steps[0]?.input).toMatchObject({ Bucket: bucket, ExpectedBucketOwner: ACCOUNT, VersioningConfiguration: { Status: 'Enabled' } });
    expect(stored?.steps[0]?.input).not.toHaveProperty('VersioningConfiguration.MFADelete');
    expect(stored?.steps[0]?.input).not.toHaveProperty('MFA');

    const again = await replayEvent(structuredClone(first), runtime, { apply: true });
    expect(again).toMatchObject({ outcome: 'remediated', duplicate: true, writes: 0, recordId: result.recordId });
    expect(again.calls.filter((call) => !call.startsWith('S3.Get'))).toEqual([]);

    const later = await replayEvent(event(bucket), runtime, { apply: true });
    expect(later).toMatchObject({ outcome: 'compliant', writes: 0, calls: ['S3.GetBucketTagging', 'S3.GetBucketVersioning'] });
  });

  it('the record holds the step exactly as planned (the SDK must not add its ChecksumAlgorithm to the stored input)', async () => {
    const bucket = await createBucket('ver-record');
    const result = await replayEvent(event(bucket), runtime, { apply: true });
    expect(result.outcome).toBe('remediated');
    expect((await record(result.recordId))?.steps[0]?.input).toEqual({ Bucket: bucket, ExpectedBucketOwner: ACCOUNT, VersioningConfiguration: { Status: 'Enabled' } });
  });

  it('a rollback of a never-versioned bucket suspends versioning, says why it cannot do more, and counts as rolled back', async () => {
    const bucket = await createBucket('ver-undo-never');
    const result = await replayEvent(event(bucket), runtime, { apply: true });
    expect(result.outcome).toBe('remediated');
    const rolledBack = await rollback(result.recordId);
    expect(rolledBack).toMatchObject({ outcome: 'rolled-back', writes: 1, calls: ['S3.GetBucketVersioning', 'S3.PutBucketVersioning', 'S3.GetBucketVersioning'] });
    expect(rolledBack.reason).toContain(NEVER_NOTE);
    expect(await versioning(bucket)).toBe('Suspended');
    expect((await record(rolledBack.rollbackRecordId))?.after?.summary).toBe('versioning suspended');
    expect((await rollback(result.recordId)).outcome).toBe('refused');
  });

  it('re-enables a suspended bucket; a rollback suspends it again; a bucket someone suspended since is not rolled back', async () => {
    const bucket = await suspendedBucket('ver-suspended');
    const result = await replayEvent(event(bucket), runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'remediated', writes: 1, before: 'versioning suspended', after: 'versioning enabled' });
    expect(await versioning(bucket)).toBe('Enabled');
    expect((await rollback(result.recordId)).outcome).toBe('rolled-back');
    expect(await versioning(bucket)).toBe('Suspended');

    const other = await suspendedBucket('ver-suspended');
    const fixed = await replayEvent(event(other), runtime, { apply: true });
    await testS3().send(new PutBucketVersioningCommand({ Bucket: other, VersioningConfiguration: { Status: 'Suspended' } }));
    const refused = await rollback(fixed.recordId);
    expect(refused).toMatchObject({ outcome: 'refused', writes: 0 });
    expect(refused.reason).toContain('changed after the bot left it');
  });

  it('a Config rule deployed with isMfaDeleteEnabled=true: skipped with the reason, versioning left as it is (moto keeps no MFA delete)', async () => {
    const enabled = await createBucket('ver-mfa');
    await testS3().send(new PutBucketVersioningCommand({ Bucket: enabled, VersioningConfiguration: { Status: 'Enabled' } }));
    const result = await replayEvent(event(enabled, mfaRule), runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'skipped', writes: 0, calls: ['S3.GetBucketTagging', 'S3.GetBucketVersioning'] });
    expect(result.reason).toContain(`AWS Config rule ${mfaRule} asks for MFA delete (isMfaDeleteEnabled=true), which is off: ${ROOT_ONLY}`);
    expect((await record(result.recordId))?.trigger).toMatchObject({ parameters: { isMfaDeleteEnabled: 'true' } });

    const never = await createBucket('ver-mfa');
    const off = await replayEvent(event(never, mfaRule), runtime, { apply: true });
    expect(off).toMatchObject({ outcome: 'skipped', writes: 0 });
    expect(await versioning(never)).toBeNull();
  });

  it('a suspended bucket with MFA delete on is skipped: nothing sent (moto cannot set MFA delete: S3 mocked)', async () => {
    const s3 = mockClient(S3Client);
    try {
      s3.on(GetBucketTaggingCommand).resolves({ TagSet: [] });
      s3.on(GetBucketVersioningCommand).resolves({ Status: 'Suspended', MFADelete: 'Enabled' });
      const result = await replayEvent(event(uniqueName('ver-mfa-on')), runtime, { apply: true });
      expect(result).toMatchObject({ outcome: 'skipped', writes: 0, calls: ['S3.GetBucketTagging', 'S3.GetBucketVersioning'] });
      expect(result.reason).toContain(ROOT_ONLY);
      expect(s3.commandCalls(PutBucketVersioningCommand)).toHaveLength(0);
    } finally {
      s3.restore();
    }
  });

  it('a read that lags behind the write is re-read until it shows versioning (S3 mocked); one that never does fails for a person', async () => {
    const s3 = mockClient(S3Client);
    try {
      s3.on(GetBucketTaggingCommand).resolves({ TagSet: [] });
      s3.on(PutBucketVersioningCommand).resolves({});
      s3.on(GetBucketVersioningCommand).resolvesOnce({}).resolvesOnce({}).resolvesOnce({}).resolves({ Status: 'Enabled' });
      const lagging = await replayEvent(event(uniqueName('ver-lag')), runtime, { apply: true });
      expect(lagging).toMatchObject({ outcome: 'remediated', writes: 1 });
      expect(lagging.calls).toEqual(['S3.GetBucketTagging', 'S3.GetBucketVersioning', 'S3.PutBucketVersioning', 'S3.GetBucketVersioning', 'S3.GetBucketVersioning', 'S3.GetBucketVersioning']);

      s3.on(GetBucketVersioningCommand).resolves({});
      const stuck = await replayEvent(event(uniqueName('ver-lag')), runtime, { apply: true });
      expect(stuck).toMatchObject({ outcome: 'failed', writes: 1 });
      expect(stuck.reason).toContain('verification failed');
      expect((await record(stuck.recordId))?.needsPerson).toBe(true);
    } finally {
      s3.restore();
    }
  });

  it('answers a Security Hub S3.14 finding for the bucket', async () => {
    const bucket = await suspendedBucket('ver-hub');
    const result = await replayEvent(securityHubEvent({ controlId: 'S3.14', resourceType: 'AwsS3Bucket', resourceId: `arn:aws:s3:::${bucket}` }), runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'remediated', rule: rule.id, resource: `AWS::S3::Bucket/${bucket}`, writes: 1 });
    expect(await versioning(bucket)).toBe('Enabled');
    expect((await record(result.recordId))?.trigger).toMatchObject({ kind: 'security-hub', controlId: 'S3.14' });
  });

  /** A sample of events/, its demo bucket and Config rule renamed to this test's (moto is shared). */
  function sample(file: string, names: Record<string, string>) {
    let text = JSON.stringify(loadSample(file));
    for (const [from, to] of Object.entries(names)) text = text.split(from).join(to);
    return { ...JSON.parse(text), id: freshId() };
  }

  it('the samples in events/ end as their names say', async () => {
    const never = await createBucket('ver-sample');
    const config = sample('config/s3-bucket-versioning-enabled.remediated.json', { '"s3-bucket-versioning-enabled"': `"${configRule}"`, 'driftfix-demo-unversioned': never });
    expect(await replayEvent(config, runtime, { apply: true })).toMatchObject({ outcome: 'remediated', rule: rule.id, writes: 1 });
    expect(await versioning(never)).toBe('Enabled');

    const suspended = await suspendedBucket('ver-sample');
    const hub = sample('security-hub/s3.14-versioning-suspended.remediated.json', { 'driftfix-demo-versioning-suspended': suspended });
    expect(await replayEvent(hub, runtime, { apply: true })).toMatchObject({ outcome: 'remediated', rule: rule.id, resource: `AWS::S3::Bucket/${suspended}`, writes: 1 });
    expect(await versioning(suspended)).toBe('Enabled');
  });

  it('skips a bucket carrying the exclusion tag, reading nothing but its tags', async () => {
    const bucket = await createBucket('ver-excluded', { tags: { 'remediation:skip': 'true' } });
    const result = await replayEvent(event(bucket), runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'skipped', writes: 0, calls: ['S3.GetBucketTagging'] });
    expect(result.reason).toContain('remediation:skip=true');
    expect(await versioning(bucket)).toBeNull();
  });
});
