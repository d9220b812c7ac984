import {
  AccessAnalyzerClient,
  GetGeneratedPolicyCommand,
  ListPolicyGenerationsCommand,
  type PolicyGeneration,
  StartPolicyGenerationCommand,
} from '@aws-sdk/client-accessanalyzer';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  actionsByService,
  chooseTargets,
  combine,
  type GenerationRequest,
  MAX_PRINCIPALS,
  policyGenerationEvidence,
} from '../../rules/lib/iam-policy-generation.ts';
import type { Usage } from '../../rules/lib/iam-usage.ts';

const ACCOUNT = '111122223333';
const APP = `arn:aws:iam::${ACCOUNT}:role/app`;
const WORKER = `arn:aws:iam::${ACCOUNT}:role/jobs/worker`;
const DEPLOY = `arn:aws:iam::${ACCOUNT}:user/deploy`;
const TRAIL = `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/org-trail`;
const ACCESS_ROLE = `arn:aws:iam::${ACCOUNT}:role/service-role/AccessAnalyzerMonitorServiceRole`;
const NOW = Date.parse('2026-11-20T12:00:00Z');
const HOUR = 3_600_000;
const config = { trailArn: TRAIL, accessRoleArn: ACCESS_ROLE, days: 90 };

const usage: Usage = {
  services: {
    ecr: { lastUsed: '2026-11-19T00:00:00.000Z', lastEntity: APP, entities: 1, actions: {} },
    cloudformation: { lastUsed: '2026-11-18T00:00:00.000Z', lastEntity: WORKER, entities: 2, actions: {} },
  },
  trackingPeriodDays: 400,
  reportedAt: '2026-11-20T11:00:00.000Z',
};

const policy = (...actions: string[]) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'SupportedServiceSid0', Effect: 'Allow', Action: actions, Resource: '*' }] });

const WINDOW_START = NOW - 90 * 24 * HOUR + 60_000;

function generated(jobId: string, actions: string[], trail = TRAIL, start = WINDOW_START, end = NOW - HOUR, isComplete = true) {
  return {
    jobDetails: { jobId, status: 'SUCCEEDED' as const, startedOn: new Date(end), completedOn: new Date(end + 120_000) },
    generatedPolicyResult: {
      generatedPolicies: [{ policy: policy(...actions) }],
      properties: {
        principalArn: APP,
        isComplete,
        cloudTrailProperties: { trailProperties: [{ cloudTrailArn: trail, allRegions: true, regions: [] }], startTime: new Date(start), endTime: new Date(end) },
      },
    },
  };
}

const job = (principalArn: string, status: PolicyGeneration['status'], jobId: string, startedOn = NOW - HOUR): PolicyGeneration => ({ jobId, principalArn, status, startedOn: new Date(startedOn) });

describe('reading generated policies', () => {
  it('takes each action by service; a wildcard is kept, for the service not to be narrowed by it', () => {
    expect(
      actionsByService([
        policy('ecr:BatchGetImage', 'ecr:GetAuthorizationToken', 'CloudFormation:DescribeStacks', 's3:Get*', '*'),
        JSON.stringify({ Version: '2012-10-17', Statement: { Effect: 'Allow', Action: 'ecr:BatchGetImage', Resource: '*' } }),
        JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'kms:Decrypt', Resource: '*' }] }),
      ]),
    ).toEqual({ ecr: ['ecr:BatchGetImage', 'ecr:GetAuthorizationToken'], cloudformation: ['CloudFormation:DescribeStacks'], s3: ['s3:Get*'], '*': ['*'] });
  });
});

describe('choosing whom to analyse', () => {
  it('adds the principals of each service while they fit; a service whose users do not fit is noted', () => {
    const six = Array.from({ length: 6 }, (_, index) => `arn:aws:iam::${ACCOUNT}:role/r${index}`);
    expect(chooseTargets({ ecr: [APP], cloudformation: [APP, WORKER], ecs: six })).toEqual({
      targets: [APP, WORKER],
      notes: { ecs: `used by 6 principal(s); policy generation analyses at most ${MAX_PRINCIPALS} per policy` },
    });
  });

  it('a service is narrowed only when every principal that used it was analysed and called some of its actions', () => {
    const ok = (actions: Record<string, string[]>, windowStart = '2026-08-22T00:00:00.000Z') => ({ ok: true as const, actions, evidence: 'E', windowStart });
    expect(
      combine(
        { ecr: [APP], cloudformation: [APP, WORKER], ecs: [DEPLOY], kms: [WORKER] },
        {
          [APP]: ok({ ecr: ['ecr:BatchGetImage'], cloudformation: ['cloudformation:DescribeStacks'] }),
          [WORKER]: ok({ cloudformation: ['cloudformation:CreateStack'] }, '2026-08-25T00:00:00.000Z'),
          [DEPLOY]: { ok: false, reason: 'failed' },
        },
        {},
      ),
    ).toEqual({
      generated: {
        ecr: { actions: ['ecr:BatchGetImage'], evidence: 'E', windowStart: '2026-08-22T00:00:00.000Z' },
        // Two windows: the later start, before which neither saw everything.
        cloudformation: { actions: ['cloudformation:CreateStack', 'cloudformation:DescribeStacks'], evidence: 'E', windowStart: '2026-08-25T00:00:00.000Z' },
      },
      notes: { ecs: 'failed', kms: 'E found no kms action called by role/jobs/worker' },
    });
  });
});

describe('policy generation across deliveries (Access Analyzer faked)', () => {
  const analyzer = new AccessAnalyzerClient({ region: 'us-east-1' });
  const mock = mockClient(analyzer);
  let asked: string[];
  const request = (overrides: Partial<GenerationRequest> = {}): GenerationRequest => ({
    analyzer,
    config,
    usage,
    services: ['cloudformation', 'ecr'],
    whoUsed: async (service) => {
      asked.push(service);
      return service === 'cloudformation' ? [WORKER, APP] : [APP];
    },
    now: NOW,
    ...overrides,
  });
  beforeEach(() => {
    mock.reset();
    asked = [];
  });

  it('first delivery: starts one generation (one at a time), for the first principal, over the trail and window configured; the event is retried', async () => {
    mock.on(ListPolicyGenerationsCommand).resolves({ policyGenerations: [] });
    mock.on(StartPolicyGenerationCommand).resolves({ jobId: 'job-1' });
    await expect(policyGenerationEvidence(request())).rejects.toThrow(
      'policy generation still running: started job job-1 for role/app, 1 more after it; the event will be retried',
    );
    // ecr had one user (named by the report itself); IAM was asked who used cloudformation only.
    expect(asked).toEqual(['cloudformation']);
    const starts = mock.commandCalls(StartPolicyGenerationCommand).map((call) => call.args[0].input);
    expect(starts).toEqual([
      {
        policyGenerationDetails: { principalArn: APP },
        cloudTrailDetails: { trails: [{ cloudTrailArn: TRAIL, allRegions: true }], accessRole: ACCESS_ROLE, startTime: new Date(NOW - 90 * 24 * HOUR + 60_000) },
        clientToken: expect.stringMatching(/^[0-9a-f]{32}$/),
      },
    ]);
    expect(mock.commandCalls(GetGeneratedPolicyCommand)).toHaveLength(0);
  });

  it('while a generation it needs runs, or someone else’s: waits, starting nothing', async () => {
    mock.on(ListPolicyGenerationsCommand).resolves({ policyGenerations: [job(APP, 'IN_PROGRESS', 'job-1')] });
    await expect(policyGenerationEvidence(request())).rejects.toThrow('policy generation still running for role/app (job job-1); the event will be retried');
    mock.on(ListPolicyGenerationsCommand).resolves({ policyGenerations: [job(APP, 'SUCCEEDED', 'job-1'), job(DEPLOY, 'IN_PROGRESS', 'job-x')] });
    mock.on(GetGeneratedPolicyCommand).resolves(generated('job-1', ['ecr:BatchGetImage', 'cloudformation:DescribeStacks']));
    await expect(policyGenerationEvidence(request())).rejects.toThrow('job job-x (user/deploy) runs, and Access Analyzer runs one at a time, so role/jobs/worker waits');
    expect(mock.commandCalls(StartPolicyGenerationCommand)).toHaveLength(0);
  });

  it('once every generation succeeded: the actions per service, with the trail and window as evidence; nothing started', async () => {
    mock.on(ListPolicyGenerationsCommand).resolves({ policyGenerations: [job(APP, 'SUCCEEDED', 'job-1'), job(WORKER, 'SUCCEEDED', 'job-2'), job(APP, 'FAILED', 'old', NOW - 3 * 24 * HOUR)] });
    mock.on(GetGeneratedPolicyCommand, { jobId: 'job-1' }).resolves(generated('job-1', ['ecr:BatchGetImage', 'cloudformation:DescribeStacks', 'kms:Decrypt']));
    mock.on(GetGeneratedPolicyCommand, { jobId: 'job-2' }).resolves(generated('job-2', ['cloudformation:CreateStack']));
    const evidence = await policyGenerationEvidence(request());
    const source = 'Access Analyzer policy generation over trail org-trail, 2026-08-22 to 2026-11-20';
    expect(evidence).toEqual({
      generated: {
        ecr: { actions: ['ecr:BatchGetImage'], evidence: source, windowStart: new Date(WINDOW_START).toISOString() },
        cloudformation: { actions: ['cloudformation:CreateStack', 'cloudformation:DescribeStacks'], evidence: source, windowStart: new Date(WINDOW_START).toISOString() },
      },
      notes: {},
    });
    expect(mock.commandCalls(GetGeneratedPolicyCommand).map((call) => call.args[0].input)).toEqual([
      { jobId: 'job-1', includeResourcePlaceholders: false, includeServiceLevelTemplate: false },
      { jobId: 'job-2', includeResourcePlaceholders: false, includeServiceLevelTemplate: false },
    ]);
    expect(mock.commandCalls(StartPolicyGenerationCommand)).toHaveLength(0);
  });

  it('a generation over another trail, or a shorter window, is not this configuration’s evidence: its own is started', async () => {
    mock.on(ListPolicyGenerationsCommand).resolves({ policyGenerations: [job(APP, 'SUCCEEDED', 'theirs')] });
    mock.on(GetGeneratedPolicyCommand).resolves(generated('theirs', ['ecr:BatchGetImage'], `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/other`));
    mock.on(StartPolicyGenerationCommand).resolves({ jobId: 'ours' });
    await expect(policyGenerationEvidence(request({ services: ['ecr'] }))).rejects.toThrow('started job ours for role/app');
    mock.on(GetGeneratedPolicyCommand).resolves(generated('theirs', ['ecr:BatchGetImage'], TRAIL, NOW - 7 * 24 * HOUR));
    await expect(policyGenerationEvidence(request({ services: ['ecr'] }))).rejects.toThrow('started job ours for role/app');
  });

  it('a generation that is not complete (isComplete not true) narrows nothing: actions may be missing from it', async () => {
    mock.on(ListPolicyGenerationsCommand).resolves({ policyGenerations: [job(APP, 'SUCCEEDED', 'job-1')] });
    mock.on(GetGeneratedPolicyCommand).resolves(generated('job-1', ['ecr:BatchGetImage'], TRAIL, WINDOW_START, NOW - HOUR, false));
    expect(await policyGenerationEvidence(request({ services: ['ecr'] }))).toEqual({
      generated: {},
      notes: { ecr: 'policy generation for role/app (job job-1) is not complete (isComplete is not true): actions may be missing' },
    });
    expect(mock.commandCalls(StartPolicyGenerationCommand)).toHaveLength(0);
  });

  it('a wildcard in the generated policy is never dropped: its service is not narrowed by it', async () => {
    mock.on(ListPolicyGenerationsCommand).resolves({ policyGenerations: [job(APP, 'SUCCEEDED', 'job-1'), job(WORKER, 'SUCCEEDED', 'job-2')] });
    mock.on(GetGeneratedPolicyCommand, { jobId: 'job-1' }).resolves(generated('job-1', ['ecr:Get*', 'ecr:BatchGetImage', 'cloudformation:DescribeStacks']));
    mock.on(GetGeneratedPolicyCommand, { jobId: 'job-2' }).resolves(generated('job-2', ['*']));
    expect(await policyGenerationEvidence(request())).toEqual({
      generated: {},
      notes: {
        ecr: 'policy generation returned ecr:Get*, a wildcard: which of its actions were called cannot be told',
        cloudformation: 'policy generation returned *, a wildcard: which of its actions were called cannot be told',
      },
    });
  });

  it('a service last used before the window a generation would analyse costs no generation', async () => {
    const old = { ...usage, services: { ...usage.services, ecr: { lastUsed: '2026-05-01T00:00:00.000Z', lastEntity: APP, entities: 1, actions: {} } } };
    expect(await policyGenerationEvidence(request({ usage: old, services: ['ecr'] }))).toEqual({
      generated: {},
      notes: { ecr: 'last used on 2026-05-01, before the 90 days policy generation analyses' },
    });
    expect(mock.calls()).toHaveLength(0);
  });

  it('a generation that failed today is not started again (the daily quota): its services are noted, not narrowed', async () => {
    mock.on(ListPolicyGenerationsCommand).resolves({ policyGenerations: [job(APP, 'FAILED', 'job-1')] });
    expect(await policyGenerationEvidence(request({ services: ['ecr'] }))).toEqual({ generated: {}, notes: { ecr: 'policy generation for role/app ended FAILED (job job-1)' } });
    expect(mock.commandCalls(StartPolicyGenerationCommand)).toHaveLength(0);
  });

  it('a refused start (access denied, a bad trail) narrows nothing by it; a conflict or a quota waits for another delivery', async () => {
    mock.on(ListPolicyGenerationsCommand).resolves({ policyGenerations: [] });
    mock.on(StartPolicyGenerationCommand).rejects(Object.assign(new Error('not authorized to perform iam:PassRole'), { name: 'AccessDeniedException' }));
    expect((await policyGenerationEvidence(request({ services: ['ecr'] }))).notes).toEqual({
      ecr: 'policy generation could not start (AccessDeniedException: not authorized to perform iam:PassRole)',
    });
    mock.on(StartPolicyGenerationCommand).rejects(Object.assign(new Error('a generation is running'), { name: 'ConflictException' }));
    await expect(policyGenerationEvidence(request({ services: ['ecr'] }))).rejects.toThrow('policy generation could not start yet (ConflictException: a generation is running); the event will be retried');
  });

  it('a service used by what policy generation cannot analyse, or by more principals than fit, is noted and costs no generation', async () => {
    const root = `arn:aws:iam::${ACCOUNT}:root`;
    const many = Array.from({ length: MAX_PRINCIPALS + 1 }, (_, index) => `arn:aws:iam::${ACCOUNT}:role/r${index}`);
    const evidence = await policyGenerationEvidence(request({ services: ['cloudformation', 'ecs'], whoUsed: async (service) => (service === 'cloudformation' ? [root] : many) }));
    expect(evidence).toEqual({
      generated: {},
      notes: {
        cloudformation: 'used by root, which policy generation cannot analyse (a role or user only)',
        ecs: `used by ${MAX_PRINCIPALS + 1} principal(s); policy generation analyses at most ${MAX_PRINCIPALS} per policy`,
      },
    });
    expect(mock.calls()).toHaveLength(0);
  });
});
