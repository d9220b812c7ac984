import { describe, expect, it } from 'vitest';
import { type EventPattern, matchesPattern } from '../../core/intake/event-pattern.ts';
import { intakeEvent } from '../../core/intake/intake.ts';
import {
  chooseRule,
  configResourceTypes,
  ROUTER_FUNCTION,
  routerPatterns,
  rulePatterns,
  targetOf,
  UNHANDLED_FUNCTION,
  unhandledFindingPatterns,
} from '../../core/intake/routing.ts';
import type { AnyRule, Finding, ResourceKind } from '../../core/model/index.ts';
import { RULES } from '../../rules/index.ts';
import {
  ACCOUNT_IN_REGION,
  IAM_POLICY,
  IAM_ROLE,
  KMS_KEY,
  RDS_INSTANCE,
  S3_ACCOUNT_PUBLIC_ACCESS_BLOCK,
  S3_BUCKET,
  SECURITY_GROUP,
} from '../../rules/lib/resources.ts';
import { functionsFor } from '../../scripts/lib/local-runtime.ts';
import { ACCOUNT, analyzerEvent, configEvent, loadSample, OTHER_ACCOUNT, REGION, securityHubEvent } from '../support/events.ts';
import { ruleAnswering, ruleForAnalyzer } from '../support/rules.ts';

const NOW = Date.parse('2026-11-26T00:00:00Z');
const where = { account: ACCOUNT, region: REGION };
const ruleById = (id: string): AnyRule => {
  const rule = RULES.find((candidate) => candidate.id === id);
  if (!rule) throw new Error(`no rule ${id}`);
  return rule;
};
/** The rules these tests name, found by what they declare (rule ids are named only where the rule lives). */
const BUCKET_BLOCK = ruleAnswering('S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED');
const ENCRYPTION = ruleAnswering('S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED');
const ACCOUNT_BLOCK = ruleAnswering('S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS');
const POLICIES = ruleAnswering('IAM_POLICY_NO_STATEMENTS_WITH_ADMIN_ACCESS');
const BUCKET_SHARING = ruleForAnalyzer('AWS::S3::Bucket', false);
const ROLE_TRUST = ruleForAnalyzer('AWS::IAM::Role', false);

/** The finding intake makes of an event (each test event here is one intake accepts). */
function findingOf(event: unknown): Finding {
  const result = intakeEvent(event, { ...where, acceptReplay: true, now: () => NOW });
  if (result.kind !== 'finding') throw new Error(`not a finding: ${JSON.stringify(result)}`);
  return result.finding;
}

/** A Config finding as the router sees it once AWS Config named the managed rule. */
function configFinding(identifier: string | undefined, resourceType: string, resourceId: string): Finding {
  const finding = findingOf(configEvent({ configRuleName: 'any-name-at-all', resourceType, resourceId }));
  if (finding.trigger.kind !== 'config-rule') throw new Error('not a Config finding');
  return { ...finding, trigger: { ...finding.trigger, ...(identifier ? { identifier } : {}) } };
}

const targets = (event: unknown, options: { acceptReplay: boolean; hubAccount?: string } = { acceptReplay: true }) => functionsFor(event, options);

describe('EventBridge pattern matching (the local matcher)', () => {
  const pattern: EventPattern = { source: ['aws.config'], detail: { name: ['a', 'b'], nested: { flag: [true] }, id: [{ prefix: 'arn:' }] } };

  it('matches when every field matches one allowed value', () => {
    expect(matchesPattern({ source: 'aws.config', detail: { name: 'b', nested: { flag: true }, id: 'arn:x' }, other: 1 }, pattern)).toBe(true);
  });

  it.each([
    ['another value', { source: 'aws.ec2', detail: { name: 'a', nested: { flag: true }, id: 'arn:x' } }],
    ['a missing field', { source: 'aws.config', detail: { name: 'a', nested: {}, id: 'arn:x' } }],
    ['a string where a boolean is expected', { source: 'aws.config', detail: { name: 'a', nested: { flag: 'true' }, id: 'arn:x' } }],
    ['a prefix that does not match', { source: 'aws.config', detail: { name: 'a', nested: { flag: true }, id: 'xarn:' } }],
    ['a prefix on a non-string', { source: 'aws.config', detail: { name: 'a', nested: { flag: true }, id: 42 } }],
    ['no detail', { source: 'aws.config' }],
    ['a detail that is a string', { source: 'aws.config', detail: 'name' }],
    ['a nested object where a value is expected', { source: 'aws.config', detail: { name: { a: 1 }, nested: { flag: true }, id: 'arn:x' } }],
    ['case differences', { source: 'AWS.config', detail: { name: 'a', nested: { flag: true }, id: 'arn:x' } }],
  ])('does not match %s', (_name, event) => {
    expect(matchesPattern(event, pattern)).toBe(false);
  });

  it.each([null, undefined, 'aws.config', 42, [{ source: 'aws.config' }]])('does not match a non-object %j', (event) => {
    expect(matchesPattern(event, { source: ['aws.config'] })).toBe(false);
  });

  it('matches an array field when any element matches', () => {
    expect(matchesPattern({ tags: ['x', 'b'] }, { tags: ['b'] })).toBe(true);
    expect(matchesPattern({ tags: ['x'] }, { tags: ['b'] })).toBe(false);
    expect(matchesPattern({ tags: [] }, { tags: ['b'] })).toBe(false);
  });

  it('does not read inherited properties', () => {
    expect(matchesPattern(Object.create({ source: 'aws.config' }), { source: ['aws.config'] })).toBe(false);
    expect(matchesPattern({}, { constructor: [{ exists: true }] })).toBe(false);
    expect(matchesPattern({}, { toString: [{ 'anything-but': ['x'] }] })).toBe(false);
  });

  it('null matches only null', () => {
    expect(matchesPattern({ a: null }, { a: [null] })).toBe(true);
    expect(matchesPattern({}, { a: [null] })).toBe(false);
    expect(matchesPattern({ a: 'null' }, { a: [null] })).toBe(false);
  });

  it('exists matches present and absent fields', () => {
    expect(matchesPattern({ detail: { error: 'X' } }, { detail: { error: [{ exists: true }] } })).toBe(true);
    expect(matchesPattern({ detail: {} }, { detail: { error: [{ exists: true }] } })).toBe(false);
    expect(matchesPattern({ detail: {} }, { detail: { error: [{ exists: false }] } })).toBe(true);
    expect(matchesPattern({ detail: { error: 'X' } }, { detail: { error: [{ exists: false }] } })).toBe(false);
  });

  it('anything-but needs a present value that is none of the listed ones', () => {
    expect(matchesPattern({ t: 'AWS::KMS::Key' }, { t: [{ 'anything-but': ['AWS::S3::Bucket'] }] })).toBe(true);
    expect(matchesPattern({ t: 'AWS::S3::Bucket' }, { t: [{ 'anything-but': ['AWS::S3::Bucket'] }] })).toBe(false);
    expect(matchesPattern({}, { t: [{ 'anything-but': ['AWS::S3::Bucket'] }] })).toBe(false);
    expect(matchesPattern({ t: null }, { t: [{ 'anything-but': ['AWS::S3::Bucket'] }] })).toBe(false);
  });

  describe('nested patterns over an array of objects (Security Hub findings)', () => {
    const controlPattern: EventPattern = { detail: { findings: { Compliance: { SecurityControlId: ['S3.8'], Status: ['FAILED'] }, RecordState: ['ACTIVE'] } } };
    const finding = (id: string, status: string, state = 'ACTIVE') => ({ Compliance: { SecurityControlId: id, Status: status }, RecordState: state });

    it('matches when an element matches every field', () => {
      expect(matchesPattern({ detail: { findings: [finding('S3.8', 'FAILED')] } }, controlPattern)).toBe(true);
      expect(matchesPattern({ detail: { findings: [finding('S3.1', 'PASSED'), finding('S3.8', 'FAILED')] } }, controlPattern)).toBe(true);
    });

    it.each([
      ['another control', [finding('S3.1', 'FAILED')]],
      ['a passed control', [finding('S3.8', 'PASSED')]],
      ['an archived finding', [finding('S3.8', 'FAILED', 'ARCHIVED')]],
      ['no findings', []],
      ['findings of strings', ['S3.8']],
    ])('does not match %s', (_name, findings) => {
      expect(matchesPattern({ detail: { findings } }, controlPattern)).toBe(false);
    });

    it('a nested pattern also matches a plain object', () => {
      expect(matchesPattern({ detail: { findings: finding('S3.8', 'FAILED') } }, controlPattern)).toBe(true);
    });

    it('every rule’s Security Hub pattern matches the sample it answers and none of the ignored samples', () => {
      const bucket = loadSample('security-hub/s3.8-bucket-level-block-public-access.remediated.json');
      const passed = loadSample('security-hub/passed.ignored.json');
      const resolved = loadSample('security-hub/resolved-workflow.ignored.json');
      const securityHub = rulePatterns(BUCKET_BLOCK, { acceptReplay: false }).find((candidate) =>
        (candidate.source as string[]).includes('aws.securityhub'),
      );
      if (!securityHub) throw new Error('no Security Hub pattern');
      expect(matchesPattern(bucket, securityHub)).toBe(true);
      expect(matchesPattern(passed, securityHub)).toBe(false);
      expect(matchesPattern(resolved, securityHub)).toBe(false);
    });
  });
});

describe('patterns, from what the rules declare', () => {
  it('no two rules answer the same managed rule, Access Analyzer finding or Security Hub control', () => {
    const identifiers = RULES.flatMap((rule) => (rule.answers.config ?? []).map((answer) => answer.identifier));
    expect(new Set(identifiers).size).toBe(identifiers.length);
    const analyzer = RULES.flatMap((rule) => (rule.answers.accessAnalyzer ? [JSON.stringify(rule.answers.accessAnalyzer)] : []));
    expect(new Set(analyzer).size).toBe(analyzer.length);
    const controls = RULES.flatMap((rule) => rule.answers.securityHub ?? []);
    expect(new Set(controls).size).toBe(controls.length);
  });

  it('the router takes the NON_COMPLIANT changes of every resource type a managed rule reports on', () => {
    const types = configResourceTypes(RULES);
    expect(types).toEqual(expect.arrayContaining(['AWS::::Account', 'AWS::IAM::Policy', 'AWS::S3::AccountPublicAccessBlock', 'AWS::S3::Bucket']));
    expect(types).toEqual([...new Set(RULES.flatMap((rule) => (rule.answers.config ?? []).flatMap((answer) => [...answer.resourceTypes])))].sort());
    expect(routerPatterns(RULES, { acceptReplay: false })).toEqual([
      {
        source: ['aws.config'],
        'detail-type': ['Config Rules Compliance Change'],
        detail: { newEvaluationResult: { complianceType: ['NON_COMPLIANT'] }, resourceType: configResourceTypes(RULES) },
      },
    ]);
  });

  it('no rule answering AWS Config: no router pattern', () => {
    const noConfig = RULES.filter((rule) => !rule.answers.config);
    expect(noConfig.length).toBeGreaterThan(0);
    expect(routerPatterns(noConfig, { acceptReplay: true })).toEqual([]);
  });

  it('rule patterns never take AWS Config events: those go through the router', () => {
    for (const rule of RULES) {
      for (const pattern of rulePatterns(rule, { acceptReplay: true })) expect(pattern.source).not.toContain('aws.config');
    }
  });

  it('replayed events are routed only while replay is accepted; approvals and decisions never by the replay source', () => {
    for (const rule of RULES) {
      for (const pattern of rulePatterns(rule, { acceptReplay: false, hubAccount: OTHER_ACCOUNT })) expect(pattern.source).not.toContain('driftfix.replay');
      for (const pattern of rulePatterns(rule, { acceptReplay: true, hubAccount: OTHER_ACCOUNT })) {
        const sources = pattern.source as string[];
        if (sources.some((source) => source.startsWith('aws.'))) expect(sources).toContain('driftfix.replay');
        else expect(sources).not.toContain('driftfix.replay');
      }
    }
    for (const pattern of [...routerPatterns(RULES, { acceptReplay: false }), ...unhandledFindingPatterns(RULES, { acceptReplay: false })]) {
      expect(pattern.source).not.toContain('driftfix.replay');
    }
    for (const pattern of [...routerPatterns(RULES, { acceptReplay: true }), ...unhandledFindingPatterns(RULES, { acceptReplay: true })]) {
      expect(pattern.source).toContain('driftfix.replay');
    }
  });

  it('a decision pattern only with a hub, and only from the hub account', () => {
    for (const rule of RULES) {
      expect(rulePatterns(rule, { acceptReplay: true }).some((pattern) => (pattern.source as string[]).includes('driftfix.hub'))).toBe(false);
      const decision = rulePatterns(rule, { acceptReplay: true, hubAccount: OTHER_ACCOUNT }).find((pattern) => (pattern.source as string[]).includes('driftfix.hub'));
      expect(decision).toEqual({ source: ['driftfix.hub'], 'detail-type': ['Remediation Decision'], account: [OTHER_ACCOUNT], detail: { ruleId: [rule.id] } });
    }
  });

  it('Access Analyzer error findings go to no rule', () => {
    for (const rule of RULES) {
      const analyzer = rulePatterns(rule, { acceptReplay: false }).find((pattern) => (pattern.source as string[]).includes('aws.access-analyzer'));
      if (analyzer) expect(analyzer.detail).toMatchObject({ error: [{ exists: false }], status: ['ACTIVE'] });
    }
  });
});

describe('which function an event goes to', () => {
  it.each([
    's3-bucket-server-side-encryption-enabled',
    'securityhub-s3-bucket-server-side-encryption-enabled-7c0a4e',
    'prod data buckets: KMS required',
    'cloudtrail-enabled',
  ])('a NON_COMPLIANT AWS Config change (rule %j) goes to the router, whatever the rule is named', (configRuleName) => {
    expect(targets(configEvent({ configRuleName, resourceId: 'some-bucket' }))).toEqual([ROUTER_FUNCTION]);
  });

  it.each([
    ['AWS::::Account', ACCOUNT],
    ['AWS::S3::AccountPublicAccessBlock', ACCOUNT],
    ['AWS::IAM::Policy', 'ANPAEXAMPLEADMINACCESS01'],
  ])('a %s change goes to the router', (resourceType, resourceId) => {
    expect(targets(configEvent({ configRuleName: 'r', resourceType, resourceId }))).toEqual([ROUTER_FUNCTION]);
  });

  it.each([
    ['a compliant verdict', configEvent({ configRuleName: 's3-bucket-public-read-prohibited', resourceId: 'b-1', compliance: 'COMPLIANT' })],
    ['a not-applicable verdict', configEvent({ configRuleName: 's3-bucket-public-read-prohibited', resourceId: 'b-1', compliance: 'NOT_APPLICABLE' })],
    ['a resource type no managed rule of a driftfix rule reports on', configEvent({ configRuleName: 'ec2-imdsv2-check', resourceType: 'AWS::EC2::Instance', resourceId: 'i-0abc' })],
    ['a configuration-item change', loadSample('config/configuration-item-change.ignored.json')],
    ['a resolved Access Analyzer finding', analyzerEvent({ bucket: 'b-1', status: 'RESOLVED' })],
    ['an archived Access Analyzer finding', analyzerEvent({ bucket: 'b-1', status: 'ARCHIVED' })],
    ['an access preview', loadSample('access-analyzer/access-preview-state-change.ignored.json')],
    ['a passed control', loadSample('security-hub/passed.ignored.json')],
    ['a resolved control finding', loadSample('security-hub/resolved-workflow.ignored.json')],
    ['a control no rule answers', loadSample('security-hub/unanswered-control.skipped.json')],
  ])('%s goes nowhere', (_name, event) => {
    expect(targets(event)).toEqual([]);
  });

  it('a public-bucket Access Analyzer finding goes to the bucket Block Public Access rule', () => {
    expect(targets(analyzerEvent({ bucket: 'b-1' }))).toEqual([BUCKET_BLOCK.id]);
  });

  it('a cross-account bucket finding goes to the bucket policy rule, a role one to the trust policy rule', () => {
    expect(targets(analyzerEvent({ bucket: 'b-1', isPublic: false }))).toEqual([BUCKET_SHARING.id]);
    expect(targets(loadSample('access-analyzer/iam-role-cross-account.pending-approval.json'))).toEqual([ROLE_TRUST.id]);
  });

  it.each([
    ['a KMS key finding (no rule fixes keys)', loadSample('access-analyzer/kms-key-cross-account.skipped.json')],
    ['an error finding', loadSample('access-analyzer/error-finding.skipped.json')],
    ['an internal-access finding', loadSample('access-analyzer/internal-access-finding.skipped.json')],
    ['an unused-access finding', loadSample('access-analyzer/unused-access-finding.skipped.json')],
  ])('%s goes to the unhandled-findings function only', (_name, event) => {
    expect(targets(event)).toEqual([UNHANDLED_FUNCTION]);
  });

  it('a public role (no rule fixes that exposure) goes to the unhandled-findings function only', () => {
    const event = loadSample('access-analyzer/iam-role-cross-account.pending-approval.json');
    event.detail.isPublic = true;
    expect(targets(event)).toEqual([UNHANDLED_FUNCTION]);
  });

  it.each([
    ['S3.8', 'AwsS3Bucket', 'S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED'],
    ['S3.2', 'AwsS3Bucket', 'S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED'],
    ['S3.3', 'AwsS3Bucket', 'S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED'],
    ['S3.4', 'AwsS3Bucket', 'S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED'],
    ['S3.1', 'AwsAccount', 'S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS'],
    ['IAM.1', 'AwsIamPolicy', 'IAM_POLICY_NO_STATEMENTS_WITH_ADMIN_ACCESS'],
    ['IAM.21', 'AwsIamPolicy', 'IAM_POLICY_NO_STATEMENTS_WITH_ADMIN_ACCESS'],
  ])('Security Hub control %s goes to its rule (%s → the rule answering %s)', (controlId, resourceType, identifier) => {
    expect(targets(securityHubEvent({ controlId, resourceType, resourceId: 'arn:aws:s3:::b-1' }))).toEqual([ruleAnswering(identifier).id]);
  });

  it.each(['NOTIFIED'])('Security Hub workflow %s still goes to the rule', (workflow) => {
    expect(targets(securityHubEvent({ controlId: 'S3.8', resourceType: 'AwsS3Bucket', resourceId: 'arn:aws:s3:::b-1', workflow }))).toEqual([BUCKET_BLOCK.id]);
  });

  it.each(['RESOLVED', 'SUPPRESSED'])('Security Hub workflow %s goes nowhere', (workflow) => {
    expect(targets(securityHubEvent({ controlId: 'S3.8', resourceType: 'AwsS3Bucket', resourceId: 'arn:aws:s3:::b-1', workflow }))).toEqual([]);
  });

  it('replayed events are routed only while replay is accepted', () => {
    for (const event of [configEvent({ configRuleName: 's3-bucket-public-read-prohibited', resourceId: 'b-1' }), analyzerEvent({ bucket: 'b-1' }), loadSample('security-hub/iam.1-admin-policy.skipped.json')]) {
      event.source = 'driftfix.replay';
      expect(targets(event, { acceptReplay: true })).toHaveLength(1);
      expect(targets(event, { acceptReplay: false })).toEqual([]);
    }
  });

  describe('approved changes and hub decisions go back to the rule’s own function', () => {
    const approved = (ruleId: string) => ({
      version: '0',
      id: 'a1b2c3d4-0000-4000-8000-000000000001',
      'detail-type': 'Remediation Approved',
      source: 'driftfix.approvals',
      account: ACCOUNT,
      time: '2026-11-20T10:00:00Z',
      region: REGION,
      resources: [],
      detail: { approvalId: 'apr-8c0f4c1e-1111-4a4a-9b9b-0123456789ab', ruleId },
    });
    const decision = (ruleId: string, account = OTHER_ACCOUNT) => ({
      ...approved(ruleId),
      source: 'driftfix.hub',
      'detail-type': 'Remediation Decision',
      account,
      detail: { approvalId: 'apr-8c0f4c1e-1111-4a4a-9b9b-0123456789ab', ruleId, decision: 'approve', by: 'U012AB3CD' },
    });

    it.each(RULES.map((rule) => rule.id))('an approval for %s', (ruleId) => {
      expect(targets(approved(ruleId), { acceptReplay: true })).toEqual([ruleId]);
      expect(targets(approved(ruleId), { acceptReplay: false })).toEqual([ruleId]);
    });

    it('an approval for an unknown rule goes nowhere', () => {
      expect(targets(approved('no-such-rule'))).toEqual([]);
    });

    it.each(RULES.map((rule) => rule.id))('a hub decision for %s, from the hub account only', (ruleId) => {
      expect(targets(decision(ruleId), { acceptReplay: false, hubAccount: OTHER_ACCOUNT })).toEqual([ruleId]);
      expect(targets(decision(ruleId, ACCOUNT), { acceptReplay: false, hubAccount: OTHER_ACCOUNT })).toEqual([]);
      expect(targets(decision(ruleId), { acceptReplay: false })).toEqual([]);
    });
  });
});

describe('chooseRule', () => {
  it.each(
    RULES.flatMap((rule) => (rule.answers.config ?? []).flatMap((answer) => answer.resourceTypes.map((type) => [answer.identifier, type, rule.id] as const))),
  )('managed rule %s on %s → %s', (identifier, resourceType, ruleId) => {
    const choice = chooseRule(configFinding(identifier, resourceType, resourceType.includes('Account') ? ACCOUNT : 'ANPAEXAMPLEADMINACCESS01'), RULES);
    expect(choice).toEqual({ kind: 'rule', rule: ruleById(ruleId) });
  });

  it('S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS reports AWS::S3::AccountPublicAccessBlock; the periodic one AWS::::Account', () => {
    const rule = ACCOUNT_BLOCK;
    expect(chooseRule(configFinding('S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS', 'AWS::S3::AccountPublicAccessBlock', ACCOUNT), RULES)).toEqual({ kind: 'rule', rule });
    expect(chooseRule(configFinding('S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS_PERIODIC', 'AWS::::Account', ACCOUNT), RULES)).toEqual({ kind: 'rule', rule });
    expect(chooseRule(configFinding('S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS', 'AWS::::Account', ACCOUNT), RULES)).toMatchObject({
      kind: 'rejected',
      reason: expect.stringContaining('not AWS::::Account'),
    });
    expect(chooseRule(configFinding('S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS_PERIODIC', 'AWS::S3::AccountPublicAccessBlock', ACCOUNT), RULES)).toMatchObject({
      kind: 'rejected',
      reason: expect.stringContaining('not AWS::S3::AccountPublicAccessBlock'),
    });
  });

  it.each([
    ['a bucket rule on a policy', 'S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED', 'AWS::IAM::Policy'],
    ['a policy rule on a bucket', 'IAM_POLICY_NO_STATEMENTS_WITH_ADMIN_ACCESS', 'AWS::S3::Bucket'],
    ['a bucket rule on the account', 'S3_BUCKET_PUBLIC_READ_PROHIBITED', 'AWS::::Account'],
  ])('%s is rejected: the managed rule never reports that type', (_name, identifier, resourceType) => {
    expect(chooseRule(configFinding(identifier, resourceType, 'x'), RULES)).toMatchObject({ kind: 'rejected' });
  });

  it('a Config finding whose managed rule is unknown (not looked up) is skipped', () => {
    expect(chooseRule(configFinding(undefined, 'AWS::S3::Bucket', 'b-1'), RULES)).toMatchObject({ kind: 'skipped', reason: expect.stringContaining('any-name-at-all') });
  });

  it('a managed rule no driftfix rule answers is skipped', () => {
    expect(chooseRule(configFinding('CLOUD_TRAIL_ENABLED', 'AWS::::Account', ACCOUNT), RULES)).toMatchObject({ kind: 'skipped', reason: expect.stringContaining('CLOUD_TRAIL_ENABLED') });
  });

  it('a rule name alone decides nothing: the identifier does', () => {
    const event = configEvent({ configRuleName: 's3-bucket-server-side-encryption-enabled', resourceId: 'b-1' });
    expect(chooseRule(findingOf(event), RULES).kind).toBe('skipped');
  });

  it('only the rules given are chosen from (a Lambda function holds its own rule only)', () => {
    expect(chooseRule(configFinding('S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED', 'AWS::S3::Bucket', 'b-1'), [BUCKET_BLOCK]).kind).toBe('skipped');
  });

  it.each([
    [{ bucket: 'b-1' }, 'the bucket Block Public Access rule', BUCKET_BLOCK],
    [{ bucket: 'b-1', isPublic: false }, 'the bucket policy rule', BUCKET_SHARING],
  ])('Access Analyzer bucket finding %j → %s', (options, _name, rule) => {
    expect(chooseRule(findingOf(analyzerEvent(options)), RULES)).toEqual({ kind: 'rule', rule });
  });

  it('Access Analyzer role findings: cross-account → trust policy rule; public → skipped', () => {
    const event = loadSample('access-analyzer/iam-role-cross-account.pending-approval.json');
    expect(chooseRule(findingOf(event), RULES)).toEqual({ kind: 'rule', rule: ROLE_TRUST });
    event.detail.isPublic = true;
    expect(chooseRule(findingOf(event), RULES)).toMatchObject({ kind: 'skipped', reason: expect.stringContaining('public access findings for AWS::IAM::Role') });
  });

  it('an Access Analyzer finding of a type no rule fixes is skipped', () => {
    expect(chooseRule(findingOf(loadSample('access-analyzer/kms-key-cross-account.skipped.json')), RULES)).toMatchObject({ kind: 'skipped', reason: expect.stringContaining('AWS::KMS::Key') });
  });

  it.each([
    ['S3.8', 'AwsS3Bucket', 'arn:aws:s3:::b-1', 'S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED'],
    ['S3.4', 'AwsS3Bucket', 'arn:aws:s3:::b-1', 'S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED'],
    ['S3.1', 'AwsAccount', `AWS::::Account:${ACCOUNT}`, 'S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS'],
    ['IAM.1', 'AwsIamPolicy', `arn:aws:iam::${ACCOUNT}:policy/p`, 'IAM_POLICY_NO_STATEMENTS_WITH_ADMIN_ACCESS'],
    ['IAM.21', 'AwsIamPolicy', `arn:aws:iam::${ACCOUNT}:policy/p`, 'IAM_POLICY_NO_STATEMENTS_WITH_ADMIN_ACCESS'],
  ])('Security Hub control %s on %s → the rule answering %s', (controlId, resourceType, resourceId, identifier) => {
    expect(chooseRule(findingOf(securityHubEvent({ controlId, resourceType, resourceId })), RULES)).toEqual({ kind: 'rule', rule: ruleAnswering(identifier) });
  });

  it('a control on a resource type its rule does not fix is rejected', () => {
    expect(chooseRule(findingOf(securityHubEvent({ controlId: 'S3.8', resourceType: 'AwsIamRole', resourceId: `arn:aws:iam::${ACCOUNT}:role/r` })), RULES)).toMatchObject({
      kind: 'rejected',
      reason: expect.stringContaining('not AwsIamRole'),
    });
  });

  it('a control no rule answers is skipped', () => {
    expect(chooseRule(findingOf(loadSample('security-hub/unanswered-control.skipped.json')), RULES)).toMatchObject({ kind: 'skipped', reason: expect.stringContaining('CloudTrail.2') });
  });
});

describe('targetOf: the resource as the rule’s API wants it, or why it is not one of this account', () => {
  const encryption = ENCRYPTION;
  const bucketBlock = BUCKET_BLOCK;
  const accountBlock = ACCOUNT_BLOCK;
  const policies = POLICIES;
  const roles = ROLE_TRUST;

  const configTarget = (rule: AnyRule, resourceType: string, resourceId: string) => targetOf(configFinding('X', resourceType, resourceId), rule);
  const analyzerTarget = (rule: AnyRule, resourceType: string, resource: string) => {
    const event = analyzerEvent({ bucket: 'b-1' });
    event.detail.resourceType = resourceType;
    event.detail.resource = resource;
    return targetOf(findingOf(event), rule);
  };
  const hubTarget = (rule: AnyRule, controlId: string, resourceType: string, resourceId: string) => targetOf(findingOf(securityHubEvent({ controlId, resourceType, resourceId })), rule);

  it.each(['driftfix-demo-unencrypted', 'abc', 'a'.repeat(63), 'my.dotted.bucket', '1bucket-9', 'xn-not-reserved'])('a valid bucket name %j', (name) => {
    expect(configTarget(encryption, 'AWS::S3::Bucket', name)).toEqual({ id: name });
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
    'sthree-bucket',
    'amzn-s3-demo-bucket',
    'my-alias-s3alias',
    'my-access-point--ol-s3',
    'my-directory--x-s3',
    'my-table--table-s3',
    'my-mrap.mrap',
    'dot.-hyphen',
    'hyphen-.dot',
    'bucket/../../etc',
    'bucket name',
    'Driftfix_Demo..Bucket',
  ])('an invalid bucket name %j', (name) => {
    const target = configTarget(encryption, 'AWS::S3::Bucket', name);
    expect(target).toMatchObject({ problem: expect.stringMatching(/bucket name/) });
  });

  it('a bucket ARN gives the bucket name', () => {
    expect(analyzerTarget(bucketBlock, 'AWS::S3::Bucket', 'arn:aws:s3:::driftfix-demo-shared')).toEqual({ id: 'driftfix-demo-shared' });
    expect(hubTarget(bucketBlock, 'S3.8', 'AwsS3Bucket', 'arn:aws:s3:::driftfix-demo-sh-public')).toEqual({ id: 'driftfix-demo-sh-public' });
  });

  it.each([
    ['an object ARN', 'arn:aws:s3:::bucket-name/key.txt', /exactly one bucket/],
    ['a wildcard ARN', 'arn:aws:s3:::bucket-*', /exactly one bucket|bucket name/],
    ['a single-character wildcard ARN', 'arn:aws:s3:::bucket-?', /exactly one bucket|bucket name/],
    ['an ARN with an account', `arn:aws:s3:us-east-1:${ACCOUNT}:bucket-name`, /carry no region or account/],
    ['an ARN of another service', 'arn:aws:sqs:us-east-1:111122223333:queue', /not an S3 ARN/],
    ['an unknown partition', 'arn:evil:s3:::bucket-name', /not an S3 ARN/],
    ['an ARN with an invalid bucket name', 'arn:aws:s3:::Bad_Bucket', /bucket names/],
  ])('an Access Analyzer S3 finding with %s', (_name, resource, reason) => {
    expect(analyzerTarget(bucketBlock, 'AWS::S3::Bucket', resource)).toMatchObject({ problem: expect.stringMatching(reason) });
  });

  it('the object-ARN sample names no bucket', () => {
    expect(targetOf(findingOf(loadSample('invalid/object-arn.rejected.json')), bucketBlock)).toMatchObject({ problem: expect.stringContaining('exactly one bucket') });
  });

  it.each([
    ['AWS::S3::AccountPublicAccessBlock', ACCOUNT],
    ['AWS::::Account', ACCOUNT],
  ])('the account (%s %s)', (resourceType, resourceId) => {
    expect(configTarget(accountBlock, resourceType, resourceId)).toEqual({ id: ACCOUNT });
  });

  it('the account as Security Hub names it: AWS::::Account:111122223333', () => {
    expect(hubTarget(accountBlock, 'S3.1', 'AwsAccount', `AWS::::Account:${ACCOUNT}`)).toEqual({ id: ACCOUNT });
  });

  it.each([
    ['another account', 'AWS::::Account', OTHER_ACCOUNT],
    ['another account, Security Hub style', 'AWS::::Account', `AWS::::Account:${OTHER_ACCOUNT}`],
    ['a malformed account', 'AWS::::Account', `AWS::::Account:${ACCOUNT}:extra`],
    ['an ARN', 'AWS::S3::AccountPublicAccessBlock', `arn:aws:iam::${ACCOUNT}:root`],
  ])('an account-level finding for %s', (_name, resourceType, resourceId) => {
    expect(configTarget(accountBlock, resourceType, resourceId)).toMatchObject({ problem: expect.stringContaining('not this account') });
  });

  it('a Security Hub account finding for another account', () => {
    expect(hubTarget(accountBlock, 'S3.1', 'AwsAccount', `AWS::::Account:${OTHER_ACCOUNT}`)).toMatchObject({ problem: expect.stringContaining('not this account') });
  });

  it.each(['ANPAEXAMPLEADMINACCESS01', 'ANPA0123456789ABCDEF', 'AGPA0123456789ABCDEF'])('a policy id %s', (id) => {
    expect(configTarget(policies, 'AWS::IAM::Policy', id)).toEqual({ id });
  });

  it.each([`arn:aws:iam::${ACCOUNT}:policy/too-broad`, `arn:aws:iam::${ACCOUNT}:policy/team/a/too-broad`])('a policy ARN %s of this account', (arn) => {
    expect(configTarget(policies, 'AWS::IAM::Policy', arn)).toEqual({ id: arn });
    expect(hubTarget(policies, 'IAM.1', 'AwsIamPolicy', arn)).toEqual({ id: arn });
  });

  it.each([
    ['an AWS-managed policy ARN', 'arn:aws:iam::aws:policy/AdministratorAccess', /AWS-managed policy/],
    ['another account’s policy', `arn:aws:iam::${OTHER_ACCOUNT}:policy/ops`, /belongs to account 444455556666/],
    ['a policy name where the id belongs', 'AdministratorAccess', /not an IAM policy id/],
    ['a short id', 'ANPA123', /not an IAM policy id/],
    ['a lower-case id', 'anpaexampleadminaccess01', /not an IAM policy id/],
    ['a wildcard policy ARN', `arn:aws:iam::${ACCOUNT}:policy/*`, /exactly one policy/],
    ['a role ARN', `arn:aws:iam::${ACCOUNT}:role/r`, /not an IAM policy ARN/],
  ])('a policy finding naming %s', (_name, resourceId, reason) => {
    expect(configTarget(policies, 'AWS::IAM::Policy', resourceId)).toMatchObject({ problem: expect.stringMatching(reason) });
  });

  it('a Security Hub IAM.1 finding on an AWS-managed policy', () => {
    expect(hubTarget(policies, 'IAM.1', 'AwsIamPolicy', 'arn:aws:iam::aws:policy/AdministratorAccess')).toMatchObject({ problem: expect.stringContaining('AWS-managed') });
  });

  it.each([`arn:aws:iam::${ACCOUNT}:role/driftfix-demo-partner-access`, `arn:aws:iam::${ACCOUNT}:role/team/partner`])('a role ARN %s of this account', (arn) => {
    expect(analyzerTarget(roles, 'AWS::IAM::Role', arn)).toEqual({ id: arn });
  });

  it.each([
    ['another account’s role', `arn:aws:iam::${OTHER_ACCOUNT}:role/partner`, /belongs to account 444455556666/],
    ['a user ARN', `arn:aws:iam::${ACCOUNT}:user/alice`, /not an IAM role ARN/],
    ['a wildcard role ARN', `arn:aws:iam::${ACCOUNT}:role/*`, /exactly one role/],
    ['a role name over 64 characters', `arn:aws:iam::${ACCOUNT}:role/${'r'.repeat(65)}`, /exactly one role/],
    ['an unknown partition', `arn:evil:iam::${ACCOUNT}:role/partner`, /not an IAM role ARN/],
  ])('a role finding naming %s', (_name, arn, reason) => {
    expect(analyzerTarget(roles, 'AWS::IAM::Role', arn)).toMatchObject({ problem: expect.stringMatching(reason) });
  });

  it('a Config or Access Analyzer finding whose type the rule does not fix', () => {
    expect(configTarget(encryption, 'AWS::IAM::Policy', 'ANPAEXAMPLEADMINACCESS01')).toMatchObject({ problem: expect.stringContaining('fixes AWS::S3::Bucket, not AWS::IAM::Policy') });
    expect(analyzerTarget(roles, 'AWS::S3::Bucket', 'arn:aws:s3:::b-1')).toMatchObject({ problem: expect.stringContaining('not AWS::S3::Bucket') });
  });

  it('Security Hub names types its own way (AwsS3Bucket): the rule’s kind parses the id', () => {
    expect(hubTarget(encryption, 'S3.4', 'AwsS3Bucket', 'arn:aws:s3:::b-1')).toEqual({ id: 'b-1' });
  });
});

describe('targetOf with the other resource kinds (KMS keys, security groups, RDS instances, the account in a region)', () => {
  /** A rule of the kind: targetOf reads only its id and resource. */
  const ruleOf = (kind: ResourceKind): AnyRule => ({ ...ENCRYPTION, id: `rule-of-${kind.type}`, resource: kind });
  const target = (kind: ResourceKind, resourceId: string, resourceType = kind.type) => targetOf(configFinding('X', resourceType, resourceId), ruleOf(kind));
  const KEY = '1234abcd-12ab-34cd-56ef-1234567890ab';

  it.each([
    [KMS_KEY, KEY, KEY],
    [KMS_KEY, `mrk-${'0123456789abcdef'.repeat(2)}`, `mrk-${'0123456789abcdef'.repeat(2)}`],
    [KMS_KEY, `arn:aws:kms:us-east-1:${ACCOUNT}:key/${KEY}`, KEY],
    [SECURITY_GROUP, 'sg-0123456789abcdef0', 'sg-0123456789abcdef0'],
    [SECURITY_GROUP, 'sg-12345678', 'sg-12345678'],
    [SECURITY_GROUP, `arn:aws:ec2:us-east-1:${ACCOUNT}:security-group/sg-0123456789abcdef0`, 'sg-0123456789abcdef0'],
    [RDS_INSTANCE, 'db-ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'db-ABCDEFGHIJKLMNOPQRSTUVWXYZ'],
    [RDS_INSTANCE, 'orders-db', 'orders-db'],
    [RDS_INSTANCE, `arn:aws:rds:us-east-1:${ACCOUNT}:db:orders-db`, 'orders-db'],
    [ACCOUNT_IN_REGION, ACCOUNT, ACCOUNT],
    [ACCOUNT_IN_REGION, `AWS::::Account:${ACCOUNT}`, ACCOUNT],
  ])('%# %s names %s', (kind, resourceId, id) => {
    expect(target(kind, resourceId)).toEqual({ id });
  });

  it.each([
    [KMS_KEY, `arn:aws:kms:us-east-1:${OTHER_ACCOUNT}:key/${KEY}`, /not a key of 111122223333 in us-east-1/],
    [KMS_KEY, `arn:aws:kms:eu-west-1:${ACCOUNT}:key/${KEY}`, /not a key of 111122223333 in us-east-1/],
    [KMS_KEY, `arn:aws:kms:us-east-1:${ACCOUNT}:alias/driftfix`, /not a KMS key ARN/],
    [KMS_KEY, 'alias/aws/s3', /not a KMS key id/],
    [KMS_KEY, `${KEY}/../x`, /not a KMS key id/],
    [SECURITY_GROUP, 'sg-1234567', /not a security group id/],
    [SECURITY_GROUP, 'sg-XYZ12345', /not a security group id/],
    [SECURITY_GROUP, 'default', /not a security group id/],
    [SECURITY_GROUP, `arn:aws:ec2:us-east-1:${OTHER_ACCOUNT}:security-group/sg-0123456789abcdef0`, /not a security group of 111122223333/],
    [SECURITY_GROUP, `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-0123456789abcdef0`, /not a security group ARN/],
    [RDS_INSTANCE, `arn:aws:rds:us-east-1:${ACCOUNT}:cluster:orders`, /not an RDS DB instance ARN/],
    [RDS_INSTANCE, `arn:aws:rds:eu-west-1:${ACCOUNT}:db:orders-db`, /not a DB instance of 111122223333 in us-east-1/],
    [RDS_INSTANCE, '1-orders', /not a DB instance identifier/],
    [RDS_INSTANCE, 'orders_db', /not a DB instance identifier/],
    [ACCOUNT_IN_REGION, OTHER_ACCOUNT, /not this account/],
    [ACCOUNT_IN_REGION, `AWS::::Account:${OTHER_ACCOUNT}`, /not this account/],
  ])('%# %s: %s is refused', (kind, resourceId, reason) => {
    expect(target(kind, resourceId)).toMatchObject({ problem: expect.stringMatching(reason) });
  });

  it('a Config finding of another type than the kind is refused', () => {
    expect(target(KMS_KEY, KEY, 'AWS::S3::Bucket')).toMatchObject({ problem: expect.stringContaining('not AWS::S3::Bucket') });
  });

  it('an RDS instance of the bot’s own stack is left alone; others are not', () => {
    expect(RDS_INSTANCE.protected?.('driftfix-prod-db', { ...where, stackPrefix: 'driftfix-prod' })).toMatch(/own stack/);
    expect(RDS_INSTANCE.protected?.('orders-db', { ...where, stackPrefix: 'driftfix-prod' })).toBeNull();
  });
});

describe('resources the bot never changes (ResourceKind.protected)', () => {
  const inStack = { ...where, stackPrefix: 'driftfix-prod' };
  const protectedBy = (kind: ResourceKind, id: string, stackPrefix = inStack.stackPrefix) => kind.protected?.(id, { ...where, stackPrefix }) ?? null;

  it.each(['driftfix-prod-records', 'DRIFTFIX-PROD-x'])('a bucket of its own stack (%s)', (bucket) => {
    expect(protectedBy(S3_BUCKET, bucket)).toMatch(/own stack/);
  });

  it.each(['driftfix-demo-public', 'prod-driftfix-prod', 'driftfix-pro'])('another bucket (%s) is not protected', (bucket) => {
    expect(protectedBy(S3_BUCKET, bucket)).toBeNull();
  });

  it('no stack name: nothing counts as the bot’s own', () => {
    expect(protectedBy(S3_BUCKET, 'driftfix-prod-records', '')).toBeNull();
    expect(protectedBy(IAM_ROLE, `arn:aws:iam::${ACCOUNT}:role/driftfix-prod-role`, '')).toBeNull();
  });

  it.each([
    [`arn:aws:iam::${ACCOUNT}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig`, /service-linked/],
    [`arn:aws:iam::${ACCOUNT}:role/aws-service-role/securityhub.amazonaws.com/AWSServiceRoleForSecurityHub`, /service-linked/],
    [`arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef`, /aws-reserved/],
    [`arn:aws:iam::${ACCOUNT}:role/driftfix-prod-S3DefaultEncryptionRole-ABC`, /own stack/],
    [`arn:aws:iam::${ACCOUNT}:role/team/driftfix-prod-x`, /own stack/],
    [`arn:aws:iam::${OTHER_ACCOUNT}:role/partner`, /belongs to account/],
    ['not-an-arn', /not an IAM role ARN/],
  ])('the role %s is left alone', (arn, reason) => {
    expect(protectedBy(IAM_ROLE, arn)).toMatch(reason);
  });

  it.each([`arn:aws:iam::${ACCOUNT}:role/driftfix-demo-partner-access`, `arn:aws:iam::${ACCOUNT}:role/aws-service-role-lookalike`, `arn:aws:iam::${ACCOUNT}:role/team/aws-service-role/x`])(
    'the role %s may be changed',
    (arn) => {
      expect(protectedBy(IAM_ROLE, arn)).toBeNull();
    },
  );

  it.each([
    [`arn:aws:iam::${ACCOUNT}:policy/driftfix-prod-RulePolicy`, /own stack/],
    [`arn:aws:iam::${ACCOUNT}:policy/aws-service-role/SomePolicy`, /service-linked/],
    [`arn:aws:iam::${ACCOUNT}:policy/aws-reserved/SomePolicy`, /aws-reserved/],
    ['arn:aws:iam::aws:policy/AdministratorAccess', /AWS-managed/],
    [`arn:aws:iam::${OTHER_ACCOUNT}:policy/ops`, /belongs to account/],
  ])('the policy %s is left alone', (arn, reason) => {
    expect(protectedBy(IAM_POLICY, arn)).toMatch(reason);
  });

  it('a policy id is checked again once its ARN is read; an ordinary policy may be changed', () => {
    expect(protectedBy(IAM_POLICY, 'ANPAEXAMPLEADMINACCESS01')).toBeNull();
    expect(protectedBy(IAM_POLICY, `arn:aws:iam::${ACCOUNT}:policy/too-broad`)).toBeNull();
  });

  it('the account’s Block Public Access settings have no owner to protect', () => {
    expect(S3_ACCOUNT_PUBLIC_ACCESS_BLOCK.protected).toBeUndefined();
  });
});
