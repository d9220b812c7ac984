
import { ConfigServiceClient, DeleteConfigRuleCommand } from '@aws-sdk/client-config-service';
import { type AccessAnalyzerClient, GetGeneratedPolicyCommand, ListPolicyGenerationsCommand, StartPolicyGenerationCommand } from '@aws-sdk/client-accessanalyzer';
import {
  AttachGroupPolicyCommand,
  AttachRolePolicyCommand,
  CreateGroupCommand,
  CreateRoleCommand,
  GenerateServiceLastAccessedDetailsCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetServiceLastAccessedDetailsCommand,
  IAMClient,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needsRetry } from '../../core/aws/lambda.ts';
import { decideApproval } from '../../core/engine/decide.ts';
import { rollbackRecord } from '../../core/engine/rollback.ts';
import { type ChangeRecord, type Finding, recordIdFor } from '../../core/model/index.ts';
import { recordMessage } from '../../core/slack/messages.ts';
import rule, { type IamPolicyWildcardsState, MAX_POLICY_SIZE, policySize } from '../../rules/iam-policy-wildcards.ts';
import { replayEvent } from '../../scripts/lib/replay-files.ts';
import type { DeploymentOptions } from '../../serverless/options.ts';
import { roleLogicalId, roleResources, type Statement } from '../../serverless/roles.ts';
import { ACCOUNT, afterTheFix, approvedEvent, configEvent, OTHER_ACCOUNT, REGION, securityHubEvent } from '../support/events.ts';
import { createPolicy, defaultDocument, defaultStatements, editPolicy, LAST_USED, testIam, versionIds } from '../support/iam.ts';
import { createConfigRule, localRuntime, motoEndpoint, uniqueName } from '../support/local-aws.ts';

const ADMIN = 'IAM_POLICY_NO_STATEMENTS_WITH_ADMIN_ACCESS';
const FULL = 'IAM_POLICY_NO_STATEMENTS_WITH_FULL_ACCESS';
const ARN = `arn:aws:iam::${ACCOUNT}:policy/team/app-policy`;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

type Runtime = Awaited<ReturnType<typeof localRuntime>>;
type Usage = NonNullable<IamPolicyWildcardsState['usage']>;

const doc = (...Statement: unknown[]) => ({ Version: '2012-10-17', Statement });
const allow = (Action: unknown, extra: Record<string, unknown> = {}) => ({ Effect: 'Allow', Action, Resource: '*', ...extra });

const USED = '2026-10-01T00:00:00.000Z';
const REPORTED = '2026-11-20T00:00:00.000Z';
/** Tracked services with the actions used; `untracked` services used with no tracked action. */
function usage(tracked: Record<string, string[]>, untracked: string[] = []): Usage {
  const services: Usage['services'] = {};
  for (const [service, actions] of Object.entries(tracked)) services[service] = { lastUsed: USED, actions: Object.fromEntries(actions.map((action) => [action, USED])) };
  for (const service of untracked) services[service] = { lastUsed: USED, actions: {} };
  return { services, trackingPeriodDays: 400, reportedAt: REPORTED };
}

const POLICY: IamPolicyWildcardsState['policy'] = {
  arn: ARN,
  id: 'ANPAEXAMPLE000000001',
  name: 'app-policy',
  defaultVersionId: 'v1',
  attachmentCount: 1,
  boundaryCount: 0,
  changedAt: '2026-01-01T00:00:00.000Z',
};

/** A policy attached to role `app`, unchanged since January, with the usage given (none used unless given). */
function state(document: unknown, extra: Partial<IamPolicyWildcardsState> = {}): IamPolicyWildcardsState {
  return {
    policy: POLICY,
    document: typeof document === 'string' ? document : JSON.stringify(document, null, 2),
    versions: [{ versionId: 'v1', isDefault: true, createDate: '2026-01-01T00:00:00.000Z' }],
    versionToDelete: null,
    usage: usage({}),
    attachedTo: { roles: ['app'], users: [], groups: [] },
    expansions: {},
    ...extra,
  };
}

const finding: Finding = {
  eventId: 'e-1',
  reporter: 'config',
  replayed: false,
  account: ACCOUNT,
  region: REGION,
  time: '2026-11-20T09:14:03Z',
  resourceType: 'AWS::IAM::Policy',
  resourceId: 'ANPAEXAMPLE000000001',
  trigger: { kind: 'config-rule', configRuleName: 'admin-access', identifier: ADMIN, complianceType: 'NON_COMPLIANT' },
};
const params = { expandNarrowWildcards: false };

function changeOf(plan: ReturnType<typeof rule.plan>) {
  if (plan.status !== 'change') throw new Error(`expected a change, got ${plan.status}: ${plan.summary}`);
  return plan;
}
const newDocument = (plan: ReturnType<typeof changeOf>) => JSON.parse(String(plan.steps.at(-1)?.input.PolicyDocument));

const ATTACHED = 'the policy is attached to role app: each loses what the new version no longer allows';
const RECENT = "uses in the last four hours are not yet in IAM's data: anything first used after 2026-11-19 20:00 UTC is not kept";
const PASS_ROLE = 'iam:PassRole (never recorded by IAM or CloudTrail; kept)';
const DATA_PLANE = "data-plane actions never in IAM's last-accessed data or in policy generation";

describe('plan (pure)', () => {
  it('removes an unused service’s statement, keeping the others in order with their Sids, resources and conditions; undone by the old default version', () => {
    const before = state(
      doc(
        { Sid: 'ReadReports', Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::reports/*' },
        { Sid: 'Keys', Effect: 'Allow', Action: 'kms:*', Resource: '*' },
        { Sid: 'OnlyFromVpn', Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } },
      ),
    );
    const plan = changeOf(rule.plan(before, params, finding));
    expect(plan.steps).toHaveLength(1);
    const [step] = plan.steps;
    expect(step).toMatchObject({
      operation: 'IAM.CreatePolicyVersion',
      input: { PolicyArn: ARN, SetAsDefault: true },
      before: { defaultVersionId: 'v1', document: before.document },
      undo: { operation: 'IAM.SetDefaultPolicyVersion', input: { PolicyArn: ARN, VersionId: 'v1' } },
    });
    expect(newDocument(plan).Statement).toEqual([
      { Sid: 'ReadReports', Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::reports/*' },
      { Sid: 'OnlyFromVpn', Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } },
    ]);
    // The layout of the document is kept: two-space JSON stays two-space JSON.
    expect(step?.input.PolicyDocument).toBe(JSON.stringify(newDocument(plan), null, 2));
    expect(step?.description).toBe(
      'new default version of app-policy (ANPAEXAMPLE000000001), v1 kept for rollback:\n' +
        'statement "Keys": remove kms:*, and with it the statement, which allows nothing else (no recorded use in IAM last-accessed data for the last 400 days)',
    );
    // Approve mode and high risk come from the rule, not from the plan.
    expect(plan.approvalReason).toBeUndefined();
    expect(plan.risks).toEqual([ATTACHED, RECENT]);
  });

  it('replaces service:* with the actions last-accessed data shows used, and says so; a used data-plane service keeps its wildcard', () => {
    const plan = changeOf(rule.plan(state(doc(allow(['ec2:*', 's3:*', 'sqs:SendMessage'], { Sid: 'Data' })), { usage: usage({ ec2: ['ec2:RunInstances', 'ec2:DescribeVpcs'], s3: ['s3:CreateBucket'] }) }), params, finding));
    expect(newDocument(plan).Statement).toEqual([allow(['s3:*', 'sqs:SendMessage', 'ec2:DescribeVpcs', 'ec2:RunInstances'], { Sid: 'Data' })]);
    const s3 = "used on 2026-10-01; its data-plane actions (data events on AWS::S3::Object, AWS::S3::AccessPoint, AWS::FSx::Volume) are never in IAM's last-accessed data or in policy generation";
    expect(plan.summary).toBe(`statement "Data": replace ec2:* with ec2:DescribeVpcs, ec2:RunInstances per IAM last-accessed (action level); s3:* stays (${s3}); still broad: s3:* in statement "Data" (${s3})`);
    expect(plan.risks?.[0]).toBe(`used, so kept as they are, not narrowed: s3:* (${DATA_PLANE}); why, service by service, is in the proposed change`);
  });

  it('never touches Deny statements, nor narrow wildcards unless asked to expand them', () => {
    expect(rule.plan(state(doc({ Effect: 'Deny', Action: '*', Resource: '*' }, allow('ec2:Describe*'))), params, finding).status).toBe('compliant');
    const plan = changeOf(rule.plan(state(doc({ Sid: 'NoDeletes', Effect: 'Deny', Action: '*', Resource: 'arn:aws:s3:::vault/*' }, allow('ec2:*'), allow('ec2:Describe*'))), params, finding));
    expect(newDocument(plan).Statement).toEqual([{ Sid: 'NoDeletes', Effect: 'Deny', Action: '*', Resource: 'arn:aws:s3:::vault/*' }, allow('ec2:Describe*')]);
  });

  it('treats Allow with NotAction as a wildcard: the used actions outside its exclusions replace it (and iam:PassRole where not excluded)', () => {
    const before = state(doc({ Sid: 'AllButIam', Effect: 'Allow', NotAction: ['iam:*'], Resource: '*' }, allow('sns:Publish')), { usage: usage({ ec2: ['ec2:RunInstances'], iam: ['iam:CreateUser'] }) });
    expect(newDocument(changeOf(rule.plan(before, params, finding))).Statement).toEqual([{ Sid: 'AllButIam', Effect: 'Allow', Action: ['ec2:RunInstances'], Resource: '*' }, allow('sns:Publish')]);
    const keys = state(doc({ Sid: 'AllButKeys', Effect: 'Allow', NotAction: 'kms:*', Resource: '*' }), { usage: usage({ ec2: ['ec2:RunInstances'] }) });
    expect(newDocument(changeOf(rule.plan(keys, params, finding))).Statement).toEqual([{ Sid: 'AllButKeys', Effect: 'Allow', Action: ['ec2:RunInstances', 'iam:PassRole'], Resource: '*' }]);
  });

  it('replaces * with what was used and iam:PassRole, which nothing records, saying so in the step and the risks', () => {
    const plan = changeOf(rule.plan(state(doc(allow('*', { Sid: 'Admin' })), { usage: usage({ ec2: ['ec2:RunInstances'] }) }), params, finding));
    expect(newDocument(plan).Statement).toEqual([allow(['ec2:RunInstances', 'iam:PassRole'], { Sid: 'Admin' })]);
    expect(plan.summary).toBe(`statement "Admin": replace * with ec2:RunInstances per IAM last-accessed (action level); ${PASS_ROLE}`);
    expect(plan.risks).toEqual([
      ATTACHED,
      "narrowed to the actions on record: ec2 (IAM last-accessed (action level)); this assumes these services have no action that IAM's last-accessed data and policy generation leave out (AWS's list of services with data events, which are never narrowed, says which have): such an action, if used, is no longer allowed",
      'iam:PassRole is kept in place of the wildcard in statement "Admin": IAM and CloudTrail never record it, so whether it is used cannot be told; it still allows passing any role the statement\'s resources cover',
      RECENT,
    ]);
  });

  it('with five versions, first deletes the oldest non-default one, keeping its document in the step; that step is not undone', () => {
    const before = state(doc(allow('kms:*'), allow('sns:Publish')), {
      policy: { ...POLICY, defaultVersionId: 'v5' },
      versionToDelete: { versionId: 'v1', document: '{"Version":"2012-10-17","Statement":[]}' },
    });
    const plan = changeOf(rule.plan(before, params, finding));
    expect(plan.steps.map((step) => step.operation)).toEqual(['IAM.DeletePolicyVersion', 'IAM.CreatePolicyVersion']);
    expect(plan.steps[0]).toMatchObject({
      input: { PolicyArn: ARN, VersionId: 'v1' },
      before: { versionId: 'v1', document: '{"Version":"2012-10-17","Statement":[]}' },
      after: null,
      undo: null,
    });
    expect(plan.steps[1]?.undo).toEqual({ operation: 'IAM.SetDefaultPolicyVersion', input: { PolicyArn: ARN, VersionId: 'v5' } });
  });

  it('does not plan a policy with no statement left: unfixable, with the reason', () => {
    expect(rule.plan(state(doc(allow('kms:*'))), params, finding)).toMatchObject({
      status: 'unfixable',
      summary: expect.stringContaining('would leave policy app-policy with no statement'),
    });
  });

  it('does not plan a version over IAM’s size limit (6,144 characters, white space not counted): unfixable, and no version is deleted first', () => {
    // `*` of a policy whose principals used several hundred tracked actions.
    const many = Array.from({ length: 400 }, (_, index) => `ec2:Action${String(index).padStart(3, '0')}`);
    const before = state(doc(allow('*', { Sid: 'Admin' })), { usage: usage({ ec2: many }), versionToDelete: { versionId: 'v1', document: '{}' } });
    const plan = rule.plan(before, params, finding);
    expect(plan).toEqual({
      status: 'unfixable',
      summary: expect.stringMatching(/^the new version of policy app-policy would be \d+ characters without whitespace, over IAM's limit of 6144 for a managed policy, so it was left as it is$/),
    });
    expect(MAX_POLICY_SIZE).toBe(6144);
    expect(policySize(JSON.stringify(doc(allow('*')), null, 4))).toBe(JSON.stringify(doc(allow('*'))).length);
  });

  it('expands narrow wildcards from the catalog when the state carries expansions, saying what that cannot foresee', () => {
    const plan = changeOf(
      rule.plan(state(doc(allow('sqs:Get*')), { usage: null, expansions: { 'sqs:get*': ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl'] } }), { expandNarrowWildcards: true }, finding),
    );
    expect(newDocument(plan).Statement).toEqual([allow(['sqs:GetQueueAttributes', 'sqs:GetQueueUrl'])]);
    expect(plan.summary).toContain('per the IAM action catalog (narrow wildcards expanded)');
    expect(plan.risks).toEqual([ATTACHED, 'sqs:Get* replaced by the actions the IAM action catalog lists today: actions AWS adds to them later are not allowed']);
  });

  it('keeps the grant of a used service IAM tracks no actions of, and names what stays broad in the summary, the step and the risks', () => {
    const before = state(doc(allow(['ecr:*', 'kms:*', 'ec2:*'], { Sid: 'App' })), { usage: usage({ ec2: ['ec2:RunInstances'] }, ['ecr']) });
    const plan = changeOf(rule.plan(before, params, finding));
    expect(newDocument(plan).Statement).toEqual([allow(['ecr:*', 'ec2:RunInstances'], { Sid: 'App' })]);
    const stays = 'still broad: ecr:* in statement "App" (used on 2026-10-01, and IAM tracked none of the actions used)';
    expect(plan.summary).toBe(
      `statement "App": replace kms:*, ec2:* with ec2:RunInstances per IAM last-accessed (action level); ecr:* stays (used on 2026-10-01, and IAM tracked none of the actions used); ${stays}`,
    );
    expect(plan.steps[0]?.description.split('\n').at(-1)).toBe(stays);
    expect(plan.risks?.slice(0, 2)).toEqual(['used, so kept as they are, not narrowed: ecr:* (IAM did not track every action used); why, service by service, is in the proposed change', ATTACHED]);
    expect(plan.approvalReason).toBeUndefined();
  });

  it('when nothing can be narrowed safely, changes nothing and says so: settled (recorded as skipped; done after a partial fix), naming what stays broad', () => {
    const plan = rule.plan(state(doc(allow('sqs:*', { Sid: 'Queues' })), { usage: usage({}, ['sqs']) }), params, finding);
    expect(plan).toEqual({
      status: 'unfixable',
      settled: true,
      summary:
        "policy app-policy (default version v1): 1 Allow statement(s) grant sqs:*; nothing can be narrowed safely, still broad: sqs:* in statement \"Queues\" (used on 2026-10-01; its data-plane actions (data events on AWS::SQS::Queue) are never in IAM's last-accessed data or in policy generation)",
    });
  });

  it('a service removed although used before the tracking period asks a person even in auto mode, and is named among the risks', () => {
    const used = usage({ ec2: ['ec2:CreateTags'] });
    used.services.kms = { lastUsed: '2025-06-01T00:00:00.000Z', actions: {} };
    const plan = changeOf(rule.plan(state(doc(allow(['ec2:*', 'kms:*'], { Sid: 'Ops' })), { usage: used }), params, finding));
    expect(newDocument(plan).Statement).toEqual([allow(['ec2:CreateTags'], { Sid: 'Ops' })]);
    expect(plan.approvalReason).toBe('access to kms is removed although IAM saw it used before its tracking period');
    expect(plan.risks?.[0]).toBe("access removed although used, longer ago than IAM's 400-day tracking period: kms (last used 2025-06-01)");
  });

  it('names statements unambiguously where Sids repeat', () => {
    const plan = changeOf(rule.plan(state(doc(allow('kms:*', { Sid: 'A' }), allow(['kms:*', 'sns:Publish'], { Sid: 'A' }))), params, finding));
    expect(plan.summary).toBe(
      'statement "A" (#1): remove kms:*, and with it the statement, which allows nothing else (no recorded use in IAM last-accessed data for the last 400 days); statement "A" (#2): remove kms:* (no recorded use in IAM last-accessed data for the last 400 days)',
    );
  });

  it('a policy changed less than four hours before IAM’s report is too recent to judge: not settled, the next evaluation acts', () => {
    const recent = { ...POLICY, changedAt: '2026-11-19T22:30:00.000Z' };
    expect(rule.plan(state(doc(allow(['kms:*', 'sns:Publish'])), { policy: recent }), params, finding)).toEqual({
      status: 'unfixable',
      summary:
        "too recent to judge: the policy changed at 2026-11-19T22:30:00.000Z, less than four hours before IAM's report of 2026-11-20T00:00:00.000Z, and recent activity usually takes up to four hours to appear in it; the next evaluation acts",
    });
    // What the bot itself just left (nothing more to narrow) is settled all the same: verification after a change passes.
    expect(rule.plan(state(doc(allow(['sqs:*', 'sns:Publish'])), { policy: recent, usage: usage({}, ['sqs']) }), params, finding)).toMatchObject({ status: 'unfixable', settled: true });
    // Expanding narrow wildcards rests on the catalog, not on usage.
    expect(rule.plan(state(doc(allow('sqs:Get*')), { policy: recent, usage: null, expansions: { 'sqs:get*': ['sqs:GetQueueUrl'] } }), params, finding).status).toBe('change');
  });

  it('leaves a policy attached to nothing as it is: no evidence of what it is used for (unfixable, recorded as skipped)', () => {
    expect(rule.plan(state(doc(allow('*')), { policy: { ...POLICY, attachmentCount: 0 }, usage: null, attachedTo: null }), params, finding)).toEqual({
      status: 'unfixable',
      summary: 'policy app-policy is attached to no user, group or role: no evidence of what it is used for (it may be used as a session policy); left as it is',
    });
  });

  it('leaves a permissions boundary as it is: IAM last-accessed data leaves boundaries out (unfixable, recorded as skipped)', () => {
    const boundary = state(doc(allow('*')), { policy: { ...POLICY, boundaryCount: 3 } });
    expect(rule.plan(boundary, params, finding)).toEqual({
      status: 'unfixable',
      summary:
        'policy app-policy is the permissions boundary of 3 user(s) or role(s), which IAM last-accessed data leaves out: narrowing it could cut access they use, so it was left as it is',
    });
    // Nor are its narrow wildcards expanded.
    const narrow = state(doc(allow('ec2:Describe*')), { policy: { ...POLICY, boundaryCount: 3 }, expansions: { 'ec2:describe*': ['ec2:DescribeVpcs'] } });
    expect(rule.plan(narrow, { expandNarrowWildcards: true }, finding).status).toBe('compliant');
  });

  it.each([
    ['a permissions boundary, even with expandNarrowWildcards', { AttachmentCount: 1, PermissionsBoundaryUsageCount: 2 }, { expandNarrowWildcards: true }, 'compliant'],
    ['a policy attached to nothing', { AttachmentCount: 0, PermissionsBoundaryUsageCount: 0 }, { expandNarrowWildcards: false }, 'unfixable'],
  ])('reads nothing more of %s than its document: no versions, no usage', async (_name, counts, options, status) => {
    const client = new IAMClient({ region: REGION });
    const iam = mockClient(client);
    iam.on(GetPolicyCommand).resolves({ Policy: { Arn: ARN, PolicyId: 'ANPAEXAMPLE000000001', PolicyName: 'app-policy', DefaultVersionId: 'v1', ...counts } });
    iam.on(GetPolicyVersionCommand).resolves({ PolicyVersion: { Document: encodeURIComponent(JSON.stringify(doc(allow(status === 'compliant' ? 'ec2:Describe*' : '*')))) } });
    const clients = { iam: client, iamAccessAdvisor: client, accessAnalyzer: client } as never;
    const read = await rule.readState({ clients, target: { account: ACCOUNT, region: REGION, resourceId: ARN }, params: options, finding });
    expect(read).toMatchObject({ usage: null, attachedTo: null, versions: [], expansions: {} });
    expect(iam.calls().map((call) => (call.args[0] as object).constructor.name)).toEqual(['GetPolicyCommand', 'GetPolicyVersionCommand']);
    expect(rule.plan(read, options, finding).status).toBe(status);
  });

  it('notes when the policy last changed: the later of its UpdateDate and its default version’s CreateDate', async () => {
    const client = new IAMClient({ region: REGION });
    const iam = mockClient(client);
    iam.on(GetPolicyCommand).resolves({
      Policy: { Arn: ARN, PolicyId: 'ANPAEXAMPLE000000001', PolicyName: 'app-policy', DefaultVersionId: 'v2', AttachmentCount: 0, UpdateDate: new Date('2026-03-01T00:00:00Z') },
    });
    iam.on(GetPolicyVersionCommand).resolves({ PolicyVersion: { Document: JSON.stringify(doc(allow('*'))), CreateDate: new Date('2026-05-01T00:00:00Z') } });
    const clients = { iam: client, iamAccessAdvisor: client, accessAnalyzer: client } as never;
    const read = await rule.readState({ clients, target: { account: ACCOUNT, region: REGION, resourceId: ARN }, params, finding });
    expect(read.policy.changedAt).toBe('2026-05-01T00:00:00.000Z');
  });

  it('describes, fingerprints and names the policy by its ARN', () => {
    const broad = state(doc(allow(['s3:*', 'sqs:*']), { Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }));
    expect(rule.describe(broad)).toBe('policy app-policy (default version v1): 2 Allow statement(s) grant s3:*, sqs:*; NotAction');
    expect(rule.describe(state(doc(allow('s3:GetObject'))))).toBe('policy app-policy (default version v1): no Allow statement grants * or service:*');
    expect(rule.fingerprint?.(broad)).toEqual({ defaultVersionId: 'v1', document: broad.document });
    expect(rule.canonicalId?.(broad)).toBe(ARN);
  });

  it('takes expandNarrowWildcards (off by default), policyGeneration (off unless given) and nothing else', () => {
    expect(rule.params.parse({})).toEqual({ expandNarrowWildcards: false });
    expect(rule.params.safeParse({ expandNarrowWildcards: 'yes' }).success).toBe(false);
    expect(rule.params.safeParse({ keepDeny: true }).success).toBe(false);
  });
});

/**
 * moto has no IAM last-accessed data: the given client instance alone is faked. `used` maps a service
 * to the tracked actions its report shows used (each service also reports `DeleteBucket` tracked and
 * never used, which must never be granted); `serviceLevelOnly` lists services used with no action
 * tracked. The first status read is IN_PROGRESS, as IAM's is while it prepares the report. moto's
 * policies are seconds old: unless `reportedIn` says otherwise, the report is dated five hours on, as
 * it would be for a policy left alone that long (a younger one is too recent to judge).
 */
function fakeAdvisor(client: IAMClient, used: Record<string, string[]>, options: { serviceLevelOnly?: string[]; reportedIn?: number } = {}) {
  const advisor = mockClient(client);
  const reportedAt = new Date(Date.now() + (options.reportedIn ?? 5 * HOUR));
  advisor.on(GenerateServiceLastAccessedDetailsCommand).resolves({ JobId: 'job-00000001' });
  advisor
    .on(GetServiceLastAccessedDetailsCommand)
    .resolvesOnce({ JobStatus: 'IN_PROGRESS', JobCreationDate: reportedAt, ServicesLastAccessed: [] })
    .resolves({
      JobStatus: 'COMPLETED',
      JobCreationDate: reportedAt,
      JobCompletionDate: reportedAt,
      ServicesLastAccessed: [
        ...Object.entries(used).map(([service, actions]) => ({
          ServiceName: service,
          ServiceNamespace: service,
          LastAuthenticated: LAST_USED,
          TrackedActionsLastAccessed: [...actions.map((ActionName) => ({ ActionName, LastAccessedTime: LAST_USED })), { ActionName: 'DeleteBucket' }],
        })),
        ...(options.serviceLevelOnly ?? []).map((service) => ({ ServiceName: service, ServiceNamespace: service, LastAuthenticated: LAST_USED })),
      ],
    });
  return advisor;
}

describe('against moto (IAM last-accessed data faked: moto has none)', () => {
  let runtime: Runtime;
  const fullRule = uniqueName('securityhub-iam-policy-no-statements-with-full-access');
  const adminRule = uniqueName('org-admin-access-check');

  beforeAll(async () => {
    runtime = await localRuntime();
    await createConfigRule(fullRule, FULL);
    await createConfigRule(adminRule, ADMIN);
  });
  afterAll(async () => {
    const config = new ConfigServiceClient({ region: REGION, endpoint: motoEndpoint() });
    for (const name of [fullRule, adminRule]) await config.send(new DeleteConfigRuleCommand({ ConfigRuleName: name }));
  });

  /** A runtime of its own (the same table), its access-advisor client faked with this usage. */
  async function withUsage(used: Record<string, string[]>, options: { serviceLevelOnly?: string[]; reportedIn?: number; env?: Record<string, string> } = {}) {
    const own = await localRuntime({ table: runtime.table, env: { RULE_MODES: `${rule.id}=auto`, ...options.env } });
    await own.factory.forRule(rule);
    const advisor = fakeAdvisor(own.factory.loadedFor(rule).iamAccessAdvisor as IAMClient, used, options);
    return { runtime: own, advisor };
  }
  const policyEvent = (policyId: string, configRuleName = fullRule) => configEvent({ configRuleName, resourceType: 'AWS::IAM::Policy', resourceId: policyId });
  const record = async (recordId: string | undefined, on: Runtime = runtime) => on.ledger?.getRecord(recordId ?? '');
  const rollback = async (on: Runtime, recordId: string | undefined, force = false) => {
    await afterTheFix();
    await on.factory.forRule(rule);
    return rollbackRecord(recordId ?? '', on.deps, { force, by: 'cli:test' });
  };

  it('leaves a policy attached to nothing as it is, reading only its tags and document: skipped, nothing written, IAM not asked', async () => {
    const { runtime: auto, advisor } = await withUsage({});
    const policy = await createPolicy(doc(allow('*', { Sid: 'Everything' }), allow('sns:Publish', { Sid: 'Alerts' })));
    const result = await replayEvent(policyEvent(policy.id, adminRule), auto, { apply: true });
    expect(result).toMatchObject({ outcome: 'skipped', writes: 0, calls: ['IAM.ListPolicies', 'IAM.ListPolicyTags', 'IAM.GetPolicy', 'IAM.GetPolicyVersion'] });
    expect(result.reason).toContain(`policy ${policy.name} is attached to no user, group or role: no evidence of what it is used for (it may be used as a session policy); left as it is`);
    expect(advisor.calls()).toHaveLength(0);
    expect(await versionIds(policy.arn)).toEqual(['v1']);
  });

  it('narrows an attached policy’s * grant: tags, reads, usage, one new default version, verify; a redelivery is a duplicate; later findings read only', async () => {
    const { runtime: auto, advisor } = await withUsage({ ec2: ['RunInstances'] });
    const policy = await createPolicy(doc(allow('*', { Sid: 'Everything' }), allow('sns:Publish', { Sid: 'Alerts' })), { attached: true });
    const event = policyEvent(policy.id, adminRule);
    const result = await replayEvent(event, auto, { apply: true });
    expect(result).toMatchObject({ outcome: 'remediated', rule: rule.id, resource: `AWS::IAM::Policy/${policy.arn}`, writes: 1 });
    // IAM's report (GenerateServiceLastAccessedDetails, GetServiceLastAccessedDetails) goes through the faked advisor client.
    expect(result.calls).toEqual([
      'IAM.ListPolicies',
      'IAM.ListPolicyTags',
      'IAM.GetPolicy',
      'IAM.GetPolicyVersion',
      'IAM.ListPolicyVersions',
      'IAM.ListEntitiesForPolicy',
      'IAM.CreatePolicyVersion',
      'IAM.GetPolicy',
      'IAM.GetPolicyVersion',
    ]);
    expect(advisor.commandCalls(GenerateServiceLastAccessedDetailsCommand)).toHaveLength(1);
    expect(await defaultStatements(policy.arn)).toEqual([allow(['ec2:RunInstances', 'iam:PassRole'], { Sid: 'Everything' }), allow('sns:Publish', { Sid: 'Alerts' })]);
    expect(await versionIds(policy.arn)).toEqual(['v1', 'v2']);
    const stored = await record(result.recordId, auto);
    expect(stored?.trigger).toMatchObject({ configRuleName: adminRule, identifier: ADMIN });
    expect(stored?.steps[0]?.undo).toEqual({ operation: 'IAM.SetDefaultPolicyVersion', input: { PolicyArn: policy.arn, VersionId: 'v1' } });
    expect(stored?.before?.summary).toBe(`policy ${policy.name} (default version v1): 1 Allow statement(s) grant *`);
    expect(stored?.after?.summary).toBe(`policy ${policy.name} (default version v2): no Allow statement grants * or service:*`);

    const again = await replayEvent(structuredClone(event), auto, { apply: true });
    expect(again).toMatchObject({ outcome: 'remediated', duplicate: true, writes: 0, recordId: result.recordId });
    const later = await replayEvent(policyEvent(policy.id, adminRule), auto, { apply: true });
    expect(later).toMatchObject({ outcome: 'compliant', writes: 0 });
    expect(later.calls.every((call) => /^IAM\.(List|Get)/.test(call))).toBe(true);
    expect(later.calls).not.toContain('IAM.ListPolicyVersions');
    expect(await versionIds(policy.arn)).toEqual(['v1', 'v2']);
  });

  it('a policy changed less than four hours before IAM’s report is too recent to judge: skipped, not settled, nothing written', async () => {
    const { runtime: auto } = await withUsage({}, { reportedIn: 0 });
    const policy = await createPolicy(doc(allow(['kms:*', 'sns:Publish'])), { attached: true });
    const result = await replayEvent(policyEvent(policy.id), auto, { apply: true });
    expect(result).toMatchObject({ outcome: 'skipped', writes: 0 });
    expect(result.reason).toContain('too recent to judge: the policy changed at');
    expect(result.reason).toContain('the next evaluation acts');
    expect(await versionIds(policy.arn)).toEqual(['v1']);
  });

  it('replaces ec2:* on an attached policy with the actions IAM last-accessed data shows used; a used s3:* stays', async () => {
    const { runtime: auto, advisor } = await withUsage({ ec2: ['RunInstances', 'DescribeInstances'], s3: ['PutObject'] });
    const policy = await createPolicy(doc(allow(['ec2:*', 's3:*', 'sqs:SendMessage'], { Sid: 'Data' })), { attached: true });
    const result = await replayEvent(policyEvent(policy.id), auto, { apply: true });
    expect(result).toMatchObject({ outcome: 'remediated', writes: 1 });
    expect(await defaultStatements(policy.arn)).toEqual([allow(['s3:*', 'sqs:SendMessage', 'ec2:DescribeInstances', 'ec2:RunInstances'], { Sid: 'Data' })]);
    expect(result.reason).toContain('statement "Data": replace ec2:* with ec2:DescribeInstances, ec2:RunInstances per IAM last-accessed (action level); s3:* stays (used on 2026-10-01; its data-plane actions');
    // Who it is attached to is read with the usage.
    expect(result.calls).toContain('IAM.ListEntitiesForPolicy');
    expect(advisor.commandCalls(GenerateServiceLastAccessedDetailsCommand).map((call) => call.args[0].input)).toEqual([{ Arn: policy.arn, Granularity: 'ACTION_LEVEL' }]);
    // IAM prepares the report: asked until it is COMPLETED.
    expect(advisor.commandCalls(GetServiceLastAccessedDetailsCommand).map((call) => call.args[0].input)).toEqual([{ JobId: 'job-00000001' }, { JobId: 'job-00000001' }]);
  });

  it('removes KMS:* (any case) when nothing used it; an action the IAM action catalog does not know keeps the wildcard', async () => {
    const { runtime: auto } = await withUsage({});
    const policy = await createPolicy(doc(allow(['KMS:*', 'sqs:SendMessage'])), { attached: true });
    const result = await replayEvent(policyEvent(policy.id), auto, { apply: true });
    expect(result).toMatchObject({ outcome: 'remediated', writes: 1 });
    expect(await defaultStatements(policy.arn)).toEqual([allow(['sqs:SendMessage'])]);

    const { runtime: unknown } = await withUsage({ ec2: ['RunInstances', 'NotARealAction'] });
    const other = await createPolicy(doc(allow(['EC2:*', 'sqs:SendMessage'])), { attached: true });
    const kept = await replayEvent(policyEvent(other.id), unknown, { apply: true });
    expect(kept).toMatchObject({ outcome: 'skipped', writes: 0 });
    expect(kept.reason).toContain('IAM reported ec2:NotARealAction, which the IAM action catalog does not know');
    expect(await versionIds(other.arn)).toEqual(['v1']);
  });

  it('keeps Deny statements and narrow wildcards as they are', async () => {
    const { runtime: auto } = await withUsage({});
    const deny = { Sid: 'NoDeletes', Effect: 'Deny', Action: '*', Resource: 'arn:aws:s3:::vault/*' };
    const policy = await createPolicy(doc(deny, allow('ec2:*', { Sid: 'Ops' }), allow('ec2:Describe*', { Sid: 'Read' })), { attached: true });
    expect((await replayEvent(policyEvent(policy.id), auto, { apply: true })).outcome).toBe('remediated');
    expect(await defaultStatements(policy.arn)).toEqual([deny, allow('ec2:Describe*', { Sid: 'Read' })]);
  });

  it('turns an Allow with NotAction into the used actions outside its exclusions; the Deny NotAction stays', async () => {
    const { runtime: auto } = await withUsage({ ec2: ['RunInstances'], iam: ['CreateUser'] });
    const policy = await createPolicy(doc({ Sid: 'AllButIam', Effect: 'Allow', NotAction: ['iam:*'], Resource: '*' }, { Effect: 'Deny', NotAction: 's3:GetObject', Resource: '*' }), {
      attached: true,
    });
    expect((await replayEvent(policyEvent(policy.id, adminRule), auto, { apply: true })).outcome).toBe('remediated');
    expect(await defaultStatements(policy.arn)).toEqual([
      { Sid: 'AllButIam', Effect: 'Allow', Action: ['ec2:RunInstances'], Resource: '*' },
      { Effect: 'Deny', NotAction: 's3:GetObject', Resource: '*' },
    ]);
  });

  it('at five versions, deletes the oldest non-default one first (its document kept in the record); a rollback makes the old default the default again', async () => {
    const { runtime: auto } = await withUsage({});
    const old = (n: number) => JSON.stringify(doc(allow('sqs:SendMessage', { Sid: `Old${n}` })));
    const original = doc(allow(['kms:*']), allow('sns:Publish'));
    const policy = await createPolicy(original, { versions: [old(1), old(2), old(3), old(4)], attached: true });
    expect(await versionIds(policy.arn)).toEqual(['v1', 'v2', 'v3', 'v4', 'v5']);

    const result = await replayEvent(policyEvent(policy.id, adminRule), auto, { apply: true });
    expect(result).toMatchObject({ outcome: 'remediated', writes: 2 });
    expect(result.calls.filter((call) => /^IAM\.(Create|Delete|Set)/.test(call))).toEqual(['IAM.DeletePolicyVersion', 'IAM.CreatePolicyVersion']);
    expect(await versionIds(policy.arn)).toEqual(['v2', 'v3', 'v4', 'v5', 'v6']);
    expect(await defaultStatements(policy.arn)).toEqual([allow('sns:Publish')]);
    const stored = await record(result.recordId, auto);
    expect(stored?.steps[0]).toMatchObject({ operation: 'IAM.DeletePolicyVersion', before: { versionId: 'v1', document: old(1) }, undo: null });

    const rolledBack = await rollback(auto, result.recordId);
    expect(rolledBack).toMatchObject({ outcome: 'rolled-back', writes: 1 });
    expect(rolledBack.calls.filter((call) => /^IAM\.(Create|Delete|Set)/.test(call))).toEqual(['IAM.SetDefaultPolicyVersion']);
    const restored = await defaultDocument(policy.arn);
    expect(restored.versionId).toBe('v5');
    expect(JSON.parse(restored.document)).toEqual(original);
    expect(await versionIds(policy.arn)).toEqual(['v2', 'v3', 'v4', 'v5', 'v6']);
  });

  it('does not make a policy with no statement: skipped with the reason, nothing written', async () => {
    const { runtime: auto } = await withUsage({});
    const policy = await createPolicy({ Version: '2012-10-17', Statement: allow('kms:*') }, { attached: true });
    const result = await replayEvent(policyEvent(policy.id, adminRule), auto, { apply: true });
    expect(result).toMatchObject({ outcome: 'skipped', writes: 0 });
    expect(result.reason).toContain('no statement');
    expect(await versionIds(policy.arn)).toEqual(['v1']);
  });

  it('expands narrow wildcards from the IAM action catalog when expandNarrowWildcards is on', async () => {
    const { runtime: auto } = await withUsage({}, { env: { RULE_PARAMS: JSON.stringify({ [rule.id]: { expandNarrowWildcards: true } }) } });
    const policy = await createPolicy(doc(allow('sqs:Get*')), { attached: true });
    const result = await replayEvent(policyEvent(policy.id), auto, { apply: true });
    expect(result.outcome).toBe('remediated');
    // Who it is attached to is read for the record's risks; no usage is.
    expect(result.calls.filter((call) => !/^IAM\.Get/.test(call))).toEqual([
      'IAM.ListPolicies',
      'IAM.ListPolicyTags',
      'IAM.ListPolicyVersions',
      'IAM.ListEntitiesForPolicy',
      'IAM.CreatePolicyVersion',
    ]);
    const [statement] = await defaultStatements(policy.arn);
    expect(statement.Action).toEqual(expect.arrayContaining(['sqs:GetQueueAttributes', 'sqs:GetQueueUrl']));
    expect(statement.Action.every((action: string) => action.startsWith('sqs:Get'))).toBe(true);
  });

  it('waits for approval by default, showing the statement-level diff; approved, it makes one new version', async () => {
    await runtime.factory.forRule(rule);
    const advisor = fakeAdvisor(runtime.factory.loadedFor(rule).iamAccessAdvisor as IAMClient, { ec2: ['DescribeInstances', 'StartInstances'] });
    try {
      const policy = await createPolicy(doc(allow(['ec2:*', 'logs:PutLogEvents'], { Sid: 'Ops' })), { attached: true });
      const pending = await replayEvent(policyEvent(policy.id), runtime, { apply: true });
      expect(pending).toMatchObject({ outcome: 'pending-approval', writes: 0 });
      expect(await versionIds(policy.arn)).toEqual(['v1']);
      const approval = await runtime.ledger?.getApproval(pending.approvalId ?? '');
      expect(approval).toMatchObject({ status: 'pending', risk: 'high', reason: `rule ${rule.id} runs in approve mode` });
      const message = recordMessage({ record: (await record(pending.recordId)) as ChangeRecord, ruleTitle: rule.title, risk: 'high', approvalId: pending.approvalId ?? '' });
      const text = JSON.stringify(message.blocks);
      expect(text).toContain('statement \\"Ops\\": replace ec2:* with ec2:DescribeInstances, ec2:StartInstances');
      expect(text).toContain('IAM last-accessed (action level)');
      expect(text).toContain("uses in the last four hours are not yet in IAM's data");

      const ledger = runtime.ledger;
      if (!ledger) throw new Error('no ledger');
      await decideApproval(ledger, { approvalId: pending.approvalId ?? '', decision: 'approve', by: 'U0APPROVER1', now: Date.now(), suppressionDays: 30 });
      const approved = approvedEvent(pending.approvalId ?? '', rule.id);
      const applied = await replayEvent(approved, runtime, { apply: true });
      expect(applied).toMatchObject({ outcome: 'remediated', writes: 1 });
      expect((await replayEvent(structuredClone(approved), runtime, { apply: true })).writes).toBe(0);
      expect(await versionIds(policy.arn)).toEqual(['v1', 'v2']);
      expect(await defaultStatements(policy.arn)).toEqual([allow(['logs:PutLogEvents', 'ec2:DescribeInstances', 'ec2:StartInstances'], { Sid: 'Ops' })]);
      expect((await record(applied.recordId))?.decidedBy).toBe('U0APPROVER1');
    } finally {
      advisor.restore();
    }
  });

  it('rolls back to the previous default version; refuses after someone edited the policy, unless forced; refuses a second time', async () => {
    const { runtime: auto } = await withUsage({});
    const original = doc(allow('kms:*'), allow('sns:Publish'));
    const policy = await createPolicy(original, { attached: true });
    const fixed = await replayEvent(policyEvent(policy.id, adminRule), auto, { apply: true });
    expect(fixed.outcome).toBe('remediated');
    await editPolicy(policy.arn, doc(allow('sns:Publish'), allow('sqs:SendMessage')));

    const refused = await rollback(auto, fixed.recordId);
    expect(refused).toMatchObject({ outcome: 'refused', writes: 0 });
    expect(refused.reason).toContain('changed after the bot left it');
    expect((await defaultDocument(policy.arn)).versionId).toBe('v3');

    const forced = await rollback(auto, fixed.recordId, true);
    expect(forced).toMatchObject({ outcome: 'rolled-back', writes: 1 });
    const restored = await defaultDocument(policy.arn);
    expect(restored.versionId).toBe('v1');
    expect(JSON.parse(restored.document)).toEqual(original);
    expect(await record(forced.rollbackRecordId, auto)).toMatchObject({ outcome: 'rolled-back', decidedBy: 'cli:test', rollbackOf: fixed.recordId });

    const second = await rollback(auto, fixed.recordId);
    expect(second).toMatchObject({ outcome: 'refused', writes: 0 });
    expect(second.reason).toContain('already rolled back');
  });

  it('rolls back at once when the policy is as the bot left it', async () => {
    const { runtime: auto } = await withUsage({});
    const original = doc(allow('kms:*'), allow('sns:Publish'));
    const policy = await createPolicy(original, { attached: true });
    const fixed = await replayEvent(policyEvent(policy.id), auto, { apply: true });
    const rolledBack = await rollback(auto, fixed.recordId);
    expect(rolledBack).toMatchObject({ outcome: 'rolled-back', writes: 1 });
    expect(rolledBack.calls).toEqual(['IAM.GetPolicy', 'IAM.GetPolicyVersion', 'IAM.SetDefaultPolicyVersion', 'IAM.GetPolicy', 'IAM.GetPolicyVersion', 'IAM.ListPolicyVersions', 'IAM.ListEntitiesForPolicy']);
    expect(JSON.parse((await defaultDocument(policy.arn)).document)).toEqual(original);
  });

  it('answers a Security Hub IAM.1 finding naming the policy by ARN (no lookup by id)', async () => {
    const { runtime: auto } = await withUsage({});
    const policy = await createPolicy(doc(allow('*'), allow('sns:Publish')), { attached: true });
    const result = await replayEvent(securityHubEvent({ controlId: 'IAM.1', resourceType: 'AwsIamPolicy', resourceId: policy.arn }), auto, { apply: true });
    expect(result).toMatchObject({ outcome: 'remediated', rule: rule.id, resource: `AWS::IAM::Policy/${policy.arn}`, writes: 1 });
    expect(result.calls).not.toContain('IAM.ListPolicies');
    expect(await defaultStatements(policy.arn)).toEqual([allow('iam:PassRole'), allow('sns:Publish')]);
  });
  it('skips a policy tagged for exclusion, reading only its tags', async () => {
    const { runtime: auto } = await withUsage({});
    const policy = await createPolicy(doc(allow('*'), allow('sns:Publish')), { tags: { 'remediation:skip': 'true' } });
    const result = await replayEvent(policyEvent(policy.id, adminRule), auto, { apply: true });
    expect(result).toMatchObject({ outcome: 'skipped', writes: 0, calls: ['IAM.ListPolicies', 'IAM.ListPolicyTags'] });
    expect(result.reason).toContain('remediation:skip=true');
    expect(await versionIds(policy.arn)).toEqual(['v1']);
  });

  it("leaves the bot's own policies alone: by id once its ARN is read, by ARN before any call", async () => {
    const { runtime: own } = await withUsage({}, { env: { STACK_NAME: 'driftfix-test' } });
    const policy = await createPolicy(doc(allow('*'), allow('sns:Publish')), { prefix: 'driftfix-test' });
    const byId = await replayEvent(policyEvent(policy.id, adminRule), own, { apply: true });
    expect(byId).toMatchObject({ outcome: 'skipped', writes: 0, resource: `AWS::IAM::Policy/${policy.arn}` });
    expect(byId.reason).toContain("belongs to driftfix's own stack (driftfix-test…)");
    expect(byId.calls.every((call) => /^IAM\.(List|Get)/.test(call))).toBe(true);

    const byArn = await replayEvent(securityHubEvent({ controlId: 'IAM.1', resourceType: 'AwsIamPolicy', resourceId: policy.arn }), own, { apply: true });
    expect(byArn).toMatchObject({ outcome: 'skipped', writes: 0, calls: [] });
    expect(byArn.reason).toContain("belongs to driftfix's own stack");
    expect(await versionIds(policy.arn)).toEqual(['v1']);
  });

  it('never changes an AWS-managed policy: an id that is not one of this account’s customer-managed policies, or an aws ARN', async () => {
    const { runtime: auto } = await withUsage({});
    // The id of the AWS-managed AdministratorAccess policy: never among the customer-managed ones.
    const byId = await replayEvent(policyEvent('ANPAIWMBCKSKIEE64ZLYK', adminRule), auto, { apply: true });
    expect(byId).toMatchObject({ outcome: 'skipped', writes: 0 });
    expect(byId.reason).toContain('AWS-managed policies are never changed');
    expect(byId.calls.every((call) => call === 'IAM.ListPolicies')).toBe(true);

    const byArn = await replayEvent(securityHubEvent({ controlId: 'IAM.1', resourceType: 'AwsIamPolicy', resourceId: 'arn:aws:iam::aws:policy/AdministratorAccess' }), auto, { apply: true });
    expect(byArn).toMatchObject({ outcome: 'rejected', writes: 0, calls: [] });
    expect(byArn.reason).toContain('AWS-managed');

    const foreign = await replayEvent(securityHubEvent({ controlId: 'IAM.1', resourceType: 'AwsIamPolicy', resourceId: `arn:aws:iam::${OTHER_ACCOUNT}:policy/shared` }), auto, { apply: true });
    expect(foreign).toMatchObject({ outcome: 'rejected', writes: 0, calls: [] });
    expect(foreign.reason).toContain(`belongs to account ${OTHER_ACCOUNT}`);
  });
});

describe('issue #15: never cut access a workload is using (IAM last-accessed data and Access Analyzer faked)', () => {
  let runtime: Runtime;
  const configRule = uniqueName('iam-policy-no-statements-with-full-access');
  const TRAIL = `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/org-trail`;
  const ACCESS_ROLE = `arn:aws:iam::${ACCOUNT}:role/service-role/AccessAnalyzerMonitorServiceRole`;

  beforeAll(async () => {
    runtime = await localRuntime();
    await createConfigRule(configRule, FULL);
  });
  afterAll(async () => {
    await new ConfigServiceClient({ region: REGION, endpoint: motoEndpoint() }).send(new DeleteConfigRuleCommand({ ConfigRuleName: configRule }));
  });

  const policyEvent = (policyId: string) => configEvent({ configRuleName: configRule, resourceType: 'AWS::IAM::Policy', resourceId: policyId });

  /** A policy attached to a new role (and a new group, if asked), as a workload's would be. */
  async function workloadPolicy(document: unknown, options: { group?: boolean } = {}) {
    const policy = await createPolicy(document);
    const iam = testIam();
    const roleName = uniqueName('app');
    const { Role } = await iam.send(new CreateRoleCommand({ RoleName: roleName, Path: '/workloads/', AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [] }) }));
    await iam.send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: policy.arn }));
    const groupName = options.group ? uniqueName('ops') : undefined;
    if (groupName) {
      await iam.send(new CreateGroupCommand({ GroupName: groupName }));
      await iam.send(new AttachGroupPolicyCommand({ GroupName: groupName, PolicyArn: policy.arn }));
    }
    return { policy, role: { name: roleName, arn: Role?.Arn ?? '' }, groupName };
  }

  type Used = { lastUsed?: Date; actions?: string[]; entity?: string };
  /**
   * IAM's last-accessed report for the policy: per service, when it was used, by whom, and which tracked
   * actions; dated five hours on (moto's policies are seconds old, and a younger one is too recent to judge).
   */
  function fakeReport(client: IAMClient, services: Record<string, Used>) {
    const advisor = mockClient(client);
    const reportedAt = new Date(Date.now() + 5 * HOUR);
    advisor.on(GenerateServiceLastAccessedDetailsCommand).resolves({ JobId: 'job-00000002' });
    advisor.on(GetServiceLastAccessedDetailsCommand).resolves({
      JobStatus: 'COMPLETED',
      JobCreationDate: reportedAt,
      JobCompletionDate: reportedAt,
      ServicesLastAccessed: Object.entries(services).map(([service, used]) => ({
        ServiceName: service,
        ServiceNamespace: service,
        LastAuthenticated: used.lastUsed ?? LAST_USED,
        ...(used.entity ? { LastAuthenticatedEntity: used.entity, TotalAuthenticatedEntities: 1 } : {}),
        ...(used.actions ? { TrackedActionsLastAccessed: used.actions.map((ActionName) => ({ ActionName, LastAccessedTime: used.lastUsed ?? LAST_USED })) } : {}),
      })),
    });
    return advisor;
  }

  async function runtimeWith(env: Record<string, string>) {
    const own = await localRuntime({ table: runtime.table, env });
    await own.factory.forRule(rule);
    const clients = own.factory.loadedFor(rule);
    return { runtime: own, advisorClient: clients.iamAccessAdvisor as IAMClient, analyzerClient: clients.accessAnalyzer as AccessAnalyzerClient };
  }
  const auto = { RULE_MODES: `${rule.id}=auto` };

  it('a used service IAM tracks no actions of keeps its grant, and so does a used one with data events; a used tracked one keeps exactly its used actions; an unused one goes', async () => {
    const { runtime: own, advisorClient } = await runtimeWith(auto);
    const { policy, role } = await workloadPolicy(doc(allow(['ecr:*', 's3:*', 'kms:*', 'ec2:*'], { Sid: 'App' }), allow('sns:Publish', { Sid: 'Alerts' })));
    fakeReport(advisorClient, { ecr: { entity: role.arn }, s3: { actions: ['CreateBucket'], entity: role.arn }, ec2: { actions: ['RunInstances', 'DescribeInstances'], entity: role.arn } });
    const result = await replayEvent(policyEvent(policy.id), own, { apply: true });
    expect(result).toMatchObject({ outcome: 'remediated', writes: 1 });
    expect(await defaultStatements(policy.arn)).toEqual([allow(['ecr:*', 's3:*', 'ec2:DescribeInstances', 'ec2:RunInstances'], { Sid: 'App' }), allow('sns:Publish', { Sid: 'Alerts' })]);
    const ecr = `used on 2026-10-01 by role/workloads/${role.name}, and IAM tracked none of the actions used`;
    const s3 = `used on 2026-10-01 by role/workloads/${role.name}; its data-plane actions (data events on AWS::S3::Object, AWS::S3::AccessPoint, AWS::FSx::Volume) are never in IAM's last-accessed data or in policy generation`;
    expect(result.reason).toContain(`statement "App": replace kms:*, ec2:* with ec2:DescribeInstances, ec2:RunInstances per IAM last-accessed (action level); ecr:* stays (${ecr}); s3:* stays (${s3})`);
    expect(result.reason).toContain(`still broad: ecr:* in statement "App" (${ecr}); s3:* in statement "App" (${s3})`);
    // Verified: what is left is as far as the rule goes.
    expect(result.after).toBe(`policy ${policy.name} (default version v2): 1 Allow statement(s) grant ecr:*, s3:*`);

    // The same policy reported again (its new version seconds old): nothing more can be narrowed safely; skipped, and nothing is written.
    const again = await replayEvent(policyEvent(policy.id), own, { apply: true });
    expect(again).toMatchObject({ outcome: 'skipped', writes: 0 });
    expect(again.reason).toContain(`nothing can be narrowed safely, still broad: ecr:* in statement "App" (${ecr})`);
    expect(await versionIds(policy.arn)).toEqual(['v1', 'v2']);
  });

  it('the approval message puts what could break first: used but not narrowed, removed though used long ago, the principals (a group too), then what the evidence misses', async () => {
    const { runtime: approving, advisorClient } = await runtimeWith({});
    const { policy, role, groupName } = await workloadPolicy(doc(allow('*', { Sid: 'Admin' })), { group: true });
    fakeReport(advisorClient, {
      ec2: { actions: ['RunInstances'], entity: role.arn },
      ecr: { entity: role.arn },
      sqs: { entity: role.arn },
      kms: { lastUsed: new Date(Date.now() - 500 * DAY), entity: role.arn },
    });
    const pending = await replayEvent(policyEvent(policy.id), approving, { apply: true });
    expect(pending).toMatchObject({ outcome: 'pending-approval', writes: 0 });
    const stored = (await approving.ledger?.getRecord(pending.recordId ?? '')) as ChangeRecord;
    const longAgo = new Date(Date.now() - 500 * DAY).toISOString().slice(0, 10);
    expect(stored.risks?.slice(0, 5)).toEqual([
      `used, so kept as they are, not narrowed: ecr:* (IAM did not track every action used); sqs:* (${DATA_PLANE}); why, service by service, is in the proposed change`,
      `access removed although used, longer ago than IAM's 400-day tracking period: kms (last used ${longAgo})`,
      `the policy is attached to role ${role.name}, group ${groupName}: each loses what the new version no longer allows`,
      "narrowed to the actions on record: ec2 (IAM last-accessed (action level)); this assumes these services have no action that IAM's last-accessed data and policy generation leave out (AWS's list of services with data events, which are never narrowed, says which have): such an action, if used, is no longer allowed",
      'iam:PassRole is kept in place of the wildcard in statement "Admin": IAM and CloudTrail never record it, so whether it is used cannot be told; it still allows passing any role the statement\'s resources cover',
    ]);
    expect(stored.risks?.[5]).toMatch(/^uses in the last four hours are not yet in IAM's data: anything first used after \d{4}-\d\d-\d\d \d\d:\d\d UTC is not kept$/);
    const { blocks } = recordMessage({ record: stored, ruleTitle: rule.title, risk: 'high', approvalId: pending.approvalId ?? '' });
    const texts = blocks.map((block) => JSON.stringify(block));
    const risksAt = texts.findIndex((text) => text.includes('What could break'));
    const changeAt = texts.findIndex((text) => text.includes('Proposed change'));
    expect(risksAt).toBeGreaterThan(0);
    expect(risksAt).toBeLessThan(changeAt);
    // Every risk fits, whole.
    expect(texts[risksAt]).not.toContain('more (in the record)');
    // Nothing an approver reads comes before it but the headline and the resource.
    expect(texts.slice(0, risksAt).some((text) => /sqs|kms|ec2/.test(text))).toBe(false);
    expect(texts[changeAt]).toContain(`replace * with ec2:RunInstances per IAM last-accessed (action level); ${PASS_ROLE}; ecr:* kept`);
    expect(await versionIds(policy.arn)).toEqual(['v1']);
  });

  it('policy generation configured: the first delivery starts a generation and is retried, writing nothing; a later one keeps the actions the role called, on that evidence', async () => {
    const params = { [rule.id]: { policyGeneration: { trailArn: TRAIL, accessRoleArn: ACCESS_ROLE, days: 30 } } };
    const { runtime: own, advisorClient, analyzerClient } = await runtimeWith({ ...auto, RULE_PARAMS: JSON.stringify(params) });
    const { policy, role } = await workloadPolicy(doc(allow(['ecr:*', 'sqs:*', 'ec2:*'], { Sid: 'App' })));
    fakeReport(advisorClient, {
      ecr: { entity: role.arn, lastUsed: new Date(Date.now() - 2 * DAY) },
      sqs: { entity: role.arn, lastUsed: new Date(Date.now() - 2 * DAY) },
      ec2: { actions: ['RunInstances'], entity: role.arn },
    });
    const analyzer = mockClient(analyzerClient);
    analyzer.on(ListPolicyGenerationsCommand).resolves({ policyGenerations: [] });
    analyzer.on(StartPolicyGenerationCommand).resolves({ jobId: 'job-gen-1' });
    const event = policyEvent(policy.id);

    const first = await replayEvent(event, own, { apply: true });
    expect(first).toMatchObject({ outcome: 'failed', writes: 0 });
    expect(first.reason).toBe(`waiting: policy generation still running: started job job-gen-1 for role/workloads/${role.name}; the event will be retried`);
    expect(needsRetry(first)).toBe(true);
    // Waiting is no failure to record or post: no record, no message.
    expect(first.notification).toBeUndefined();
    expect(await own.ledger?.getRecord(first.recordId ?? recordIdFor(`${event.id}`, rule.id))).toBeUndefined();
    expect(await versionIds(policy.arn)).toEqual(['v1']);
    const [started] = analyzer.commandCalls(StartPolicyGenerationCommand).map((call) => call.args[0].input);
    expect(started).toMatchObject({
      policyGenerationDetails: { principalArn: role.arn },
      cloudTrailDetails: { trails: [{ cloudTrailArn: TRAIL, allRegions: true }], accessRole: ACCESS_ROLE },
    });

    // Minutes later the generation has succeeded; SQS delivers the same event again.
    const end = new Date();
    const windowStart = new Date(end.getTime() - 30 * DAY + 60_000);
    analyzer.on(ListPolicyGenerationsCommand).resolves({ policyGenerations: [{ jobId: 'job-gen-1', principalArn: role.arn, status: 'SUCCEEDED', startedOn: end }] });
    analyzer.on(GetGeneratedPolicyCommand).resolves({
      jobDetails: { jobId: 'job-gen-1', status: 'SUCCEEDED', startedOn: end },
      generatedPolicyResult: {
        generatedPolicies: [
          {
            policy: JSON.stringify({
              Version: '2012-10-17',
              Statement: [{ Effect: 'Allow', Action: ['ecr:BatchGetImage', 'ecr:GetAuthorizationToken', 'sqs:CreateQueue', 'ec2:DescribeVpcs'], Resource: '*' }],
            }),
          },
        ],
        properties: {
          principalArn: role.arn,
          isComplete: true,
          cloudTrailProperties: { trailProperties: [{ cloudTrailArn: TRAIL, allRegions: true }], startTime: windowStart, endTime: end },
        },
      },
    });
    const later = await replayEvent(structuredClone(event), own, { apply: true });
    expect(later).toMatchObject({ outcome: 'remediated', writes: 1 });
    // sqs has data events: policy generation narrows it no more than last-accessed data does.
    expect(await defaultStatements(policy.arn)).toEqual([allow(['sqs:*', 'ec2:RunInstances', 'ecr:BatchGetImage', 'ecr:GetAuthorizationToken'], { Sid: 'App' })]);
    const window = `${windowStart.toISOString().slice(0, 10)} to ${end.toISOString().slice(0, 10)}`;
    expect(later.reason).toContain(
      `replace ecr:*, ec2:* with ec2:RunInstances per IAM last-accessed (action level); ecr:BatchGetImage, ecr:GetAuthorizationToken per Access Analyzer policy generation over trail org-trail, ${window}`,
    );
    expect(later.reason).toContain('still broad: sqs:*');
    // One generation, for the one role that used ecr; none started again.
    expect(analyzer.commandCalls(StartPolicyGenerationCommand)).toHaveLength(1);
    expect(analyzer.commandCalls(GetGeneratedPolicyCommand).map((call) => call.args[0].input.jobId)).toEqual(['job-gen-1']);
    // Asked who used ecr only: sqs is no question for policy generation.
    expect(started?.policyGenerationDetails?.principalArn).toBe(role.arn);
  });

  it('policy generation configured but not needed (every used service tracked, or with data events): Access Analyzer is not asked', async () => {
    const params = { [rule.id]: { policyGeneration: { trailArn: TRAIL, accessRoleArn: ACCESS_ROLE } } };
    const { runtime: own, advisorClient, analyzerClient } = await runtimeWith({ ...auto, RULE_PARAMS: JSON.stringify(params) });
    const { policy, role } = await workloadPolicy(doc(allow(['ec2:*', 'dynamodb:*'])));
    fakeReport(advisorClient, { ec2: { actions: ['RunInstances'], entity: role.arn }, dynamodb: { entity: role.arn } });
    const analyzer = mockClient(analyzerClient);
    expect(await replayEvent(policyEvent(policy.id), own, { apply: true })).toMatchObject({ outcome: 'remediated', writes: 1 });
    expect(await defaultStatements(policy.arn)).toEqual([allow(['dynamodb:*', 'ec2:RunInstances'])]);
    expect(analyzer.calls()).toHaveLength(0);
  });

  it('a policy too recent to judge spends no policy generation', async () => {
    const params = { [rule.id]: { policyGeneration: { trailArn: TRAIL, accessRoleArn: ACCESS_ROLE } } };
    const { runtime: own, advisorClient, analyzerClient } = await runtimeWith({ ...auto, RULE_PARAMS: JSON.stringify(params) });
    const { policy, role } = await workloadPolicy(doc(allow(['ecr:*', 'kms:*'])));
    const advisor = mockClient(advisorClient);
    advisor.on(GenerateServiceLastAccessedDetailsCommand).resolves({ JobId: 'job-00000003' });
    advisor.on(GetServiceLastAccessedDetailsCommand).resolves({
      JobStatus: 'COMPLETED',
      JobCompletionDate: new Date(),
      ServicesLastAccessed: [{ ServiceName: 'ecr', ServiceNamespace: 'ecr', LastAuthenticated: LAST_USED, LastAuthenticatedEntity: role.arn, TotalAuthenticatedEntities: 1 }],
    });
    const analyzer = mockClient(analyzerClient);
    const result = await replayEvent(policyEvent(policy.id), own, { apply: true });
    expect(result).toMatchObject({ outcome: 'skipped', writes: 0 });
    expect(result.reason).toContain('too recent to judge');
    expect(analyzer.calls()).toHaveLength(0);
  });
});

describe('the permissions policy generation needs, only where it is configured', () => {
  // Built as the other deployment tests build theirs; `as` leaves room for options added meanwhile.
  const base = {
    service: 'driftfix',
    stage: 'test',
    acceptReplay: false,
    slackSecretName: 'driftfix/slack',
    ruleModes: '',
    ruleParams: '',
    permissionsBoundaryArn: '',
    hub: false,
    hubAccount: '',
    hubRegion: '',
    organizationId: '',
    memberAccounts: [],
  } as DeploymentOptions;
  type Role = { Properties: { Policies: Array<{ PolicyDocument: { Statement: Statement[] } }> } };
  const TRAIL = `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/org-trail`;
  const ACCESS_ROLE = `arn:aws:iam::${ACCOUNT}:role/service-role/AccessAnalyzerMonitorServiceRole`;
  const statementsOf = (options: DeploymentOptions) =>
    ((roleResources(options) as Record<string, Role>)[roleLogicalId(rule.id)]?.Properties.Policies ?? []).flatMap((policy) => policy.PolicyDocument.Statement);

  it('starts generations on "*" and passes exactly the access role, to Access Analyzer only', () => {
    const statements = statementsOf({ ...base, ruleParams: JSON.stringify({ [rule.id]: { policyGeneration: { trailArn: TRAIL, accessRoleArn: ACCESS_ROLE } } }) });
    expect(statements.filter((statement) => statement.Sid.startsWith('When') || statement.Sid.startsWith('Pass'))).toEqual([
      { Sid: 'WhenPolicyGeneration', Effect: 'Allow', Action: ['access-analyzer:StartPolicyGeneration'], Resource: '*' },
      {
        Sid: 'PassPolicyGenerationAccessRoleArn',
        Effect: 'Allow',
        Action: ['iam:PassRole'],
        Resource: ACCESS_ROLE,
        Condition: { StringEquals: { 'iam:PassedToService': 'access-analyzer.amazonaws.com' } },
      },
    ]);
    // Reading generations is granted either way; IAM grants these on "*" only.
    expect(statements.find((statement) => statement.Sid === 'NoResourceLevelPermissions')?.Action).toEqual(
      expect.arrayContaining(['access-analyzer:GetGeneratedPolicy', 'access-analyzer:ListPolicyGenerations', 'iam:GetServiceLastAccessedDetailsWithEntities']),
    );
  });

  it('without the parameter, neither', () => {
    const actions = statementsOf(base).flatMap((statement) => statement.Action);
    expect(actions).not.toContain('access-analyzer:StartPolicyGeneration');
    expect(actions).not.toContain('iam:PassRole');
  });

  it('the parameter is checked: a trail ARN, a role ARN, 30 to 90 days (90 unless given)', () => {
    expect(rule.params.parse({ policyGeneration: { trailArn: TRAIL, accessRoleArn: ACCESS_ROLE } })).toEqual({
      expandNarrowWildcards: false,
      policyGeneration: { trailArn: TRAIL, accessRoleArn: ACCESS_ROLE, days: 90 },
    });
    for (const bad of [
      { trailArn: 'org-trail', accessRoleArn: ACCESS_ROLE },
      { trailArn: TRAIL, accessRoleArn: `arn:aws:iam::${ACCOUNT}:user/deploy` },
      { trailArn: TRAIL, accessRoleArn: ACCESS_ROLE, days: 91 },
      { trailArn: TRAIL, accessRoleArn: ACCESS_ROLE, days: 29 },
      { trailArn: TRAIL, accessRoleArn: ACCESS_ROLE, regions: ['us-east-1'] },
    ]) {
      expect(rule.params.safeParse({ policyGeneration: bad }).success, JSON.stringify(bad)).toBe(false);
    }
  });
});
