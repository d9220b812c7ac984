import { describe, expect, it } from 'vitest';
import {
  actionMatches,
  decodePolicyText,
  describeChanges,
  describeKept,
  findBroadGrants,
  isFullWildcard,
  parsePolicy,
  rewriteStatements,
  serializePolicy,
  type Statement,
  serviceOf,
  type Usage,
} from '../../rules/lib/iam-policy-document.ts';

const REPORTED = '2026-11-20T00:00:00.000Z';
const USED = '2026-10-01T00:00:00.000Z';
const GEN = 'Access Analyzer policy generation over trail org-trail, 2026-08-22 to 2026-11-20';

/**
 * Usage as IAM last-accessed data reports it: `tracked` services with the actions used (all at
 * USED), `untracked` services used at USED with no tracked action (IAM tracks none of their actions).
 */
function usage(tracked: Record<string, string[]>, untracked: string[] = [], extra: Partial<Usage> = {}): Usage {
  const services: Usage['services'] = {};
  for (const [service, actions] of Object.entries(tracked)) services[service] = { lastUsed: USED, actions: Object.fromEntries(actions.map((action) => [action, USED])) };
  for (const service of untracked) services[service] = { lastUsed: USED, lastEntity: 'arn:aws:iam::111122223333:role/app', actions: {} };
  return { services, trackingPeriodDays: 400, reportedAt: REPORTED, ...extra };
}

const allow = (Action: unknown, extra: Record<string, unknown> = {}): Statement => ({ Effect: 'Allow', Action: Action as Statement[string], Resource: '*', ...extra }) as Statement;

describe('wildcards', () => {
  it.each(['*', 's3:*', 'S3:*', 'ec2:*', 'aws-marketplace:*'])('%s is a full wildcard', (action) => {
    expect(isFullWildcard(action)).toBe(true);
  });
  it.each(['ec2:Describe*', 's3:Get*Object', 's3:GetObject', 's3:*Object', '*:*Get'])('%s is not', (action) => {
    expect(isFullWildcard(action)).toBe(false);
  });
  it('matches like IAM: case-insensitive, * and ?', () => {
    expect(actionMatches('s3:Get*', 'S3:GETOBJECT')).toBe(true);
    expect(actionMatches('s3:Get?bject', 's3:GetObject')).toBe(true);
    expect(actionMatches('s3:Get*', 's3:PutObject')).toBe(false);
    expect(actionMatches('s3.Get*', 's3:GetObject')).toBe(false); // dots are literal
  });
});

describe('finding broad grants', () => {
  it('finds Allow wildcards and Allow NotAction, never Deny', () => {
    const grants = findBroadGrants([
      { Effect: 'Deny', Action: '*', Resource: '*' },
      { Sid: 'A', Effect: 'Allow', Action: ['s3:*', 's3:GetObject'], Resource: '*' },
      { Effect: 'Allow', NotAction: 'iam:*', Resource: '*' },
      { Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*' },
    ]);
    expect(grants).toEqual([
      { index: 1, sid: 'A', wildcards: ['s3:*'], notAction: false },
      { index: 2, wildcards: [], notAction: true },
    ]);
  });
});

const UNTRACKED = 'used on 2026-10-01 by role/app, and IAM tracked none of the actions used';
const PASS_ROLE = 'iam:PassRole (never recorded by IAM or CloudTrail; kept)';

describe('the four cases of issue #15', () => {
  it('a used service IAM tracks no actions of keeps its grant: the statement is left as it is, and the kept wildcard is named', () => {
    const statements = [allow(['ecr:*', 'kms:*'], { Sid: 'Images' })];
    const rewrite = rewriteStatements(statements, usage({}, ['ecr']));
    expect(rewrite.statements).toEqual([allow(['ecr:*'], { Sid: 'Images' })]);
    expect(rewrite.kept).toEqual([{ statement: 'statement "Images"', grant: 'ecr:*', reason: UNTRACKED, short: 'IAM did not track every action used', introduced: false }]);
    expect(describeChanges(rewrite.changes)).toEqual([`statement "Images": remove kms:* (no recorded use in IAM last-accessed data for the last 400 days); ecr:* stays (${UNTRACKED})`]);
  });

  it('a service whose wildcard is the only grant and was used untracked: nothing changes at all', () => {
    const statements = [allow('ecr:*')];
    const rewrite = rewriteStatements(statements, usage({}, ['ecr']));
    expect(rewrite.changes).toEqual([]);
    expect(rewrite.statements).toEqual(statements);
    expect(describeKept(rewrite.kept)).toBe(`ecr:* in statement #1 (${UNTRACKED})`);
  });

  it('a used tracked service without data events keeps exactly the actions used, each on IAM last-accessed evidence', () => {
    const rewrite = rewriteStatements([allow('ec2:*', { Sid: 'Ops' })], usage({ ec2: ['ec2:RunInstances', 'ec2:CreateTags'] }));
    expect(rewrite.statements).toEqual([allow(['ec2:CreateTags', 'ec2:RunInstances'], { Sid: 'Ops' })]);
    expect(rewrite.changes[0]).toMatchObject({
      name: 'statement "Ops"',
      removed: ['ec2:*'],
      added: ['ec2:CreateTags', 'ec2:RunInstances'],
      because: { 'ec2:CreateTags': 'IAM last-accessed (action level)', 'ec2:RunInstances': 'IAM last-accessed (action level)' },
      kept: [],
    });
    expect(rewrite.narrowed).toEqual({ ec2: ['IAM last-accessed (action level)'] });
    expect(describeChanges(rewrite.changes)).toEqual(['statement "Ops": replace ec2:* with ec2:CreateTags, ec2:RunInstances per IAM last-accessed (action level)']);
  });

  it('an unused service is removed', () => {
    const rewrite = rewriteStatements([allow(['kms:*', 'sns:Publish'])], usage({ ec2: ['ec2:RunInstances'] }));
    expect(rewrite.statements).toEqual([allow(['sns:Publish'])]);
    expect(rewrite.kept).toEqual([]);
    expect(describeChanges(rewrite.changes)).toEqual(['statement #1: remove kms:* (no recorded use in IAM last-accessed data for the last 400 days)']);
  });
});

describe('data-plane actions, which neither source records', () => {
  it('a used service with data events keeps its wildcard, whatever management actions IAM tracked', () => {
    const statements = [allow(['s3:*', 'sqs:*', 'kms:*'], { Sid: 'App' })];
    const rewrite = rewriteStatements(statements, usage({ s3: ['s3:CreateBucket'] }, ['sqs']));
    expect(rewrite.statements).toEqual([allow(['s3:*', 'sqs:*'], { Sid: 'App' })]);
    expect(rewrite.narrowed).toEqual({});
    expect(rewrite.kept.map((kept) => [kept.grant, kept.short])).toEqual([
      ['s3:*', "data-plane actions never in IAM's last-accessed data or in policy generation"],
      ['sqs:*', "data-plane actions never in IAM's last-accessed data or in policy generation"],
    ]);
    expect(rewrite.kept[0]?.reason).toBe(
      "used on 2026-10-01; its data-plane actions (data events on AWS::S3::Object, AWS::S3::AccessPoint, AWS::FSx::Volume) are never in IAM's last-accessed data or in policy generation",
    );
    expect(rewrite.kept[1]?.reason).toBe("used on 2026-10-01 by role/app; its data-plane actions (data events on AWS::SQS::Queue) are never in IAM's last-accessed data or in policy generation");
  });

  it('nor does policy generation narrow one', () => {
    const used = usage({}, ['lambda'], { generated: { lambda: { actions: ['lambda:GetFunction'], evidence: GEN, windowStart: '2026-08-22T00:00:00.000Z' } } });
    const rewrite = rewriteStatements([allow('lambda:*')], used);
    expect(rewrite.changes).toEqual([]);
    expect(rewrite.kept[0]?.reason).toContain('data events on AWS::Lambda::Function');
  });

  it('an unused one is removed like any other', () => {
    expect(rewriteStatements([allow(['dynamodb:*', 'sns:Publish'])], usage({ ec2: ['ec2:RunInstances'] })).statements).toEqual([allow(['sns:Publish'])]);
  });
});

describe('iam:PassRole, which nothing records', () => {
  it('stays in place of * and of iam:*, used or not, with its own evidence', () => {
    const rewrite = rewriteStatements([allow('*', { Sid: 'Admin' }), allow(['iam:*', 'sns:Publish'], { Sid: 'Iam' })], usage({ ec2: ['ec2:RunInstances'] }));
    expect(rewrite.statements).toEqual([allow(['ec2:RunInstances', 'iam:PassRole'], { Sid: 'Admin' }), allow(['sns:Publish', 'iam:PassRole'], { Sid: 'Iam' })]);
    expect(rewrite.unrecorded).toEqual(['statement "Admin"', 'statement "Iam"']);
    expect(rewrite.changes[1]?.because).toEqual({ 'iam:PassRole': 'never recorded by IAM or CloudTrail; kept' });
    expect(describeChanges(rewrite.changes)).toEqual([
      `statement "Admin": replace * with ec2:RunInstances per IAM last-accessed (action level); ${PASS_ROLE}`,
      `statement "Iam": replace iam:* with ${PASS_ROLE}`,
    ]);
  });

  it('next to the iam actions IAM saw used; not where the iam wildcard stays, nor where NotAction excluded it', () => {
    expect(rewriteStatements([allow('iam:*')], usage({ iam: ['iam:CreateRole'] })).statements).toEqual([allow(['iam:CreateRole', 'iam:PassRole'])]);
    const kept = rewriteStatements([allow('*')], usage({}, ['iam']));
    expect(kept.statements).toEqual([allow('iam:*')]);
    expect(kept.unrecorded).toEqual([]);
    const excluded = rewriteStatements([{ Effect: 'Allow', NotAction: ['iam:*'], Resource: '*' }], usage({ ec2: ['ec2:RunInstances'] }));
    expect(excluded.statements).toEqual([{ Effect: 'Allow', Action: ['ec2:RunInstances'], Resource: '*' }]);
    const partly = rewriteStatements([{ Effect: 'Allow', NotAction: ['iam:Create*'], Resource: '*' }], usage({ ec2: ['ec2:RunInstances'] }));
    expect(partly.statements).toEqual([{ Effect: 'Allow', Action: ['ec2:RunInstances', 'iam:PassRole'], Resource: '*' }]);
  });

  it('not without usage (a policy attached to nothing, which the rule does not narrow)', () => {
    expect(rewriteStatements([allow(['*', 'sns:Publish'])], null).statements).toEqual([allow(['sns:Publish'])]);
  });
});

describe('rewriting *', () => {
  it('replaces * with the tracked actions used and a wildcard for each used service IAM tracks no actions of; unused services go', () => {
    const condition = { Condition: { Bool: { 'aws:SecureTransport': 'true' } } };
    const rewrite = rewriteStatements([allow('*', { Sid: 'Admin', ...condition })], usage({ ec2: ['ec2:RunInstances'], iam: ['iam:CreateRole'] }, ['ecr', 'kms']));
    expect(rewrite.statements).toEqual([allow(['ec2:RunInstances', 'ecr:*', 'iam:CreateRole', 'iam:PassRole', 'kms:*'], { Sid: 'Admin', ...condition })]);
    expect(rewrite.changes[0]).toMatchObject({ removed: ['*'], added: ['ec2:RunInstances', 'iam:CreateRole', 'iam:PassRole'], dropped: false });
    expect(rewrite.kept.map((kept) => [kept.grant, kept.introduced])).toEqual([
      ['ecr:*', true],
      ['kms:*', true],
    ]);
    expect(describeChanges(rewrite.changes)).toEqual([
      `statement "Admin": replace * with ec2:RunInstances, iam:CreateRole per IAM last-accessed (action level); ${PASS_ROLE}; ecr:* kept (${UNTRACKED}); kms:* kept (${UNTRACKED})`,
    ]);
  });

  it('adds no wildcard that a service wildcard staying in the statement already covers', () => {
    const rewrite = rewriteStatements([allow(['*', 'ecr:*'])], usage({ ec2: ['ec2:RunInstances'] }, ['ecr']));
    expect(rewrite.statements).toEqual([allow(['ecr:*', 'ec2:RunInstances', 'iam:PassRole'])]);
    expect(rewrite.kept).toEqual([expect.objectContaining({ grant: 'ecr:*', introduced: false })]);
  });

  it('replaces * with every used action and service:* with that service’s, skipping what narrower grants cover', () => {
    const { statements, changes } = rewriteStatements([allow('*'), allow(['ec2:Describe*', 'ec2:*'])], usage({ ec2: ['ec2:DescribeVpcs', 'ec2:RunInstances'], kms: ['kms:Decrypt'] }));
    expect(statements).toEqual([allow(['ec2:DescribeVpcs', 'ec2:RunInstances', 'iam:PassRole', 'kms:Decrypt']), allow(['ec2:Describe*', 'ec2:RunInstances'])]);
    expect(changes.map((change) => change.added)).toEqual([['ec2:DescribeVpcs', 'ec2:RunInstances', 'iam:PassRole', 'kms:Decrypt'], ['ec2:RunInstances']]);
  });

  it('keeps policy generation’s actions for a service IAM tracks no actions of, naming that evidence per action', () => {
    const windowStart = '2026-08-22T00:00:00.000Z';
    const used = usage({ ec2: ['ec2:RunInstances'] }, ['ecr'], {
      generated: { ecr: { actions: ['ecr:BatchGetImage'], evidence: GEN, windowStart }, ec2: { actions: ['ec2:DescribeVpcs'], evidence: GEN, windowStart } },
    });
    const rewrite = rewriteStatements([allow(['ec2:*', 'ecr:*'], { Sid: 'Ops' })], used);
    expect(rewrite.statements).toEqual([allow(['ec2:DescribeVpcs', 'ec2:RunInstances', 'ecr:BatchGetImage'], { Sid: 'Ops' })]);
    expect(rewrite.changes[0]?.because).toEqual({ 'ec2:RunInstances': 'IAM last-accessed (action level)', 'ec2:DescribeVpcs': GEN, 'ecr:BatchGetImage': GEN });
    expect(rewrite.kept).toEqual([]);
    expect(rewrite.narrowed).toEqual({ ec2: [GEN, 'IAM last-accessed (action level)'], ecr: [GEN] });
    expect(describeChanges(rewrite.changes)).toEqual([`statement "Ops": replace ec2:*, ecr:* with ec2:DescribeVpcs, ecr:BatchGetImage per ${GEN}; ec2:RunInstances per IAM last-accessed (action level)`]);
  });

  it('a statement left with nothing is dropped; removing everything is for the rule to refuse', () => {
    const rewrite = rewriteStatements([allow('kms:*'), allow('sns:Publish')], usage({}));
    expect(rewrite.statements).toEqual([allow('sns:Publish')]);
    expect(rewrite.changes[0]).toMatchObject({ dropped: true, added: [] });
  });
});

describe('what last-accessed data can and cannot tell', () => {
  it('a service used after its last tracked action keeps its wildcard: an action IAM does not track was used', () => {
    const used = usage({});
    used.services.ec2 = { lastUsed: '2026-11-19T08:00:00.000Z', actions: { 'ec2:RunInstances': '2026-03-02T10:00:00.000Z' } };
    const rewrite = rewriteStatements([allow('ec2:*')], used);
    expect(rewrite.changes).toEqual([]);
    expect(rewrite.kept[0]?.reason).toBe('used on 2026-11-19, after the last action IAM tracked (2026-03-02): an action IAM does not track was used');
  });

  it('the same time, or within minutes, is the tracked action itself: the service is narrowed', () => {
    const used = usage({});
    used.services.ec2 = { lastUsed: '2026-11-19T08:03:00.000Z', actions: { 'ec2:RunInstances': '2026-11-19T08:00:00.000Z' } };
    expect(rewriteStatements([allow('ec2:*')], used).statements).toEqual([allow('ec2:RunInstances')]);
  });

  it('an action the IAM action catalog does not know keeps the service’s wildcard', () => {
    const used = usage({ ec2: ['ec2:RunInstances'] });
    used.services.ec2 = { ...used.services.ec2, unknownActions: ['ec2:BrandNewThing'] } as Usage['services'][string];
    const rewrite = rewriteStatements([allow('ec2:*')], used);
    expect(rewrite.statements).toEqual([allow('ec2:*')]);
    expect(rewrite.kept[0]?.reason).toContain('IAM reported ec2:BrandNewThing, which the IAM action catalog does not know');
  });

  it('a service last used before the 400-day tracking period is removed, and said to be', () => {
    const used = usage({}, [], { services: { kms: { lastUsed: '2025-09-01T00:00:00.000Z', actions: {} } } });
    const rewrite = rewriteStatements([allow(['kms:*', 'sns:Publish'], { Sid: 'Keys' })], used);
    expect(rewrite.statements).toEqual([allow(['sns:Publish'], { Sid: 'Keys' })]);
    expect(rewrite.removedUsed).toEqual({ kms: '2025-09-01T00:00:00.000Z' });
    expect(describeChanges(rewrite.changes)).toEqual([
      "statement \"Keys\": remove kms:* (no recorded use in IAM last-accessed data for the last 400 days; kms was last used on 2025-09-01, longer ago than IAM's 400-day tracking period)",
    ]);
  });

  it('policy generation’s note says why it did not narrow a service it was asked about', () => {
    const used = usage({}, ['ecr'], { generationNotes: { ecr: 'policy generation for role/app ended FAILED (job j-1)' } });
    expect(rewriteStatements([allow('ecr:*')], used).kept[0]?.reason).toBe(`${UNTRACKED}; policy generation for role/app ended FAILED (job j-1)`);
  });
});

describe('NotAction', () => {
  it('turns NotAction into Action at the same place among the keys, with a wildcard for a used untracked service it allowed', () => {
    const { statements, kept } = rewriteStatements(
      [{ Sid: 'X', Effect: 'Allow', NotAction: ['iam:*'], Resource: '*', Condition: {} }],
      usage({ ec2: ['ec2:RunInstances'], iam: ['iam:CreateRole'] }, ['ecr']),
    );
    expect(Object.keys(statements[0] ?? {})).toEqual(['Sid', 'Effect', 'Action', 'Resource', 'Condition']);
    expect(statements[0]?.Action).toEqual(['ec2:RunInstances', 'ecr:*']);
    expect(kept).toEqual([expect.objectContaining({ grant: 'ecr:*', introduced: true })]);
  });

  it('leaves a NotAction alone when a used service that keeps its wildcard is partly excluded: its wildcard would allow what NotAction excludes', () => {
    const statement: Statement = { Effect: 'Allow', NotAction: ['s3:Delete*'], Resource: '*' };
    const rewrite = rewriteStatements([statement], usage({ ec2: ['ec2:RunInstances'], s3: ['s3:GetObject'] }));
    expect(rewrite.statements).toEqual([statement]);
    expect(rewrite.changes).toEqual([]);
    expect(rewrite.kept).toEqual([
      {
        statement: 'statement #1',
        grant: 'NotAction s3:Delete*',
        reason:
          "s3 (used on 2026-10-01; its data-plane actions (data events on AWS::S3::Object, AWS::S3::AccessPoint, AWS::FSx::Volume) are never in IAM's last-accessed data or in policy generation) was used, and a service wildcard would also allow what the NotAction excludes",
        short: 'a service wildcard would also allow what the NotAction excludes',
        introduced: false,
      },
    ]);
  });

  it('keeps only used actions its exclusions do not cover; a service it excludes whole is not written back', () => {
    const { statements } = rewriteStatements([{ Effect: 'Allow', NotAction: ['iam:*', 'ec2:Terminate*'], Resource: '*' }], usage({ ec2: ['ec2:RunInstances', 'ec2:TerminateInstances'] }, ['iam']));
    expect(statements).toEqual([{ Effect: 'Allow', Action: ['ec2:RunInstances'], Resource: '*' }]);
  });

  it('without usage, an Allow NotAction is dropped, with that reason (the rule does not narrow a policy attached to nothing)', () => {
    const { statements, changes } = rewriteStatements([{ Sid: 'AllButIam', Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }], null);
    expect(statements).toEqual([]);
    expect(changes).toEqual([
      {
        index: 0,
        sid: 'AllButIam',
        name: 'statement "AllButIam"',
        removed: ['NotAction iam:*'],
        added: [],
        because: {},
        kept: [],
        evidence: 'no usage to keep: the policy is attached to nothing',
        dropped: true,
      },
    ]);
  });
});

describe('rewriting, at the edges', () => {
  it('never touches a Deny, whatever it names', () => {
    const deny: Statement[] = [
      { Effect: 'Deny', Action: '*', Resource: '*' },
      { Effect: 'Deny', NotAction: 'iam:*', Resource: '*' },
    ];
    expect(findBroadGrants(deny)).toEqual([]);
    expect(rewriteStatements(deny, usage({ ec2: ['ec2:RunInstances'] }), { 'iam:*': ['iam:GetRole'] })).toEqual({
      statements: deny,
      changes: [],
      kept: [],
      removedUsed: {},
      narrowed: {},
      unrecorded: [],
      expanded: [],
    });
  });

  it('keeps a single action a string, and drops a statement left with nothing', () => {
    const { statements, changes } = rewriteStatements([allow('ec2:*'), allow('kms:*')], usage({ ec2: ['ec2:RunInstances'] }));
    expect(statements).toEqual([allow('ec2:RunInstances')]);
    expect(changes[1]).toMatchObject({ dropped: true, removed: ['kms:*'] });
  });

  it('adds nothing a narrower grant left in the statement already covers', () => {
    const { statements, changes } = rewriteStatements([allow(['ec2:*', 'ec2:Describe*'])], usage({ ec2: ['ec2:DescribeVpcs', 'ec2:RunInstances'] }));
    expect(statements[0]?.Action).toEqual(['ec2:Describe*', 'ec2:RunInstances']);
    expect(changes[0]).toMatchObject({ removed: ['ec2:*'], added: ['ec2:RunInstances'], dropped: false });
  });

  it('EC2:* in any case is ec2’s wildcard', () => {
    expect(rewriteStatements([allow(['EC2:*', 'sns:Publish'])], usage({}, ['ec2'])).kept[0]).toMatchObject({ grant: 'EC2:*' });
    expect(rewriteStatements([allow(['EC2:*', 'sns:Publish'])], usage({})).statements).toEqual([allow(['sns:Publish'])]);
  });

  it('names statements unambiguously where Sids repeat', () => {
    const rewrite = rewriteStatements([allow('kms:*', { Sid: 'A' }), allow(['kms:*', 'sns:Publish'], { Sid: 'A' }), allow('ecr:*', { Sid: 'B' })], usage({}, ['ecr']));
    expect(describeChanges(rewrite.changes)).toEqual([
      'statement "A" (#1): remove kms:*, and with it the statement, which allows nothing else (no recorded use in IAM last-accessed data for the last 400 days)',
      'statement "A" (#2): remove kms:* (no recorded use in IAM last-accessed data for the last 400 days)',
    ]);
    expect(rewrite.kept[0]?.statement).toBe('statement "B"');
  });

  it('expands narrow wildcards only when expansions are given, whatever the case of the action', () => {
    const statement = allow(['EC2:Describe*', 'ec2:StartInstances']);
    expect(rewriteStatements([statement], null).changes).toEqual([]);
    const { statements, changes, expanded } = rewriteStatements([statement], null, { 'ec2:describe*': ['ec2:DescribeInstances', 'ec2:DescribeVpcs'] });
    expect(statements[0]?.Action).toEqual(['ec2:StartInstances', 'ec2:DescribeInstances', 'ec2:DescribeVpcs']);
    expect(changes[0]).toMatchObject({ removed: ['EC2:Describe*'] });
    expect(expanded).toEqual(['EC2:Describe*']);
    expect(describeChanges(changes)).toEqual(['statement #1: replace EC2:Describe* with ec2:DescribeInstances, ec2:DescribeVpcs per the IAM action catalog (narrow wildcards expanded)']);
  });

  it('says "remove" when nothing replaces a grant, and when the whole statement goes', () => {
    const { changes } = rewriteStatements([allow(['kms:*', 'kms:Decrypt'], { Sid: 'Keep' }), allow('kms:*')], usage({}));
    expect(describeChanges(changes)).toEqual([
      'statement "Keep": remove kms:* (no recorded use in IAM last-accessed data for the last 400 days)',
      'statement #2: remove kms:*, and with it the statement, which allows nothing else (no recorded use in IAM last-accessed data for the last 400 days)',
    ]);
  });
});

describe('keeping the document as it was', () => {
  it.each([
    ['compact', '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"},{"Effect":"Allow","Action":"sns:Publish","Resource":"*"}]}'],
    ['two-space', JSON.stringify({ Version: '2012-10-17', Statement: [allow('ec2:*'), allow('sns:Publish')] }, null, 2)],
    ['four-space', JSON.stringify({ Version: '2012-10-17', Statement: [allow('ec2:*'), allow('sns:Publish')] }, null, 4)],
  ])('%s JSON keeps its layout', (_name, text) => {
    const parsed = parsePolicy(text);
    const { statements } = rewriteStatements(parsed.statements, usage({ ec2: ['ec2:RunInstances'] }));
    expect(serializePolicy(parsed, statements)).toBe(text.replace('"ec2:*"', '"ec2:RunInstances"'));
  });

  it('a single Statement object stays an object; Id and Version stay in place', () => {
    const text = '{"Version":"2012-10-17","Id":"p1","Statement":{"Effect":"Allow","Action":["s3:*","sqs:SendMessage"],"Resource":"*"}}';
    const parsed = parsePolicy(text);
    expect(serializePolicy(parsed, rewriteStatements(parsed.statements, null).statements)).toBe(
      '{"Version":"2012-10-17","Id":"p1","Statement":{"Effect":"Allow","Action":["sqs:SendMessage"],"Resource":"*"}}',
    );
  });

  it('keeps a list a list, even when one statement is left', () => {
    const parsed = parsePolicy('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Allow","Action":"sns:Publish","Resource":"*"}]}');
    expect(serializePolicy(parsed, rewriteStatements(parsed.statements, null).statements)).toBe(
      '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sns:Publish","Resource":"*"}]}',
    );
  });
});

describe('reading policy documents', () => {
  it('decodes the URL-encoded text IAM returns, and takes plain JSON as it is', () => {
    const text = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::a b/*"}]}';
    expect(decodePolicyText(encodeURIComponent(text))).toBe(text);
    expect(decodePolicyText(text)).toBe(text);
    expect(decodePolicyText(`  ${text}`)).toBe(`  ${text}`);
    expect(() => decodePolicyText('')).toThrow('empty policy document');
    expect(() => decodePolicyText(undefined)).toThrow('empty policy document');
  });

  it('parses Statement as a list, a single object, or absent, and notes the indentation', () => {
    expect(parsePolicy('{"Version":"2012-10-17","Statement":[]}')).toMatchObject({ statements: [], singleStatement: false, indent: 0 });
    expect(parsePolicy('{"Statement":{"Effect":"Allow"}}')).toMatchObject({ statements: [{ Effect: 'Allow' }], singleStatement: true });
    expect(parsePolicy('{"Version":"2012-10-17"}').statements).toEqual([]);
    expect(parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: [] }, null, 4)).indent).toBe(4);
  });

  it('refuses a document that is not a JSON object', () => {
    expect(() => parsePolicy('[]')).toThrow('not a JSON object');
    expect(() => parsePolicy('null')).toThrow('not a JSON object');
    expect(() => parsePolicy('{"Statement":')).toThrow(SyntaxError);
  });

  it('names the service of an action in lower case', () => {
    expect(serviceOf('S3:GetObject')).toBe('s3');
    expect(serviceOf('aws-marketplace:ViewSubscriptions')).toBe('aws-marketplace');
    expect(serviceOf('*')).toBe('*');
  });
});
