
import { type AccessAnalyzerClient, StartResourceScanCommand } from '@aws-sdk/client-accessanalyzer';
import { ConfigServiceClient, DeleteConfigRuleCommand } from '@aws-sdk/client-config-service';
import { PutPublicAccessBlockCommand } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideApproval } from '../../core/engine/decide.ts';
import { rollbackRecord } from '../../core/engine/rollback.ts';
import type { Finding } from '../../core/model/index.ts';
import rule from '../../rules/s3-bucket-public-access-block.ts';
import { replayEvent } from '../../scripts/lib/replay-files.ts';
import { ACCOUNT, afterTheFix, analyzerEvent, approvedEvent, configEvent, REGION, securityHubEvent } from '../support/events.ts';
import { bucketEncryption, bucketPublicAccessBlock, createBucket, createConfigRule, localRuntime, motoEndpoint, testS3, uniqueName } from '../support/local-aws.ts';

const ALL_ON = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };
const ALL_OFF = { BlockPublicAcls: false, IgnorePublicAcls: false, BlockPublicPolicy: false, RestrictPublicBuckets: false };
const FLAGS = Object.keys(ALL_ON) as Array<keyof typeof ALL_ON>;

type Runtime = Awaited<ReturnType<typeof localRuntime>>;

const finding: Finding = {
  eventId: 'e-1',
  reporter: 'config',
  replayed: false,
  account: ACCOUNT,
  region: REGION,
  time: '2026-11-20T09:14:03Z',
  resourceType: 'AWS::S3::Bucket',
  resourceId: 'plan-bucket',
  trigger: { kind: 'config-rule', configRuleName: 'public-read', identifier: 'S3_BUCKET_PUBLIC_READ_PROHIBITED', complianceType: 'NON_COMPLIANT' },
};
const bucketInput = { Bucket: 'plan-bucket', ExpectedBucketOwner: ACCOUNT };

function changeOf(plan: ReturnType<typeof rule.plan>) {
  if (plan.status !== 'change') throw new Error(`expected a change, got ${plan.status}: ${plan.summary}`);
  return plan;
}

describe('plan (pure)', () => {
  it('all four flags on → compliant, website or not', () => {
    expect(rule.plan({ flags: ALL_ON, hostsWebsite: false }, {}, finding).status).toBe('compliant');
    expect(rule.plan({ flags: ALL_ON, hostsWebsite: true }, {}, finding).status).toBe('compliant');
  });

  it.each(FLAGS)('%s off → all four on; the undo restores exactly the old flags; no approval needed', (flag) => {
    const flags = { ...ALL_ON, [flag]: false };
    const plan = changeOf(rule.plan({ flags, hostsWebsite: false }, {}, finding));
    expect(plan.steps).toHaveLength(1);
    expect(plan.steps[0]).toMatchObject({
      operation: 'S3.PutPublicAccessBlock',
      input: { ...bucketInput, PublicAccessBlockConfiguration: ALL_ON },
      before: { flags, hostsWebsite: false },
      after: { flags: ALL_ON, hostsWebsite: false },
      undo: { operation: 'S3.PutPublicAccessBlock', input: { ...bucketInput, PublicAccessBlockConfiguration: flags } },
    });
    expect(plan.steps[0]?.description).toBe(`block public access: on: ${FLAGS.filter((name) => name !== flag).join(', ')}; off: ${flag} → all four Block Public Access flags on`);
    expect(plan.approvalReason).toBeUndefined();
    expect(plan.risks).toBeUndefined();
  });

  it('no configuration at all → all four on, undone by deleting the configuration', () => {
    const plan = changeOf(rule.plan({ flags: null, hostsWebsite: false }, {}, finding));
    expect(plan.steps[0]?.undo).toEqual({ operation: 'S3.DeletePublicAccessBlock', input: bucketInput });
    expect(plan.summary).toBe('block public access: no Block Public Access configuration (all off) → all four Block Public Access flags on');
  });

  it('a bucket hosting a static website: the change needs a person, and says the site goes offline', () => {
    const plan = changeOf(rule.plan({ flags: ALL_OFF, hostsWebsite: true }, {}, finding));
    expect(plan.approvalReason).toContain('static website');
    expect(plan.risks).toEqual(['the static website this bucket hosts goes offline']);
    expect(plan.steps[0]?.after).toEqual({ flags: ALL_ON, hostsWebsite: true });
  });

  it('describes the flags and the website in words', () => {
    expect(rule.describe({ flags: null, hostsWebsite: false })).toBe('no Block Public Access configuration (all off)');
    expect(rule.describe({ flags: ALL_OFF, hostsWebsite: true })).toBe('all Block Public Access flags off; static website hosting on');
    expect(rule.describe({ flags: ALL_ON, hostsWebsite: false })).toBe('all four Block Public Access flags on');
  });

  it('names a bucket by its name or ARN; refuses objects, wildcards, other services and invalid names', () => {
    const where = { account: ACCOUNT, region: REGION };
    expect(rule.resource.parseId('team-data.logs', where)).toEqual({ id: 'team-data.logs' });
    expect(rule.resource.parseId('arn:aws:s3:::team-data', where)).toEqual({ id: 'team-data' });
    for (const value of [
      'arn:aws:s3:::team-data/reports/q1.csv',
      'arn:aws:s3:::team-*',
      `arn:aws:s3:${REGION}:${ACCOUNT}:team-data`,
      `arn:aws:iam::${ACCOUNT}:role/team-data`,
      'Team_Data',
      '192.168.10.1',
      'team..data',
      'xn--team-data',
      'team-data-s3alias',
    ]) {
      expect(rule.resource.parseId(value, where), value).toHaveProperty('problem');
    }
  });

  it('takes no parameters', () => {
    expect(rule.params.safeParse({}).success).toBe(true);
    expect(rule.params.safeParse({ ignoreWebsites: true }).success).toBe(false);
  });
});

describe('against moto', () => {
  let runtime: Runtime;
  /** The three managed rules under the names Security Hub, a conformance pack and Control Tower give them. */
  const configRules = {
    S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED: uniqueName('s3-bucket-level-public-access-prohibited-conformance-pack'),
    S3_BUCKET_PUBLIC_READ_PROHIBITED: uniqueName('securityhub-s3-bucket-public-read-prohibited'),
    S3_BUCKET_PUBLIC_WRITE_PROHIBITED: uniqueName('AWSControlTower_AWS-GR_S3_BUCKET_PUBLIC_WRITE_PROHIBITED'),
  };
  /** A misleading name: what it runs decides, not what it is called. */
  const misnamed = uniqueName('s3-bucket-server-side-encryption-enabled');
  const readRule = configRules.S3_BUCKET_PUBLIC_READ_PROHIBITED;

  beforeAll(async () => {
    runtime = await localRuntime();
    for (const [identifier, name] of Object.entries(configRules)) await createConfigRule(name, identifier);
    await createConfigRule(misnamed, 'S3_BUCKET_PUBLIC_READ_PROHIBITED');
  });
  afterAll(async () => {
    const config = new ConfigServiceClient({ region: REGION, endpoint: motoEndpoint() });
    for (const name of [...Object.values(configRules), misnamed]) await config.send(new DeleteConfigRuleCommand({ ConfigRuleName: name }));
  });

  const withEnv = (env: Record<string, string>) => localRuntime({ table: runtime.table, env });
  const record = async (recordId: string | undefined, on: Runtime = runtime) => on.ledger?.getRecord(recordId ?? '');
  const rollback = async (recordId: string | undefined, force = false) => {
    await afterTheFix();
    await runtime.factory.forRule(rule);
    return rollbackRecord(recordId ?? '', runtime.deps, { force, by: 'cli:test' });
  };
  const READS = ['S3.GetPublicAccessBlock', 'S3.GetBucketWebsite'];

  it.each(Object.entries(configRules))('%s (as %s): turns on all four flags: tags, reads, one write, and a verify that re-reads only the flags', async (identifier, name) => {
    const bucket = await createBucket('pab');
    const result = await replayEvent(configEvent({ configRuleName: name, resourceId: bucket }), runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'remediated', rule: rule.id, resource: `AWS::S3::Bucket/${bucket}`, writes: 1 });
    expect(result.calls).toEqual(['S3.GetBucketTagging', ...READS, 'S3.PutPublicAccessBlock', 'S3.GetPublicAccessBlock']);
    expect(await bucketPublicAccessBlock(bucket)).toEqual(ALL_ON);
    const stored = await record(result.recordId);
    expect(stored?.trigger).toMatchObject({ configRuleName: name, identifier });
    expect(stored?.steps[0]?.undo).toEqual({ operation: 'S3.DeletePublicAccessBlock', input: { Bucket: bucket, ExpectedBucketOwner: ACCOUNT } });
  });

  it('a redelivery writes nothing and reports the duplicate; a later finding for the blocked bucket is compliant', async () => {
    const bucket = await createBucket('pab-again');
    const event = configEvent({ configRuleName: readRule, resourceId: bucket });
    const first = await replayEvent(event, runtime, { apply: true });
    expect(first.outcome).toBe('remediated');

    const again = await replayEvent(structuredClone(event), runtime, { apply: true });
    expect(again).toMatchObject({ outcome: 'remediated', duplicate: true, writes: 0, recordId: first.recordId });
    expect(again.reason).toMatch(/^duplicate delivery, already handled: /);

    const later = await replayEvent(configEvent({ configRuleName: readRule, resourceId: bucket }), runtime, { apply: true });
    expect(later).toMatchObject({ outcome: 'compliant', writes: 0, calls: ['S3.GetBucketTagging', ...READS] });
  });

  it('routes by the managed rule a Config rule runs: a public-read check named like the encryption rule blocks public access only', async () => {
    const bucket = await createBucket('pab-misnamed');
    const result = await replayEvent(configEvent({ configRuleName: misnamed, resourceId: bucket }), runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'remediated', rule: rule.id, writes: 1 });
    expect(await bucketPublicAccessBlock(bucket)).toEqual(ALL_ON);
    expect(await bucketEncryption(bucket)).toBeNull();
  });

  it('answers an Access Analyzer public-bucket finding and keeps the earlier flags for the undo; no re-scan unless asked', async () => {
    const earlier = { ...ALL_OFF, BlockPublicAcls: true, IgnorePublicAcls: true };
    const bucket = await createBucket('pab-aa', { publicAccessBlock: earlier });
    const result = await replayEvent(analyzerEvent({ bucket }), runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'remediated', rule: rule.id, resource: `AWS::S3::Bucket/${bucket}`, writes: 1 });
    expect(result.reason).not.toContain('re-scan');
    expect(await bucketPublicAccessBlock(bucket)).toEqual(ALL_ON);
    const stored = await record(result.recordId);
    expect(stored?.trigger).toMatchObject({ kind: 'access-analyzer', isPublic: true });
    expect(stored?.steps[0]?.undo).toEqual({
      operation: 'S3.PutPublicAccessBlock',
      input: { Bucket: bucket, ExpectedBucketOwner: ACCOUNT, PublicAccessBlockConfiguration: earlier },
    });
  });

  it('with rule follow-ups on, asks Access Analyzer to re-scan the bucket; a failed request leaves the fix standing (moto lacks it: faked)', async () => {
    const followUps = await withEnv({ RULE_FOLLOW_UPS: 'true' });
    await followUps.factory.forRule(rule);
    const analyzer = mockClient(followUps.factory.loadedFor(rule).accessAnalyzer as AccessAnalyzerClient);
    try {
      analyzer.on(StartResourceScanCommand).resolves({});
      const bucket = await createBucket('pab-rescan');
      const event = analyzerEvent({ bucket });
      const result = await replayEvent(event, followUps, { apply: true });
      expect(result).toMatchObject({ outcome: 'remediated', writes: 1 });
      expect(result.reason).toContain('asked Access Analyzer to re-scan the bucket');
      expect(analyzer.commandCalls(StartResourceScanCommand).map((call) => call.args[0].input)).toEqual([
        { analyzerArn: event.resources[0], resourceArn: `arn:aws:s3:::${bucket}` },
      ]);

      analyzer.on(StartResourceScanCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
      const other = await createBucket('pab-rescan');
      const failed = await replayEvent(analyzerEvent({ bucket: other }), followUps, { apply: true });
      expect(failed).toMatchObject({ outcome: 'remediated', writes: 1 });
      expect(failed.reason).toContain('follow-up failed (the change stands): ThrottlingException');
      expect(await bucketPublicAccessBlock(other)).toEqual(ALL_ON);

      // A Config finding has no analyzer to ask.
      analyzer.resetHistory();
      const third = await createBucket('pab-rescan');
      expect((await replayEvent(configEvent({ configRuleName: readRule, resourceId: third }), followUps, { apply: true })).outcome).toBe('remediated');
      expect(analyzer.commandCalls(StartResourceScanCommand)).toHaveLength(0);
    } finally {
      analyzer.restore();
    }
  });

  it('answers a Security Hub S3.8 finding', async () => {
    const bucket = await createBucket('pab-hub');
    const result = await replayEvent(securityHubEvent({ controlId: 'S3.8', resourceType: 'AwsS3Bucket', resourceId: `arn:aws:s3:::${bucket}` }), runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'remediated', rule: rule.id, writes: 1 });
    expect(await bucketPublicAccessBlock(bucket)).toEqual(ALL_ON);
  });

  it('asks a person before taking a static website offline; a Reject keeps later findings from asking again', async () => {
    const bucket = await createBucket('pab-site', { website: true });
    const pending = await replayEvent(configEvent({ configRuleName: readRule, resourceId: bucket }), runtime, { apply: true });
    expect(pending).toMatchObject({ outcome: 'pending-approval', writes: 0 });
    expect(pending.reason).toContain('static website');
    expect(await bucketPublicAccessBlock(bucket)).toBeNull();
    const approval = await runtime.ledger?.getApproval(pending.approvalId ?? '');
    expect(approval).toMatchObject({ status: 'pending', risk: 'high', risks: ['the static website this bucket hosts goes offline'] });
    expect(approval?.steps.map((step) => step.operation)).toEqual(['S3.PutPublicAccessBlock']);

    const ledger = runtime.ledger;
    if (!ledger) throw new Error('no ledger');
    const decided = await decideApproval(ledger, { approvalId: pending.approvalId ?? '', decision: 'reject', by: 'U0APPROVER1', now: Date.now(), suppressionDays: 30 });
    expect(decided.kind).toBe('decided');
    const later = await replayEvent(configEvent({ configRuleName: readRule, resourceId: bucket }), runtime, { apply: true });
    expect(later).toMatchObject({ outcome: 'skipped', writes: 0 });
    expect(later.reason).toMatch(/^suppressed until .*U0APPROVER1 rejected this fix/);
    expect(await bucketPublicAccessBlock(bucket)).toBeNull();
  });

  it('an approved website bucket is blocked once, as approved', async () => {
    const bucket = await createBucket('pab-site-ok', { website: true });
    const pending = await replayEvent(configEvent({ configRuleName: readRule, resourceId: bucket }), runtime, { apply: true });
    const ledger = runtime.ledger;
    if (!ledger) throw new Error('no ledger');
    await decideApproval(ledger, { approvalId: pending.approvalId ?? '', decision: 'approve', by: 'U0APPROVER1', now: Date.now(), suppressionDays: 30 });
    const applied = await replayEvent(approvedEvent(pending.approvalId ?? '', rule.id), runtime, { apply: true });
    expect(applied).toMatchObject({ outcome: 'remediated', writes: 1, approvalId: pending.approvalId });
    expect(await bucketPublicAccessBlock(bucket)).toEqual(ALL_ON);
  });

  it('rolls back to exactly the earlier flags, and refuses a second rollback', async () => {
    const earlier = { BlockPublicAcls: true, IgnorePublicAcls: false, BlockPublicPolicy: true, RestrictPublicBuckets: false };
    const bucket = await createBucket('pab-rollback', { publicAccessBlock: earlier });
    const fixed = await replayEvent(configEvent({ configRuleName: readRule, resourceId: bucket }), runtime, { apply: true });
    expect(fixed.outcome).toBe('remediated');

    const rolledBack = await rollback(fixed.recordId);
    expect(rolledBack).toMatchObject({ outcome: 'rolled-back', writes: 1, calls: [...READS, 'S3.PutPublicAccessBlock', ...READS] });
    expect(await bucketPublicAccessBlock(bucket)).toEqual(earlier);
    expect(await record(rolledBack.rollbackRecordId)).toMatchObject({ outcome: 'rolled-back', decidedBy: 'cli:test', rollbackOf: fixed.recordId });

    const second = await rollback(fixed.recordId);
    expect(second).toMatchObject({ outcome: 'refused', writes: 0 });
    expect(second.reason).toContain('already rolled back');
    expect(await bucketPublicAccessBlock(bucket)).toEqual(earlier);
  });

  it('rolling back a bucket that had no configuration deletes it; refused after someone changed the flags, unless forced', async () => {
    const bucket = await createBucket('pab-changed');
    const fixed = await replayEvent(configEvent({ configRuleName: readRule, resourceId: bucket }), runtime, { apply: true });
    const changed = { ...ALL_ON, RestrictPublicBuckets: false };
    await testS3().send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: changed }));

    const refused = await rollback(fixed.recordId);
    expect(refused).toMatchObject({ outcome: 'refused', writes: 0 });
    expect(refused.reason).toContain('changed after the bot left it');
    expect(await bucketPublicAccessBlock(bucket)).toEqual(changed);

    const forced = await rollback(fixed.recordId, true);
    expect(forced).toMatchObject({ outcome: 'rolled-back', writes: 1 });
    expect(forced.calls).toContain('S3.DeletePublicAccessBlock');
    expect(await bucketPublicAccessBlock(bucket)).toBeNull();
  });

  it('skips a bucket carrying the exclusion tag, with a record, and changes nothing', async () => {
    const bucket = await createBucket('pab-excluded', { tags: { 'remediation:skip': 'true' } });
    const result = await replayEvent(analyzerEvent({ bucket }), runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'skipped', writes: 0, calls: ['S3.GetBucketTagging'] });
    expect(result.reason).toContain('remediation:skip=true');
    expect((await record(result.recordId))?.outcome).toBe('skipped');
    expect(await bucketPublicAccessBlock(bucket)).toBeNull();
  });

  it("leaves a bucket of the bot's own stack alone, with the reason", async () => {
    const own = await withEnv({ STACK_NAME: 'driftfix-test' });
    const bucket = await createBucket('driftfix-test');
    const result = await replayEvent(configEvent({ configRuleName: readRule, resourceId: bucket }), own, { apply: true });
    expect(result).toMatchObject({ outcome: 'skipped', writes: 0, calls: [] });
    expect(result.reason).toContain("belongs to driftfix's own stack");
    expect(await bucketPublicAccessBlock(bucket)).toBeNull();
  });

  it('a dry run plans without writing', async () => {
    const bucket = await createBucket('pab-dry');
    const result = await replayEvent(configEvent({ configRuleName: readRule, resourceId: bucket }), runtime, { apply: false });
    expect(result).toMatchObject({ outcome: 'planned', writes: 0 });
    expect(result.steps?.map((step) => step.operation)).toEqual(['S3.PutPublicAccessBlock']);
    expect(await bucketPublicAccessBlock(bucket)).toBeNull();
  });
});
