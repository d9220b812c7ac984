import { describe, expect, it } from 'vitest';
import { type IntakeContext, type IntakeResult, intakeEvent } from '../../core/intake/intake.ts';
import { ACCOUNT, analyzerEvent, configEvent, loadSample, OTHER_ACCOUNT, REGION } from '../support/events.ts';

const NOW = Date.parse('2026-11-26T00:00:00Z');
const context: IntakeContext = { account: ACCOUNT, region: REGION, acceptReplay: true, now: () => NOW };
const intake = (event: unknown, overrides: Partial<IntakeContext> = {}): IntakeResult => intakeEvent(event, { ...context, ...overrides });

function expectRejected(event: unknown, reason: RegExp | string, overrides: Partial<IntakeContext> = {}) {
  const result = intake(event, overrides);
  expect(result.kind, JSON.stringify(result)).toBe('rejected');
  if (result.kind === 'rejected') expect(result.reason).toMatch(reason);
}

const configSample = () => loadSample('config/s3-bucket-server-side-encryption-enabled.json');
const analyzerSample = () => loadSample('access-analyzer/s3-bucket-public.json');

describe('accepted events become one normalized finding', () => {
  it('an AWS Config compliance change', () => {
    const result = intake(configSample());
    expect(result).toEqual({
      kind: 'finding',
      finding: expect.objectContaining({
        eventId: '6f1b9c2e-0d51-4c7a-9a43-1c2d3e4f5a01',
        reporter: 'config',
        replayed: false,
        account: ACCOUNT,
        region: REGION,
        resourceType: 'AWS::S3::Bucket',
        resourceId: 'driftfix-demo-unencrypted',
        resourceArn: 'arn:aws:s3:::driftfix-demo-unencrypted',
        trigger: expect.objectContaining({ kind: 'config-rule', configRuleName: 's3-bucket-server-side-encryption-enabled', complianceType: 'NON_COMPLIANT' }),
      }),
    });
  });

  it('an Access Analyzer finding', () => {
    const result = intake(analyzerSample());
    expect(result.kind).toBe('finding');
    if (result.kind !== 'finding') return;
    expect(result.finding).toMatchObject({
      reporter: 'access-analyzer',
      resourceType: 'AWS::S3::Bucket',
      resourceId: 'driftfix-demo-analyzer-public',
      trigger: { kind: 'access-analyzer', status: 'ACTIVE', isPublic: true },
    });
  });

  it.each([
    ['config', configSample],
    ['access analyzer', analyzerSample],
  ])('the same %s event replayed with the replay source, marked as replayed', (_name, sample) => {
    const event = sample();
    event.source = 'driftfix.replay';
    const result = intake(event);
    expect(result.kind).toBe('finding');
    if (result.kind === 'finding') expect(result.finding.replayed).toBe(true);
  });

  it('an old event: EventBridge retries for a day and archives replay older ones', () => {
    const event = configSample();
    event.time = '2019-03-01T12:00:00Z';
    expect(intake(event).kind).toBe('finding');
  });

  it('an account-level finding naming this account', () => {
    expect(intake(configEvent({ rule: 's3-account-level-public-access-blocks', resourceType: 'AWS::::Account', resourceId: ACCOUNT })).kind).toBe('finding');
  });
});

describe('ignored: verdicts that need nothing', () => {
  it.each(['COMPLIANT', 'NOT_APPLICABLE', 'INSUFFICIENT_DATA'])('Config verdict %s', (compliance) => {
    const result = intake(configEvent({ rule: 's3-bucket-server-side-encryption-enabled', resourceId: 'some-bucket', compliance }));
    expect(result).toMatchObject({ kind: 'ignored', reason: `verdict ${compliance} needs no action` });
  });

  it.each(['RESOLVED', 'ARCHIVED'])('Access Analyzer status %s', (status) => {
    expect(intake(analyzerEvent({ bucket: 'some-bucket', status })).kind).toBe('ignored');
  });

  it('a deleted finding', () => {
    const event = analyzerSample();
    event.detail.isDeleted = true;
    expect(intake(event)).toMatchObject({ kind: 'ignored', reason: 'the finding was deleted' });
  });

  it('configuration-item changes', () => {
    expect(intake(loadSample('config/configuration-item-change-ignored.json')).kind).toBe('ignored');
  });
});

describe('skipped: what no rule handles', () => {
  it.each([
    ['aws.config', 'Config Rules Re-evaluation Status'],
    ['aws.access-analyzer', 'Unused Access Finding for IAM entities'],
  ])('%s events of type %s', (source, detailType) => {
    const event = configSample();
    event.source = source;
    event['detail-type'] = detailType;
    expect(intake(event).kind).toBe('skipped');
  });

  it('an Access Analyzer error finding', () => {
    const event = analyzerSample();
    event.detail.error = 'ACCESS_DENIED';
    expect(intake(event)).toMatchObject({ kind: 'skipped', reason: expect.stringContaining('ACCESS_DENIED') });
  });
});

describe('rejected: bad input, with a reason', () => {
  it.each([
    ['an unknown source', 'aws.ec2'],
    ['a look-alike source (Cyrillic а)', 'аws.config'],
    ['a look-alike source (trailing space)', 'aws.config '],
    ['a look-alike source (zero-width space)', 'aws.con\u200bfig'],
    ['a custom source', 'com.example.driftfix'],
  ])('%s', (_name, source) => {
    const event = configSample();
    event.source = source;
    expectRejected(event, /is not one driftfix accepts/);
  });

  it('a source paired with the other service’s detail-type', () => {
    const event = analyzerSample();
    event.source = 'aws.config';
    expectRejected(event, /does not come from aws.config/);
  });

  it('a replayed event when the deployment turned replay off', () => {
    const event = configSample();
    event.source = 'driftfix.replay';
    expectRejected(event, /turned off/, { acceptReplay: false });
  });

  it('a replayed event of a detail-type that is never replayed', () => {
    const event = configSample();
    event.source = 'driftfix.replay';
    event['detail-type'] = 'Configuration Item Change';
    expectRejected(event, /cannot be replayed/);
  });

  it.each([
    ['id', undefined, /id/],
    ['detail', undefined, /detail/],
    ['account', 111122223333, /account/],
    ['region', 'US-EAST-1', /region/],
    ['version', '1', /version/],
    ['resources', 'arn:aws:s3:::x', /resources/],
  ])('envelope field %s missing or mistyped', (field, value, reason) => {
    const event = configSample();
    if (value === undefined) delete event[field];
    else event[field] = value;
    expectRejected(event, reason);
  });

  it.each([null, 'event', 42, [], {}])('a non-event value %j', (value) => {
    expect(intake(value).kind).toBe('rejected');
  });

  it.each([
    ['configRuleName', 'rule name; with spaces'],
    ['resourceType', 'S3 bucket'],
    ['messageType', 'ScheduledNotification'],
    ['awsAccountId', '1111-2222-3333'],
  ])('Config detail field %s mistyped', (field, value) => {
    const event = configSample();
    event.detail[field] = value;
    expectRejected(event, new RegExp(`detail.${field}`));
  });

  it('Config verdict outside the known ones', () => {
    const event = configSample();
    event.detail.newEvaluationResult.complianceType = 'MOSTLY_COMPLIANT';
    expectRejected(event, /complianceType/);
  });

  it.each([
    ['status', 'OPEN'],
    ['isPublic', 'true'],
    ['resource', 42],
    ['id', '../../etc'],
  ])('Access Analyzer detail field %s mistyped', (field, value) => {
    const event = analyzerSample();
    event.detail[field] = value;
    expectRejected(event, new RegExp(`detail.${field}`));
  });

  it('an event for another account than the bot', () => {
    const event = configSample();
    event.account = OTHER_ACCOUNT;
    event.detail.awsAccountId = OTHER_ACCOUNT;
    expectRejected(event, /this bot runs in 111122223333/);
  });

  it('an event for another region than the bot', () => {
    const event = configSample();
    event.region = 'eu-west-1';
    event.detail.awsRegion = 'eu-west-1';
    expectRejected(event, /this bot runs in us-east-1/);
  });

  it('a detail account that differs from the envelope', () => {
    const event = configSample();
    event.detail.awsAccountId = OTHER_ACCOUNT;
    expectRejected(event, /differs from the event account/);
  });

  it('a detail region that differs from the envelope', () => {
    const event = analyzerSample();
    event.detail.region = 'eu-west-1';
    expectRejected(event, /differs from the event region/);
  });

  it('an Access Analyzer finding whose account differs from the envelope', () => {
    const event = analyzerSample();
    event.detail.accountId = OTHER_ACCOUNT;
    expectRejected(event, /differs from the event account/);
  });

  it('an analyzer in another account', () => {
    const event = analyzerSample();
    event.resources = [`arn:aws:access-analyzer:us-east-1:${OTHER_ACCOUNT}:analyzer/x`];
    expectRejected(event, /is not in 111122223333/);
  });

  it('an evaluation result that names another resource than the event', () => {
    const event = configSample();
    event.detail.newEvaluationResult.evaluationResultIdentifier.evaluationResultQualifier.resourceId = 'other-bucket';
    expectRejected(event, /names resourceId/);
  });

  it('a Config rule ARN in another account', () => {
    const event = configSample();
    event.detail.configRuleARN = `arn:aws:config:us-east-1:${OTHER_ACCOUNT}:config-rule/config-rule-abc`;
    expectRejected(event, /configRuleARN/);
  });

  it.each([
    'ab',
    'a'.repeat(64),
    'UPPERCASE-bucket',
    'under_score',
    'double..dot',
    '-leading-hyphen',
    'trailing-hyphen-',
    '192.168.10.12',
    'xn--punycode',
    'my-alias-s3alias',
    'dot.-hyphen',
    'bucket/../../etc',
    'bucket name',
  ])('an invalid bucket name %j', (name) => {
    const event = configSample();
    event.detail.resourceId = name;
    delete event.detail.newEvaluationResult.evaluationResultIdentifier;
    expectRejected(event, /bucket name/);
  });

  it.each([
    ['an object ARN', 'arn:aws:s3:::bucket-name/key.txt', /exactly one bucket/],
    ['a wildcard ARN', 'arn:aws:s3:::bucket-*', /exactly one bucket|bucket name/],
    ['an ARN with an account', `arn:aws:s3:us-east-1:${ACCOUNT}:bucket-name`, /carry no region or account/],
    ['an ARN of another service', 'arn:aws:sqs:us-east-1:111122223333:queue', /not an S3 ARN/],
    ['something that is not an ARN', 'bucket-name', /not an S3 ARN/],
    ['an unknown partition', 'arn:evil:s3:::bucket-name', /not an S3 ARN/],
  ])('an Access Analyzer S3 finding with %s', (_name, resource, reason) => {
    const event = analyzerSample();
    event.detail.resource = resource;
    expectRejected(event, reason);
  });

  it('an Access Analyzer finding on an AWS-managed policy', () => {
    const event = analyzerSample();
    event.detail.resourceType = 'AWS::IAM::Policy';
    event.detail.resource = 'arn:aws:iam::aws:policy/AdministratorAccess';
    expectRejected(event, /AWS-managed/);
  });

  it('a Config policy finding naming an AWS-managed policy ARN', () => {
    const event = configEvent({ rule: 'iam-policy-no-statements-with-admin-access', resourceType: 'AWS::IAM::Policy', resourceId: 'arn:aws:iam::aws:policy/AdministratorAccess' });
    expectRejected(event, /AWS-managed policy/);
  });

  it('a Config policy finding naming another account’s policy', () => {
    const event = configEvent({ rule: 'iam-policy-no-statements-with-full-access', resourceType: 'AWS::IAM::Policy', resourceId: `arn:aws:iam::${OTHER_ACCOUNT}:policy/ops` });
    expectRejected(event, /belongs to account 444455556666/);
  });

  it('a Config policy finding whose id is not a policy id', () => {
    const event = configEvent({ rule: 'iam-policy-no-statements-with-admin-access', resourceType: 'AWS::IAM::Policy', resourceId: 'AdministratorAccess' });
    expectRejected(event, /not an IAM policy id/);
  });

  it('an account-level finding for another account', () => {
    const event = configEvent({ rule: 's3-account-level-public-access-blocks', resourceType: 'AWS::::Account', resourceId: OTHER_ACCOUNT });
    expectRejected(event, /not this account/);
  });

  it.each([
    ['not a date', 'yesterday', /not an ISO 8601/],
    ['an impossible date', '2026-02-30T25:61:00Z', /not an ISO 8601/],
    ['far in the future', '2099-01-01T00:00:00Z', /in the future/],
    ['the epoch', '1970-01-01T00:00:00Z', /predates/],
    ['a number', 1764000000, /time/],
  ])('a timestamp that is %s', (_name, time, reason) => {
    const event = configSample();
    event.time = time;
    expectRejected(event, reason);
  });

  it('an absurd timestamp inside the detail', () => {
    const event = analyzerSample();
    event.detail.updatedAt = '3026-01-01T00:00:00Z';
    expectRejected(event, /detail.updatedAt/);
  });

  it('an oversized event', () => {
    const event = configSample();
    event.detail.newEvaluationResult.annotation = 'x'.repeat(300 * 1024);
    expectRejected(event, /over the .*-byte limit/);
  });

  it('a deeply nested event', () => {
    const event = configSample();
    let deep: Record<string, unknown> = {};
    event.detail.extra = deep;
    for (let i = 0; i < 40; i += 1) {
      deep.next = {};
      deep = deep.next as Record<string, unknown>;
    }
    expectRejected(event, /nests deeper/);
  });

  it('a prototype-polluting key', () => {
    const event = JSON.parse(JSON.stringify(configSample()).replace('"detail":{', '"detail":{"__proto__":{"isAdmin":true},'));
    expectRejected(event, /forbidden key "__proto__"/);
  });
});
