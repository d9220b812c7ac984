import { describe, expect, it } from 'vitest';
import { decideService, principalName, risksOf, servicesNeedingEvidence, type Usage } from '../../rules/lib/iam-usage.ts';

const REPORTED = '2026-11-20T00:00:00.000Z';
const usage = (services: Usage['services'], extra: Partial<Usage> = {}): Usage => ({ services, trackingPeriodDays: 400, reportedAt: REPORTED, ...extra });

describe('what may be cut of one service', () => {
  it('attached to nothing: everything goes, and the reason says why', () => {
    expect(decideService(null, 's3')).toEqual({ kind: 'remove', reason: 'no usage to keep: the policy is attached to nothing' });
  });

  it('not used in the tracking period: removed', () => {
    expect(decideService(usage({}), 's3')).toEqual({ kind: 'remove', reason: 'no recorded use in IAM last-accessed data for the last 400 days' });
  });

  it('used longer ago than the tracking period: removed, with the date it was used', () => {
    expect(decideService(usage({ kms: { lastUsed: '2025-10-15T00:00:00.000Z', actions: {} } }), 'kms')).toEqual({
      kind: 'remove',
      reason: "kms was last used on 2025-10-15, longer ago than IAM's 400-day tracking period",
      usedOn: '2025-10-15T00:00:00.000Z',
    });
    // 400 days before the report: still within it.
    expect(decideService(usage({ kms: { lastUsed: '2025-10-17T00:00:00.000Z', actions: {} } }), 'kms').kind).toBe('keep');
  });

  it('used, with no tracked action used: kept, naming who used it last', () => {
    expect(decideService(usage({ sqs: { lastUsed: '2026-11-01T12:00:00.000Z', lastEntity: 'arn:aws:iam::111122223333:role/app/worker', entities: 2, actions: {} } }), 'sqs')).toEqual({
      kind: 'keep',
      reason: 'used on 2026-11-01 by role/app/worker, and IAM tracked none of the actions used',
    });
  });

  it('tracked actions explain the last use: exactly those, on IAM last-accessed evidence', () => {
    const decision = decideService(usage({ ec2: { lastUsed: '2026-11-01T12:00:00.000Z', actions: { 'ec2:StartInstances': '2026-11-01T12:00:00.000Z', 'ec2:RunInstances': '2026-05-01T00:00:00.000Z' } } }), 'ec2');
    expect(decision).toEqual({
      kind: 'narrow',
      actions: ['ec2:RunInstances', 'ec2:StartInstances'],
      because: { 'ec2:RunInstances': 'IAM last-accessed (action level)', 'ec2:StartInstances': 'IAM last-accessed (action level)' },
    });
  });

  it('policy generation narrows a service IAM tracks no actions of; a tracked action keeps its own evidence', () => {
    const generated = { sqs: { actions: ['sqs:SendMessage'], evidence: 'Access Analyzer policy generation over trail t, 2026-08-22 to 2026-11-20' } };
    expect(decideService(usage({ sqs: { lastUsed: '2026-11-01T00:00:00.000Z', actions: {} } }, { generated }), 'sqs')).toEqual({
      kind: 'narrow',
      actions: ['sqs:SendMessage'],
      because: { 'sqs:SendMessage': generated.sqs.evidence },
    });
  });
});

describe('an action the IAM action catalog does not know', () => {
  it('keeps the service’s wildcard, whatever policy generation found; and generation is not asked about it', () => {
    const used = usage(
      { ec2: { lastUsed: '2026-11-01T00:00:00.000Z', actions: { 'ec2:RunInstances': '2026-11-01T00:00:00.000Z' }, unknownActions: ['ec2:BrandNewThing'] } },
      { generated: { ec2: { actions: ['ec2:RunInstances'], evidence: 'G' } } },
    );
    expect(decideService(used, 'ec2')).toEqual({ kind: 'keep', reason: 'used on 2026-11-01, and IAM reported ec2:BrandNewThing, which the IAM action catalog does not know' });
    expect(servicesNeedingEvidence(used, () => true)).toEqual([]);
  });
});

describe('services policy generation is asked about', () => {
  it('only used services the broad grants cover and last-accessed data cannot narrow', () => {
    const used = usage({
      s3: { lastUsed: '2026-11-01T00:00:00.000Z', actions: { 's3:CreateBucket': '2026-11-01T00:00:00.000Z' } },
      sqs: { lastUsed: '2026-11-01T00:00:00.000Z', actions: {} },
      sns: { lastUsed: '2026-11-01T00:00:00.000Z', actions: {} },
      kms: { lastUsed: '2024-01-01T00:00:00.000Z', actions: {} },
    });
    expect(servicesNeedingEvidence(used, () => true)).toEqual(['sns', 'sqs']);
    expect(servicesNeedingEvidence(used, (service) => service === 'sqs')).toEqual(['sqs']);
  });
});

describe('what could break', () => {
  it('in order: used but not narrowed, removed though used long ago, the limit of the evidence, the principals', () => {
    const risks = risksOf({
      kept: [{ statement: 'statement "Admin"', grant: 'sqs:*', reason: 'used on 2026-11-01, and IAM tracked none of the actions used', introduced: true } as never],
      removedUsed: { kms: '2025-01-02T00:00:00.000Z' },
      narrowed: { s3: ['IAM last-accessed (action level)'] },
      trackingPeriodDays: 400,
      attached: { roles: ['app'], users: ['deploy'], groups: ['ops'] },
    });
    expect(risks).toEqual([
      'sqs:* stays in statement "Admin", not narrowed: used on 2026-11-01, and IAM tracked none of the actions used',
      "kms: access removed although used on 2025-01-02, longer ago than IAM's 400-day tracking period",
      'narrowed to the actions on record: s3 (IAM last-accessed (action level)); neither IAM last-accessed data nor policy generation records data events such as S3 object reads and writes, so such actions, if used, are no longer allowed',
      'the policy is attached to role app, user deploy, group ops: each loses what the new version no longer allows; policy generation cannot analyse a group: its members count as the users IAM last-accessed data names',
    ]);
  });

  it('nothing to say, nothing said; many principals are counted after the first ten', () => {
    expect(risksOf({ kept: [], removedUsed: {}, narrowed: {}, trackingPeriodDays: 400, attached: null })).toEqual([]);
    const roles = Array.from({ length: 12 }, (_, index) => `r${index}`);
    expect(risksOf({ kept: [], removedUsed: {}, narrowed: {}, trackingPeriodDays: 400, attached: { roles, users: [], groups: [] } })).toEqual([
      'the policy is attached to role r0, role r1, role r2, role r3, role r4, role r5, role r6, role r7, role r8, role r9, 2 more: each loses what the new version no longer allows',
    ]);
  });

  it('names principals without their account', () => {
    expect(principalName('arn:aws:iam::111122223333:user/ci/deploy')).toBe('user/ci/deploy');
  });
});
