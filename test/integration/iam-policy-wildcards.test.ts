import { GenerateServiceLastAccessedDetailsCommand, GetServiceLastAccessedDetailsCommand } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { iamPolicyWildcards } from '../../rules/iam-policy-wildcards.ts';
import { decideApproval } from '../../core/engine/approval-decisions.ts';
import type { ChangeRecord } from '../../core/model/record.ts';
import { recordMessage } from '../../core/slack/messages.ts';
import { type EngineDeps, processEvent } from '../../core/engine/engine.ts';
import { configEvent } from '../support/events.ts';
import { createPolicy, defaultDocument, versionIds } from '../support/iam.ts';
import { freshStore, localDeps } from '../support/local-aws.ts';

const rule = iamPolicyWildcards;
const ADMIN = 'iam-policy-no-statements-with-admin-access';
const FULL = 'iam-policy-no-statements-with-full-access';

let advisor: ReturnType<typeof mockClient>;

/** moto has no IAM last-accessed data: the access-advisor client alone is faked. */
function withUsage(deps: EngineDeps, used: Record<string, string[]> | null): EngineDeps {
  advisor = mockClient(deps.clients.iamAccessAdvisor);
  advisor.on(GenerateServiceLastAccessedDetailsCommand).resolves({ JobId: 'job-1' });
  advisor
    .on(GetServiceLastAccessedDetailsCommand)
    .resolvesOnce({ JobStatus: 'IN_PROGRESS', JobCreationDate: new Date(), ServicesLastAccessed: [] })
    .resolves({
      JobStatus: 'COMPLETED',
      JobCreationDate: new Date(),
      JobCompletionDate: new Date(),
      ServicesLastAccessed: Object.entries(used ?? {}).map(([service, actions]) => ({
        ServiceName: service,
        ServiceNamespace: service,
        LastAuthenticated: new Date('2026-10-01T00:00:00Z'),
        TrackedActionsLastAccessed: [
          ...actions.map((ActionName) => ({ ActionName, LastAccessedTime: new Date('2026-10-01T00:00:00Z') })),
          { ActionName: 'DeleteBucket' }, // tracked, never used
        ],
      })),
    });
  return deps;
}

async function run(policyId: string, configRule: string, env: Record<string, string> = {}, used: Record<string, string[]> | null = null) {
  const { store } = await freshStore();
  const deps = withUsage(localDeps({ store, env: { RULE_MODES: 'iam-policy-wildcards=auto', ...env } }), used);
  const event = configEvent({ rule: configRule, resourceType: 'AWS::IAM::Policy', resourceId: policyId });
  const result = await processEvent(event, rule, deps, { dryRun: false });
  return { result, store, deps, event };
}

const statements = async (arn: string) => JSON.parse((await defaultDocument(arn)).document).Statement;

describe('iam-policy-wildcards against moto', () => {
  it('removes an admin * statement and keeps the rest, in order, with Sids, resources and conditions', async () => {
    const policy = await createPolicy({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'ReadReports', Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::reports/*' },
        { Sid: 'Everything', Effect: 'Allow', Action: '*', Resource: '*' },
        { Sid: 'OnlyFromVpn', Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } },
      ],
    });
    const { result, store } = await run(policy.id, ADMIN);
    expect(result).toMatchObject({ outcome: 'remediated', writes: 1 });
    expect(await statements(policy.arn)).toEqual([
      { Sid: 'ReadReports', Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::reports/*' },
      { Sid: 'OnlyFromVpn', Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } },
    ]);
    const record = await store.getRecord(result.recordId ?? '');
    expect(record?.steps[0]?.undo).toEqual({ operation: 'IAM.SetDefaultPolicyVersion', input: { PolicyArn: policy.arn, VersionId: 'v1' } });
    expect(JSON.stringify(record?.steps[0]?.before)).toContain('Everything');
    expect(await versionIds(policy.arn)).toEqual(['v1', 'v2']);
  });

  it('replaces s3:* with the actions last-accessed data shows were used', async () => {
    const policy = await createPolicy(
      { Version: '2012-10-17', Statement: [{ Sid: 'Data', Effect: 'Allow', Action: ['s3:*', 'sqs:SendMessage'], Resource: '*' }] },
      { attached: true },
    );
    const { result } = await run(policy.id, FULL, {}, { s3: ['PutObject', 'GetObject'] });
    expect(result.outcome).toBe('remediated');
    expect(await statements(policy.arn)).toEqual([
      { Sid: 'Data', Effect: 'Allow', Action: ['sqs:SendMessage', 's3:GetObject', 's3:PutObject'], Resource: '*' },
    ]);
    expect(result.reason).toContain('replace s3:* with s3:GetObject, s3:PutObject');
    expect(result.reason).toContain('last-accessed data');
    expect(advisor.commandCalls(GenerateServiceLastAccessedDetailsCommand)[0]?.args[0].input).toEqual({
      Arn: policy.arn,
      Granularity: 'ACTION_LEVEL',
    });
  });

  it('removes s3:* when there is no usage data, and S3:* in any case', async () => {
    const policy = await createPolicy(
      { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['S3:*', 'sqs:SendMessage'], Resource: '*' }] },
      { attached: true },
    );
    const { result } = await run(policy.id, FULL, {}, {});
    expect(result.outcome).toBe('remediated');
    expect(await statements(policy.arn)).toEqual([{ Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: '*' }]);
  });

  it('never weakens Deny statements', async () => {
    const policy = await createPolicy({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'NoDeletes', Effect: 'Deny', Action: '*', Resource: 'arn:aws:s3:::vault/*' },
        { Sid: 'Ops', Effect: 'Allow', Action: 'ec2:*', Resource: '*' },
        { Sid: 'Read', Effect: 'Allow', Action: 'ec2:DescribeInstances', Resource: '*' },
      ],
    });
    await run(policy.id, FULL);
    expect(await statements(policy.arn)).toEqual([
      { Sid: 'NoDeletes', Effect: 'Deny', Action: '*', Resource: 'arn:aws:s3:::vault/*' },
      { Sid: 'Read', Effect: 'Allow', Action: 'ec2:DescribeInstances', Resource: '*' },
    ]);
  });

  it('treats an Allow with NotAction as a wildcard: used actions outside the exclusions replace it', async () => {
    const policy = await createPolicy(
      {
        Version: '2012-10-17',
        Statement: [
          { Sid: 'AllButIam', Effect: 'Allow', NotAction: ['iam:*'], Resource: '*' },
          { Effect: 'Deny', NotAction: 's3:GetObject', Resource: '*' },
        ],
      },
      { attached: true },
    );
    const { result } = await run(policy.id, ADMIN, {}, { s3: ['GetObject'], iam: ['CreateUser'] });
    expect(result.outcome).toBe('remediated');
    expect(await statements(policy.arn)).toEqual([
      { Sid: 'AllButIam', Effect: 'Allow', Action: ['s3:GetObject'], Resource: '*' },
      { Effect: 'Deny', NotAction: 's3:GetObject', Resource: '*' },
    ]);
  });

  it('at five versions, deletes the oldest non-default one first and keeps its document in the record', async () => {
    const old = (n: number) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: `Old${n}`, Effect: 'Allow', Action: 'sqs:SendMessage', Resource: '*' }] });
    const policy = await createPolicy(
      { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['*'], Resource: '*' }, { Effect: 'Allow', Action: 'sns:Publish', Resource: '*' }] },
      { versions: [old(1), old(2), old(3), old(4)] },
    );
    expect(await versionIds(policy.arn)).toHaveLength(5);
    const { result, store } = await run(policy.id, ADMIN);
    expect(result).toMatchObject({ outcome: 'remediated', writes: 2 });
    expect(result.calls.filter((call) => call.startsWith('IAM.Delete') || call.startsWith('IAM.Create'))).toEqual(['IAM.DeletePolicyVersion', 'IAM.CreatePolicyVersion']);
    expect(await versionIds(policy.arn)).toEqual(['v2', 'v3', 'v4', 'v5', 'v6']);
    const record = await store.getRecord(result.recordId ?? '');
    expect(record?.steps[0]).toMatchObject({ operation: 'IAM.DeletePolicyVersion', before: { versionId: 'v1', document: old(1) } });
  });

  it('does not create a policy with no statements: it reports instead', async () => {
    const policy = await createPolicy({ Version: '2012-10-17', Statement: { Effect: 'Allow', Action: '*', Resource: '*' } });
    const { result } = await run(policy.id, ADMIN);
    expect(result).toMatchObject({ outcome: 'skipped', writes: 0 });
    expect(result.reason).toContain('no statement');
    expect(await versionIds(policy.arn)).toEqual(['v1']);
  });

  it('reads only for a policy that is already compliant', async () => {
    const policy = await createPolicy({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*' }] });
    const { result } = await run(policy.id, FULL);
    expect(result).toMatchObject({ outcome: 'compliant', writes: 0 });
    expect(result.calls.every((call) => /^IAM\.(List|Get)/.test(call))).toBe(true);
  });

  it('re-running the same event makes no second version', async () => {
    const policy = await createPolicy({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }, { Effect: 'Allow', Action: 'sns:Publish', Resource: '*' }] });
    const { result, store, deps, event } = await run(policy.id, FULL);
    expect(result.outcome).toBe('remediated');
    const again = await processEvent(structuredClone(event), rule, deps, { dryRun: false });
    expect(again).toMatchObject({ writes: 0 });
    const later = await processEvent(configEvent({ rule: FULL, resourceType: 'AWS::IAM::Policy', resourceId: policy.id }), rule, { ...deps, store }, { dryRun: false });
    expect(later).toMatchObject({ outcome: 'compliant', writes: 0 });
    expect(await versionIds(policy.arn)).toEqual(['v1', 'v2']);
  });

  it('expands narrow wildcards from the IAM action catalog when asked to', async () => {
    const policy = await createPolicy({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sqs:Get*', Resource: '*' }] });
    const { result } = await run(policy.id, FULL, { RULE_PARAMS: JSON.stringify({ 'iam-policy-wildcards': { expandNarrowWildcards: true } }) });
    expect(result.outcome).toBe('remediated');
    const [statement] = await statements(policy.arn);
    expect(statement.Action).toEqual(expect.arrayContaining(['sqs:GetQueueAttributes', 'sqs:GetQueueUrl']));
    expect(statement.Action.every((action: string) => action.startsWith('sqs:Get'))).toBe(true);
  });

  it('waits for approval by default', async () => {
    const policy = await createPolicy({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }, { Effect: 'Allow', Action: 'sns:Publish', Resource: '*' }] });
    const { store } = await freshStore();
    const deps = withUsage(localDeps({ store }), null);
    const result = await processEvent(configEvent({ rule: ADMIN, resourceType: 'AWS::IAM::Policy', resourceId: policy.id }), rule, deps, { dryRun: false });
    expect(result).toMatchObject({ outcome: 'pending-approval', writes: 0 });
    expect(await versionIds(policy.arn)).toEqual(['v1']);
  });

  it('skips a policy tagged for exclusion, and a policy id that is not one of this account’s own', async () => {
    const tagged = await createPolicy({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }, { tags: { 'remediation:skip': 'true' } });
    expect((await run(tagged.id, ADMIN)).result).toMatchObject({ outcome: 'skipped', writes: 0 });
    // The id of the AWS-managed AdministratorAccess policy: never among the customer-managed ones.
    const managed = await run('ANPAIWMBCKSKIEE64ZLYK', ADMIN);
    expect(managed.result).toMatchObject({ outcome: 'skipped', writes: 0 });
    expect(managed.result.reason).toContain('AWS-managed policies are never changed');
  });
});

describe('approving an IAM change', () => {
  const approvedEvent = (approvalId: string) => ({
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': 'Remediation Approved',
    source: 'driftfix.approvals',
    account: '111122223333',
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: 'us-east-1',
    resources: [],
    detail: { approvalId, ruleId: 'iam-policy-wildcards' },
  });

  it('applies the approved version once, and shows a statement-level diff in the request', async () => {
    const policy = await createPolicy(
      { Version: '2012-10-17', Statement: [{ Sid: 'Ops', Effect: 'Allow', Action: ['ec2:*', 'logs:PutLogEvents'], Resource: '*' }] },
      { attached: true },
    );
    const { store } = await freshStore();
    const deps = withUsage(localDeps({ store }), { ec2: ['DescribeInstances', 'StartInstances'] });
    const pending = await processEvent(configEvent({ rule: FULL, resourceType: 'AWS::IAM::Policy', resourceId: policy.id }), rule, deps, { dryRun: false });
    expect(pending.outcome).toBe('pending-approval');
    const approval = await store.getApproval(pending.approvalId ?? '');
    const message = recordMessage({ record: (await store.getRecord(pending.recordId ?? '')) as ChangeRecord, ruleTitle: rule.title, risk: 'high', approvalId: approval?.approvalId ?? '' });
    const text = JSON.stringify(message.blocks);
    expect(text).toContain('statement \\"Ops\\": replace ec2:* with ec2:DescribeInstances, ec2:StartInstances');
    expect(text).toContain('IAM last-accessed data');

    const decided = await decideApproval(store, { approvalId: approval?.approvalId ?? '', decision: 'approve', by: 'U0APPROVER1', now: Date.now(), suppressionDays: 30 });
    expect(decided.kind).toBe('decided');
    const applied = await processEvent(approvedEvent(approval?.approvalId ?? ''), rule, deps, { dryRun: false });
    expect(applied).toMatchObject({ outcome: 'remediated', writes: 1 });
    const again = await processEvent(approvedEvent(approval?.approvalId ?? ''), rule, deps, { dryRun: false });
    expect(again.writes).toBe(0);
    expect(await versionIds(policy.arn)).toEqual(['v1', 'v2']);
    expect(await statements(policy.arn)).toEqual([
      { Sid: 'Ops', Effect: 'Allow', Action: ['logs:PutLogEvents', 'ec2:DescribeInstances', 'ec2:StartInstances'], Resource: '*' },
    ]);
    expect((await store.getRecord(applied.recordId ?? ''))?.decidedBy).toBe('U0APPROVER1');
  });
});
