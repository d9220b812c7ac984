import { describe, expect, it } from 'vitest';
import { RULES } from '../../rules/index.ts';
import { matchesPattern } from '../../core/intake/event-pattern.ts';
import { eventPatternsFor } from '../../core/intake/routing.ts';
import { routeEvent } from '../../scripts/lib/local-runtime.ts';
import { analyzerEvent, configEvent, loadSample } from '../support/events.ts';

describe('EventBridge pattern matching', () => {
  const pattern = { source: ['aws.config'], detail: { name: ['a', 'b'], nested: { flag: [true] }, id: [{ prefix: 'arn:' }] } };

  it('matches when every field matches one allowed value', () => {
    expect(matchesPattern({ source: 'aws.config', detail: { name: 'b', nested: { flag: true }, id: 'arn:x' } }, pattern)).toBe(true);
  });

  it.each([
    ['another value', { source: 'aws.ec2', detail: { name: 'a', nested: { flag: true }, id: 'arn:x' } }],
    ['a missing field', { source: 'aws.config', detail: { name: 'a', nested: {}, id: 'arn:x' } }],
    ['a string where a boolean is expected', { source: 'aws.config', detail: { name: 'a', nested: { flag: 'true' }, id: 'arn:x' } }],
    ['a prefix that does not match', { source: 'aws.config', detail: { name: 'a', nested: { flag: true }, id: 'xarn:' } }],
    ['no detail', { source: 'aws.config' }],
  ])('does not match %s', (_name, event) => {
    expect(matchesPattern(event, pattern)).toBe(false);
  });

  it('matches an array field when any element matches', () => {
    expect(matchesPattern({ tags: ['x', 'b'] }, { tags: ['b'] })).toBe(true);
    expect(matchesPattern({ tags: ['x'] }, { tags: ['b'] })).toBe(false);
  });

  it('does not read inherited properties', () => {
    expect(matchesPattern(Object.create({ source: 'aws.config' }), { source: ['aws.config'] })).toBe(false);
  });
});

describe('routing from what the rules declare', () => {
  it('no two rules answer the same AWS Config rule or Access Analyzer finding', () => {
    const names = RULES.flatMap((rule) => rule.answers.configRules);
    expect(new Set(names).size).toBe(names.length);
    const analyzer = RULES.flatMap((rule) => (rule.answers.accessAnalyzer ? [JSON.stringify(rule.answers.accessAnalyzer)] : []));
    expect(new Set(analyzer).size).toBe(analyzer.length);
  });

  it.each([
    ['s3-bucket-server-side-encryption-enabled', 's3-default-encryption'],
    ['s3-default-encryption-kms', 's3-default-encryption'],
    ['s3-bucket-level-public-access-prohibited', 's3-bucket-public-access-block'],
    ['s3-bucket-public-read-prohibited', 's3-bucket-public-access-block'],
    ['s3-bucket-public-write-prohibited', 's3-bucket-public-access-block'],
    ['s3-account-level-public-access-blocks', 's3-account-public-access-block'],
    ['s3-account-level-public-access-blocks-periodic', 's3-account-public-access-block'],
  ])('Config rule %s goes to %s only', (configRule, ruleId) => {
    expect(routeEvent(configEvent({ rule: configRule, resourceId: 'some-bucket' }), true).map((rule) => rule.id)).toEqual([ruleId]);
  });

  it('a public-bucket Access Analyzer finding goes to the bucket Block Public Access rule', () => {
    expect(routeEvent(analyzerEvent({ bucket: 'b-1' }), true).map((rule) => rule.id)).toEqual(['s3-bucket-public-access-block']);
  });

  it('a cross-account bucket finding goes to the bucket policy rule, a role one to the trust policy rule', () => {
    expect(routeEvent(analyzerEvent({ bucket: 'b-1', isPublic: false }), true).map((rule) => rule.id)).toEqual(['s3-bucket-policy-external-access']);
    expect(routeEvent(loadSample('access-analyzer/iam-role-cross-account.json'), true).map((rule) => rule.id)).toEqual(['iam-role-trust-external-access']);
  });

  it.each([
    ['a compliant verdict', configEvent({ rule: 's3-bucket-public-read-prohibited', resourceId: 'b-1', compliance: 'COMPLIANT' })],
    ['a resolved finding', analyzerEvent({ bucket: 'b-1', status: 'RESOLVED' })],
    ['an unanswered Config rule', loadSample('config/unanswered-rule-skipped.json')],
  ])('%s is routed nowhere', (_name, event) => {
    expect(routeEvent(event, true)).toEqual([]);
  });

  it('replayed events are routed only while replay is accepted', () => {
    const event = configEvent({ rule: 's3-bucket-public-read-prohibited', resourceId: 'b-1' });
    event.source = 'driftfix.replay';
    expect(routeEvent(event, true)).toHaveLength(1);
    expect(routeEvent(event, false)).toHaveLength(0);
    for (const rule of RULES) {
      for (const pattern of eventPatternsFor(rule, { acceptReplay: false })) expect(pattern.source).not.toContain('driftfix.replay');
    }
  });
});

describe('approved changes', () => {
  const approved = (ruleId: string) => ({
    version: '0',
    id: 'a1b2c3d4-0000-4000-8000-000000000001',
    'detail-type': 'Remediation Approved',
    source: 'driftfix.approvals',
    account: '111122223333',
    time: '2026-11-20T10:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: { approvalId: 'apr-8c0f4c1e-1111-4a4a-9b9b-0123456789ab', ruleId },
  });

  it.each(RULES.map((rule) => rule.id))('an approval for %s goes back to that rule’s own function', (ruleId) => {
    expect(routeEvent(approved(ruleId), true).map((rule) => rule.id)).toEqual([ruleId]);
    expect(routeEvent(approved(ruleId), false).map((rule) => rule.id)).toEqual([ruleId]);
  });

  it('an approval for an unknown rule goes nowhere', () => {
    expect(routeEvent(approved('no-such-rule'), true)).toEqual([]);
  });
});

describe('exists', () => {
  it('matches present and absent fields', () => {
    expect(matchesPattern({ detail: { error: 'X' } }, { detail: { error: [{ exists: true }] } })).toBe(true);
    expect(matchesPattern({ detail: {} }, { detail: { error: [{ exists: true }] } })).toBe(false);
    expect(matchesPattern({ detail: {} }, { detail: { error: [{ exists: false }] } })).toBe(true);
    expect(matchesPattern({ detail: { error: 'X' } }, { detail: { error: [{ exists: false }] } })).toBe(false);
  });

  it('anything-but needs a present value that is none of the listed ones', () => {
    expect(matchesPattern({ t: 'AWS::KMS::Key' }, { t: [{ 'anything-but': ['AWS::S3::Bucket'] }] })).toBe(true);
    expect(matchesPattern({ t: 'AWS::S3::Bucket' }, { t: [{ 'anything-but': ['AWS::S3::Bucket'] }] })).toBe(false);
    expect(matchesPattern({}, { t: [{ 'anything-but': ['AWS::S3::Bucket'] }] })).toBe(false);
  });
});
