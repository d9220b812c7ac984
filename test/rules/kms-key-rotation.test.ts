import { ConfigServiceClient, DeleteConfigRuleCommand } from '@aws-sdk/client-config-service';
import {
  CreateKeyCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyRotationCommand,
  GetKeyRotationStatusCommand,
  type KeyMetadata,
  KMSClient,
  ListResourceTagsCommand,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rollbackRecord } from '../../core/engine/rollback.ts';
import type { Finding, ReadContext } from '../../core/model/index.ts';
import { RULES } from '../../rules/index.ts';
import rule, { type KmsKeyRotationState } from '../../rules/kms-key-rotation.ts';
import { replayEvent } from '../../scripts/lib/replay-files.ts';
import { ACCOUNT, afterTheFix, configEvent, OTHER_ACCOUNT, REGION, securityHubEvent } from '../support/events.ts';
import { createConfigRule, localRuntime, motoEndpoint, uniqueName } from '../support/local-aws.ts';

const IDENTIFIER = 'CMK_BACKING_KEY_ROTATION_ENABLED';
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${KEY_ID}`;
const PRIMARY_ARN = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/mrk-1234abcd12ab34cd56ef1234567890ab`;
const COST = 'the key costs more each month after its first and second rotations (AWS KMS pricing)';

type Runtime = Awaited<ReturnType<typeof localRuntime>>;

const finding: Finding = {
  eventId: 'e-1',
  reporter: 'config',
  replayed: false,
  account: ACCOUNT,
  region: REGION,
  time: '2026-11-20T09:14:03Z',
  resourceType: 'AWS::KMS::Key',
  resourceId: KEY_ID,
  trigger: { kind: 'config-rule', configRuleName: 'key-rotation', identifier: IDENTIFIER, complianceType: 'NON_COMPLIANT' },
};

/** A customer managed symmetric key, Enabled, rotation off: the key the rule fixes. */
const rotatable: KmsKeyRotationState = {
  keyId: KEY_ID,
  arn: KEY_ARN,
  keyManager: 'CUSTOMER',
  keySpec: 'SYMMETRIC_DEFAULT',
  origin: 'AWS_KMS',
  keyState: 'Enabled',
  rotationEnabled: false,
};
const key = (change: Partial<KmsKeyRotationState>): KmsKeyRotationState => ({ ...rotatable, ...change });

function changeOf(plan: ReturnType<typeof rule.plan>) {
  if (plan.status !== 'change') throw new Error(`expected a change, got ${plan.status}: ${plan.summary}`);
  return plan;
}

describe('plan (pure)', () => {
  it('rotation off → EnableKeyRotation with AWS default period, undone by DisableKeyRotation; no approval, the cost stated', () => {
    const plan = changeOf(rule.plan(rotatable, {}, finding));
    expect(plan.steps).toEqual([
      {
        operation: 'KMS.EnableKeyRotation',
        input: { KeyId: KEY_ID },
        description: `turn on automatic rotation of key ${KEY_ID} every 365 days (AWS's default)`,
        before: rotatable,
        after: { ...rotatable, rotationEnabled: true, rotationPeriodInDays: 365 },
        undo: { operation: 'KMS.DisableKeyRotation', input: { KeyId: KEY_ID } },
      },
    ]);
    expect(plan.summary).toBe(plan.steps[0]?.description);
    expect(plan.approvalReason).toBeUndefined();
    expect(plan.risks).toEqual([COST]);
  });

  it('a configured rotationPeriodInDays is sent with EnableKeyRotation', () => {
    const plan = changeOf(rule.plan(rotatable, { rotationPeriodInDays: 180 }, finding));
    expect(plan.steps[0]?.input).toEqual({ KeyId: KEY_ID, RotationPeriodInDays: 180 });
    expect(plan.steps[0]?.description).toBe(`turn on automatic rotation of key ${KEY_ID} every 180 days`);
    expect(plan.steps[0]?.undo).toEqual({ operation: 'KMS.DisableKeyRotation', input: { KeyId: KEY_ID } });
  });

  it('rotation on → compliant, whatever its period and whatever period is configured', () => {
    expect(rule.plan(key({ rotationEnabled: true, rotationPeriodInDays: 730 }), { rotationPeriodInDays: 90 }, finding)).toEqual({
      status: 'compliant',
      summary: `automatic rotation on (every 730 days) for key ${KEY_ID}`,
    });
  });

  it('a disabled key and a multi-Region replica that already rotate are compliant', () => {
    expect(rule.plan(key({ keyState: 'Disabled', rotationEnabled: true }), {}, finding).status).toBe('compliant');
    expect(rule.plan(key({ multiRegionKeyType: 'REPLICA', primaryKeyArn: PRIMARY_ARN, rotationEnabled: true }), {}, finding).status).toBe('compliant');
  });

  it.each([
    ['an AWS managed key', key({ keyManager: 'AWS', rotationEnabled: null }), 'is an AWS managed key: AWS rotates them every year'],
    ['an asymmetric RSA key', key({ keySpec: 'RSA_2048', rotationEnabled: null }), 'is an asymmetric key (RSA_2048): automatic rotation is supported only on symmetric encryption keys'],
    ['an asymmetric ECC key', key({ keySpec: 'ECC_NIST_P256', rotationEnabled: null }), 'is an asymmetric key (ECC_NIST_P256)'],
    ['an HMAC key', key({ keySpec: 'HMAC_256', rotationEnabled: null }), 'is an HMAC key (HMAC_256)'],
    ['imported key material', key({ origin: 'EXTERNAL', rotationEnabled: null }), 'has imported key material (origin EXTERNAL)'],
    ['a CloudHSM key store', key({ origin: 'AWS_CLOUDHSM', rotationEnabled: null }), 'is in a custom key store (origin AWS_CLOUDHSM)'],
    ['an external key store', key({ origin: 'EXTERNAL_KEY_STORE', rotationEnabled: null }), 'is in a custom key store (origin EXTERNAL_KEY_STORE)'],
    [
      'a key pending deletion',
      key({ keyState: 'PendingDeletion', deletionDate: '2026-12-20T00:00:00.000Z' }),
      'is pending deletion (deletion scheduled for 2026-12-20T00:00:00.000Z): KMS keeps its rotation off until the deletion is cancelled',
    ],
    ['a disabled key', key({ keyState: 'Disabled' }), 'is disabled: its rotation cannot be changed until the key is enabled again'],
    ['a key awaiting imported material', key({ keyState: 'PendingImport' }), 'is PendingImport: rotation can be turned on only for an Enabled key'],
    [
      'a multi-Region replica',
      key({ keyId: 'mrk-1234abcd12ab34cd56ef1234567890ab', multiRegionKeyType: 'REPLICA', primaryKeyArn: PRIMARY_ARN }),
      `is a multi-Region replica: rotation is set on its primary key ${PRIMARY_ARN}`,
    ],
  ])('skips %s with the reason, changing nothing', (_name, state, reason) => {
    const plan = rule.plan(state, {}, finding);
    expect(plan.status).toBe('unfixable');
    expect(plan.summary).toContain(reason);
  });

  it('a multi-Region primary is fixed like any key', () => {
    const plan = changeOf(rule.plan(key({ multiRegionKeyType: 'PRIMARY' }), {}, finding));
    expect(plan.steps[0]?.operation).toBe('KMS.EnableKeyRotation');
  });

  it('describes each state in words', () => {
    expect(rule.describe(rotatable)).toBe('automatic rotation off; customer managed SYMMETRIC_DEFAULT key, Enabled');
    expect(rule.describe(key({ rotationEnabled: true, rotationPeriodInDays: 365 }))).toBe(
      'automatic rotation on (every 365 days); customer managed SYMMETRIC_DEFAULT key, Enabled',
    );
    expect(rule.describe(key({ keyManager: 'AWS', rotationEnabled: null }))).toBe('automatic rotation not available; AWS managed SYMMETRIC_DEFAULT key, Enabled');
    expect(rule.describe(key({ origin: 'EXTERNAL', keyState: 'PendingImport', rotationEnabled: null }))).toBe(
      'automatic rotation not available; customer managed SYMMETRIC_DEFAULT key, PendingImport, origin EXTERNAL',
    );
    expect(rule.describe(key({ multiRegionKeyType: 'REPLICA' }))).toBe('automatic rotation off; customer managed SYMMETRIC_DEFAULT key, Enabled, multi-Region replica');
  });

  it('a rollback compares only the rotation and the key state', () => {
    expect(rule.fingerprint?.(key({ rotationEnabled: true, rotationPeriodInDays: 365 }))).toEqual({ rotationEnabled: true, keyState: 'Enabled' });
  });

  it('takes a rotation period of 90 to 2560 whole days, and nothing else', () => {
    for (const days of [90, 365, 2560]) expect(rule.params.safeParse({ rotationPeriodInDays: days }).success).toBe(true);
    expect(rule.params.safeParse({}).success).toBe(true);
    for (const days of [89, 2561, 365.5, '365']) expect(rule.params.safeParse({ rotationPeriodInDays: days }).success).toBe(false);
    expect(rule.params.safeParse({ rotationPeriod: 365 }).success).toBe(false);
  });

  it('names keys as Config (key id) and Security Hub (key ARN) do; keys of other accounts or Regions and aliases are refused', () => {
    const where = { account: ACCOUNT, region: REGION };
    expect(rule.resource.parseId(KEY_ID, where)).toEqual({ id: KEY_ID });
    expect(rule.resource.parseId(KEY_ARN, where)).toEqual({ id: KEY_ID });
    expect(rule.resource.parseId(KEY_ARN.replace(ACCOUNT, OTHER_ACCOUNT), where)).toHaveProperty('problem');
    expect(rule.resource.parseId(KEY_ARN.replace(REGION, 'eu-west-1'), where)).toHaveProperty('problem');
    expect(rule.resource.parseId('alias/data', where)).toHaveProperty('problem');
  });

  it('declares what it answers, reads and writes: the undo write is for rollbacks only', () => {
    expect(rule.answers).toEqual({
      config: [{ identifier: IDENTIFIER, resourceTypes: ['AWS::KMS::Key'], defaultName: 'cmk-backing-key-rotation-enabled', periodic: true }],
      securityHub: ['KMS.4'],
    });
    expect(rule.defaultMode).toBe('auto');
    expect(rule.permissions.read).toEqual(['kms:DescribeKey', 'kms:GetKeyRotationStatus', 'kms:ListResourceTags']);
    expect(Object.entries(rule.operations).map(([name, operation]) => [name, operation.iamAction, operation.undoOnly === true])).toEqual([
      ['KMS.EnableKeyRotation', 'kms:EnableKeyRotation', false],
      ['KMS.DisableKeyRotation', 'kms:DisableKeyRotation', true],
    ]);
  });
});

/** Key metadata as real KMS answers DescribeKey (moto calls every key CUSTOMER and enforces nothing). */
function metadata(change: Partial<KeyMetadata> = {}): KeyMetadata {
  return {
    KeyId: KEY_ID,
    Arn: KEY_ARN,
    AWSAccountId: ACCOUNT,
    Enabled: true,
    KeyManager: 'CUSTOMER',
    KeySpec: 'SYMMETRIC_DEFAULT',
    KeyUsage: 'ENCRYPT_DECRYPT',
    KeyState: 'Enabled',
    Origin: 'AWS_KMS',
    MultiRegion: false,
    ...change,
  };
}

describe('readState and readTags against KMS answers moto cannot give (aws-sdk-client-mock)', () => {
  const context = (kms: KMSClient): ReadContext<{ rotationPeriodInDays?: number }, { kms: KMSClient }> => ({
    clients: { kms },
    target: { account: ACCOUNT, region: REGION, resourceId: KEY_ID },
    params: {},
    finding,
  });
  const mocked = () => {
    const kms = new KMSClient({ region: REGION });
    return { kms, mock: mockClient(kms) };
  };

  it.each([
    ['an AWS managed key', { KeyManager: 'AWS' as const }],
    ['an asymmetric key', { KeySpec: 'RSA_3072' as const, KeyUsage: 'SIGN_VERIFY' as const }],
    ['an HMAC key', { KeySpec: 'HMAC_384' as const, KeyUsage: 'GENERATE_VERIFY_MAC' as const }],
    ['a key with imported material', { Origin: 'EXTERNAL' as const, KeyState: 'PendingImport' as const }],
    ['a key in a CloudHSM key store', { Origin: 'AWS_CLOUDHSM' as const, CustomKeyStoreId: 'cks-1234567890abcdef0' }],
  ])('%s: DescribeKey only, no rotation status asked (it cannot rotate automatically); skipped', async (_name, change) => {
    const { kms, mock } = mocked();
    mock.on(DescribeKeyCommand).resolves({ KeyMetadata: metadata(change) });
    const state = await rule.readState(context(kms));
    expect(state.rotationEnabled).toBeNull();
    expect(mock.commandCalls(DescribeKeyCommand).map((call) => call.args[0].input)).toEqual([{ KeyId: KEY_ID }]);
    expect(mock.commandCalls(GetKeyRotationStatusCommand)).toHaveLength(0);
    expect(rule.plan(state, {}, finding).status).toBe('unfixable');
  });

  it('a key pending deletion: its deletion date is kept, and the rotation status KMS reports (false) read', async () => {
    const { kms, mock } = mocked();
    mock.on(DescribeKeyCommand).resolves({ KeyMetadata: metadata({ KeyState: 'PendingDeletion', Enabled: false, DeletionDate: new Date('2026-12-20T00:00:00Z') }) });
    mock.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: false });
    const state = await rule.readState(context(kms));
    expect(state).toMatchObject({ keyState: 'PendingDeletion', deletionDate: '2026-12-20T00:00:00.000Z', rotationEnabled: false });
    expect(rule.plan(state, {}, finding)).toEqual({ status: 'unfixable', summary: expect.stringContaining('pending deletion (deletion scheduled for 2026-12-20') });
  });

  it('a multi-Region replica: its primary key ARN is read from DescribeKey and named in the reason', async () => {
    const { kms, mock } = mocked();
    mock.on(DescribeKeyCommand).resolves({
      KeyMetadata: metadata({
        KeyId: 'mrk-1234abcd12ab34cd56ef1234567890ab',
        MultiRegion: true,
        MultiRegionConfiguration: { MultiRegionKeyType: 'REPLICA', PrimaryKey: { Arn: PRIMARY_ARN, Region: 'eu-west-1' }, ReplicaKeys: [] },
      }),
    });
    mock.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: false });
    const state = await rule.readState(context(kms));
    expect(state).toMatchObject({ multiRegionKeyType: 'REPLICA', primaryKeyArn: PRIMARY_ARN, rotationEnabled: false });
    expect(rule.plan(state, {}, finding).summary).toContain(`rotation is set on its primary key ${PRIMARY_ARN}`);
  });

  it('a primary multi-Region key records its role and no primary to point to', async () => {
    const { kms, mock } = mocked();
    mock.on(DescribeKeyCommand).resolves({
      KeyMetadata: metadata({ MultiRegion: true, MultiRegionConfiguration: { MultiRegionKeyType: 'PRIMARY', PrimaryKey: { Arn: KEY_ARN, Region: REGION } } }),
    });
    mock.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: false });
    const state = await rule.readState(context(kms));
    expect(state.multiRegionKeyType).toBe('PRIMARY');
    expect(state).not.toHaveProperty('primaryKeyArn');
  });

  it('a rotating key: the period KMS reports is kept', async () => {
    const { kms, mock } = mocked();
    mock.on(DescribeKeyCommand).resolves({ KeyMetadata: metadata() });
    mock.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: true, RotationPeriodInDays: 180, KeyId: KEY_ARN });
    const state = await rule.readState(context(kms));
    expect(state).toEqual({ ...rotatable, rotationEnabled: true, rotationPeriodInDays: 180 });
    expect(rule.describe(state)).toBe('automatic rotation on (every 180 days); customer managed SYMMETRIC_DEFAULT key, Enabled');
  });

  it('describes the key once per invocation: a second read (the verification) asks only for the rotation status', async () => {
    const { kms, mock } = mocked();
    mock.on(DescribeKeyCommand).resolves({ KeyMetadata: metadata() });
    mock.on(GetKeyRotationStatusCommand).resolvesOnce({ KeyRotationEnabled: false }).resolves({ KeyRotationEnabled: true });
    const same = context(kms);
    expect((await rule.readState(same)).rotationEnabled).toBe(false);
    expect((await rule.readState(same)).rotationEnabled).toBe(true);
    expect(mock.commandCalls(DescribeKeyCommand)).toHaveLength(1);
    expect(mock.commandCalls(GetKeyRotationStatusCommand)).toHaveLength(2);
    // Another invocation describes the key again.
    await rule.readState(context(kms));
    expect(mock.commandCalls(DescribeKeyCommand)).toHaveLength(2);
  });

  it('a failed DescribeKey is not remembered: the next read asks again', async () => {
    const { kms, mock } = mocked();
    mock
      .on(DescribeKeyCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
      .resolves({ KeyMetadata: metadata() });
    mock.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: false });
    const same = context(kms);
    await expect(rule.readState(same)).rejects.toThrow('Rate exceeded');
    expect((await rule.readState(same)).rotationEnabled).toBe(false);
    expect(mock.commandCalls(DescribeKeyCommand)).toHaveLength(2);
  });

  it('reads tags as KMS names them (TagKey, TagValue)', async () => {
    const { kms, mock } = mocked();
    mock.on(ListResourceTagsCommand).resolves({ Tags: [{ TagKey: 'remediation:skip', TagValue: 'true' }, { TagKey: 'team', TagValue: 'data' }], Truncated: false });
    mock.on(DescribeKeyCommand).resolves({ KeyMetadata: metadata() });
    expect(await rule.readTags?.(context(kms))).toEqual({ 'remediation:skip': 'true', team: 'data' });
    expect(mock.commandCalls(ListResourceTagsCommand).map((call) => call.args[0].input)).toEqual([{ KeyId: KEY_ID }]);
  });

  it('the first look sends ListResourceTags and DescribeKey together (one round trip); readState then reuses the metadata', async () => {
    const { kms, mock } = mocked();
    let releaseTags: () => void = () => {};
    const tagsHeld = new Promise<void>((resolve) => {
      releaseTags = resolve;
    });
    mock.on(ListResourceTagsCommand).callsFake(async () => {
      await tagsHeld;
      return { Tags: [] };
    });
    mock.on(DescribeKeyCommand).resolves({ KeyMetadata: metadata() });
    mock.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: false });
    const same = context(kms);
    const tags = rule.readTags?.(same);
    // DescribeKey is on its way while the tags are still being read.
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(mock.commandCalls(DescribeKeyCommand)).toHaveLength(1);
    releaseTags();
    expect(await tags).toEqual({});
    expect((await rule.readState(same)).rotationEnabled).toBe(false);
    expect(mock.commandCalls(DescribeKeyCommand)).toHaveLength(1);
  });
});

describe('against moto, through the Config router', () => {
  let runtime: Runtime;
  /** A Config rule under a name other than AWS's default, as Security Hub names its own. */
  const configRule = uniqueName('securityhub-cmk-backing-key-rotation-enabled');
  const rules = [...new Set([...RULES, rule])];
  const local = () => ({ region: REGION, endpoint: motoEndpoint() });
  const kms = () => new KMSClient(local());

  beforeAll(async () => {
    runtime = await localRuntime({ rules });
    await createConfigRule(configRule, IDENTIFIER, { periodic: true });
  });
  afterAll(async () => {
    await new ConfigServiceClient(local()).send(new DeleteConfigRuleCommand({ ConfigRuleName: configRule }));
  });

  /** moto leaves KeyUsage out unless it is given (real KMS: ENCRYPT_DECRYPT). */
  async function createKey(options: { tags?: Record<string, string>; description?: string } = {}): Promise<string> {
    const output = await kms().send(
      new CreateKeyCommand({
        KeyUsage: 'ENCRYPT_DECRYPT',
        Description: options.description ?? 'driftfix test key',
        ...(options.tags ? { Tags: Object.entries(options.tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })) } : {}),
      }),
    );
    return output.KeyMetadata?.KeyId ?? '';
  }
  const rotation = async (keyId: string) => (await kms().send(new GetKeyRotationStatusCommand({ KeyId: keyId }))).KeyRotationEnabled;
  const event = (keyId: string) => configEvent({ configRuleName: configRule, resourceType: 'AWS::KMS::Key', resourceId: keyId });
  const withEnv = (env: Record<string, string>) => localRuntime({ rules, table: runtime.table, env });
  const record = async (recordId: string | undefined, on: Runtime = runtime) => on.ledger?.getRecord(recordId ?? '');
  const rollback = async (recordId: string | undefined, force = false) => {
    await afterTheFix();
    await runtime.factory.forRule(rule);
    return rollbackRecord(recordId ?? '', runtime.deps, { force, by: 'cli:test' });
  };
  const READ = ['KMS.ListResourceTags', 'KMS.DescribeKey', 'KMS.GetKeyRotationStatus'];

  it('turns rotation on (tags, describe, status, write, status), answers a redelivery from the record; a later finding is compliant with no write', async () => {
    const keyId = await createKey({ tags: { team: 'data' }, description: 'orders table key' });
    const other = await createKey();
    const first = event(keyId);

    const result = await replayEvent(first, runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'remediated', rule: rule.id, resource: `AWS::KMS::Key/${keyId}`, writes: 1, eventId: first.id });
    expect(result.calls).toEqual([...READ, 'KMS.EnableKeyRotation', 'KMS.GetKeyRotationStatus']);
    expect(result).toMatchObject({
      before: 'automatic rotation off; customer managed SYMMETRIC_DEFAULT key, Enabled',
      after: 'automatic rotation on; customer managed SYMMETRIC_DEFAULT key, Enabled',
    });
    expect(await rotation(keyId)).toBe(true);

    const stored = await record(result.recordId);
    expect(stored).toMatchObject({ outcome: 'remediated', status: 'final', mode: 'auto', writes: 1 });
    expect(stored?.trigger).toMatchObject({ kind: 'config-rule', configRuleName: configRule, identifier: IDENTIFIER });
    expect(stored?.steps.map(({ operation, input, undo }) => ({ operation, input, undo }))).toEqual([
      { operation: 'KMS.EnableKeyRotation', input: { KeyId: keyId }, undo: { operation: 'KMS.DisableKeyRotation', input: { KeyId: keyId } } },
    ]);

    // Only the rotation changed: the key, its tags and the other key are as they were.
    const described = (await kms().send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata;
    expect(described).toMatchObject({ KeyState: 'Enabled', Enabled: true, Description: 'orders table key' });
    expect((await kms().send(new ListResourceTagsCommand({ KeyId: keyId }))).Tags).toEqual([{ TagKey: 'team', TagValue: 'data' }]);
    expect(await rotation(other)).toBe(false);

    const again = await replayEvent(structuredClone(first), runtime, { apply: true });
    expect(again).toMatchObject({ outcome: 'remediated', duplicate: true, writes: 0, recordId: result.recordId });
    expect(again.calls.filter((call) => !READ.includes(call))).toEqual([]);

    const later = await replayEvent(event(keyId), runtime, { apply: true });
    expect(later).toMatchObject({ outcome: 'compliant', writes: 0, calls: READ });
    expect(later.recordId).not.toBe(result.recordId);
    expect((await record(later.recordId))?.outcome).toBe('compliant');
  });

  it('sends the configured rotation period (moto keeps only on/off)', async () => {
    const periodic = await withEnv({ RULE_PARAMS: JSON.stringify({ [rule.id]: { rotationPeriodInDays: 180 } }) });
    const keyId = await createKey();
    const result = await replayEvent(event(keyId), periodic, { apply: true });
    expect(result).toMatchObject({ outcome: 'remediated', writes: 1 });
    expect((await record(result.recordId, periodic))?.steps[0]?.input).toEqual({ KeyId: keyId, RotationPeriodInDays: 180 });
    expect(await rotation(keyId)).toBe(true);
  });

  it('rolls back to rotation off, and refuses a second rollback', async () => {
    const keyId = await createKey();
    const fixed = await replayEvent(event(keyId), runtime, { apply: true });
    expect(fixed.outcome).toBe('remediated');

    const rolledBack = await rollback(fixed.recordId);
    // The key is described once; the verification reads only the rotation status.
    expect(rolledBack).toMatchObject({ outcome: 'rolled-back', writes: 1, calls: ['KMS.DescribeKey', 'KMS.GetKeyRotationStatus', 'KMS.DisableKeyRotation', 'KMS.GetKeyRotationStatus'] });
    expect(await rotation(keyId)).toBe(false);
    expect(await record(rolledBack.rollbackRecordId)).toMatchObject({ outcome: 'rolled-back', decidedBy: 'cli:test', rollbackOf: fixed.recordId });

    const second = await rollback(fixed.recordId);
    expect(second).toMatchObject({ outcome: 'refused', writes: 0 });
    expect(second.reason).toContain('already rolled back');
  });

  it('refuses to roll back a key disabled since the fix (KMS would not let its rotation change)', async () => {
    const keyId = await createKey();
    const fixed = await replayEvent(event(keyId), runtime, { apply: true });
    expect(fixed.outcome).toBe('remediated');
    await kms().send(new DisableKeyCommand({ KeyId: keyId }));

    const refused = await rollback(fixed.recordId);
    expect(refused).toMatchObject({ outcome: 'refused', writes: 0 });
    expect(refused.reason).toMatch(/changed after the bot left it.*now: automatic rotation on; customer managed SYMMETRIC_DEFAULT key, Disabled/);
    expect(await rotation(keyId)).toBe(true);
  });

  it('answers a Security Hub KMS.4 finding naming the key by ARN', async () => {
    const keyId = await createKey();
    const arn = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${keyId}`;
    const result = await replayEvent(securityHubEvent({ controlId: 'KMS.4', resourceType: 'AwsKmsKey', resourceId: arn }), runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'remediated', rule: rule.id, resource: `AWS::KMS::Key/${keyId}`, writes: 1 });
    expect(await rotation(keyId)).toBe(true);
    expect((await record(result.recordId))?.trigger).toMatchObject({ kind: 'security-hub', controlId: 'KMS.4' });
  });

  it('refuses a Security Hub finding about a key of another account, before any call', async () => {
    const arn = `arn:aws:kms:${REGION}:${OTHER_ACCOUNT}:key/${KEY_ID}`;
    const result = await replayEvent(securityHubEvent({ controlId: 'KMS.4', resourceType: 'AwsKmsKey', resourceId: arn }), runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'rejected', calls: [], writes: 0 });
    expect(result.reason).toContain(`is not a key of ${ACCOUNT} in ${REGION}`);
  });

  it('refuses a Config finding of a resource type the managed rule does not report on', async () => {
    const keyId = await createKey();
    const wrongType = configEvent({ configRuleName: configRule, resourceType: 'AWS::S3::Bucket', resourceId: keyId });
    const result = await replayEvent(wrongType, runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'rejected', writes: 0 });
    expect(result.reason).toContain(`${IDENTIFIER} evaluates AWS::KMS::Key, not AWS::S3::Bucket`);
    expect(await rotation(keyId)).toBe(false);
  });

  it('skips, with a record, a key carrying the exclusion tag, after its tags (and the metadata read beside them); nothing changes', async () => {
    const keyId = await createKey({ tags: { 'remediation:skip': 'true' } });
    const result = await replayEvent(event(keyId), runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'skipped', writes: 0, calls: ['KMS.ListResourceTags', 'KMS.DescribeKey'] });
    expect(result.reason).toContain('remediation:skip=true');
    expect((await record(result.recordId))?.outcome).toBe('skipped');
    expect(await rotation(keyId)).toBe(false);
  });

  it('skips, with a record, a key deleted since the finding', async () => {
    const result = await replayEvent(event('0000aaaa-00aa-40aa-80aa-000000000000'), runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'skipped', writes: 0 });
    expect(result.reason).toMatch(/no longer exists.*NotFoundException/);
  });

  it('a dry run plans and writes nothing', async () => {
    const keyId = await createKey();
    const result = await replayEvent(event(keyId), runtime, { apply: false });
    expect(result).toMatchObject({ outcome: 'planned', writes: 0, calls: READ });
    expect(result.steps).toEqual([{ operation: 'KMS.EnableKeyRotation', description: `turn on automatic rotation of key ${keyId} every 365 days (AWS's default)` }]);
    expect(await rotation(keyId)).toBe(false);
  });

  it('end to end with KMS answering as for an AWS managed key (aws-sdk-client-mock): skipped with the reason after two reads, no write', async () => {
    const mock = mockClient(KMSClient);
    try {
      mock.on(ListResourceTagsCommand).resolves({ Tags: [] });
      mock.on(DescribeKeyCommand).resolves({ KeyMetadata: metadata({ KeyManager: 'AWS', Description: 'Default key that protects my EBS volumes' }) });
      const result = await replayEvent(event(KEY_ID), runtime, { apply: true });
      expect(result).toMatchObject({ outcome: 'skipped', writes: 0, calls: ['KMS.ListResourceTags', 'KMS.DescribeKey'] });
      expect(result.reason).toContain(`key ${KEY_ID} is an AWS managed key: AWS rotates them every year`);
      expect((await record(result.recordId))?.outcome).toBe('skipped');
      expect(mock.commandCalls(EnableKeyRotationCommand)).toHaveLength(0);
      expect(mock.commandCalls(GetKeyRotationStatusCommand)).toHaveLength(0);
    } finally {
      mock.restore();
    }
  });

  it('end to end with KMS answering as for a key pending deletion (aws-sdk-client-mock): skipped, rotation not touched', async () => {
    const mock = mockClient(KMSClient);
    try {
      mock.on(ListResourceTagsCommand).resolves({ Tags: [] });
      mock.on(DescribeKeyCommand).resolves({ KeyMetadata: metadata({ KeyState: 'PendingDeletion', Enabled: false, DeletionDate: new Date('2026-12-20T00:00:00Z') }) });
      mock.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: false });
      const result = await replayEvent(event(KEY_ID), runtime, { apply: true });
      expect(result).toMatchObject({ outcome: 'skipped', writes: 0, calls: READ });
      expect(result.reason).toContain('is pending deletion (deletion scheduled for 2026-12-20T00:00:00.000Z)');
      expect(mock.commandCalls(EnableKeyRotationCommand)).toHaveLength(0);
      expect(mock.commandCalls(DisableKeyRotationCommand)).toHaveLength(0);
    } finally {
      mock.restore();
    }
  });
});
