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

describe('the four cases of issue #15', () => {
  it('a used service IAM tracks no actions of keeps its grant: the statement is left as it is, and the kept wildcard is named', () => {
    const statements = [allow(['sqs:*', 'kms:*'], { Sid: 'Queues' })];
    const rewrite = rewriteStatements(statements, usage({}, ['sqs']));
    expect(rewrite.statements).toEqual([allow(['sqs:*'], { Sid: 'Queues' })]);
    expect(rewrite.kept).toEqual([
      { statement: 'statement "Queues"', grant: 'sqs:*', reason: 'used on 2026-10-01 by role/app, and IAM tracked none of the actions used', introduced: false },
    ]);
    expect(describeChanges(rewrite.changes)).toEqual([
      'statement "Queues": remove kms:* (no recorded use in IAM last-accessed data for the last 400 days); sqs:* stays (used on 2026-10-01 by role/app, and IAM tracked none of the actions used)',
    ]);
  });

  it('a service whose wildcard is the only grant and was used untracked: nothing changes at all', () => {
    const statements = [allow('sqs:*')];
    const rewrite = rewriteStatements(statements, usage({}, ['sqs']));
    expect(rewrite.changes).toEqual([]);
    expect(rewrite.statements).toEqual(statements);
    expect(describeKept(rewrite.kept)).toBe('sqs:* in statement #1 (used on 2026-10-01 by role/app, and IAM tracked none of the actions used)');
  });

  it('a used tracked service keeps exactly the actions used, each on IAM last-accessed evidence', () => {
    const rewrite = rewriteStatements([allow('s3:*', { Sid: 'Data' })], usage({ s3: ['s3:PutObject', 's3:CreateBucket'] }));
    expect(rewrite.statements).toEqual([allow(['s3:CreateBucket', 's3:PutObject'], { Sid: 'Data' })]);
    expect(rewrite.changes[0]).toMatchObject({
      removed: ['s3:*'],
      added: ['s3:CreateBucket', 's3:PutObject'],
      because: { 's3:CreateBucket': 'IAM last-accessed (action level)', 's3:PutObject': 'IAM last-accessed (action level)' },
      kept: [],
    });
    expect(rewrite.narrowed).toEqual({ s3: ['IAM last-accessed (action level)'] });
    expect(describeChanges(rewrite.changes)).toEqual(['statement "Data": replace s3:* with s3:CreateBucket, s3:PutObject per IAM last-accessed (action level)']);
  });

  it('an unused service is removed', () => {
    const rewrite = rewriteStatements([allow(['kms:*', 'sns:Publish'])], usage({ s3: ['s3:CreateBucket'] }));
    expect(rewrite.statements).toEqual([allow(['sns:Publish'])]);
    expect(rewrite.kept).toEqual([]);
    expect(describeChanges(rewrite.changes)).toEqual(['statement #1: remove kms:* (no recorded use in IAM last-accessed data for the last 400 days)']);
  });
});

describe('rewriting *', () => {
  it('replaces * with the tracked actions used and a wildcard for each used service IAM tracks no actions of; unused services go', () => {
    const rewrite = rewriteStatements([allow('*', { Sid: 'Admin', Condition: { Bool: { 'aws:SecureTransport': 'true' } } })], usage({ ec2: ['ec2:RunInstances'], iam: ['iam:CreateRole'] }, ['sqs', 'sns']));
    expect(rewrite.statements).toEqual([allow(['ec2:RunInstances', 'iam:CreateRole', 'sns:*', 'sqs:*'], { Sid: 'Admin', Condition: { Bool: { 'aws:SecureTransport': 'true' } } })]);
    expect(rewrite.changes[0]).toMatchObject({ removed: ['*'], added: ['ec2:RunInstances', 'iam:CreateRole'], dropped: false });
    expect(rewrite.kept.map((kept) => [kept.grant, kept.introduced])).toEqual([
      ['sns:*', true],
      ['sqs:*', true],
    ]);
    expect(describeChanges(rewrite.changes)).toEqual([
      'statement "Admin": replace * with ec2:RunInstances, iam:CreateRole per IAM last-accessed (action level); ' +
        'sns:* kept (used on 2026-10-01 by role/app, and IAM tracked none of the actions used); sqs:* kept (used on 2026-10-01 by role/app, and IAM tracked none of the actions used)',
    ]);
  });

  it('adds no wildcard that a service wildcard staying in the statement already covers', () => {
    const rewrite = rewriteStatements([allow(['*', 'sqs:*'])], usage({ s3: ['s3:CreateBucket'] }, ['sqs']));
    expect(rewrite.statements).toEqual([allow(['sqs:*', 's3:CreateBucket'])]);
    expect(rewrite.kept).toEqual([expect.objectContaining({ grant: 'sqs:*', introduced: false })]);
  });

  it('replaces * with every used action and service:* with that service’s, skipping what narrower grants cover', () => {
    const { statements, changes } = rewriteStatements(
      [allow('*'), allow(['s3:Get*', 's3:*'])],
      usage({ s3: ['s3:GetObject', 's3:PutObject'], sqs: ['sqs:SendMessage'] }),
    );
    expect(statements).toEqual([allow(['s3:GetObject', 's3:PutObject', 'sqs:SendMessage']), allow(['s3:Get*', 's3:PutObject'])]);
    expect(changes.map((change) => change.added)).toEqual([['s3:GetObject', 's3:PutObject', 'sqs:SendMessage'], ['s3:PutObject']]);
  });

  it('keeps policy generation’s actions for a service IAM tracks no actions of, naming that evidence per action', () => {
    const used = usage({ s3: ['s3:CreateBucket'] }, ['sns'], { generated: { sns: { actions: ['sns:Publish'], evidence: GEN }, s3: { actions: ['s3:ListBucket'], evidence: GEN } } });
    const rewrite = rewriteStatements([allow('*', { Sid: 'Admin' })], used);
    expect(rewrite.statements).toEqual([allow(['s3:CreateBucket', 's3:ListBucket', 'sns:Publish'], { Sid: 'Admin' })]);
    expect(rewrite.changes[0]?.because).toEqual({ 's3:CreateBucket': 'IAM last-accessed (action level)', 's3:ListBucket': GEN, 'sns:Publish': GEN });
    expect(rewrite.kept).toEqual([]);
    expect(rewrite.narrowed).toEqual({ s3: ['IAM last-accessed (action level)', GEN], sns: [GEN] });
    expect(describeChanges(rewrite.changes)).toEqual([`statement "Admin": replace * with s3:CreateBucket per IAM last-accessed (action level); s3:ListBucket, sns:Publish per ${GEN}`]);
  });

  it('a statement left with nothing is dropped; removing everything is for the rule to refuse', () => {
    const rewrite = rewriteStatements([allow('*'), allow('sns:Publish')], usage({}));
    expect(rewrite.statements).toEqual([allow('sns:Publish')]);
    expect(rewrite.changes[0]).toMatchObject({ dropped: true, added: [] });
  });
});

describe('what last-accessed data can and cannot tell', () => {
  it('a service used after its last tracked action keeps its wildcard: an action IAM does not track was used', () => {
    const used = usage({ s3: ['s3:CreateBucket'] });
    used.services.s3 = { lastUsed: '2026-11-19T08:00:00.000Z', actions: { 's3:CreateBucket': '2026-03-02T10:00:00.000Z' } };
    const rewrite = rewriteStatements([allow('s3:*')], used);
    expect(rewrite.changes).toEqual([]);
    expect(rewrite.kept[0]?.reason).toBe('used on 2026-11-19, after the last action IAM tracked (2026-03-02): an action IAM does not track was used');
  });

  it('the same time, or within minutes, is the tracked action itself: the service is narrowed', () => {
    const used = usage({});
    used.services.s3 = { lastUsed: '2026-11-19T08:03:00.000Z', actions: { 's3:CreateBucket': '2026-11-19T08:00:00.000Z' } };
    expect(rewriteStatements([allow('s3:*')], used).statements).toEqual([allow('s3:CreateBucket')]);
  });

  it('an action the IAM action catalog does not know keeps the service’s wildcard', () => {
    const used = usage({ s3: ['s3:CreateBucket'] });
    used.services.s3 = { ...used.services.s3, unknownActions: ['s3:BrandNewThing'] } as Usage['services'][string];
    const rewrite = rewriteStatements([allow('s3:*')], used);
    expect(rewrite.statements).toEqual([allow('s3:*')]);
    expect(rewrite.kept[0]?.reason).toContain('IAM reported s3:BrandNewThing, which the IAM action catalog does not know');
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
    const used = usage({}, ['sqs'], { generationNotes: { sqs: 'policy generation for role/app ended FAILED (job j-1)' } });
    expect(rewriteStatements([allow('sqs:*')], used).kept[0]?.reason).toBe(
      'used on 2026-10-01 by role/app, and IAM tracked none of the actions used; policy generation for role/app ended FAILED (job j-1)',
    );
  });
});

describe('NotAction', () => {
  it('turns NotAction into Action at the same place among the keys, with a wildcard for a used untracked service it allowed', () => {
    const { statements, kept } = rewriteStatements([{ Sid: 'X', Effect: 'Allow', NotAction: ['iam:*'], Resource: '*', Condition: {} }], usage({ s3: ['s3:GetObject'], iam: ['iam:PassRole'] }, ['sqs']));
    expect(Object.keys(statements[0] ?? {})).toEqual(['Sid', 'Effect', 'Action', 'Resource', 'Condition']);
    expect(statements[0]?.Action).toEqual(['s3:GetObject', 'sqs:*']);
    expect(kept).toEqual([expect.objectContaining({ grant: 'sqs:*', introduced: true })]);
  });

  it('leaves a NotAction alone when a used untracked service is partly excluded: its wildcard would allow what NotAction excludes', () => {
    const statement: Statement = { Effect: 'Allow', NotAction: ['s3:Delete*'], Resource: '*' };
    const rewrite = rewriteStatements([statement], usage({ ec2: ['ec2:RunInstances'] }, ['s3']));
    expect(rewrite.statements).toEqual([statement]);
    expect(rewrite.changes).toEqual([]);
    expect(rewrite.kept).toEqual([
      {
        statement: 'statement #1',
        grant: 'NotAction s3:Delete*',
        reason: 's3 (used on 2026-10-01 by role/app, and IAM tracked none of the actions used) was used, and a service wildcard would also allow what the NotAction excludes',
        introduced: false,
      },
    ]);
  });

  it('keeps only used actions its exclusions do not cover; a service it excludes whole is not written back', () => {
    const { statements } = rewriteStatements([{ Effect: 'Allow', NotAction: ['iam:*', 's3:Delete*'], Resource: '*' }], usage({ s3: ['s3:GetObject', 's3:DeleteObject'] }, ['iam']));
    expect(statements).toEqual([{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: '*' }]);
  });

  it('an Allow NotAction on a policy attached to nothing is dropped, with that reason', () => {
    const { statements, changes } = rewriteStatements([{ Sid: 'AllButIam', Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }], null);
    expect(statements).toEqual([]);
    expect(changes).toEqual([
      { index: 0, sid: 'AllButIam', removed: ['NotAction iam:*'], added: [], because: {}, kept: [], evidence: 'no usage to keep: the policy is attached to nothing', dropped: true },
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
    expect(rewriteStatements(deny, usage({ s3: ['s3:GetObject'] }), { 'iam:*': ['iam:GetRole'] })).toEqual({ statements: deny, changes: [], kept: [], removedUsed: {}, narrowed: {} });
  });

  it('keeps a single action a string, and drops a statement left with nothing', () => {
    const { statements, changes } = rewriteStatements([allow('s3:*'), allow('kms:*')], usage({ s3: ['s3:GetObject'] }));
    expect(statements).toEqual([allow('s3:GetObject')]);
    expect(changes[1]).toMatchObject({ dropped: true, removed: ['kms:*'] });
  });

  it('adds nothing a narrower grant left in the statement already covers', () => {
    const { statements, changes } = rewriteStatements([allow(['s3:*', 's3:Get*'])], usage({ s3: ['s3:GetObject', 's3:ListBucket'] }));
    expect(statements[0]?.Action).toEqual(['s3:Get*', 's3:ListBucket']);
    expect(changes[0]).toMatchObject({ removed: ['s3:*'], added: ['s3:ListBucket'], dropped: false });
  });

  it('S3:* in any case is s3’s wildcard', () => {
    expect(rewriteStatements([allow(['S3:*', 'sns:Publish'])], usage({}, ['s3'])).kept[0]).toMatchObject({ grant: 'S3:*' });
    expect(rewriteStatements([allow(['S3:*', 'sns:Publish'])], usage({})).statements).toEqual([allow(['sns:Publish'])]);
  });

  it('expands narrow wildcards only when expansions are given, whatever the case of the action', () => {
    const statement = allow(['EC2:Describe*', 'ec2:StartInstances']);
    expect(rewriteStatements([statement], null).changes).toEqual([]);
    const { statements, changes } = rewriteStatements([statement], null, { 'ec2:describe*': ['ec2:DescribeInstances', 'ec2:DescribeVpcs'] });
    expect(statements[0]?.Action).toEqual(['ec2:StartInstances', 'ec2:DescribeInstances', 'ec2:DescribeVpcs']);
    expect(changes[0]).toMatchObject({ removed: ['EC2:Describe*'] });
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
    ['compact', '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Allow","Action":"sns:Publish","Resource":"*"}]}'],
    ['two-space', JSON.stringify({ Version: '2012-10-17', Statement: [allow('s3:*'), allow('sns:Publish')] }, null, 2)],
    ['four-space', JSON.stringify({ Version: '2012-10-17', Statement: [allow('s3:*'), allow('sns:Publish')] }, null, 4)],
  ])('%s JSON keeps its layout', (_name, text) => {
    const parsed = parsePolicy(text);
    const { statements } = rewriteStatements(parsed.statements, usage({ s3: ['s3:GetObject'] }));
    expect(serializePolicy(parsed, statements)).toBe(text.replace('"s3:*"', '"s3:GetObject"'));
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
