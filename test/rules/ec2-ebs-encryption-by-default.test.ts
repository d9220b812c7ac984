import { randomUUID } from 'node:crypto';
import { ConfigServiceClient, DeleteConfigRuleCommand, PutConfigRuleCommand } from '@aws-sdk/client-config-service';
import {
  DisableEbsEncryptionByDefaultCommand,
  EC2Client,
  EnableEbsEncryptionByDefaultCommand,
  GetEbsDefaultKmsKeyIdCommand,
  GetEbsEncryptionByDefaultCommand,
  ModifyEbsDefaultKmsKeyIdCommand,
  ResetEbsDefaultKmsKeyIdCommand,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { STALE_READ_MARGIN_MS } from '../../core/engine/change.ts';
import { decideApproval } from '../../core/engine/decide.ts';
import { rollbackRecord } from '../../core/engine/rollback.ts';
import type { Finding, ReadContext } from '../../core/model/index.ts';
import rule, { type EbsEncryptionByDefaultState } from '../../rules/ec2-ebs-encryption-by-default.ts';
import { RULES } from '../../rules/index.ts';
import { replayEvent } from '../../scripts/lib/replay-files.ts';
import { ACCOUNT, configEvent, OTHER_ACCOUNT, securityHubEvent } from '../support/events.ts';
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
const off: EbsEncryptionByDefaultState = { enabled: false };

function changeOf(plan: ReturnType<typeof rule.plan>) {
  if (plan.status !== 'change') throw new Error(`expected a change, got ${plan.status}: ${plan.summary}`);
  return plan;
}

describe('plan (pure)', () => {
  it('off → EnableEbsEncryptionByDefault with AWS’s own key, undone by DisableEbsEncryptionByDefault; auto, the risks listed', () => {
    const plan = changeOf(rule.plan(off, {}, finding));
    expect(plan.steps).toEqual([
      {
        operation: 'EC2.EnableEbsEncryptionByDefault',
        input: {},
        description: `turn on EBS encryption by default in ${EBS_REGION}: new volumes are encrypted with aws/ebs (AWS managed)`,
        before: off,
        after: { enabled: true },
        undo: { operation: 'EC2.DisableEbsEncryptionByDefault', input: {} },
      },
    ]);
    expect(plan.summary).toBe(plan.steps[0]?.description);
    expect(plan.approvalReason).toBeUndefined();
    expect(plan.risks).toEqual([UNSUPPORTED_TYPES, NO_SHARING]);
  });

  it('on, no key configured → compliant (the default key is not even read)', () => {
    expect(rule.plan({ enabled: true }, {}, finding)).toEqual({ status: 'compliant', summary: `EBS encryption by default on in ${EBS_REGION}` });
  });

  it('a customer managed key configured, off with AWS’s key → the key first, then encryption; undone in reverse by Disable and Reset; a person decides', () => {
    const state = { enabled: false, defaultKmsKeyId: 'alias/aws/ebs' };
    const plan = changeOf(rule.plan(state, { kmsKeyArn: CMK }, finding));
    expect(plan.steps).toEqual([
      {
        operation: 'EC2.ModifyEbsDefaultKmsKeyId',
        input: { KmsKeyId: CMK },
        description: `make ${CMK} the default EBS key in ${EBS_REGION} (was aws/ebs, AWS managed)`,
        before: state,
        after: { enabled: false, defaultKmsKeyId: CMK },
        undo: { operation: 'EC2.ResetEbsDefaultKmsKeyId', input: {} },
      },
      {
        operation: 'EC2.EnableEbsEncryptionByDefault',
        input: {},
        description: `turn on EBS encryption by default in ${EBS_REGION}: new volumes are encrypted with ${CMK}`,
        before: { enabled: false, defaultKmsKeyId: CMK },
        after: { enabled: true, defaultKmsKeyId: CMK },
        undo: { operation: 'EC2.DisableEbsEncryptionByDefault', input: {} },
      },
    ]);
    expect(plan.summary).toBe(`${plan.steps[0]?.description}; ${plan.steps[1]?.description}`);
    expect(plan.approvalReason).toBe(`every new EBS volume in ${EBS_REGION} would need customer managed key ${CMK}; a key policy that misses a launching role stops launches`);
    expect(plan.risks).toEqual([
      UNSUPPORTED_TYPES,
      `launches by Auto Scaling, Spot, EC2 Fleet and other services' roles fail unless the policy of ${CMK} lets those roles use the key`,
      `if ${CMK} is disabled or deleted, no instance with new EBS volumes can launch in ${EBS_REGION}`,
    ]);
  });

  it('on, with another customer managed key → only the key changes, and the undo puts that key back', () => {
    const state = { enabled: true, defaultKmsKeyId: OTHER_CMK };
    const plan = changeOf(rule.plan(state, { kmsKeyArn: CMK }, finding));
    expect(plan.steps.map(({ operation, input, undo }) => ({ operation, input, undo }))).toEqual([
      { operation: 'EC2.ModifyEbsDefaultKmsKeyId', input: { KmsKeyId: CMK }, undo: { operation: 'EC2.ModifyEbsDefaultKmsKeyId', input: { KmsKeyId: OTHER_CMK } } },
    ]);
    expect(plan.steps[0]?.description).toBe(`make ${CMK} the default EBS key in ${EBS_REGION} (was ${OTHER_CMK})`);
    expect(plan.approvalReason).toBeDefined();
    // Encryption was on already: launches of unsupported types were refused before.
    expect(plan.risks).not.toContain(UNSUPPORTED_TYPES);
  });

  it('an AWS managed default named by ARN is reset, not modified, on undo', () => {
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
    const plan = changeOf(rule.plan({ enabled: false, defaultKmsKeyId: CMK }, { kmsKeyArn: CMK }, finding));
    expect(plan.steps.map((step) => step.operation)).toEqual(['EC2.EnableEbsEncryptionByDefault']);
    expect(plan.approvalReason).toBeDefined();
  });

  it.each([
    ['another account', CMK.replace(ACCOUNT, OTHER_ACCOUNT)],
    ['another Region', CMK.replace(EBS_REGION, 'us-east-1')],
  ])('a configured key of %s cannot be this Region’s default: skipped, saying what to configure', (_name, kmsKeyArn) => {
    expect(rule.plan({ enabled: false, defaultKmsKeyId: 'alias/aws/ebs' }, { kmsKeyArn }, finding)).toEqual({
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

  it('describes each state in words', () => {
    expect(rule.describe(off)).toBe('EBS encryption by default off');
    expect(rule.describe({ enabled: true, defaultKmsKeyId: 'alias/aws/ebs' })).toBe('EBS encryption by default on, default key aws/ebs (AWS managed)');
    expect(rule.describe({ enabled: true, defaultKmsKeyId: CMK })).toBe(`EBS encryption by default on, default key ${CMK}`);
  });

  it('names the account as Config (the account id) and Security Hub (AWS::::Account:<id>) do; another account is refused', () => {
    const where = { account: ACCOUNT, region: EBS_REGION };
    expect(rule.resource.parseId(ACCOUNT, where)).toEqual({ id: ACCOUNT });
    expect(rule.resource.parseId(`AWS::::Account:${ACCOUNT}`, where)).toEqual({ id: ACCOUNT });
    expect(rule.resource.parseId(OTHER_ACCOUNT, where)).toHaveProperty('problem');
  });

  it('declares what it answers; its EC2 actions are granted on "*"; the undo-only writes are not the function’s', () => {
    expect(rule.answers).toEqual({
      config: [{ identifier: IDENTIFIER, resourceTypes: ['AWS::::Account'], defaultName: 'ec2-ebs-encryption-by-default', periodic: true }],
      securityHub: ['EC2.7'],
    });
    expect(rule.resource.iamArn).toBeUndefined();
    expect(rule.defaultMode).toBe('auto');
    expect([...(rule.permissions.wildcardOnly ?? [])].sort()).toEqual(
      ['ec2:EnableEbsEncryptionByDefault', 'ec2:GetEbsDefaultKmsKeyId', 'ec2:GetEbsEncryptionByDefault', 'ec2:ModifyEbsDefaultKmsKeyId'].sort(),
    );
    expect(Object.entries(rule.operations).map(([name, operation]) => [name, operation.iamAction, operation.undoOnly === true])).toEqual([
      ['EC2.ModifyEbsDefaultKmsKeyId', 'ec2:ModifyEbsDefaultKmsKeyId', false],
      ['EC2.EnableEbsEncryptionByDefault', 'ec2:EnableEbsEncryptionByDefault', false],
      ['EC2.DisableEbsEncryptionByDefault', 'ec2:DisableEbsEncryptionByDefault', true],
      ['EC2.ResetEbsDefaultKmsKeyId', 'ec2:ResetEbsDefaultKmsKeyId', true],
    ]);
  });
});

describe('readState (aws-sdk-client-mock: moto 5.2.1 lacks GetEbsDefaultKmsKeyId)', () => {
  const context = (ec2: EC2Client, params: { kmsKeyArn?: string }): ReadContext<{ kmsKeyArn?: string }, { ec2: EC2Client }> => ({
    clients: { ec2 },
    target: { account: ACCOUNT, region: EBS_REGION, resourceId: ACCOUNT },
    params,
    finding,
  });

  it('without a configured key, reads only the encryption flag', async () => {
    const ec2 = new EC2Client({ region: EBS_REGION });
    const mock = mockClient(ec2);
    mock.on(GetEbsEncryptionByDefaultCommand).resolves({ EbsEncryptionByDefault: false, SseType: 'none' });
    expect(await rule.readState(context(ec2, {}))).toEqual({ enabled: false });
    expect(mock.commandCalls(GetEbsDefaultKmsKeyIdCommand)).toHaveLength(0);
  });

  it('with a configured key, reads the default key too: alias/aws/ebs for AWS’s own, the ARN for a customer managed one', async () => {
    const ec2 = new EC2Client({ region: EBS_REGION });
    const mock = mockClient(ec2);
    mock.on(GetEbsEncryptionByDefaultCommand).resolves({ EbsEncryptionByDefault: true });
    mock.on(GetEbsDefaultKmsKeyIdCommand).resolvesOnce({ KmsKeyId: 'alias/aws/ebs' }).resolves({ KmsKeyId: OTHER_CMK });
    expect(await rule.readState(context(ec2, { kmsKeyArn: CMK }))).toEqual({ enabled: true, defaultKmsKeyId: 'alias/aws/ebs' });
    expect(await rule.readState(context(ec2, { kmsKeyArn: CMK }))).toEqual({ enabled: true, defaultKmsKeyId: OTHER_CMK });
  });
});

describe('against moto, through the Config router, in a Region of its own', () => {
  let runtime: Runtime;
  let found: boolean;
  const configRule = uniqueName('securityhub-ec2-ebs-encryption-by-default');
  const rules = [...new Set([...RULES, rule])];
  const local = (region = EBS_REGION) => ({ region, endpoint: motoEndpoint() });
  const ec2 = (region = EBS_REGION) => new EC2Client(local(region));
  const encryption = async (region = EBS_REGION) => (await ec2(region).send(new GetEbsEncryptionByDefaultCommand({}))).EbsEncryptionByDefault;
  async function setEncryption(on: boolean): Promise<void> {
    await ec2().send(on ? new EnableEbsEncryptionByDefaultCommand({}) : new DisableEbsEncryptionByDefaultCommand({}));
  }
  const runtimeWith = (env: Record<string, string> = {}, table?: string) =>
    localRuntime({ rules, ...(table ? { table } : {}), env: { AWS_REGION: EBS_REGION, ...env } });

  beforeAll(async () => {
    found = (await encryption()) === true;
    runtime = await runtimeWith();
    await new ConfigServiceClient(local()).send(
      new PutConfigRuleCommand({
        ConfigRule: { ConfigRuleName: configRule, Source: { Owner: 'AWS', SourceIdentifier: IDENTIFIER }, MaximumExecutionFrequency: 'TwentyFour_Hours' },
      }),
    );
  });
  beforeEach(async () => {
    await setEncryption(false);
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

  it('turns encryption by default on (read, write, verify), answers a redelivery from the record; a later finding is compliant', async () => {
    const elsewhere = await encryption('ap-northeast-3');
    const first = event();
    const result = await replayEvent(first, runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'remediated', rule: rule.id, resource: RESOURCE, writes: 1, eventId: first.id });
    expect(result.calls).toEqual([GET, 'EC2.EnableEbsEncryptionByDefault', GET]);
    expect(result).toMatchObject({ before: 'EBS encryption by default off', after: 'EBS encryption by default on' });
    expect(await encryption()).toBe(true);
    // Only this Region's setting changed, and the default key was left as it was (no key call at all).
    expect(await encryption('ap-northeast-3')).toBe(elsewhere);

    const stored = await record(result.recordId);
    expect(stored).toMatchObject({ outcome: 'remediated', status: 'final', mode: 'auto', writes: 1, region: EBS_REGION });
    expect(stored?.trigger).toMatchObject({ kind: 'config-rule', configRuleName: configRule, identifier: IDENTIFIER });
    expect(stored?.steps.map(({ operation, undo }) => ({ operation, undo }))).toEqual([
      { operation: 'EC2.EnableEbsEncryptionByDefault', undo: { operation: 'EC2.DisableEbsEncryptionByDefault', input: {} } },
    ]);

    const again = await replayEvent(structuredClone(first), runtime, { apply: true });
    expect(again).toMatchObject({ outcome: 'remediated', duplicate: true, writes: 0, recordId: result.recordId });
    expect(again.calls.filter((call) => call !== GET)).toEqual([]);

    const later = await replayEvent(event(), runtime, { apply: true });
    expect(later).toMatchObject({ outcome: 'compliant', writes: 0, calls: [GET] });
    expect((await record(later.recordId))?.outcome).toBe('compliant');
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
    expect(rolledBack).toMatchObject({ outcome: 'rolled-back', writes: 1, calls: [GET, 'EC2.DisableEbsEncryptionByDefault', GET] });
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
    expect(refused.reason).toMatch(/changed after the bot left it \(bot left: EBS encryption by default on; now: EBS encryption by default off\)/);

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
    expect(result).toMatchObject({ outcome: 'planned', writes: 0, calls: [GET] });
    expect(result.reason).toMatch(/^dry run, would apply: turn on EBS encryption by default in eu-west-3/);
    expect(await encryption()).toBe(false);
  });

  it('with a customer managed key configured (EC2 faked: moto lacks the default-key calls): asks a person, applies key then encryption once approved, and rolls both back', async () => {
    const keyed = await runtimeWith({ RULE_PARAMS: JSON.stringify({ [rule.id]: { kmsKeyArn: CMK } }) });
    await keyed.factory.forRule(rule);
    const live = { enabled: false, key: 'alias/aws/ebs' };
    const mock = mockClient(EC2Client);
    try {
      mock.on(GetEbsEncryptionByDefaultCommand).callsFake(() => ({ EbsEncryptionByDefault: live.enabled }));
      mock.on(GetEbsDefaultKmsKeyIdCommand).callsFake(() => ({ KmsKeyId: live.key }));
      mock.on(ModifyEbsDefaultKmsKeyIdCommand).callsFake((input: { KmsKeyId: string }) => {
        live.key = input.KmsKeyId;
        return { KmsKeyId: input.KmsKeyId };
      });
      mock.on(ResetEbsDefaultKmsKeyIdCommand).callsFake(() => {
        live.key = 'alias/aws/ebs';
        return { KmsKeyId: `arn:aws:kms:${EBS_REGION}:${ACCOUNT}:key/aws-ebs-managed` };
      });
      mock.on(EnableEbsEncryptionByDefaultCommand).callsFake(() => {
        live.enabled = true;
        return { EbsEncryptionByDefault: true };
      });
      mock.on(DisableEbsEncryptionByDefaultCommand).callsFake(() => {
        live.enabled = false;
        return { EbsEncryptionByDefault: false };
      });

      const pending = await replayEvent(event(), keyed, { apply: true });
      expect(pending).toMatchObject({ outcome: 'pending-approval', writes: 0, calls: [GET, GET_KEY] });
      expect(live).toEqual({ enabled: false, key: 'alias/aws/ebs' });
      const approval = await keyed.ledger?.getApproval(pending.approvalId ?? '');
      expect(approval).toMatchObject({ status: 'pending', risk: 'high', reason: expect.stringContaining(`would need customer managed key ${CMK}`) });
      expect(approval?.risks).toContain(`launches by Auto Scaling, Spot, EC2 Fleet and other services' roles fail unless the policy of ${CMK} lets those roles use the key`);

      const ledger = keyed.ledger;
      if (!ledger) throw new Error('no ledger');
      expect((await decideApproval(ledger, { approvalId: pending.approvalId ?? '', decision: 'approve', by: 'U0APPROVER1', now: Date.now(), suppressionDays: 30 })).kind).toBe('decided');
      const applied = await replayEvent(approvedEvent(pending.approvalId ?? ''), keyed, { apply: true });
      expect(applied).toMatchObject({ outcome: 'remediated', writes: 2, approvalId: pending.approvalId });
      expect(applied.calls).toEqual([GET, GET_KEY, 'EC2.ModifyEbsDefaultKmsKeyId', 'EC2.EnableEbsEncryptionByDefault', GET, GET_KEY]);
      expect(mock.commandCalls(ModifyEbsDefaultKmsKeyIdCommand).map((call) => call.args[0].input)).toEqual([{ KmsKeyId: CMK }]);
      expect(live).toEqual({ enabled: true, key: CMK });
      expect(applied.after).toBe(`EBS encryption by default on, default key ${CMK}`);

      const rolledBack = await rollback(applied.recordId, false, keyed);
      expect(rolledBack).toMatchObject({ outcome: 'rolled-back', writes: 2 });
      expect(rolledBack.calls).toEqual([GET, GET_KEY, 'EC2.DisableEbsEncryptionByDefault', 'EC2.ResetEbsDefaultKmsKeyId', GET, GET_KEY]);
      expect(live).toEqual({ enabled: false, key: 'alias/aws/ebs' });
    } finally {
      mock.restore();
    }
  });
});

/** The sample events are in us-east-1; these tests act in EBS_REGION. */
function inRegion(event: Json): Json {
  const text = JSON.stringify(event).replaceAll('us-east-1', EBS_REGION);
  return JSON.parse(text) as Json;
}

/** A claim refuses reads begun less than STALE_READ_MARGIN_MS after the last change settled; a person asks later. */
function afterTheFix(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, STALE_READ_MARGIN_MS + 50));
}

function approvedEvent(approvalId: string) {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Remediation Approved',
    source: 'driftfix.approvals',
    account: ACCOUNT,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: EBS_REGION,
    resources: [],
    detail: { approvalId, ruleId: rule.id },
  };
}
