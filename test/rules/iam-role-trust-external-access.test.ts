
import { beforeAll, describe, expect, it } from 'vitest';
import { decideApproval } from '../../core/engine/decide.ts';
import { rollbackRecord } from '../../core/engine/rollback.ts';
import type { Finding } from '../../core/model/index.ts';
import rule from '../../rules/iam-role-trust-external-access.ts';
import { replayEvent } from '../../scripts/lib/replay-files.ts';
import { ACCOUNT, afterTheFix, analyzerEvent, approvedEvent, OTHER_ACCOUNT, REGION } from '../support/events.ts';
import { createRole, setTrustPolicy, trustPolicy } from '../support/iam.ts';
import { localRuntime } from '../support/local-aws.ts';

type Runtime = Awaited<ReturnType<typeof localRuntime>>;

const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/partner-access`;
const APPROVAL_REASON = 'access for another account may be intended: a person decides';
const assume = (Sid: string, Principal: unknown) => ({ Sid, Effect: 'Allow', Principal, Action: 'sts:AssumeRole' });
const trust = (...Statement: unknown[]) => ({ Version: '2012-10-17', Statement });
const LAMBDA = assume('Lambda', { Service: 'lambda.amazonaws.com' });

function analyzerFinding(principal?: Record<string, string>): Finding {
  return {
    eventId: 'e-1',
    reporter: 'access-analyzer',
    replayed: false,
    account: ACCOUNT,
    region: REGION,
    time: '2026-11-20T10:02:33Z',
    resourceType: 'AWS::IAM::Role',
    resourceId: ROLE_ARN,
    resourceArn: ROLE_ARN,
    trigger: { kind: 'access-analyzer', findingId: 'f-1', status: 'ACTIVE', isPublic: false, actions: ['sts:AssumeRole'], ...(principal ? { principal } : {}) },
  };
}
const other = analyzerFinding({ AWS: OTHER_ACCOUNT });

/** An Access Analyzer finding that another account can assume a role (AWS's documented shape, as for a bucket). */
function roleEvent(roleArn: string) {
  const event = analyzerEvent({ bucket: 'unused', isPublic: false });
  event.detail.resource = roleArn;
  event.detail.resourceType = 'AWS::IAM::Role';
  event.detail.action = ['sts:AssumeRole'];
  return event;
}

function changeOf(plan: ReturnType<typeof rule.plan>) {
  if (plan.status !== 'change') throw new Error(`expected a change, got ${plan.status}: ${plan.summary}`);
  return plan;
}

describe('plan (pure)', () => {
  it('removes the external account from the trust policy, keeps the other principals; undone by the old trust policy; a person decides', () => {
    const original = JSON.stringify(trust(assume('Partner', { AWS: [OTHER_ACCOUNT, `arn:aws:iam::${ACCOUNT}:root`] }), LAMBDA));
    const plan = changeOf(rule.plan({ roleName: 'partner-access', trustPolicy: original }, {}, other));
    const expected = JSON.stringify(trust(assume('Partner', { AWS: `arn:aws:iam::${ACCOUNT}:root` }), LAMBDA));
    expect(plan.steps).toEqual([
      {
        operation: 'IAM.UpdateAssumeRolePolicy',
        input: { RoleName: 'partner-access', PolicyDocument: expected },
        description: `stop ${OTHER_ACCOUNT} assuming role partner-access: statement "Partner": remove principal ${OTHER_ACCOUNT}; keep arn:aws:iam::${ACCOUNT}:root`,
        before: { roleName: 'partner-access', trustPolicy: original },
        after: { roleName: 'partner-access', trustPolicy: expected },
        undo: { operation: 'IAM.UpdateAssumeRolePolicy', input: { RoleName: 'partner-access', PolicyDocument: original } },
      },
    ]);
    expect(plan.approvalReason).toBe(APPROVAL_REASON);
    expect(plan.risks).toEqual([`${OTHER_ACCOUNT} can no longer assume partner-access; workloads there that use the role stop working`]);
  });

  it('drops a statement that trusted only the external account, keeping the layout of the document', () => {
    const original = JSON.stringify(trust(assume('Partner', { AWS: `arn:aws:iam::${OTHER_ACCOUNT}:root` }), LAMBDA), null, 2);
    const plan = changeOf(rule.plan({ roleName: 'partner-access', trustPolicy: original }, {}, other));
    expect(plan.steps[0]?.input.PolicyDocument).toBe(JSON.stringify(trust(LAMBDA), null, 2));
  });

  it('never empties a trust policy: unfixable, with the reason', () => {
    const original = JSON.stringify(trust(assume('Partner', { AWS: OTHER_ACCOUNT })));
    expect(rule.plan({ roleName: 'partner-access', trustPolicy: original }, {}, other)).toEqual({
      status: 'unfixable',
      summary: `removing ${OTHER_ACCOUNT} would leave role partner-access with an empty trust policy; change it by hand`,
    });
  });

  it('compliant once no Allow statement trusts the account; a Deny naming it is left alone', () => {
    expect(rule.plan({ roleName: 'partner-access', trustPolicy: JSON.stringify(trust(LAMBDA)) }, {}, other).status).toBe('compliant');
    const deny = { Sid: 'NoPartner', Effect: 'Deny', Principal: { AWS: OTHER_ACCOUNT }, Action: 'sts:AssumeRole' };
    expect(rule.plan({ roleName: 'partner-access', trustPolicy: JSON.stringify(trust(LAMBDA, deny)) }, {}, other).status).toBe('compliant');
  });

  it('unfixable when the finding names no account', () => {
    const original = JSON.stringify(trust(assume('Partner', { AWS: OTHER_ACCOUNT }), LAMBDA));
    expect(rule.plan({ roleName: 'partner-access', trustPolicy: original }, {}, analyzerFinding())).toEqual({ status: 'unfixable', summary: `the finding names no account other than ${ACCOUNT} to remove` });
    expect(rule.plan({ roleName: 'partner-access', trustPolicy: original }, {}, analyzerFinding({ Federated: 'accounts.google.com' })).status).toBe('unfixable');
    // The role's own account is never removed as "external".
    const ownTrust = JSON.stringify(trust(assume('Own', { AWS: `arn:aws:iam::${ACCOUNT}:root` }), LAMBDA));
    expect(rule.plan({ roleName: 'partner-access', trustPolicy: ownTrust }, {}, analyzerFinding({ AWS: ACCOUNT })).status).toBe('unfixable');
  });

  it('trust in anyone under a condition (how the account may get in) is for a person, not "compliant"', () => {
    const conditioned = { ...assume('ByOrg', '*'), Condition: { StringEquals: { 'aws:PrincipalAccount': OTHER_ACCOUNT } } };
    const plan = rule.plan({ roleName: 'partner-access', trustPolicy: JSON.stringify(trust(conditioned, LAMBDA)) }, {}, other);
    expect(plan.status).toBe('unfixable');
    expect(plan.summary).toMatch(/statement "ByOrg" of the trust policy lets any principal assume the role under conditions/);
  });

  it('describes the trust policy by its statements', () => {
    expect(rule.describe({ roleName: 'partner-access', trustPolicy: JSON.stringify(trust(LAMBDA)) })).toBe('trust policy of partner-access with 1 statement(s)');
  });

  it('names roles of this account only, and leaves AWS-managed and its own roles alone', () => {
    const where = { account: ACCOUNT, region: REGION, stackPrefix: 'driftfix-test' };
    expect(rule.resource.parseId(ROLE_ARN, where)).toEqual({ id: ROLE_ARN });
    expect(rule.resource.parseId(`arn:aws:iam::${OTHER_ACCOUNT}:role/partner-access`, where)).toHaveProperty('problem');
    expect(rule.resource.parseId(`arn:aws:iam::${ACCOUNT}:user/partner`, where)).toHaveProperty('problem');
    expect(rule.resource.protected?.(ROLE_ARN, where)).toBeNull();
    expect(rule.resource.protected?.(`arn:aws:iam::${ACCOUNT}:role/aws-service-role/elasticmapreduce.amazonaws.com/AWSServiceRoleForEMR`, where)).toContain('service-linked');
    expect(rule.resource.protected?.(`arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123`, where)).toContain('IAM Identity Center');
    expect(rule.resource.protected?.(`arn:aws:iam::${ACCOUNT}:role/driftfix-test-remediate`, where)).toContain("driftfix's own stack");
  });
});

describe('against moto (always a person’s decision)', () => {
  let runtime: Runtime;
  beforeAll(async () => {
    runtime = await localRuntime();
  });

  const withEnv = (env: Record<string, string>) => localRuntime({ table: runtime.table, env });
  const record = async (recordId: string | undefined) => runtime.ledger?.getRecord(recordId ?? '');
  const rollback = async (recordId: string | undefined, force = false) => {
    await afterTheFix();
    await runtime.factory.forRule(rule);
    return rollbackRecord(recordId ?? '', runtime.deps, { force, by: 'cli:test' });
  };
  async function approve(approvalId: string | undefined) {
    const ledger = runtime.ledger;
    if (!ledger) throw new Error('no ledger');
    expect((await decideApproval(ledger, { approvalId: approvalId ?? '', decision: 'approve', by: 'U0APPROVER1', now: Date.now(), suppressionDays: 30 })).kind).toBe('decided');
    return approvedEvent(approvalId ?? '', rule.id);
  }
  const partner = () => trust(assume('Partner', { AWS: [OTHER_ACCOUNT, `arn:aws:iam::${ACCOUNT}:root`] }), LAMBDA);
  const fixedTrust = () => trust(assume('Partner', { AWS: `arn:aws:iam::${ACCOUNT}:root` }), LAMBDA);
  const READS = ['IAM.ListRoleTags', 'IAM.GetRole'];

  async function fixed(original: unknown, options: { path?: string } = {}) {
    const role = await createRole(original, options);
    const pending = await replayEvent(roleEvent(role.arn), runtime, { apply: true });
    expect(pending.outcome).toBe('pending-approval');
    const applied = await replayEvent(await approve(pending.approvalId), runtime, { apply: true });
    expect(applied.outcome).toBe('remediated');
    return { role, pending, applied };
  }

  it('asks first (reads only); approved, removes the account: tags, read, write, verify; redeliveries change nothing', async () => {
    const role = await createRole(partner());
    const event = roleEvent(role.arn);
    const pending = await replayEvent(event, runtime, { apply: true });
    expect(pending).toMatchObject({ outcome: 'pending-approval', rule: rule.id, resource: `AWS::IAM::Role/${role.arn}`, writes: 0, calls: READS });
    expect(await runtime.ledger?.getApproval(pending.approvalId ?? '')).toMatchObject({
      status: 'pending',
      risk: 'high',
      reason: APPROVAL_REASON,
      risks: [`${OTHER_ACCOUNT} can no longer assume ${role.name}; workloads there that use the role stop working`],
    });
    expect(await trustPolicy(role.name)).toEqual(partner());

    const approved = await approve(pending.approvalId);
    const applied = await replayEvent(approved, runtime, { apply: true });
    expect(applied).toMatchObject({ outcome: 'remediated', writes: 1, calls: [...READS, 'IAM.UpdateAssumeRolePolicy', 'IAM.GetRole'] });
    expect(await trustPolicy(role.name)).toEqual(fixedTrust());
    expect((await record(applied.recordId))?.steps[0]?.undo).toEqual({
      operation: 'IAM.UpdateAssumeRolePolicy',
      input: { RoleName: role.name, PolicyDocument: JSON.stringify(partner()) },
    });

    expect((await replayEvent(structuredClone(approved), runtime, { apply: true })).writes).toBe(0);
    const findingAgain = await replayEvent(structuredClone(event), runtime, { apply: true });
    expect(findingAgain).toMatchObject({ duplicate: true, writes: 0, outcome: 'remediated', recordId: pending.recordId });
    const later = await replayEvent(roleEvent(role.arn), runtime, { apply: true });
    expect(later).toMatchObject({ outcome: 'compliant', writes: 0, calls: READS });
  });

  it('finds a role under a path by the last part of its ARN', async () => {
    const { role } = await fixed(partner(), { path: '/partners/' });
    expect(role.arn).toContain(':role/partners/');
    expect(await trustPolicy(role.name)).toEqual(fixedTrust());
  });

  it('rolls back to the old trust policy; refuses a second time', async () => {
    const { role, applied } = await fixed(partner());
    const rolledBack = await rollback(applied.recordId);
    expect(rolledBack).toMatchObject({ outcome: 'rolled-back', writes: 1, calls: ['IAM.GetRole', 'IAM.UpdateAssumeRolePolicy', 'IAM.GetRole'] });
    expect(await trustPolicy(role.name)).toEqual(partner());
    expect(await record(rolledBack.rollbackRecordId)).toMatchObject({ outcome: 'rolled-back', decidedBy: 'cli:test', rollbackOf: applied.recordId });

    const second = await rollback(applied.recordId);
    expect(second).toMatchObject({ outcome: 'refused', writes: 0 });
    expect(second.reason).toContain('already rolled back');
  });

  it('refuses to roll back a trust policy someone changed since; forced, it restores the old one', async () => {
    const { role, applied } = await fixed(partner());
    const edited = trust(LAMBDA);
    await setTrustPolicy(role.name, edited);

    const refused = await rollback(applied.recordId);
    expect(refused).toMatchObject({ outcome: 'refused', writes: 0 });
    expect(refused.reason).toContain('changed after the bot left it');
    expect(await trustPolicy(role.name)).toEqual(edited);

    const forced = await rollback(applied.recordId, true);
    expect(forced).toMatchObject({ outcome: 'rolled-back', writes: 1 });
    expect(await trustPolicy(role.name)).toEqual(partner());
  });

  it('never empties a trust policy: skipped with the reason, without asking anyone', async () => {
    const only = trust(assume('Partner', { AWS: OTHER_ACCOUNT }));
    const role = await createRole(only);
    const result = await replayEvent(roleEvent(role.arn), runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'skipped', writes: 0, calls: READS });
    expect(result.reason).toContain('empty trust policy');
    expect(result.approvalId).toBeUndefined();
    expect(await trustPolicy(role.name)).toEqual(only);
  });

  it('skips a role carrying the exclusion tag, reading only its tags', async () => {
    const role = await createRole(partner(), { tags: { 'remediation:skip': 'true' } });
    const result = await replayEvent(roleEvent(role.arn), runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'skipped', writes: 0, calls: ['IAM.ListRoleTags'] });
    expect(result.reason).toContain('remediation:skip=true');
    expect(await trustPolicy(role.name)).toEqual(partner());
  });

  it("leaves the bot's own roles and AWS service-linked roles alone, before any call", async () => {
    const own = await withEnv({ STACK_NAME: 'driftfix-test' });
    const ownRole = await createRole(partner(), { prefix: 'driftfix-test' });
    const mine = await replayEvent(roleEvent(ownRole.arn), own, { apply: true });
    expect(mine).toMatchObject({ outcome: 'skipped', writes: 0, calls: [] });
    expect(mine.reason).toContain("belongs to driftfix's own stack");
    expect(await trustPolicy(ownRole.name)).toEqual(partner());

    const linked = await createRole(partner(), { path: '/aws-service-role/example.amazonaws.com/' });
    const awsManaged = await replayEvent(roleEvent(linked.arn), own, { apply: true });
    expect(awsManaged).toMatchObject({ outcome: 'skipped', writes: 0, calls: [] });
    expect(awsManaged.reason).toContain('service-linked role');
    expect(await trustPolicy(linked.name)).toEqual(partner());
  });

  it('refuses a finding about a role of another account', async () => {
    const result = await replayEvent(roleEvent(`arn:aws:iam::${OTHER_ACCOUNT}:role/partner-access`), runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'rejected', writes: 0, calls: [] });
    expect(result.reason).toContain(`belongs to account ${OTHER_ACCOUNT}`);
  });
});
