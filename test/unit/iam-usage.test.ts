import { describe, expect, it } from 'vitest';
import { decideService, principalName, servicesNeedingEvidence, type Usage } from '../../rules/lib/iam-usage.ts';

const REPORTED = '2026-11-20T00:00:00.000Z';
const usage = (services: Usage['services'], extra: Partial<Usage> = {}): Usage => ({ services, trackingPeriodDays: 400, reportedAt: REPORTED, ...extra });
const DATA_PLANE = "data-plane actions never in IAM's last-accessed data or in policy generation";

describe('what may be cut of one service', () => {
  it('attached to nothing: everything goes, and the reason says why (the rule does not narrow such a policy)', () => {
    expect(decideService(null, 'ec2')).toEqual({ kind: 'remove', reason: 'no usage to keep: the policy is attached to nothing' });
  });

  it('not used in the tracking period: removed', () => {
    expect(decideService(usage({}), 's3')).toEqual({ kind: 'remove', reason: 'no recorded use in IAM last-accessed data for the last 400 days' });
  });

  it('used longer ago than the tracking period: removed, with the date it was used (a data-plane service too)', () => {
    expect(decideService(usage({ kms: { lastUsed: '2025-10-15T00:00:00.000Z', actions: {} } }), 'kms')).toEqual({
      kind: 'remove',
      reason: "kms was last used on 2025-10-15, longer ago than IAM's 400-day tracking period",
      usedOn: '2025-10-15T00:00:00.000Z',
    });
    expect(decideService(usage({ sqs: { lastUsed: '2025-10-15T00:00:00.000Z', actions: {} } }), 'sqs').kind).toBe('remove');
    // 400 days before the report: still within it.
    expect(decideService(usage({ kms: { lastUsed: '2025-10-17T00:00:00.000Z', actions: {} } }), 'kms').kind).toBe('keep');
  });

  it('used, with no tracked action used: kept, naming who used it last', () => {
    expect(decideService(usage({ ecr: { lastUsed: '2026-11-01T12:00:00.000Z', lastEntity: 'arn:aws:iam::111122223333:role/app/worker', entities: 2, actions: {} } }), 'ecr')).toEqual({
      kind: 'keep',
      reason: 'used on 2026-11-01 by role/app/worker, and IAM tracked none of the actions used',
      short: 'IAM did not track every action used',
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
    const generated = { ecr: { actions: ['ecr:BatchGetImage'], evidence: 'Access Analyzer policy generation over trail t, 2026-08-22 to 2026-11-20', windowStart: '2026-08-22T00:00:00.000Z' } };
    expect(decideService(usage({ ecr: { lastUsed: '2026-11-01T00:00:00.000Z', actions: {} } }, { generated }), 'ecr')).toEqual({
      kind: 'narrow',
      actions: ['ecr:BatchGetImage'],
      because: { 'ecr:BatchGetImage': generated.ecr.evidence },
    });
  });

  it('a service last used before policy generation’s window keeps its wildcard: the generation cannot have seen that use', () => {
    const generated = { ecr: { actions: ['ecr:BatchGetImage'], evidence: 'G', windowStart: '2026-08-22T00:00:00.000Z' } };
    expect(decideService(usage({ ecr: { lastUsed: '2026-05-01T00:00:00.000Z', actions: {} } }, { generated }), 'ecr')).toEqual({
      kind: 'keep',
      reason: 'used on 2026-05-01, before the window policy generation analysed (from 2026-08-22), which cannot show that use',
      short: "used before policy generation's window",
    });
  });
});

describe('a used service with data events', () => {
  it('keeps its wildcard, whatever IAM tracked or policy generation found: neither sees data-plane actions', () => {
    const generated = { s3: { actions: ['s3:CreateBucket'], evidence: 'G', windowStart: '2026-08-22T00:00:00.000Z' } };
    const used = usage({ s3: { lastUsed: '2026-11-01T00:00:00.000Z', lastEntity: 'arn:aws:iam::111122223333:role/app', actions: { 's3:CreateBucket': '2026-11-01T00:00:00.000Z' } } }, { generated });
    expect(decideService(used, 's3')).toEqual({
      kind: 'keep',
      reason: "used on 2026-11-01 by role/app; its data-plane actions (data events on AWS::S3::Object, AWS::S3::AccessPoint, AWS::FSx::Volume) are never in IAM's last-accessed data or in policy generation",
      short: DATA_PLANE,
    });
  });

  it('names at most three data event types', () => {
    const decision = decideService(usage({ bedrock: { lastUsed: '2026-11-01T00:00:00.000Z', actions: {} } }), 'bedrock');
    expect(decision).toMatchObject({ kind: 'keep', reason: expect.stringContaining('(data events on AWS::Bedrock::AgentAlias, AWS::Bedrock::AsyncInvoke, AWS::Bedrock::FlowAlias and 15 more)') });
  });
});

describe('an action the IAM action catalog does not know', () => {
  it('keeps the service’s wildcard, whatever policy generation found; and generation is not asked about it', () => {
    const used = usage(
      { ec2: { lastUsed: '2026-11-01T00:00:00.000Z', actions: { 'ec2:RunInstances': '2026-11-01T00:00:00.000Z' }, unknownActions: ['ec2:BrandNewThing'] } },
      { generated: { ec2: { actions: ['ec2:RunInstances'], evidence: 'G', windowStart: '2026-08-22T00:00:00.000Z' } } },
    );
    expect(decideService(used, 'ec2')).toEqual({
      kind: 'keep',
      reason: 'used on 2026-11-01, and IAM reported ec2:BrandNewThing, which the IAM action catalog does not know',
      short: 'IAM reported an action the IAM action catalog does not know',
    });
    expect(servicesNeedingEvidence(used, () => true)).toEqual([]);
  });
});

describe('services policy generation is asked about', () => {
  it('only used services the broad grants cover, that last-accessed data cannot narrow and that have no data events', () => {
    const used = usage({
      ec2: { lastUsed: '2026-11-01T00:00:00.000Z', actions: { 'ec2:RunInstances': '2026-11-01T00:00:00.000Z' } },
      ecr: { lastUsed: '2026-11-01T00:00:00.000Z', actions: {} },
      cloudformation: { lastUsed: '2026-11-01T00:00:00.000Z', actions: {} },
      sqs: { lastUsed: '2026-11-01T00:00:00.000Z', actions: {} },
      kms: { lastUsed: '2024-01-01T00:00:00.000Z', actions: {} },
    });
    expect(servicesNeedingEvidence(used, () => true)).toEqual(['cloudformation', 'ecr']);
    expect(servicesNeedingEvidence(used, (service) => service === 'ecr')).toEqual(['ecr']);
  });
});

describe('principals', () => {
  it('are named without their account', () => {
    expect(principalName('arn:aws:iam::111122223333:user/ci/deploy')).toBe('user/ci/deploy');
  });
});
