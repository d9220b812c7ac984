import { describe, expect, it } from 'vitest';
import { type IntakeContext, type IntakeResult, intakeEvent } from '../../core/intake/intake.ts';
import { ACCOUNT, analyzerEvent, configEvent, loadSample, OTHER_ACCOUNT, REGION, securityHubEvent } from '../support/events.ts';

/**
 * intakeEvent: every shape AWS documents is accepted, every detail-type means what the EventBridge
 * reference says, and everything else is refused with a reason, before any AWS call.
 */

const NOW = Date.parse('2026-11-26T00:00:00Z');
const context: IntakeContext = { account: ACCOUNT, region: REGION, acceptReplay: true, now: () => NOW };
const intake = (event: unknown, overrides: Partial<IntakeContext> = {}): IntakeResult => intakeEvent(event, { ...context, ...overrides });

type Json = Record<string, any>;

function expectKind<K extends IntakeResult['kind']>(event: unknown, kind: K, overrides: Partial<IntakeContext> = {}): Extract<IntakeResult, { kind: K }> {
  const result = intake(event, overrides);
  expect(result.kind, JSON.stringify(result)).toBe(kind);
  return result as Extract<IntakeResult, { kind: K }>;
}

function expectRejected(event: unknown, reason: RegExp | string, overrides: Partial<IntakeContext> = {}) {
  expect(expectKind(event, 'rejected', overrides).reason).toMatch(reason);
}

function expectFinding(event: unknown, overrides: Partial<IntakeContext> = {}) {
  return expectKind(event, 'finding', overrides).finding;
}

const configSample = () => loadSample('config/s3-bucket-server-side-encryption-enabled.remediated.json');
const analyzerSample = () => loadSample('access-analyzer/s3-bucket-public.remediated.json');
const hubSample = () => loadSample('security-hub/s3.8-bucket-level-block-public-access.remediated.json');
const hubFinding = (event: Json): Json => event.detail.findings[0];

/** An envelope around any detail, as EventBridge delivers it. */
function envelope(source: string, detailType: string, detail: Json, overrides: Json = {}): Json {
  return {
    version: '0',
    id: 'e0e0e0e0-1111-4222-8333-944445555666',
    'detail-type': detailType,
    source,
    account: ACCOUNT,
    time: '2026-11-20T10:00:00Z',
    region: REGION,
    resources: [],
    detail,
    ...overrides,
  };
}

describe('AWS Config compliance changes, in every shape AWS sends them', () => {
  it('the sample becomes one normalized finding', () => {
    expect(intake(configSample())).toEqual({
      kind: 'finding',
      finding: {
        eventId: '6f1b9c2e-0d51-4c7a-9a43-1c2d3e4f5a01',
        reporter: 'config',
        replayed: false,
        account: ACCOUNT,
        region: REGION,
        time: '2026-11-20T09:14:03Z',
        resourceType: 'AWS::S3::Bucket',
        resourceId: 'driftfix-demo-unencrypted',
        trigger: {
          kind: 'config-rule',
          configRuleName: 's3-bucket-server-side-encryption-enabled',
          configRuleArn: 'arn:aws:config:us-east-1:111122223333:config-rule/config-rule-9rpvxc',
          complianceType: 'NON_COMPLIANT',
        },
      },
    });
  });

  it('"annotation": null and "resultToken": null (the SNS example in the Config Developer Guide) are accepted and mean absent', () => {
    const event = configSample();
    expect(event.detail.newEvaluationResult.annotation).toBeNull();
    expect(event.detail.newEvaluationResult.resultToken).toBeNull();
    const finding = expectFinding(event);
    expect(finding.trigger).not.toHaveProperty('annotation');
  });

  it('annotation and resultToken left out, as real events do', () => {
    const event = configSample();
    delete event.detail.newEvaluationResult.annotation;
    delete event.detail.newEvaluationResult.resultToken;
    delete event.detail.oldEvaluationResult.annotation;
    delete event.detail.oldEvaluationResult.resultToken;
    expect(expectFinding(event).trigger).toMatchObject({ kind: 'config-rule', complianceType: 'NON_COMPLIANT' });
  });

  it('an annotation and a result token as strings; the annotation is kept', () => {
    const event = configSample();
    event.detail.newEvaluationResult.annotation = 'The bucket has no default encryption.';
    event.detail.newEvaluationResult.resultToken = 'myResultToken';
    expect(expectFinding(event).trigger).toMatchObject({ annotation: 'The bucket has no default encryption.' });
  });

  it('no oldEvaluationResult (a rule’s first evaluation of a resource)', () => {
    const event = configSample();
    delete event.detail.oldEvaluationResult;
    expectFinding(event);
  });

  it.each([
    ['no evaluationResultIdentifier', (e: Json) => delete e.detail.newEvaluationResult.evaluationResultIdentifier],
    ['a null evaluationResultIdentifier', (e: Json) => (e.detail.newEvaluationResult.evaluationResultIdentifier = null)],
    ['no evaluationResultQualifier', (e: Json) => delete e.detail.newEvaluationResult.evaluationResultIdentifier.evaluationResultQualifier],
    [
      'no recordVersion nor notificationCreationTime',
      (e: Json) => {
        delete e.detail.recordVersion;
        delete e.detail.notificationCreationTime;
      },
    ],
    [
      'no resultRecordedTime nor configRuleInvokedTime',
      (e: Json) => {
        delete e.detail.newEvaluationResult.resultRecordedTime;
        delete e.detail.newEvaluationResult.configRuleInvokedTime;
      },
    ],
    ['no configRuleARN', (e: Json) => delete e.detail.configRuleARN],
    ['a null configRuleARN', (e: Json) => (e.detail.configRuleARN = null)],
    ['a "replay-name" (an EventBridge archive replay)', (e: Json) => (e['replay-name'] = 'driftfix-replay-2026-11-20')],
    ['an oldEvaluationResult of any shape (not used)', (e: Json) => (e.detail.oldEvaluationResult = { complianceType: 'SOMETHING_NEW' })],
  ])('optional fields: %s', (_name, change) => {
    const event = configSample();
    change(event);
    expectFinding(event);
  });

  it.each([
    ['the envelope', (e: Json) => (e['new-envelope-field'] = { any: ['thing'] })],
    ['the detail', (e: Json) => (e.detail.evaluationMode = 'DETECTIVE')],
    ['the evaluation result', (e: Json) => (e.detail.newEvaluationResult.complianceContributorCount = { CappedCount: 1 })],
    ['the qualifier (evaluationMode, as real events carry)', (e: Json) => (e.detail.newEvaluationResult.evaluationResultIdentifier.evaluationResultQualifier.evaluationMode = 'DETECTIVE')],
    ['the old evaluation result', (e: Json) => (e.detail.oldEvaluationResult.somethingElse = [1, 2, 3])],
  ])('unknown extra fields in %s are accepted and ignored', (_name, change) => {
    const event = configSample();
    change(event);
    expect(expectFinding(event)).toEqual(expectFinding(configSample()));
  });

  it('a real capture of an EventBridge compliance change (no annotation, no resultToken, no oldEvaluationResult, evaluationMode)', () => {
    const event = {
      version: '0',
      id: '51677f1d-1ae8-5357-cc9b-387ac98e26ab',
      'detail-type': 'Config Rules Compliance Change',
      source: 'aws.config',
      account: ACCOUNT,
      time: '2026-11-20T05:13:50Z',
      region: REGION,
      resources: [],
      detail: {
        resourceId: 'driftfix-demo-unencrypted',
        awsRegion: REGION,
        awsAccountId: ACCOUNT,
        configRuleName: 'securityhub-s3-bucket-server-side-encryption-enabled-baa2cf8c',
        recordVersion: '1.0',
        configRuleARN: `arn:aws:config:${REGION}:${ACCOUNT}:config-rule/aws-service-rule/securityhub.amazonaws.com/config-rule-lcprsx`,
        messageType: 'ComplianceChangeNotification',
        newEvaluationResult: {
          evaluationResultIdentifier: {
            evaluationResultQualifier: {
              configRuleName: 'securityhub-s3-bucket-server-side-encryption-enabled-baa2cf8c',
              resourceType: 'AWS::S3::Bucket',
              resourceId: 'driftfix-demo-unencrypted',
              evaluationMode: 'DETECTIVE',
            },
            orderingTimestamp: '2026-11-19T18:46:38.764Z',
          },
          complianceType: 'NON_COMPLIANT',
          resultRecordedTime: '2026-11-20T05:13:49.210Z',
          configRuleInvokedTime: '2026-11-20T05:13:48.933Z',
        },
        notificationCreationTime: '2026-11-20T05:13:50.188Z',
        resourceType: 'AWS::S3::Bucket',
      },
    };
    expect(expectFinding(event)).toMatchObject({
      resourceId: 'driftfix-demo-unencrypted',
      trigger: { configRuleName: 'securityhub-s3-bucket-server-side-encryption-enabled-baa2cf8c' },
    });
  });

  it.each([
    ['a customer rule', `arn:aws:config:us-east-1:${ACCOUNT}:config-rule/config-rule-9rpvxc`],
    ['a Security Hub service-linked rule', `arn:aws:config:us-east-1:${ACCOUNT}:config-rule/aws-service-rule/securityhub.amazonaws.com/config-rule-lcprsx`],
    ['a conformance-pack rule', `arn:aws:config:us-east-1:${ACCOUNT}:config-rule/aws-service-rule/config-conforms.amazonaws.com/config-rule-p4n8wz`],
    ['a Control Tower rule', `arn:aws:config:us-east-1:${ACCOUNT}:config-rule/config-rule-ct3wpb`],
  ])('configRuleARN of %s', (_name, arn) => {
    const event = configSample();
    event.detail.configRuleARN = arn;
    expect(expectFinding(event).trigger).toMatchObject({ kind: 'config-rule', configRuleArn: arn });
  });

  it.each([
    'securityhub-s3-bucket-server-side-encryption-enabled-7c0a4e',
    's3-bucket-level-public-access-prohibited-conformance-pack-x3k9dq2tb',
    'access-keys-rotated-conformance-pack-a1b2c3d4e',
    'AWSControlTower_AWS-GR_S3_BUCKET_PUBLIC_WRITE_PROHIBITED',
    'accelerator-s3-bucket-public-read-prohibited',
    'prod-data-buckets-kms-required',
    'Prod data buckets: KMS required (team #3)',
    'rule name; with spaces',
    'r',
    'x'.repeat(128),
    `~!@#$%^&*()_+{}|:"<>?[]\\;',./\``,
  ])('any printable Config rule name: %j', (name) => {
    const event = configEvent({ configRuleName: name, resourceId: 'driftfix-demo-unencrypted' });
    expect(expectFinding(event).trigger).toMatchObject({ kind: 'config-rule', configRuleName: name });
  });

  it('a replayed event keeps every fact and is marked as replayed', () => {
    const event = configSample();
    event.source = 'driftfix.replay';
    const finding = expectFinding(event);
    expect(finding).toEqual({ ...expectFinding(configSample()), replayed: true });
  });

  it('an old event: EventBridge retries for a day and archives replay older ones', () => {
    const event = configSample();
    event.time = '2019-03-01T12:00:00Z';
    expectFinding(event);
  });

  it('a timestamp with an offset and nanoseconds', () => {
    const event = configSample();
    event.time = '2026-11-20T10:14:03.123456789+01:00';
    expectFinding(event);
  });

  it.each([
    ['AWS::::Account', ACCOUNT],
    ['AWS::S3::AccountPublicAccessBlock', ACCOUNT],
    ['AWS::IAM::Policy', 'ANPAEXAMPLEADMINACCESS01'],
  ])('a finding on %s', (resourceType, resourceId) => {
    const event = configEvent({ configRuleName: 'some-rule', resourceType, resourceId });
    expect(expectFinding(event)).toMatchObject({ resourceType, resourceId });
  });
});

describe('Access Analyzer findings (IAM User Guide examples)', () => {
  it('a public bucket', () => {
    expect(expectFinding(analyzerSample())).toEqual({
      eventId: '11111111-2222-4444-aaaa-333333333302',
      reporter: 'access-analyzer',
      replayed: false,
      account: ACCOUNT,
      region: REGION,
      time: '2026-11-20T10:02:33Z',
      resourceType: 'AWS::S3::Bucket',
      resourceId: 'arn:aws:s3:::driftfix-demo-analyzer-public',
      resourceArn: 'arn:aws:s3:::driftfix-demo-analyzer-public',
      trigger: {
        kind: 'access-analyzer',
        findingId: '22222222-dcba-4444-dcba-333333333302',
        status: 'ACTIVE',
        isPublic: true,
        analyzerArn: 'arn:aws:access-analyzer:us-east-1:111122223333:analyzer/MyAnalyzer',
        principal: { AWS: '*' },
        actions: ['s3:GetObject', 's3:ListBucket'],
      },
    });
  });

  it.each([
    ['access-analyzer/s3-bucket-cross-account.pending-approval.json', 'AWS::S3::Bucket', false],
    ['access-analyzer/iam-role-cross-account.pending-approval.json', 'AWS::IAM::Role', false],
    ['access-analyzer/kms-key-cross-account.skipped.json', 'AWS::KMS::Key', false],
  ])('%s', (file, resourceType, isPublic) => {
    expect(expectFinding(loadSample(file))).toMatchObject({ resourceType, trigger: { kind: 'access-analyzer', isPublic, principal: { AWS: OTHER_ACCOUNT } } });
  });

  it('an ExternalAccess findingType, as newer events carry', () => {
    const event = analyzerSample();
    event.detail.findingType = 'ExternalAccess';
    expect(expectFinding(event).trigger).toMatchObject({ findingType: 'ExternalAccess' });
  });

  it('no detail.region, no isPublic, no principal, no action: still the same finding', () => {
    const event = analyzerSample();
    for (const field of ['region', 'principal', 'action', 'condition', 'version']) delete event.detail[field];
    expect(expectFinding(event)).toMatchObject({ resourceType: 'AWS::S3::Bucket', trigger: { isPublic: true } });
    delete event.detail.isPublic;
    expect(expectFinding(event).trigger).toMatchObject({ isPublic: false });
  });

  it('unknown fields (resourceControlPolicyRestriction, sources) are accepted', () => {
    const event = analyzerSample();
    event.detail.resourceControlPolicyRestriction = 'NOT_APPLICABLE';
    event.detail.sources = [{ type: 'BUCKET_ACL' }];
    expectFinding(event);
  });

  it.each(['RESOLVED', 'ARCHIVED'])('status %s is ignored', (status) => {
    expect(expectKind(analyzerEvent({ bucket: 'some-bucket', status }), 'ignored').reason).toBe(`finding status ${status} needs no action`);
  });

  it('a deleted finding is ignored', () => {
    const event = analyzerSample();
    event.detail.isDeleted = true;
    expect(intake(event)).toMatchObject({ kind: 'ignored', reason: 'the finding was deleted' });
  });

  it('an error finding (the analyzer could not read the resource) is skipped, with what a person needs to know', () => {
    const result = expectKind(loadSample('access-analyzer/error-finding.skipped.json'), 'skipped');
    expect(result.reason).toContain('ACCESS_DENIED');
    expect(result.unhandled).toEqual({
      eventId: '11111111-2222-4444-aaaa-333333333304',
      account: ACCOUNT,
      region: REGION,
      replayed: false,
      findingId: '22222222-dcba-4444-dcba-333333333304',
      resourceType: 'AWS::S3::Bucket',
      resource: 'arn:aws:s3:::driftfix-demo-public',
      isPublic: false,
      reason: result.reason,
    });
  });

  it.each(['UnusedIAMRole', 'InternalAccess', 'UnusedPermission'])('an Access Analyzer Finding of findingType %s is skipped, with unhandled info', (findingType) => {
    const event = analyzerSample();
    event.detail.findingType = findingType;
    const result = expectKind(event, 'skipped');
    expect(result.reason).toContain(findingType);
    expect(result.unhandled).toMatchObject({ findingType, isPublic: true, resource: 'arn:aws:s3:::driftfix-demo-analyzer-public' });
  });

  it.each([
    ['an AWS-managed policy', 'AWS::IAM::Policy', 'arn:aws:iam::aws:policy/AdministratorAccess'],
    ['an AWS-managed role', 'AWS::IAM::Role', 'arn:aws:iam::aws:role/aws-service-role/whatever'],
  ])('a finding on %s is rejected', (_name, resourceType, resource) => {
    const event = analyzerSample();
    event.detail.resourceType = resourceType;
    event.detail.resource = resource;
    expectRejected(event, /AWS-managed/);
  });
});

describe('Security Hub control findings ("Security Hub Findings - Imported")', () => {
  it('a FAILED, NEW, ACTIVE control finding becomes a finding deduplicated by Id and UpdatedAt', () => {
    const event = hubSample();
    const { Id, UpdatedAt } = hubFinding(event);
    expect(expectFinding(event)).toEqual({
      eventId: '4b7f3c2a-9d1e-4f60-8a2b-5c6d7e8f9a01',
      dedupeKey: `${Id}@${UpdatedAt}`,
      reporter: 'security-hub',
      replayed: false,
      account: ACCOUNT,
      region: REGION,
      time: '2026-11-20T11:52:17Z',
      resourceType: 'AwsS3Bucket',
      resourceId: 'arn:aws:s3:::driftfix-demo-sh-public',
      resourceArn: 'arn:aws:s3:::driftfix-demo-sh-public',
      trigger: {
        kind: 'security-hub',
        findingId: Id,
        productArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub',
        controlId: 'S3.8',
        complianceStatus: 'FAILED',
        workflowStatus: 'NEW',
        configRuleName: 'securityhub-s3-bucket-level-public-access-prohibited-3e4f5a',
      },
    });
  });

  it('the same finding re-sent with a new UpdatedAt is a new report; re-sent unchanged, the same', () => {
    const first = expectFinding(hubSample());
    const again = hubSample();
    again.id = 'ffffffff-0000-4000-8000-000000000001';
    expect(expectFinding(again).dedupeKey).toBe(first.dedupeKey);
    hubFinding(again).UpdatedAt = '2026-11-21T08:00:00.000Z';
    expect(expectFinding(again).dedupeKey).not.toBe(first.dedupeKey);
  });

  it.each([
    ['security-hub/s3.1-account-level-block-public-access.pending-approval.json', 'S3.1', 'AwsAccount', 'AWS::::Account:111122223333'],
    ['security-hub/iam.1-admin-policy.skipped.json', 'IAM.1', 'AwsIamPolicy', 'arn:aws:iam::111122223333:policy/driftfix-demo-missing-policy'],
    ['security-hub/unanswered-control.skipped.json', 'CloudTrail.2', 'AwsCloudTrailTrail', 'arn:aws:cloudtrail:us-east-1:111122223333:trail/AWSMacieTrail-DO-NOT-EDIT'],
  ])('%s: control %s on %s', (file, controlId, resourceType, resourceId) => {
    expect(expectFinding(loadSample(file))).toMatchObject({ resourceType, resourceId, trigger: { kind: 'security-hub', controlId } });
  });

  it('the account resource is not taken for an ARN', () => {
    expect(expectFinding(loadSample('security-hub/s3.1-account-level-block-public-access.pending-approval.json'))).not.toHaveProperty('resourceArn');
  });

  it('NOTIFIED (the bot is waiting for a person) is still a finding', () => {
    expect(expectFinding(securityHubEvent({ controlId: 'S3.8', resourceType: 'AwsS3Bucket', resourceId: 'arn:aws:s3:::b-1', workflow: 'NOTIFIED' })).trigger).toMatchObject({
      workflowStatus: 'NOTIFIED',
    });
  });

  it('no Workflow counts as NEW', () => {
    const event = hubSample();
    delete hubFinding(event).Workflow;
    expect(expectFinding(event).trigger).toMatchObject({ workflowStatus: 'NEW' });
  });

  it('no UpdatedAt: no dedupe key, the event id identifies it', () => {
    const event = hubSample();
    delete hubFinding(event).UpdatedAt;
    expect(expectFinding(event)).not.toHaveProperty('dedupeKey');
  });

  it('replayed', () => {
    const event = hubSample();
    event.source = 'driftfix.replay';
    expect(expectFinding(event).replayed).toBe(true);
  });

  it('a global IAM resource may name another region than the event', () => {
    const event = loadSample('security-hub/iam.1-admin-policy.skipped.json');
    hubFinding(event).Resources[0].Region = 'eu-west-1';
    expectFinding(event);
  });

  it.each(['PASSED', 'WARNING', 'NOT_AVAILABLE'])('compliance %s is ignored', (status) => {
    expect(expectKind(securityHubEvent({ controlId: 'S3.8', resourceType: 'AwsS3Bucket', resourceId: 'arn:aws:s3:::b-1', status }), 'ignored').reason).toContain(status);
  });

  it('no compliance status is ignored (NOT_AVAILABLE)', () => {
    const event = hubSample();
    delete hubFinding(event).Compliance.Status;
    expect(expectKind(event, 'ignored').reason).toContain('NOT_AVAILABLE');
  });

  it.each(['RESOLVED', 'SUPPRESSED'])('workflow %s is ignored (the bot’s own BatchUpdateFindings comes back this way)', (workflow) => {
    expect(expectKind(securityHubEvent({ controlId: 'S3.8', resourceType: 'AwsS3Bucket', resourceId: 'arn:aws:s3:::b-1', workflow }), 'ignored').reason).toContain(workflow);
  });

  it('an ARCHIVED record is ignored', () => {
    const event = hubSample();
    hubFinding(event).RecordState = 'ARCHIVED';
    expect(expectKind(event, 'ignored').reason).toContain('ARCHIVED');
  });

  it.each([
    ['GuardDuty', 'arn:aws:securityhub:us-east-1::product/aws/guardduty'],
    ['Inspector', 'arn:aws:securityhub:us-east-1::product/aws/inspector'],
    ['a partner product', `arn:aws:securityhub:us-east-1:${OTHER_ACCOUNT}:product/${OTHER_ACCOUNT}/default`],
  ])('a finding of another product (%s) is skipped', (_name, productArn) => {
    const event = hubSample();
    hubFinding(event).ProductArn = productArn;
    expect(expectKind(event, 'skipped').reason).toContain(productArn);
  });

  it('a GuardDuty finding as GuardDuty sends it (no Compliance, no Workflow) is skipped, not rejected', () => {
    const event = hubSample();
    const finding = hubFinding(event);
    finding.ProductArn = 'arn:aws:securityhub:us-east-1::product/aws/guardduty';
    finding.GeneratorId = 'arn:aws:guardduty:us-east-1:111122223333:detector/12abc34d567e8fa901bc2d34eexample';
    finding.Types = ['TTPs/Command and Control/Backdoor:EC2-C&CActivity.B!DNS'];
    finding.Resources = [{ Type: 'AwsEc2Instance', Id: 'arn:aws:ec2:us-east-1:111122223333:instance/i-99999999' }];
    delete finding.Compliance;
    delete finding.Workflow;
    delete finding.ProductFields;
    expectKind(event, 'skipped');
  });

  it('a finding that names no control is skipped', () => {
    const event = hubSample();
    delete hubFinding(event).Compliance.SecurityControlId;
    expect(expectKind(event, 'skipped').reason).toContain('SecurityControlId');
  });

  it('a finding with several resources is skipped', () => {
    const event = hubSample();
    hubFinding(event).Resources.push({ Type: 'AwsS3Bucket', Id: 'arn:aws:s3:::another-bucket', Partition: 'aws', Region: REGION });
    expect(expectKind(event, 'skipped').reason).toContain('several');
  });

  it.each([
    ['no findings', []],
    ['two findings', 'two'],
    ['findings not an array', { 0: 'x' }],
    ['findings missing', undefined],
  ])('%s: rejected (Security Hub sends exactly one per event)', (_name, findings) => {
    const event = hubSample();
    if (findings === undefined) delete event.detail.findings;
    else if (findings === 'two') event.detail.findings = [hubFinding(event), hubFinding(hubSample())];
    else event.detail.findings = findings;
    expectRejected(event, /exactly one finding/);
  });


  it('a bucket resource in another region than the event', () => {
    const event = hubSample();
    hubFinding(event).Resources[0].Region = 'eu-west-1';
    expectRejected(event, /resource region eu-west-1 differs/);
  });

  it('an envelope for another account (the finding agreeing)', () => {
    const event = hubSample();
    event.account = OTHER_ACCOUNT;
    hubFinding(event).AwsAccountId = OTHER_ACCOUNT;
    expectRejected(event, /this bot runs in 111122223333/);
  });

  it.each([
    ['Id', 'finding\u200bid'],
    ['ProductArn', 'arn:aws:securityhub:us-east-1::product/aws/securityhub/../../x y'],
    ['AwsAccountId', '1111-2222-3333'],
    ['RecordState', 'GONE'],
    ['UpdatedAt', '2099-01-01T00:00:00Z'],
    ['Resources', []],
  ])('ASFF field %s mistyped', (field, value) => {
    const event = hubSample();
    hubFinding(event)[field] = value;
    expectRejected(event, new RegExp(`detail.findings.0.${field}`));
  });

  it.each([
    ['SecurityControlId', 'S3.8; rm -rf'],
    ['Status', 'MOSTLY_FAILED'],
  ])('Compliance.%s mistyped', (field, value) => {
    const event = hubSample();
    hubFinding(event).Compliance[field] = value;
    expectRejected(event, new RegExp(`Compliance.${field}`));
  });

  it('a workflow status that ASFF does not have', () => {
    const event = hubSample();
    hubFinding(event).Workflow.Status = 'DONE';
    expectRejected(event, /Workflow.Status/);
  });

  it('a resource id with look-alike characters', () => {
    const event = hubSample();
    hubFinding(event).Resources[0].Id = 'arn:aws:s3:::driftfix-demo-sh-publiс'; // Cyrillic 'с'
    expectRejected(event, /Resources\[0\].Id/);
  });
});

describe('every detail-type means what the EventBridge reference says', () => {
  it.each([
    ['aws.config', 'Config Configuration Item Change', /configuration-item/],
    ['aws.config', 'Config Rules Re-evaluation Status', /re-evaluation/],
    ['aws.config', 'Config Configuration Snapshot Delivery Status', /snapshot/],
    ['aws.config', 'Config Configuration History Delivery Status', /history/],
    ['aws.access-analyzer', 'Access Preview State Change', /access preview/],
  ])('%s %j is ignored', (source, detailType, reason) => {
    expect(expectKind(envelope(source, detailType, { messageType: 'Whatever' }), 'ignored').reason).toMatch(reason);
  });

  it('the configuration-item change and access-preview samples are ignored', () => {
    expectKind(loadSample('config/configuration-item-change.ignored.json'), 'ignored');
    expectKind(loadSample('access-analyzer/access-preview-state-change.ignored.json'), 'ignored');
  });

  it('an Internal Access Finding is skipped, with what a person needs to know', () => {
    const result = expectKind(loadSample('access-analyzer/internal-access-finding.skipped.json'), 'skipped');
    expect(result.reason).toMatch(/internal-access/);
    expect(result.unhandled).toEqual({
      eventId: 'b45c3678-c278-b593-6121-c155259ce1b5',
      account: ACCOUNT,
      region: REGION,
      replayed: false,
      findingId: '11111111-2222-4444-aaaa-333333333308',
      resourceType: 'AWS::S3::Bucket',
      resource: 'arn:aws:s3:::driftfix-demo-shared',
      findingType: 'InternalAccess',
      isPublic: false,
      reason: result.reason,
    });
  });

  it('an Unused Access Finding for IAM entities is skipped; its findingId (not id) names it', () => {
    const result = expectKind(loadSample('access-analyzer/unused-access-finding.skipped.json'), 'skipped');
    expect(result.reason).toMatch(/unused-access/);
    expect(result.unhandled).toMatchObject({
      eventId: 'dc7ce3ee-114b-3243-e249-7f10f9054b21',
      findingId: 'b8ae0460-5d29-4922-b92a-ba956c986277',
      resourceType: 'AWS::IAM::Role',
      resource: 'arn:aws:iam::111122223333:role/FindingIntegTestFakeRole',
      findingType: 'UnusedPermission',
      isPublic: false,
    });
  });

  it('an internal-access error finding (documented with an error and no principal) is skipped too', () => {
    const event = loadSample('access-analyzer/internal-access-finding.skipped.json');
    for (const field of ['principal', 'principalOwnerAccount', 'principalType', 'action', 'accessType', 'condition']) delete event.detail[field];
    event.detail.error = 'ACCESS_DENIED';
    expect(expectKind(event, 'skipped').unhandled).toMatchObject({ findingType: 'InternalAccess', resource: 'arn:aws:s3:::driftfix-demo-shared' });
  });

  it('an unused-access error finding (documented with an error) is skipped too', () => {
    const event = loadSample('access-analyzer/unused-access-finding.skipped.json');
    event.detail.findingType = 'UnusedIAMRole';
    event.detail.error = 'INTERNAL_ERROR';
    expect(expectKind(event, 'skipped').unhandled).toMatchObject({ findingType: 'UnusedIAMRole' });
  });

  it.each([
    ['internal-access-finding.skipped.json', 'RESOLVED'],
    ['internal-access-finding.skipped.json', 'ARCHIVED'],
    ['unused-access-finding.skipped.json', 'RESOLVED'],
    ['unused-access-finding.skipped.json', 'ARCHIVED'],
  ])('%s with status %s (a status update, not a new finding) is ignored, as for external access', (file, status) => {
    const event = loadSample(`access-analyzer/${file}`);
    event.detail.status = status;
    expect(intake(event)).toMatchObject({ kind: 'ignored' });
  });

  it.each(['internal-access-finding.skipped.json', 'unused-access-finding.skipped.json'])('%s deleted (isDeleted) is ignored, as for external access', (file) => {
    const event = loadSample(`access-analyzer/${file}`);
    event.detail.isDeleted = true;
    expect(intake(event)).toMatchObject({ kind: 'ignored' });
  });

  it('an unhandled finding of another account or region is skipped without unhandled info (nothing to post about)', () => {
    const other = loadSample('access-analyzer/internal-access-finding.skipped.json');
    other.account = OTHER_ACCOUNT;
    expect(expectKind(other, 'skipped')).not.toHaveProperty('unhandled');
    const elsewhere = loadSample('access-analyzer/unused-access-finding.skipped.json');
    elsewhere.region = 'eu-west-1';
    expect(expectKind(elsewhere, 'skipped')).not.toHaveProperty('unhandled');
  });

  it('replayed internal-access finding is skipped with unhandled info marked as replayed', () => {
    const event = loadSample('access-analyzer/internal-access-finding.skipped.json');
    event.source = 'driftfix.replay';
    expect(expectKind(event, 'skipped').unhandled).toMatchObject({ replayed: true });
  });

  it.each([
    ['aws.config', 'Config Rules Something New'],
    ['aws.access-analyzer', 'Access Analyzer Policy Generation'],
    ['aws.securityhub', 'Security Hub Findings - Custom Action'],
    ['aws.securityhub', 'Security Hub Insight Results'],
  ])('an unknown %s detail-type %j is skipped (AWS may add types), not rejected', (source, detailType) => {
    const result = expectKind(envelope(source, detailType, {}), 'skipped');
    expect(result).not.toHaveProperty('unhandled');
    expect(result.reason).toContain(detailType);
  });

  it.each([
    ['aws.config', 'Access Analyzer Finding'],
    ['aws.config', 'Security Hub Findings - Imported'],
    ['aws.config', 'Internal Access Finding'],
    ['aws.access-analyzer', 'Config Rules Compliance Change'],
    ['aws.access-analyzer', 'Config Configuration Item Change'],
    ['aws.securityhub', 'Access Analyzer Finding'],
    ['aws.securityhub', 'Config Rules Compliance Change'],
  ])('%s with another service’s detail-type %j is rejected', (source, detailType) => {
    expectRejected(envelope(source, detailType, {}), `does not come from ${source}`);
  });

  it('the mismatch sample (Config detail-type from aws.access-analyzer) is rejected', () => {
    expectRejected(loadSample('invalid/source-detail-type-mismatch.rejected.json'), /does not come from aws.access-analyzer/);
  });

  it('a source paired with the other service’s detail-type (an Access Analyzer finding under aws.config)', () => {
    const event = analyzerSample();
    event.source = 'aws.config';
    expectRejected(event, /does not come from aws.config/);
  });

  it.each([
    ['an unknown source', 'aws.ec2', /is not one driftfix accepts/],
    ['a custom source', 'com.example.driftfix', /is not one driftfix accepts/],
    ['a look-alike source (trailing space)', 'aws.config ', /is not one driftfix accepts/],
    ['a look-alike source (upper case)', 'AWS.CONFIG', /is not one driftfix accepts/],
    ['the member source (records go to the hub, not to rules)', 'driftfix.member', /is not one driftfix accepts/],
    ['a look-alike source (Cyrillic а)', 'аws.config', /look-alike/],
    ['a look-alike source (Cyrillic е in access)', 'aws.accеss-analyzer', /look-alike/],
    ['a look-alike source (zero-width space)', 'aws.con\u200bfig', /look-alike/],
    ['a look-alike source (fullwidth letters)', 'ａｗｓ.config', /look-alike/],
    ['a source with a NUL', 'aws.config\u0000', /look-alike/],
    ['a source with a newline', 'aws.config\n', /look-alike/],
  ])('%s', (_name, source, reason) => {
    const event = configSample();
    event.source = source;
    expectRejected(event, reason);
  });

  it.each([
    ['Cyrillic о', 'Config Rules Cоmpliance Change'],
    ['zero-width joiner', 'Config Rules Compliance\u200d Change'],
    ['non-breaking space', 'Config Rules\u00a0Compliance Change'],
    ['en dash in the Security Hub type', 'Security Hub Findings – Imported'],
  ])('a look-alike detail-type (%s) is rejected', (_name, detailType) => {
    const event = configSample();
    event['detail-type'] = detailType;
    expectRejected(event, /look-alike/);
  });
});

describe('replayed events (source driftfix.replay)', () => {
  it.each([
    ['config', configSample],
    ['access analyzer', analyzerSample],
    ['security hub', hubSample],
  ])('a %s event is accepted while replay is accepted, and marked', (_name, sample) => {
    const event = sample();
    event.source = 'driftfix.replay';
    expect(expectFinding(event).replayed).toBe(true);
  });

  it.each([
    ['config', configSample],
    ['access analyzer', analyzerSample],
    ['security hub', hubSample],
  ])('a %s event is rejected when the deployment turned replay off', (_name, sample) => {
    const event = sample();
    event.source = 'driftfix.replay';
    expectRejected(event, /turned off/, { acceptReplay: false });
  });

  it('the same events straight from AWS are accepted with replay off', () => {
    expectFinding(configSample(), { acceptReplay: false });
    expectFinding(analyzerSample(), { acceptReplay: false });
    expectFinding(hubSample(), { acceptReplay: false });
  });

  it('replayed ignorable types are ignored, not acted on', () => {
    const event = loadSample('config/configuration-item-change.ignored.json');
    event.source = 'driftfix.replay';
    expectKind(event, 'ignored');
  });

  it.each(['Configuration Item Change', 'Remediation Approved', 'Remediation Decision', 'Something Else'])(
    'a replayed event of a detail-type that is never replayed (%s)',
    (detailType) => {
      const event = configSample();
      event.source = 'driftfix.replay';
      event['detail-type'] = detailType;
      expectRejected(event, /cannot be replayed/);
    },
  );
});

describe('approved changes and hub decisions', () => {
  // Intake checks a rule id's form only; which rules exist is the rule function's business.
  const RULE_ID = 'example-rule';
  const approvalId = 'apr-8c0f4c1e-1111-4a4a-9b9b-0123456789ab';
  const approved = (detail: Json = { approvalId, ruleId: RULE_ID }, overrides: Json = {}) =>
    envelope('driftfix.approvals', 'Remediation Approved', detail, overrides);
  const HUB = OTHER_ACCOUNT;
  const decision = (detail: Json = {}, overrides: Json = {}) =>
    envelope('driftfix.hub', 'Remediation Decision', { approvalId, ruleId: RULE_ID, decision: 'approve', by: 'U012AB3CD', ...detail }, { account: HUB, ...overrides });

  it('an approval becomes the approval id and rule, nothing more', () => {
    expect(intake(approved())).toEqual({ kind: 'approved', approved: { eventId: 'e0e0e0e0-1111-4222-8333-944445555666', approvalId, ruleId: RULE_ID } });
  });

  it('an approval is taken with replay off (it does not come through the replay source)', () => {
    expectKind(approved(), 'approved', { acceptReplay: false });
  });

  it.each([
    ['an extra field (the plan must come from the table, never the event)', { approvalId, ruleId: RULE_ID, steps: [] }, /detail/],
    ['a malformed approval id', { approvalId: 'apr-../../x', ruleId: RULE_ID }, /approval id/],
    ['a malformed rule id', { approvalId, ruleId: 'S3 Default' }, /rule id/],
    ['no rule id', { approvalId }, /ruleId/],
  ])('an approval with %s is rejected', (_name, detail, reason) => {
    expectRejected(approved(detail), reason);
  });

  it.each([
    ['another account', { account: OTHER_ACCOUNT }, /this bot runs in 111122223333/],
    ['another region', { region: 'eu-west-1' }, /this bot runs in us-east-1/],
    ['another detail-type', { 'detail-type': 'Remediation Decision' }, /does not come from driftfix.approvals/],
  ])('an approval from %s is rejected', (_name, overrides, reason) => {
    expectRejected(approved(undefined, overrides), reason);
  });

  it('a hub decision, from the hub account, becomes a decision', () => {
    expect(intake(decision({ decision: 'exempt', days: 30, reason: 'vendor integration' }), { hubAccount: HUB })).toEqual({
      kind: 'decision',
      decision: { eventId: 'e0e0e0e0-1111-4222-8333-944445555666', approvalId, ruleId: RULE_ID, decision: 'exempt', by: 'U012AB3CD', days: 30, reason: 'vendor integration' },
    });
  });

  it('a decision is rejected where the stack has no hub', () => {
    expectRejected(decision(), /not a member of a hub/);
  });

  it.each([
    ['another account than the hub', { account: ACCOUNT }, /only from the hub account/],
    ['another region', { region: 'eu-west-1' }, /region eu-west-1/],
    ['another detail-type', { 'detail-type': 'Remediation Approved' }, /does not come from driftfix.hub/],
  ])('a decision from %s is rejected', (_name, overrides, reason) => {
    expectRejected(decision({}, overrides), reason, { hubAccount: HUB });
  });

  it('a decision taken from a terminal by a login name with any letters is taken', () => {
    expect(expectKind(decision({ by: 'cli:josé' }), 'decision', { hubAccount: HUB }).decision.by).toBe('cli:josé');
  });

  it.each([
    ['an unknown decision', { decision: 'maybe' }],
    ['no decider', { by: '' }],
    ['a decider with look-alike characters', { by: 'U012AB3СD' }],
    ['a decider that is neither a Slack user nor cli:', { by: 'mallory' }],
    ['zero days', { decision: 'exempt', days: 0 }],
    ['over a year', { decision: 'exempt', days: 366 }],
    ['fractional days', { decision: 'exempt', days: 1.5 }],
    ['an unknown field', { steps: [] }],
  ])('a decision with %s is rejected', (_name, detail) => {
    expectRejected(decision(detail), /detail/, { hubAccount: HUB });
  });
});

describe('rejected: bad input, with a reason', () => {
  it.each([
    ['id', undefined, /id/],
    ['id', 'id with spaces', /id/],
    ['id', 'x'.repeat(129), /id/],
    ['detail', undefined, /detail/],
    ['detail', [], /detail/],
    ['detail', 'text', /detail/],
    ['account', 111122223333, /account/],
    ['account', '11112222333', /account/],
    ['account', '１１１１２２２２３３３３', /account/],
    ['region', 'US-EAST-1', /region/],
    ['region', 'us-east-1 ', /region/],
    ['version', '1', /version/],
    ['version', 0, /version/],
    ['resources', 'arn:aws:s3:::x', /resources/],
    ['resources', Array.from({ length: 101 }, () => 'arn:aws:s3:::x'), /resources/],
    ['source', '', /source/],
    ['source', undefined, /source/],
    ['detail-type', undefined, /detail-type/],
    ['detail-type', 'x'.repeat(129), /detail-type/],
    ['time', undefined, /time/],
    ['replay-name', 42, /replay-name/],
  ])('envelope field %s missing or mistyped (%j)', (field, value, reason) => {
    const event = configSample();
    if (value === undefined) delete event[field];
    else event[field] = value;
    expectRejected(event, reason);
  });

  it.each([null, undefined, 'event', 42, true, [], {}, [configSample()]])('a non-event value %j', (value) => {
    expectKind(value, 'rejected');
  });

  it.each([
    ['configRuleName', ''],
    ['configRuleName', '   '],
    ['configRuleName', 'x'.repeat(129)],
    ['configRuleName', 'règle-s3'],
    ['configRuleName', 'аws-rule'],
    ['configRuleName', 'tab\tname'],
    ['configRuleName', 'rule\u200bname'],
    ['configRuleName', 42],
    ['resourceType', 'S3 bucket'],
    ['resourceType', 'AWS::S3::Bucket::Extra'],
    ['resourceType', 'Custom::Thing'],
    ['messageType', 'ScheduledNotification'],
    ['messageType', 'ConfigurationItemChangeNotification'],
    ['awsAccountId', '1111-2222-3333'],
    ['awsRegion', 'mars-1'],
    ['resourceId', ''],
    ['resourceId', 'x'.repeat(769)],
    ['configRuleARN', 'arn:aws:config:us-east-1:111122223333:config-rule/my-rule-name'],
    ['configRuleARN', 'arn:aws:config:us-east-1:111122223333:config-rule/aws-service-rule/Evil Service/config-rule-x'],
    ['configRuleARN', 'arn:aws:s3:::config-rule-x'],
    ['notificationCreationTime', 'yesterday'],
  ])('Config detail field %s mistyped (%j)', (field, value) => {
    const event = configSample();
    event.detail[field] = value;
    expectRejected(event, new RegExp(`detail.${field}`));
  });

  it.each([null, 'not an object', []])('Config newEvaluationResult %j', (value) => {
    const event = configSample();
    event.detail.newEvaluationResult = value;
    expectRejected(event, /detail.newEvaluationResult/);
  });

  it('Config verdict outside the known ones', () => {
    const event = configSample();
    event.detail.newEvaluationResult.complianceType = 'MOSTLY_COMPLIANT';
    expectRejected(event, /complianceType/);
  });

  it('an annotation over the 1024 characters AWS Config allows', () => {
    const event = configSample();
    event.detail.newEvaluationResult.annotation = 'x'.repeat(1025);
    expectRejected(event, /annotation/);
  });

  it('a resource id with look-alike characters', () => {
    const event = configEvent({ configRuleName: 's3-bucket-server-side-encryption-enabled', resourceId: 'driftfix-demo-unеncrypted' });
    expectRejected(event, /resourceId has characters/);
  });

  it.each([
    ['status', 'OPEN'],
    ['isPublic', 'true'],
    ['isDeleted', 'false'],
    ['resource', 42],
    ['resource', ''],
    ['id', '../../etc'],
    ['accountId', 'me'],
    ['region', 'Europe'],
    ['resourceType', 'S3 Bucket'],
    ['principal', { AWS: ['444455556666'] }],
    ['action', 's3:GetObject'],
    ['error', 42],
    ['createdAt', 'then'],
  ])('Access Analyzer detail field %s mistyped (%j)', (field, value) => {
    const event = analyzerSample();
    event.detail[field] = value;
    expectRejected(event, new RegExp(`detail.${field}`));
  });

  it.each([
    ['not an ARN', 'driftfix-demo-analyzer-public', /is not an ARN/],
    ['an ARN with look-alike characters', 'arn:aws:s3:::driftfix-demо', /is not an ARN/],
  ])('an Access Analyzer resource that is %s', (_name, resource, reason) => {
    const event = analyzerSample();
    event.detail.resource = resource;
    expectRejected(event, reason);
  });

  it('an event for another account than the bot', () => {
    const event = configSample();
    event.account = OTHER_ACCOUNT;
    event.detail.awsAccountId = OTHER_ACCOUNT;
    expectRejected(event, /this bot runs in 111122223333/);
  });

  it('the other-account sample', () => {
    expectRejected(loadSample('invalid/other-account.rejected.json'), /event is for account 444455556666/);
  });

  it('an event for another region than the bot', () => {
    const event = configSample();
    event.region = 'eu-west-1';
    event.detail.awsRegion = 'eu-west-1';
    event.detail.configRuleARN = `arn:aws:config:eu-west-1:${ACCOUNT}:config-rule/config-rule-9rpvxc`;
    expectRejected(event, /this bot runs in us-east-1/);
  });

  it('an Access Analyzer event for another region than the bot', () => {
    const event = analyzerSample();
    event.region = 'eu-west-1';
    event.detail.region = 'eu-west-1';
    event.resources = [`arn:aws:access-analyzer:eu-west-1:${ACCOUNT}:analyzer/MyAnalyzer`];
    expectRejected(event, /this bot runs in us-east-1/);
  });

  it('a Config detail account that differs from the envelope', () => {
    const event = configSample();
    event.detail.awsAccountId = OTHER_ACCOUNT;
    expectRejected(event, /differs from the event account/);
  });

  it('a Config detail region that differs from the envelope', () => {
    const event = configSample();
    event.detail.awsRegion = 'eu-west-1';
    expectRejected(event, /differs from the event region/);
  });

  it('an Access Analyzer detail region that differs from the envelope', () => {
    const event = analyzerSample();
    event.detail.region = 'eu-west-1';
    expectRejected(event, /differs from the event region/);
  });


  it.each([
    ['another account', `arn:aws:access-analyzer:us-east-1:${OTHER_ACCOUNT}:analyzer/x`],
    ['another region', `arn:aws:access-analyzer:eu-west-1:${ACCOUNT}:analyzer/x`],
    ['an unknown partition', `arn:evil:access-analyzer:us-east-1:${ACCOUNT}:analyzer/x`],
  ])('an analyzer in %s', (_name, arn) => {
    const event = analyzerSample();
    event.resources = [arn];
    expectRejected(event, /is not in 111122223333\/us-east-1/);
  });

  it.each([
    ['resourceId', 'other-bucket', /names resourceId/],
    ['resourceType', 'AWS::IAM::Policy', /names resourceType/],
    ['configRuleName', 'another-rule', /names configRuleName/],
  ])('an evaluation result that names another %s than the event', (field, value, reason) => {
    const event = configSample();
    event.detail.newEvaluationResult.evaluationResultIdentifier.evaluationResultQualifier[field] = value;
    expectRejected(event, reason);
  });

  it.each([
    ['another account', `arn:aws:config:us-east-1:${OTHER_ACCOUNT}:config-rule/config-rule-abc`],
    ['another region', `arn:aws:config:eu-west-1:${ACCOUNT}:config-rule/config-rule-abc`],
    ['another account (service-linked)', `arn:aws:config:us-east-1:${OTHER_ACCOUNT}:config-rule/aws-service-rule/securityhub.amazonaws.com/config-rule-abc`],
  ])('a Config rule ARN in %s', (_name, arn) => {
    const event = configSample();
    event.detail.configRuleARN = arn;
    expectRejected(event, /configRuleARN/);
  });

  it.each([
    ['not a date', 'yesterday', /not an ISO 8601/],
    ['an impossible date', '2026-02-30T25:61:00Z', /not an ISO 8601/],
    ['a date without a zone', '2026-11-20T10:00:00', /not an ISO 8601/],
    ['far in the future', '2099-01-01T00:00:00Z', /in the future/],
    ['16 minutes ahead (beyond the clock skew)', new Date(NOW + 16 * 60_000).toISOString(), /in the future/],
    ['the epoch', '1970-01-01T00:00:00Z', /predates/],
    ['a number', 1764000000, /time/],
  ])('a timestamp that is %s', (_name, time, reason) => {
    const event = configSample();
    event.time = time;
    expectRejected(event, reason);
  });

  it('14 minutes ahead is clock skew, accepted', () => {
    const event = configSample();
    event.time = new Date(NOW + 14 * 60_000).toISOString();
    expectFinding(event);
  });

  it('the future-timestamp sample', () => {
    expectRejected(loadSample('invalid/future-timestamp.rejected.json'), /in the future/);
  });

  it.each([
    ['analyzer', 'updatedAt', analyzerSample, (e: Json) => e.detail],
    ['config', 'resultRecordedTime', configSample, (e: Json) => e.detail.newEvaluationResult],
    ['config', 'orderingTimestamp', configSample, (e: Json) => e.detail.newEvaluationResult.evaluationResultIdentifier],
  ])('an absurd %s timestamp inside the detail (%s)', (_name, field, sample, at) => {
    const event = sample();
    at(event)[field] = '3026-01-01T00:00:00Z';
    expectRejected(event, new RegExp(field));
  });

  it('an oversized event', () => {
    const event = configSample();
    event.detail.padding = 'x'.repeat(300 * 1024);
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

  it.each(['__proto__', 'constructor', 'prototype'])('a prototype-polluting key %s', (key) => {
    const event = JSON.parse(JSON.stringify(configSample()).replace('"detail":{', `"detail":{"${key}":{"isAdmin":true},`));
    expectRejected(event, `forbidden key "${key}"`);
  });

  it('a value that is not JSON data (a Map, a function, a cycle)', () => {
    const withMap = configSample();
    withMap.detail.extra = new Map([['a', 1]]);
    expectRejected(withMap, /non-plain object/);
    const cyclic = configSample();
    cyclic.detail.self = cyclic;
    expectRejected(cyclic, /cannot be serialized/);
  });
});

describe('Security Hub feeds that carry other accounts’ and regions’ findings (administrator, aggregation region)', () => {
  it('a member account’s finding in the administrator’s feed is ignored, for that account’s own driftfix', () => {
    const event = hubSample();
    hubFinding(event).AwsAccountId = OTHER_ACCOUNT;
    expect(expectKind(event, 'ignored').reason).toMatch(/a finding of account 444455556666 in the Security Hub administrator's feed/);
  });

  it('a linked region’s finding in the aggregation region’s feed is ignored, for that region’s own driftfix', () => {
    const event = hubSample();
    hubFinding(event).Region = 'eu-west-1';
    expect(expectKind(event, 'ignored').reason).toMatch(/a finding of region eu-west-1 in the aggregation region's feed/);
  });
});

describe('an organization analyzer’s findings of member accounts', () => {
  it('are ignored, for the member’s own driftfix (detail.accountId is the finding’s account)', () => {
    const event = analyzerSample();
    event.detail.accountId = OTHER_ACCOUNT;
    expect(expectKind(event, 'ignored').reason).toMatch(/a finding of account 444455556666 from an organization analyzer/);
  });
});
