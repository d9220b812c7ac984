import { randomUUID } from 'node:crypto';
import { ConfigServiceClient, DeleteConfigRuleCommand, PutConfigRuleCommand } from '@aws-sdk/client-config-service';
import {
  DisableEbsEncryptionByDefaultCommand,
  EC2Client,
  EnableEbsEncryptionByDefaultCommand,
  GetEbsDefaultKmsKeyIdCommand,
  GetEbsEncryptionByDefaultCommand,
} from '@aws-sdk/client-ec2';
import { CreateKeyCommand, DescribeKeyCommand, DisableKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decideApproval } from '../../core/engine/decide.ts';
import { rollbackRecord } from '../../core/engine/rollback.ts';
import type { Finding, ReadContext } from '../../core/model/index.ts';
import rule, { type EbsEncryptionByDefaultState } from '../../rules/ec2-ebs-encryption-by-default.ts';
import { RULES } from '../../rules/index.ts';
import { replayEvent } from '../../scripts/lib/replay-files.ts';
import { ACCOUNT, afterTheFix, approvedEvent, configEvent, loadSample, OTHER_ACCOUNT, securityHubEvent } from '../support/events.ts';
import { localRuntime, motoEndpoint, uniqueName } from '../support/local-aws.ts';

/**
 * EBS encryption by default is one flag per account and Region, and moto is shared by every test
 * file: these tests act in a Region of their own, with the bot's runtime and events there too.
 */
const EBS_REGION = 'eu-west-3';
const IDENTIFIER = 'EC2_EBS_ENCRYPTION_BY_DEFAULT';
const RESOURCE = `AWS::::Account/${ACCOUNT}`;
const CMK = `arn:aws:kms:${EBS_REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const OTHER_CMK = `arn:aws:kms:${EBS_REGION}:${ACCOUNT}:key/0000aaaa-00aa-40aa-80aa-000000000000`;
const UNSUPPORTED_TYPES = `instance types that do not support EBS encryption can no longer be launched in ${EBS_REGION}`;
const NO_SHARING = 'snapshots and AMIs of new volumes, encrypted with the AWS managed key aws/ebs, cannot be shared with other accounts';
const GET = 'EC2.GetEbsEncryptionByDefault';
const GET_KEY = 'EC2.GetEbsDefaultKmsKeyId';

type Runtime = Awaited<ReturnType<typeof localRuntime>>;
type Json = Record<string, any>;

const finding: Finding = {
  eventId: 'e-1',
  reporter: 'config',
  replayed: false,
  account: ACCOUNT,
  region: EBS_REGION,
  time: '2026-11-20T09:14:03Z',
  resourceType: 'AWS::::Account',
  resourceId: ACCOUNT,
  trigger: { kind: 'config-rule', configRuleName: 'ebs-default', identifier: IDENTIFIER, complianceType: 'NON_COMPLIANT' },
};
const AWS_KEY = 'alias/aws/ebs';
const off: EbsEncryptionByDefaultState = { enabled: false, defaultKmsKeyId: AWS_KEY };
const DIRECT_APIS = `EBS direct API workflows can no longer create unencrypted snapshots, nor start a snapshot from an unencrypted parent snapshot, in ${EBS_REGION}`;
const roles = (key: string) => `launches by Auto Scaling, Spot, EC2 Fleet and other services' roles fail unless the policy of ${key} lets those roles use the key`;
const gone = (key: string) => `if ${key} is disabled or deleted, no instance with new EBS volumes can launch in ${EBS_REGION}`;

function changeOf(plan: ReturnType<typeof rule.plan>) {
  if (plan.status !== 'change') throw new Error(`expected a change, got ${plan.status}: ${plan.summary}`);
  return plan;
}

describe('plan (pure)', () => {
  it('off with AWS’s own key → EnableEbsEncryptionByDefault, undone by DisableEbsEncryptionByDefault; no further question, the risks listed', () => {
    const plan = changeOf(rule.plan(off, {}, finding));
    expect(plan.steps).toEqual([
      {
        operation: 'EC2.EnableEbsEncryptionByDefault',
        input: {},
        description: `turn on EBS encryption by default in ${EBS_REGION}: new volumes are encrypted with aws/ebs (AWS managed)`,
        before: off,
        after: { ...off, enabled: true },
        undo: { operation: 'EC2.DisableEbsEncryptionByDefault', input: {} },
      },
    ]);
    expect(plan.summary).toBe(plan.steps[0]?.description);
    expect(plan.approvalReason).toBeUndefined();
    expect(plan.risks).toEqual([UNSUPPORTED_TYPES, DIRECT_APIS, NO_SHARING]);
  });

  it('on, no key configured → compliant, whatever the default key', () => {
    expect(rule.plan({ enabled: true, defaultKmsKeyId: AWS_KEY }, {}, finding)).toEqual({
      status: 'compliant',
      summary: `EBS encryption by default on, default key aws/ebs (AWS managed) in ${EBS_REGION}`,
    });
    expect(rule.plan({ enabled: true, defaultKmsKeyId: OTHER_CMK }, {}, finding).status).toBe('compliant');
  });

  it('off, the account’s default already a customer managed key (no kmsKeyArn) → a person decides, that key named', () => {
    const state = { enabled: false, defaultKmsKeyId: OTHER_CMK, key: { manager: 'CUSTOMER' as const, state: 'Enabled' } };
    const plan = changeOf(rule.plan(state, {}, finding));
    expect(plan.steps.map((step) => step.operation)).toEqual(['EC2.EnableEbsEncryptionByDefault']);
    expect(plan.steps[0]?.description).toBe(`turn on EBS encryption by default in ${EBS_REGION}: new volumes are encrypted with customer managed key ${OTHER_CMK}`);
    expect(plan.approvalReason).toBe(
      `the default EBS key in ${EBS_REGION} is customer managed key ${OTHER_CMK}: every new volume would need it, and a key policy that misses a launching role, or a disabled or deleted key, stops launches`,
    );
    expect(plan.risks).toEqual([UNSUPPORTED_TYPES, DIRECT_APIS, roles(OTHER_CMK), gone(OTHER_CMK)]);
  });

  it('off, the default an AWS managed key named by its key ARN (KMS says AWS) → no further question', () => {
    const awsByArn = `arn:aws:kms:${EBS_REGION}:${ACCOUNT}:key/aaaa1111-0000-4000-8000-000000000000`;
    const plan = changeOf(rule.plan({ enabled: false, defaultKmsKeyId: awsByArn, key: { manager: 'AWS', state: 'Enabled' } }, {}, finding));
    expect(plan.approvalReason).toBeUndefined();
    expect(plan.steps[0]?.description).toBe(`turn on EBS encryption by default in ${EBS_REGION}: new volumes are encrypted with AWS managed key ${awsByArn}`);
    expect(plan.risks).toContain(NO_SHARING);
  });

  it('off, a default key KMS could not describe (another account’s, no access) → a person decides, the unknown named', () => {
    const foreign = CMK.replace(ACCOUNT, OTHER_ACCOUNT);
    const plan = changeOf(rule.plan({ enabled: false, defaultKmsKeyId: foreign, key: { manager: 'unknown' } }, {}, finding));
    expect(plan.approvalReason).toBe(
      `the default EBS key in ${EBS_REGION} is key ${foreign}: every new volume would need it, and a key policy that misses a launching role, or a disabled or deleted key, stops launches`,
    );
    expect(plan.risks).toContain(`${foreign} could not be described (another account's key, or no access to it): whether it is enabled is not known`);
  });

  it.each([
    ['Disabled', 'Disabled in KMS'],
    ['PendingDeletion', 'PendingDeletion in KMS'],
    ['NotFound', 'gone (KMS has no such key)'],
  ])('a default key that is %s is never made the key of every launch: skipped, the way out said', (keyState, how) => {
    expect(rule.plan({ enabled: false, defaultKmsKeyId: OTHER_CMK, key: { manager: 'CUSTOMER', state: keyState } }, {}, finding)).toEqual({
      status: 'unfixable',
      summary: `new EBS volumes in ${EBS_REGION} would be encrypted with customer managed key ${OTHER_CMK}, which is ${how}: every launch with new volumes would fail; enable it, or make another key the default (ModifyEbsDefaultKmsKeyId, ResetEbsDefaultKmsKeyId), then turn encryption by default on`,
    });
    const configured = rule.plan({ enabled: true, defaultKmsKeyId: AWS_KEY, key: { manager: 'CUSTOMER', state: keyState } }, { kmsKeyArn: CMK }, finding);
    expect(configured).toMatchObject({ status: 'unfixable', summary: expect.stringContaining('configure an Enabled key as kmsKeyArn') });
  });

  it('a customer managed key configured, off with AWS’s key → the key first, then encryption; undone in reverse by Disable and Reset; a person decides', () => {
    const state = { enabled: false, defaultKmsKeyId: AWS_KEY, key: { manager: 'CUSTOMER' as const, state: 'Enabled' } };
    const plan = changeOf(rule.plan(state, { kmsKeyArn: CMK }, finding));
    expect(plan.steps).toEqual([
      {
        operation: 'EC2.ModifyEbsDefaultKmsKeyId',
        input: { KmsKeyId: CMK },
        description: `make ${CMK} the default EBS key in ${EBS_REGION} (was aws/ebs, AWS managed)`,
        before: state,
        after: { ...state, defaultKmsKeyId: CMK },
        undo: { operation: 'EC2.ResetEbsDefaultKmsKeyId', input: {} },
      },
      {
        operation: 'EC2.EnableEbsEncryptionByDefault',
        input: {},
        description: `turn on EBS encryption by default in ${EBS_REGION}: new volumes are encrypted with customer managed key ${CMK}`,
        before: { ...state, defaultKmsKeyId: CMK },
        after: { ...state, enabled: true, defaultKmsKeyId: CMK },
        undo: { operation: 'EC2.DisableEbsEncryptionByDefault', input: {} },
      },
    ]);
    expect(plan.summary).toBe(`${plan.steps[0]?.description}; ${plan.steps[1]?.description}`);
    expect(plan.approvalReason).toBe(`every new EBS volume in ${EBS_REGION} would need customer managed key ${CMK}; a key policy that misses a launching role stops launches`);
    expect(plan.risks).toEqual([UNSUPPORTED_TYPES, DIRECT_APIS, roles(CMK), gone(CMK)]);
  });

  it('on, with another customer managed key → only the key changes, and the undo puts that key back', () => {
    const state = { enabled: true, defaultKmsKeyId: OTHER_CMK, key: { manager: 'CUSTOMER' as const, state: 'Enabled' } };
    const plan = changeOf(rule.plan(state, { kmsKeyArn: CMK }, finding));
    expect(plan.steps.map(({ operation, input, undo }) => ({ operation, input, undo }))).toEqual([
      { operation: 'EC2.ModifyEbsDefaultKmsKeyId', input: { KmsKeyId: CMK }, undo: { operation: 'EC2.ModifyEbsDefaultKmsKeyId', input: { KmsKeyId: OTHER_CMK } } },
    ]);
    expect(plan.steps[0]?.description).toBe(`make ${CMK} the default EBS key in ${EBS_REGION} (was ${OTHER_CMK})`);
    expect(plan.approvalReason).toBeDefined();
    // Encryption was on already: launches of unsupported types were refused before.
    expect(plan.risks).not.toContain(UNSUPPORTED_TYPES);
  });

  it('an AWS managed default named by its alias ARN is reset, not modified, on undo', () => {
    const state = { enabled: true, defaultKmsKeyId: `arn:aws:kms:${EBS_REGION}:${ACCOUNT}:alias/aws/ebs` };
    expect(changeOf(rule.plan(state, { kmsKeyArn: CMK }, finding)).steps[0]?.undo).toEqual({ operation: 'EC2.ResetEbsDefaultKmsKeyId', input: {} });
  });

  it.each([
    ['by ARN', CMK],
    ['by key id', '1234abcd-12ab-34cd-56ef-1234567890ab'],
  ])('on, with the configured key (%s) → compliant', (_name, defaultKmsKeyId) => {
    expect(rule.plan({ enabled: true, defaultKmsKeyId }, { kmsKeyArn: CMK }, finding)).toEqual({
      status: 'compliant',
      summary: `EBS encryption by default on, default key ${defaultKmsKeyId} in ${EBS_REGION}`,
    });
  });

  it('off with the configured key already the default → only encryption is turned on, still a person’s decision', () => {
    const plan = changeOf(rule.plan({ enabled: false, defaultKmsKeyId: CMK, key: { manager: 'CUSTOMER', state: 'Enabled' } }, { kmsKeyArn: CMK }, finding));
    expect(plan.steps.map((step) => step.operation)).toEqual(['EC2.EnableEbsEncryptionByDefault']);
    expect(plan.approvalReason).toBeDefined();
  });

  it.each([
    ['another account', CMK.replace(ACCOUNT, OTHER_ACCOUNT)],
    ['another Region', CMK.replace(EBS_REGION, 'us-east-1')],
  ])('a configured key of %s cannot be this Region’s default: skipped, saying what to configure', (_name, kmsKeyArn) => {
    expect(rule.plan(off, { kmsKeyArn }, finding)).toEqual({
      status: 'unfixable',
      summary: `kmsKeyArn ${kmsKeyArn} is not a key of ${ACCOUNT} in ${EBS_REGION}; configure this Region's key for rule ec2-ebs-encryption-by-default (RULE_PARAMS)`,
    });
  });

  it('takes a KMS key ARN as kmsKeyArn, and refuses aliases, key ids and unknown parameters', () => {
    expect(rule.params.safeParse({}).success).toBe(true);
    expect(rule.params.safeParse({ kmsKeyArn: CMK }).success).toBe(true);
    expect(rule.params.safeParse({ kmsKeyArn: `arn:aws:kms:${EBS_REGION}:${ACCOUNT}:key/mrk-1234abcd12ab34cd56ef1234567890ab` }).success).toBe(true);
    expect(rule.params.safeParse({ kmsKeyArn: `arn:aws:kms:${EBS_REGION}:${ACCOUNT}:alias/ebs` }).success).toBe(false);
    expect(rule.params.safeParse({ kmsKeyArn: '1234abcd-12ab-34cd-56ef-1234567890ab' }).success).toBe(false);
    expect(rule.params.safeParse({ kmsKeyId: CMK }).success).toBe(false);
  });

  it('describes each state in words; a rollback compares the flag and the default key only', () => {
    expect(rule.describe(off)).toBe('EBS encryption by default off, default key aws/ebs (AWS managed)');
    expect(rule.describe({ enabled: true, defaultKmsKeyId: CMK })).toBe(`EBS encryption by default on, default key ${CMK}`);
    expect(rule.fingerprint?.({ ...off, key: { manager: 'CUSTOMER', state: 'Enabled' } })).toEqual(rule.fingerprint?.(off));
  });

  it('names the account as Config (the account id) and Security Hub (AWS::::Account:<id>) do; another account is refused', () => {
    const where = { account: ACCOUNT, region: EBS_REGION };
    expect(rule.resource.parseId(ACCOUNT, where)).toEqual({ id: ACCOUNT });
    expect(rule.resource.parseId(`AWS::::Account:${ACCOUNT}`, where)).toEqual({ id: ACCOUNT });
    expect(rule.resource.parseId(OTHER_ACCOUNT, where)).toHaveProperty('problem');
  });

  it('declares what it answers; asks a person by default; its EC2 actions are granted on "*", DescribeKey on the account’s keys; the undo-only writes are not the function’s', () => {
    expect(rule.answers).toEqual({
      config: [{ identifier: IDENTIFIER, resourceTypes: ['AWS::::Account'], defaultName: 'ec2-ebs-encryption-by-default', periodic: true }],
      securityHub: ['EC2.7'],
    });
    expect(rule.resource.iamArn).toBeUndefined();
    expect(rule.defaultMode).toBe('approve');
    expect([...(rule.permissions.wildcardOnly ?? [])].sort()).toEqual(
      ['ec2:EnableEbsEncryptionByDefault', 'ec2:GetEbsDefaultKmsKeyId', 'ec2:GetEbsEncryptionByDefault', 'ec2:ModifyEbsDefaultKmsKeyId'].sort(),
    );
    expect(rule.permissions.alsoOn).toEqual([{ actions: ['kms:DescribeKey'], resource: 'kms-key' }]);
    expect(Object.entries(rule.operations).map(([name, operation]) => [name, operation.iamAction, operation.undoOnly === true])).toEqual([
      ['EC2.ModifyEbsDefaultKmsKeyId', 'ec2:ModifyEbsDefaultKmsKeyId', false],
      ['EC2.EnableEbsEncryptionByDefault', 'ec2:EnableEbsEncryptionByDefault', false],
      ['EC2.DisableEbsEncryptionByDefault', 'ec2:DisableEbsEncryptionByDefault', true],
      ['EC2.ResetEbsDefaultKmsKeyId', 'ec2:ResetEbsDefaultKmsKeyId', true],
    ]);
  });
});

describe('readState (aws-sdk-client-mock: moto lacks GetEbsDefaultKmsKeyId)', () => {
  const context = (ec2: EC2Client, kms: KMSClient, params: { kmsKeyArn?: string }): ReadContext<{ kmsKeyArn?: string }, { ec2: EC2Client; kms: KMSClient }> => ({
    clients: { ec2, kms },
    target: { account: ACCOUNT, region: EBS_REGION, resourceId: ACCOUNT },
    params,
    finding,
  });
  function clients() {
    const ec2 = new EC2Client({ region: EBS_REGION });
    const kms = new KMSClient({ region: EBS_REGION });
    return { ec2, kms, ec2Mock: mockClient(ec2), kmsMock: mockClient(kms) };
  }

  it('always reads the default key, in parallel with the flag; AWS’s own key by its alias is not described', async () => {
    const { ec2, kms, ec2Mock, kmsMock } = clients();
    ec2Mock.on(GetEbsEncryptionByDefaultCommand).resolves({ EbsEncryptionByDefault: false, SseType: 'none' });
    ec2Mock.on(GetEbsDefaultKmsKeyIdCommand).resolves({ KmsKeyId: AWS_KEY });
    expect(await rule.readState(context(ec2, kms, {}))).toEqual(off);
    expect(kmsMock.commandCalls(DescribeKeyCommand)).toHaveLength(0);
  });

  it('a default key by ARN is described with KMS when something is to change: KeyManager and KeyState', async () => {
    const { ec2, kms, ec2Mock, kmsMock } = clients();
    ec2Mock.on(GetEbsEncryptionByDefaultCommand).resolves({ EbsEncryptionByDefault: false });
    ec2Mock.on(GetEbsDefaultKmsKeyIdCommand).resolves({ KmsKeyId: OTHER_CMK });
    kmsMock.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'x', KeyManager: 'CUSTOMER', KeyState: 'Disabled' } });
    expect(await rule.readState(context(ec2, kms, {}))).toEqual({ enabled: false, defaultKmsKeyId: OTHER_CMK, key: { manager: 'CUSTOMER', state: 'Disabled' } });
    expect(kmsMock.commandCalls(DescribeKeyCommand).map((call) => call.args[0].input)).toEqual([{ KeyId: OTHER_CMK }]);
  });

  it('with kmsKeyArn, the configured key is the one described; a compliant read describes nothing', async () => {
    const { ec2, kms, ec2Mock, kmsMock } = clients();
    ec2Mock.on(GetEbsEncryptionByDefaultCommand).resolves({ EbsEncryptionByDefault: true });
    ec2Mock.on(GetEbsDefaultKmsKeyIdCommand).resolvesOnce({ KmsKeyId: AWS_KEY }).resolves({ KmsKeyId: CMK });
    kmsMock.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'x', KeyManager: 'CUSTOMER', KeyState: 'Enabled' } });
    expect(await rule.readState(context(ec2, kms, { kmsKeyArn: CMK }))).toEqual({ enabled: true, defaultKmsKeyId: AWS_KEY, key: { manager: 'CUSTOMER', state: 'Enabled' } });
    expect(await rule.readState(context(ec2, kms, { kmsKeyArn: CMK }))).toEqual({ enabled: true, defaultKmsKeyId: CMK });
    expect(kmsMock.commandCalls(DescribeKeyCommand).map((call) => call.args[0].input)).toEqual([{ KeyId: CMK }]);
  });

  it('another account’s key is not described (no permission, and never AWS managed); a deleted key is NotFound; no access is unknown', async () => {
    const foreign = CMK.replace(ACCOUNT, OTHER_ACCOUNT);
    const { ec2, kms, ec2Mock, kmsMock } = clients();
    ec2Mock.on(GetEbsEncryptionByDefaultCommand).resolves({ EbsEncryptionByDefault: false });
    ec2Mock.on(GetEbsDefaultKmsKeyIdCommand).resolvesOnce({ KmsKeyId: foreign }).resolves({ KmsKeyId: OTHER_CMK });
    const crossAccount = await rule.readState(context(ec2, kms, {}));
    expect(crossAccount.key).toEqual({ manager: 'CUSTOMER' });
    expect(kmsMock.commandCalls(DescribeKeyCommand)).toHaveLength(0);
    const plan = changeOf(rule.plan(crossAccount, {}, finding));
    expect(plan.approvalReason).toContain(`is customer managed key ${foreign}`);
    expect(plan.risks).toContain(`${foreign} could not be described (another account's key, or no access to it): whether it is enabled is not known`);
    kmsMock
      .on(DescribeKeyCommand)
      .rejectsOnce(Object.assign(new Error('Key does not exist'), { name: 'NotFoundException' }))
      .rejectsOnce(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }))
      .rejectsOnce(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    expect((await rule.readState(context(ec2, kms, {}))).key).toEqual({ manager: 'CUSTOMER', state: 'NotFound' });
    expect((await rule.readState(context(ec2, kms, {}))).key).toEqual({ manager: 'unknown' });
    await expect(rule.readState(context(ec2, kms, {}))).rejects.toThrow('slow down');
  });

  it('without kmsKeyArn the default key is read once per invocation: the check after the fix reads the flag only', async () => {
    const { ec2, kms, ec2Mock } = clients();
    ec2Mock.on(GetEbsEncryptionByDefaultCommand).resolvesOnce({ EbsEncryptionByDefault: false }).resolves({ EbsEncryptionByDefault: true });
    ec2Mock.on(GetEbsDefaultKmsKeyIdCommand).resolves({ KmsKeyId: AWS_KEY });
    const same = context(ec2, kms, {});
    expect((await rule.readState(same)).enabled).toBe(false);
    expect((await rule.readState(same)).enabled).toBe(true);
    expect(ec2Mock.commandCalls(GetEbsDefaultKmsKeyIdCommand)).toHaveLength(1);
  });
});

describe('against moto, through the Config router, in a Region of its own', () => {
  /** RULE_MODES sets auto; `approving` keeps the rule's default mode (approve). */
  let runtime: Runtime;
  let approving: Runtime;
  let found: boolean;
  const configRule = uniqueName('securityhub-ec2-ebs-encryption-by-default');
  const rules = [...new Set([...RULES, rule])];
  const local = (region = EBS_REGION) => ({ region, endpoint: motoEndpoint() });
  const ec2 = (region = EBS_REGION) => new EC2Client(local(region));
  const encryption = async (region = EBS_REGION) => (await ec2(region).send(new GetEbsEncryptionByDefaultCommand({}))).EbsEncryptionByDefault;
  async function setEncryption(on: boolean): Promise<void> {
    await ec2().send(on ? new EnableEbsEncryptionByDefaultCommand({}) : new DisableEbsEncryptionByDefaultCommand({}));
  }
  /**
   * moto lacks GetEbsDefaultKmsKeyId and ResetEbsDefaultKmsKeyId: the Region's default key lives
   * here, answered by a middleware on the rule's own EC2 client; every other call goes to moto.
   */
  const defaultKey = { id: AWS_KEY };
  async function withFakedDefaultKey(on: Runtime): Promise<Runtime> {
    await on.factory.forRule(rule);
    const client = (on.factory.loadedFor(rule) as { ec2: EC2Client }).ec2;
    const answer = (output: Record<string, unknown>) => ({ output: { ...output, $metadata: {} }, response: {} });
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = (args as { input: { KmsKeyId?: string } }).input;
        if (context.commandName === 'GetEbsDefaultKmsKeyIdCommand') return answer({ KmsKeyId: defaultKey.id }) as never;
        if (context.commandName === 'ModifyEbsDefaultKmsKeyIdCommand') defaultKey.id = input.KmsKeyId ?? defaultKey.id;
        if (context.commandName === 'ResetEbsDefaultKmsKeyIdCommand') defaultKey.id = AWS_KEY;
        if (context.commandName === 'ModifyEbsDefaultKmsKeyIdCommand' || context.commandName === 'ResetEbsDefaultKmsKeyIdCommand') return answer({ KmsKeyId: defaultKey.id }) as never;
        return next(args);
      },
      { step: 'initialize', name: 'faked-default-kms-key' },
    );
    return on;
  }
  const runtimeWith = async (env: Record<string, string> = {}) =>
    withFakedDefaultKey(await localRuntime({ rules, env: { AWS_REGION: EBS_REGION, RULE_MODES: `${rule.id}=auto`, ...env } }));

  beforeAll(async () => {
    found = (await encryption()) === true;
    runtime = await runtimeWith();
    approving = await runtimeWith({ RULE_MODES: '' });
    await new ConfigServiceClient(local()).send(
      new PutConfigRuleCommand({
        ConfigRule: { ConfigRuleName: configRule, Source: { Owner: 'AWS', SourceIdentifier: IDENTIFIER }, MaximumExecutionFrequency: 'TwentyFour_Hours' },
      }),
    );
  });
  beforeEach(async () => {
    await setEncryption(false);
    defaultKey.id = AWS_KEY;
    // The previous test's change to this one setting has settled: reads start after it.
    await afterTheFix();
  });
  afterAll(async () => {
    await setEncryption(found);
    await new ConfigServiceClient(local()).send(new DeleteConfigRuleCommand({ ConfigRuleName: configRule }));
  });

  const event = (resourceId = ACCOUNT) => inRegion(configEvent({ configRuleName: configRule, resourceType: 'AWS::::Account', resourceId }));
  const record = async (recordId: string | undefined, on: Runtime = runtime) => on.ledger?.getRecord(recordId ?? '');
  const rollback = async (recordId: string | undefined, force = false, on: Runtime = runtime) => {
    await afterTheFix();
    await on.factory.forRule(rule);
    return rollbackRecord(recordId ?? '', on.deps, { force, by: 'cli:test' });
  };
  const approve = async (on: Runtime, approvalId: string | undefined) => {
    const ledger = on.ledger;
    if (!ledger) throw new Error('no ledger');
    expect((await decideApproval(ledger, { approvalId: approvalId ?? '', decision: 'approve', by: 'U0APPROVER1', now: Date.now(), suppressionDays: 30 })).kind).toBe('decided');
    return replayEvent(approvedEvent(approvalId ?? '', rule.id, { region: EBS_REGION }), on, { apply: true });
  };
  const READ = [GET, GET_KEY];

  it('by default asks a person first (an account-wide setting), naming the risks; approved, turns encryption on', async () => {
    const pending = await replayEvent(event(), approving, { apply: true });
    expect(pending).toMatchObject({ outcome: 'pending-approval', writes: 0, calls: READ });
    const approval = await approving.ledger?.getApproval(pending.approvalId ?? '');
    expect(approval?.risks).toEqual([UNSUPPORTED_TYPES, expect.stringContaining('EBS direct API workflows'), NO_SHARING]);
    expect(await encryption()).toBe(false);
    const applied = await approve(approving, pending.approvalId);
    expect(applied).toMatchObject({ outcome: 'remediated', writes: 1, calls: [...READ, 'EC2.EnableEbsEncryptionByDefault', GET] });
    expect(await encryption()).toBe(true);
  });

  it('in auto mode turns encryption on (flag and key read, write, flag verified: 4 calls), answers a redelivery from the record; a later finding is compliant', async () => {
    const elsewhere = await encryption('ap-northeast-3');
    const first = event();
    const result = await replayEvent(first, runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'remediated', rule: rule.id, resource: RESOURCE, writes: 1, eventId: first.id });
    expect(result.calls).toEqual([...READ, 'EC2.EnableEbsEncryptionByDefault', GET]);
    expect(result).toMatchObject({ before: 'EBS encryption by default off, default key aws/ebs (AWS managed)', after: 'EBS encryption by default on, default key aws/ebs (AWS managed)' });
    expect(await encryption()).toBe(true);
    // Only this Region's setting changed, and the default key was left as it was.
    expect(await encryption('ap-northeast-3')).toBe(elsewhere);
    expect(defaultKey.id).toBe(AWS_KEY);

    const stored = await record(result.recordId);
    expect(stored).toMatchObject({ outcome: 'remediated', status: 'final', mode: 'auto', writes: 1, region: EBS_REGION });
    expect(stored?.trigger).toMatchObject({ kind: 'config-rule', configRuleName: configRule, identifier: IDENTIFIER });
    expect(stored?.steps.map(({ operation, undo }) => ({ operation, undo }))).toEqual([
      { operation: 'EC2.EnableEbsEncryptionByDefault', undo: { operation: 'EC2.DisableEbsEncryptionByDefault', input: {} } },
    ]);

    const again = await replayEvent(structuredClone(first), runtime, { apply: true });
    expect(again).toMatchObject({ outcome: 'remediated', duplicate: true, writes: 0, recordId: result.recordId });
    expect(again.calls.filter((call) => !READ.includes(call))).toEqual([]);

    const later = await replayEvent(event(), runtime, { apply: true });
    expect(later).toMatchObject({ outcome: 'compliant', writes: 0, calls: READ });
    expect((await record(later.recordId))?.outcome).toBe('compliant');
  });

  it('the account’s default key already a customer managed key (KMS in moto describes it): a person decides even in auto mode, the key named', async () => {
    const { KeyMetadata } = await new KMSClient(local()).send(new CreateKeyCommand({ Description: 'driftfix test: EBS default key' }));
    defaultKey.id = KeyMetadata?.Arn ?? '';
    const pending = await replayEvent(event(), runtime, { apply: true });
    expect(pending).toMatchObject({ outcome: 'pending-approval', writes: 0, calls: [...READ, 'KMS.DescribeKey'] });
    expect(pending.reason).toContain(`the default EBS key in ${EBS_REGION} is customer managed key ${defaultKey.id}`);
    expect((await runtime.ledger?.getApproval(pending.approvalId ?? ''))?.risks).toContain(`if ${defaultKey.id} is disabled or deleted, no instance with new EBS volumes can launch in ${EBS_REGION}`);
    expect(await encryption()).toBe(false);
  });

  it('a disabled customer managed default key: skipped with the way out, nothing written', async () => {
    const kms = new KMSClient(local());
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Description: 'driftfix test: disabled EBS default key' }));
    await kms.send(new DisableKeyCommand({ KeyId: KeyMetadata?.KeyId }));
    defaultKey.id = KeyMetadata?.Arn ?? '';
    const result = await replayEvent(event(), runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'skipped', writes: 0, calls: [...READ, 'KMS.DescribeKey'] });
    expect(result.reason).toContain('which is Disabled in KMS: every launch with new volumes would fail');
    expect(await encryption()).toBe(false);
  });

  it('answers a Security Hub EC2.7 finding naming the account as AwsAccount AWS::::Account:<id>', async () => {
    const hub = inRegion(securityHubEvent({ controlId: 'EC2.7', resourceType: 'AwsAccount', resourceId: `AWS::::Account:${ACCOUNT}` }));
    const result = await replayEvent(hub, runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'remediated', rule: rule.id, resource: RESOURCE, writes: 1 });
    expect(await encryption()).toBe(true);
    expect((await record(result.recordId))?.trigger).toMatchObject({ kind: 'security-hub', controlId: 'EC2.7' });
  });

  it('rolls back to encryption off, and refuses a second rollback', async () => {
    const fixed = await replayEvent(event(), runtime, { apply: true });
    expect(fixed.outcome).toBe('remediated');

    const rolledBack = await rollback(fixed.recordId);
    expect(rolledBack).toMatchObject({ outcome: 'rolled-back', writes: 1, calls: [...READ, 'EC2.DisableEbsEncryptionByDefault', GET] });
    expect(await encryption()).toBe(false);
    expect(await record(rolledBack.rollbackRecordId)).toMatchObject({ outcome: 'rolled-back', decidedBy: 'cli:test', rollbackOf: fixed.recordId });

    const second = await rollback(fixed.recordId);
    expect(second).toMatchObject({ outcome: 'refused', writes: 0 });
    expect(second.reason).toContain('already rolled back');
  });

  it('refuses to roll back a setting someone changed since; forced, it rolls back anyway', async () => {
    const fixed = await replayEvent(event(), runtime, { apply: true });
    expect(fixed.outcome).toBe('remediated');
    await setEncryption(false);

    const refused = await rollback(fixed.recordId);
    expect(refused).toMatchObject({ outcome: 'refused', writes: 0 });
    expect(refused.reason).toMatch(/changed after the bot left it \(bot left: EBS encryption by default on, default key aws\/ebs \(AWS managed\); now: EBS encryption by default off/);

    const forced = await rollback(fixed.recordId, true);
    expect(forced).toMatchObject({ outcome: 'rolled-back', writes: 1 });
    expect(await encryption()).toBe(false);
  });

  it('refuses a finding about another account, before any call', async () => {
    const result = await replayEvent(event(OTHER_ACCOUNT), runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'rejected', calls: [], writes: 0 });
    expect(result.reason).toContain(OTHER_ACCOUNT);
    expect(await encryption()).toBe(false);
  });

  it('refuses a finding from another Region: the setting is per Region, and this bot acts in its own', async () => {
    const result = await replayEvent(configEvent({ configRuleName: configRule, resourceType: 'AWS::::Account', resourceId: ACCOUNT }), runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'rejected', calls: [], writes: 0 });
    expect(result.reason).toContain(`this bot runs in ${EBS_REGION}`);
  });

  it('a dry run plans and writes nothing', async () => {
    const result = await replayEvent(event(), runtime, { apply: false });
    expect(result).toMatchObject({ outcome: 'planned', writes: 0, calls: READ });
    expect(result.reason).toMatch(/^dry run, would apply: turn on EBS encryption by default in eu-west-3/);
    expect(await encryption()).toBe(false);
  });

  it('with a customer managed key configured: asks a person, applies key then encryption once approved (7 calls), and rolls both back', async () => {
    const { KeyMetadata } = await new KMSClient(local()).send(new CreateKeyCommand({ Description: 'driftfix test: configured EBS key' }));
    const configured = KeyMetadata?.Arn ?? '';
    const keyed = await runtimeWith({ RULE_PARAMS: JSON.stringify({ [rule.id]: { kmsKeyArn: configured } }) });

    const pending = await replayEvent(event(), keyed, { apply: true });
    expect(pending).toMatchObject({ outcome: 'pending-approval', writes: 0, calls: [...READ, 'KMS.DescribeKey'] });
    expect(defaultKey.id).toBe(AWS_KEY);
    const approval = await keyed.ledger?.getApproval(pending.approvalId ?? '');
    expect(approval).toMatchObject({ status: 'pending', reason: expect.stringContaining(`would need customer managed key ${configured}`) });
    expect(approval?.risks).toContain(`launches by Auto Scaling, Spot, EC2 Fleet and other services' roles fail unless the policy of ${configured} lets those roles use the key`);

    const applied = await approve(keyed, pending.approvalId);
    expect(applied).toMatchObject({ outcome: 'remediated', writes: 2, approvalId: pending.approvalId });
    // Reads (flag and key), the key described, two writes, then flag and key again: the check after the fix describes nothing.
    expect(applied.calls).toEqual([...READ, 'KMS.DescribeKey', 'EC2.ModifyEbsDefaultKmsKeyId', 'EC2.EnableEbsEncryptionByDefault', ...READ]);
    expect({ enabled: await encryption(), key: defaultKey.id }).toEqual({ enabled: true, key: configured });
    expect(applied.after).toBe(`EBS encryption by default on, default key ${configured}`);

    const rolledBack = await rollback(applied.recordId, false, keyed);
    expect(rolledBack).toMatchObject({ outcome: 'rolled-back', writes: 2 });
    expect(rolledBack.calls).toEqual([...READ, 'EC2.DisableEbsEncryptionByDefault', 'EC2.ResetEbsDefaultKmsKeyId', ...READ, 'KMS.DescribeKey']);
    expect({ enabled: await encryption(), key: defaultKey.id }).toEqual({ enabled: false, key: AWS_KEY });
  });

  it('the sample event (encryption by default off) waits for a person, as its name says', async () => {
    const text = JSON.stringify(inRegion(loadSample('config/ebs-encryption-by-default-off.pending-approval.json')));
    // The sample names the rule by its default name; moto holds it under this test's name.
    const sample = JSON.parse(text.replaceAll('"ec2-ebs-encryption-by-default"', JSON.stringify(configRule)));
    const result = await replayEvent({ ...sample, id: randomUUID() }, approving, { apply: true });
    expect(result).toMatchObject({ outcome: 'pending-approval', rule: rule.id, resource: RESOURCE });
  });
});

/** The sample events are in us-east-1; these tests act in EBS_REGION. */
function inRegion(event: Json): Json {
  const text = JSON.stringify(event).replaceAll('us-east-1', EBS_REGION);
  return JSON.parse(text) as Json;
}
