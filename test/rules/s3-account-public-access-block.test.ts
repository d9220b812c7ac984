
import { ConfigServiceClient, DeleteConfigRuleCommand } from '@aws-sdk/client-config-service';
import { DeletePublicAccessBlockCommand, GetPublicAccessBlockCommand, PutPublicAccessBlockCommand, S3ControlClient } from '@aws-sdk/client-s3-control';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decideApproval } from '../../core/engine/decide.ts';
import { rollbackRecord } from '../../core/engine/rollback.ts';
import type { Finding } from '../../core/model/index.ts';
import rule from '../../rules/s3-account-public-access-block.ts';
import { replayEvent } from '../../scripts/lib/replay-files.ts';
import { ACCOUNT, afterTheFix, approvedEvent, configEvent, OTHER_ACCOUNT, REGION, securityHubEvent } from '../support/events.ts';
import { createConfigRule, localRuntime, motoEndpoint, uniqueName } from '../support/local-aws.ts';

const ALL_ON = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };
const ALL_OFF = { BlockPublicAcls: false, IgnorePublicAcls: false, BlockPublicPolicy: false, RestrictPublicBuckets: false };
const RISK = 'every bucket in the account that is public on purpose stops being public';
const CHANGE_TRIGGERED = 'S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS';
const PERIODIC = 'S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS_PERIODIC';
const RESOURCE = `AWS::S3::AccountPublicAccessBlock/${ACCOUNT}`;

type Runtime = Awaited<ReturnType<typeof localRuntime>>;
type Flags = typeof ALL_ON;

const finding: Finding = {
  eventId: 'e-1',
  reporter: 'config',
  replayed: false,
  account: ACCOUNT,
  region: REGION,
  time: '2026-11-20T09:14:03Z',
  resourceType: 'AWS::::Account',
  resourceId: ACCOUNT,
  trigger: { kind: 'config-rule', configRuleName: 'account-blocks', identifier: PERIODIC, complianceType: 'NON_COMPLIANT' },
};

function changeOf(plan: ReturnType<typeof rule.plan>) {
  if (plan.status !== 'change') throw new Error(`expected a change, got ${plan.status}: ${plan.summary}`);
  return plan;
}

describe('plan (pure)', () => {
  it('no configuration → S3 Control PutPublicAccessBlock for this account, undone by deleting it; the risk is stated', () => {
    const plan = changeOf(rule.plan({ flags: null }, {}, finding));
    expect(plan.steps).toEqual([
      {
        operation: 'S3Control.PutPublicAccessBlock',
        input: { AccountId: ACCOUNT, PublicAccessBlockConfiguration: ALL_ON },
        description: 'block public access for the whole account: no Block Public Access configuration (all off) → all four Block Public Access flags on',
        before: { flags: null },
        after: { flags: ALL_ON },
        undo: { operation: 'S3Control.DeletePublicAccessBlock', input: { AccountId: ACCOUNT } },
      },
    ]);
    expect(plan.risks).toEqual([RISK]);
    // A person decides because the rule runs in approve mode, not because of this plan.
    expect(plan.approvalReason).toBeUndefined();
  });

  it('some flags on → all four; the undo puts back exactly those flags', () => {
    const flags = { ...ALL_OFF, IgnorePublicAcls: true };
    const plan = changeOf(rule.plan({ flags }, {}, finding));
    expect(plan.steps[0]?.undo).toEqual({ operation: 'S3Control.PutPublicAccessBlock', input: { AccountId: ACCOUNT, PublicAccessBlockConfiguration: flags } });
    expect(plan.steps[0]?.description).toBe(
      'block public access for the whole account: on: IgnorePublicAcls; off: BlockPublicAcls, BlockPublicPolicy, RestrictPublicBuckets → all four Block Public Access flags on',
    );
  });

  it('all four on → compliant', () => {
    expect(rule.plan({ flags: ALL_ON }, {}, finding)).toEqual({ status: 'compliant', summary: 'all four account-level Block Public Access flags are already on' });
  });

  it('waits for a person by default, at high risk: every bucket in the account is affected', () => {
    expect(rule.defaultMode).toBe('approve');
    expect(rule.risk).toBe('high');
  });

  it('names the account as Config (the account id) and Security Hub (AWS::::Account:<id>) do; another account is refused', () => {
    const where = { account: ACCOUNT, region: REGION };
    expect(rule.resource.parseId(ACCOUNT, where)).toEqual({ id: ACCOUNT });
    expect(rule.resource.parseId(`AWS::::Account:${ACCOUNT}`, where)).toEqual({ id: ACCOUNT });
    expect(rule.resource.parseId(OTHER_ACCOUNT, where)).toEqual({ problem: expect.stringContaining(OTHER_ACCOUNT) });
    expect(rule.resource.parseId(`AWS::::Account:${OTHER_ACCOUNT}`, where)).toHaveProperty('problem');
  });
});

/**
 * The account-level setting is one per account, in a moto other test files share: each test sets
 * the state it starts from, and the setting found at the start is put back at the end.
 */
describe('against moto', () => {
  let runtime: Runtime;
  let auto: Runtime;
  let found: Flags | null;
  const periodicRule = uniqueName('securityhub-s3-account-level-public-access-blocks-periodic');
  const changeRule = uniqueName('org-account-public-access-blocks');

  const control = () => new S3ControlClient({ region: REGION, endpoint: motoEndpoint(), endpointProvider: () => ({ url: new URL(motoEndpoint()) }) });
  async function accountFlags(): Promise<Flags | null> {
    try {
      return ((await control().send(new GetPublicAccessBlockCommand({ AccountId: ACCOUNT }))).PublicAccessBlockConfiguration as Flags) ?? null;
    } catch (error) {
      if ((error as Error).name === 'NoSuchPublicAccessBlockConfiguration') return null;
      throw error;
    }
  }
  async function setAccountFlags(flags: Flags | null): Promise<void> {
    if (flags) await control().send(new PutPublicAccessBlockCommand({ AccountId: ACCOUNT, PublicAccessBlockConfiguration: flags }));
    else await control().send(new DeletePublicAccessBlockCommand({ AccountId: ACCOUNT }));
  }

  beforeAll(async () => {
    found = await accountFlags();
    runtime = await localRuntime();
    auto = await localRuntime({ table: runtime.table, env: { RULE_MODES: `${rule.id}=auto` } });
    await createConfigRule(periodicRule, PERIODIC, { periodic: true });
    await createConfigRule(changeRule, CHANGE_TRIGGERED);
  });
  beforeEach(async () => {
    await setAccountFlags(ALL_OFF);
    // The previous test's change to this one resource has settled: reads start after it.
    await afterTheFix();
  });
  afterAll(async () => {
    await setAccountFlags(found);
    const config = new ConfigServiceClient({ region: REGION, endpoint: motoEndpoint() });
    for (const name of [periodicRule, changeRule]) await config.send(new DeleteConfigRuleCommand({ ConfigRuleName: name }));
  });

  const periodicEvent = () => configEvent({ configRuleName: periodicRule, resourceType: 'AWS::::Account', resourceId: ACCOUNT });
  const changeEvent = () => configEvent({ configRuleName: changeRule, resourceType: 'AWS::S3::AccountPublicAccessBlock', resourceId: ACCOUNT });
  const record = async (recordId: string | undefined) => runtime.ledger?.getRecord(recordId ?? '');
  const rollback = async (recordId: string | undefined, force = false) => {
    await afterTheFix();
    await runtime.factory.forRule(rule);
    return rollbackRecord(recordId ?? '', runtime.deps, { force, by: 'cli:test' });
  };
  const GET = 'S3Control.GetPublicAccessBlock';

  it('by default asks a person, reading only; approved, it blocks the whole account once, and later findings are compliant', async () => {
    const event = periodicEvent();
    const pending = await replayEvent(event, runtime, { apply: true });
    expect(pending).toMatchObject({ outcome: 'pending-approval', rule: rule.id, resource: RESOURCE, writes: 0, calls: [GET] });
    expect(await accountFlags()).toEqual(ALL_OFF);
    const approval = await runtime.ledger?.getApproval(pending.approvalId ?? '');
    expect(approval).toMatchObject({ status: 'pending', risk: 'high', risks: [RISK], reason: `rule ${rule.id} runs in approve mode` });
    expect((await record(pending.recordId))?.trigger).toMatchObject({ configRuleName: periodicRule, identifier: PERIODIC });

    const ledger = runtime.ledger;
    if (!ledger) throw new Error('no ledger');
    expect((await decideApproval(ledger, { approvalId: pending.approvalId ?? '', decision: 'approve', by: 'U0APPROVER1', now: Date.now(), suppressionDays: 30 })).kind).toBe('decided');
    const approved = approvedEvent(pending.approvalId ?? '', rule.id);
    const applied = await replayEvent(approved, runtime, { apply: true });
    expect(applied).toMatchObject({ outcome: 'remediated', writes: 1, calls: [GET, 'S3Control.PutPublicAccessBlock', GET] });
    expect(await accountFlags()).toEqual(ALL_ON);
    expect((await record(applied.recordId))?.decidedBy).toBe('U0APPROVER1');

    const approvedAgain = await replayEvent(structuredClone(approved), runtime, { apply: true });
    expect(approvedAgain.writes).toBe(0);
    const findingAgain = await replayEvent(structuredClone(event), runtime, { apply: true });
    expect(findingAgain).toMatchObject({ duplicate: true, writes: 0, outcome: 'remediated' });
    expect(findingAgain.reason).toContain(`approval ${pending.approvalId} was applied by U0APPROVER1`);
    const later = await replayEvent(periodicEvent(), runtime, { apply: true });
    expect(later).toMatchObject({ outcome: 'compliant', writes: 0, calls: [GET] });
  });

  it('in auto mode, fixes on the change-triggered rule: read, write, verify; a redelivery is a duplicate', async () => {
    const event = changeEvent();
    const result = await replayEvent(event, auto, { apply: true });
    expect(result).toMatchObject({ outcome: 'remediated', resource: RESOURCE, writes: 1, calls: [GET, 'S3Control.PutPublicAccessBlock', GET] });
    expect(result).toMatchObject({ before: 'all Block Public Access flags off', after: 'all four Block Public Access flags on' });
    expect(await accountFlags()).toEqual(ALL_ON);

    const again = await replayEvent(structuredClone(event), auto, { apply: true });
    expect(again).toMatchObject({ outcome: 'remediated', duplicate: true, writes: 0, recordId: result.recordId });
    const later = await replayEvent(changeEvent(), auto, { apply: true });
    expect(later).toMatchObject({ outcome: 'compliant', writes: 0 });
  });

  it('answers a Security Hub S3.1 finding naming the account', async () => {
    const event = securityHubEvent({ controlId: 'S3.1', resourceType: 'AwsAccount', resourceId: `AWS::::Account:${ACCOUNT}` });
    const result = await replayEvent(event, auto, { apply: true });
    expect(result).toMatchObject({ outcome: 'remediated', rule: rule.id, resource: RESOURCE, writes: 1 });
    expect(await accountFlags()).toEqual(ALL_ON);
  });

  it('rolls back to exactly the earlier account flags, and refuses a second time', async () => {
    const earlier = { ...ALL_OFF, IgnorePublicAcls: true };
    await setAccountFlags(earlier);
    const fixed = await replayEvent(periodicEvent(), auto, { apply: true });
    expect(fixed.outcome).toBe('remediated');

    const rolledBack = await rollback(fixed.recordId);
    expect(rolledBack).toMatchObject({ outcome: 'rolled-back', writes: 1, calls: [GET, 'S3Control.PutPublicAccessBlock', GET] });
    expect(await accountFlags()).toEqual(earlier);
    expect(await record(rolledBack.rollbackRecordId)).toMatchObject({ outcome: 'rolled-back', decidedBy: 'cli:test', rollbackOf: fixed.recordId });

    const second = await rollback(fixed.recordId);
    expect(second).toMatchObject({ outcome: 'refused', writes: 0 });
    expect(second.reason).toContain('already rolled back');
  });

  it('refuses to roll back when the flags changed since; forced, it deletes the configuration the account did not have', async () => {
    await setAccountFlags(null);
    const fixed = await replayEvent(periodicEvent(), auto, { apply: true });
    expect(fixed.outcome).toBe('remediated');
    const changed = { ...ALL_ON, BlockPublicPolicy: false };
    await setAccountFlags(changed);

    const refused = await rollback(fixed.recordId);
    expect(refused).toMatchObject({ outcome: 'refused', writes: 0 });
    expect(refused.reason).toMatch(/changed after the bot left it.*now: on: BlockPublicAcls, IgnorePublicAcls, RestrictPublicBuckets; off: BlockPublicPolicy/);
    expect(await accountFlags()).toEqual(changed);

    const forced = await rollback(fixed.recordId, true);
    expect(forced).toMatchObject({ outcome: 'rolled-back', writes: 1, calls: [GET, 'S3Control.DeletePublicAccessBlock', GET] });
    expect(await accountFlags()).toBeNull();
  });

  it('refuses a finding about another account, before any call', async () => {
    const foreign = configEvent({ configRuleName: periodicRule, resourceType: 'AWS::::Account', resourceId: OTHER_ACCOUNT });
    const result = await replayEvent(foreign, auto, { apply: true });
    expect(result).toMatchObject({ outcome: 'rejected', calls: [], writes: 0 });
    expect(result.reason).toContain(OTHER_ACCOUNT);
    expect(await accountFlags()).toEqual(ALL_OFF);
  });

  it('refuses a resource type the managed rule does not report on', async () => {
    const wrongType = configEvent({ configRuleName: changeRule, resourceType: 'AWS::::Account', resourceId: ACCOUNT });
    const result = await replayEvent(wrongType, auto, { apply: true });
    expect(result).toMatchObject({ outcome: 'rejected', writes: 0 });
    expect(result.reason).toContain(`${CHANGE_TRIGGERED} evaluates AWS::S3::AccountPublicAccessBlock, not AWS::::Account`);
    expect(await accountFlags()).toEqual(ALL_OFF);
  });

  it('a dry run plans the account-wide change without writing', async () => {
    const result = await replayEvent(periodicEvent(), auto, { apply: false });
    expect(result).toMatchObject({ outcome: 'planned', writes: 0, calls: [GET] });
    expect(result.reason).toMatch(/^dry run, would apply: block public access for the whole account/);
    expect(await accountFlags()).toEqual(ALL_OFF);
  });
});
