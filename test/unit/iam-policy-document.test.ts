import { describe, expect, it } from 'vitest';
import {
  actionMatches,
  decodePolicyText,
  describeChanges,
  findBroadGrants,
  isFullWildcard,
  parsePolicy,
  rewriteStatements,
  serializePolicy,
  type Statement,
  serviceOf,
  type Usage,
} from '../../rules/lib/iam-policy-document.ts';

const usage = (actionLevel: Record<string, string[]>): Usage => ({ actionLevel, serviceLevelOnly: [], trackingPeriodDays: 400 });

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

describe('rewriting statements', () => {
  it('replaces * with every used action and service:* with that service’s, skipping what narrower grants cover', () => {
    const { statements, changes } = rewriteStatements(
      [
        { Effect: 'Allow', Action: '*', Resource: '*' },
        { Effect: 'Allow', Action: ['s3:Get*', 's3:*'], Resource: '*' },
      ],
      usage({ s3: ['s3:GetObject', 's3:PutObject'], sqs: ['sqs:SendMessage'] }),
    );
    expect(statements).toEqual([
      { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 'sqs:SendMessage'], Resource: '*' },
      { Effect: 'Allow', Action: ['s3:Get*', 's3:PutObject'], Resource: '*' },
    ]);
    expect(changes.map((change) => change.added)).toEqual([['s3:GetObject', 's3:PutObject', 'sqs:SendMessage'], ['s3:PutObject']]);
  });

  it('keeps a single action a string, and drops a statement left with nothing', () => {
    const { statements, changes } = rewriteStatements(
      [
        { Effect: 'Allow', Action: 's3:*', Resource: '*' },
        { Effect: 'Allow', Action: 'kms:*', Resource: '*' },
      ],
      usage({ s3: ['s3:GetObject'] }),
    );
    expect(statements).toEqual([{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }]);
    expect(changes[1]).toMatchObject({ dropped: true, removed: ['kms:*'] });
  });

  it('turns NotAction into Action at the same place among the keys', () => {
    const { statements } = rewriteStatements([{ Sid: 'X', Effect: 'Allow', NotAction: ['iam:*'], Resource: '*', Condition: {} }], usage({ s3: ['s3:GetObject'], iam: ['iam:PassRole'] }));
    expect(Object.keys(statements[0] ?? {})).toEqual(['Sid', 'Effect', 'Action', 'Resource', 'Condition']);
    expect(statements[0]?.Action).toEqual(['s3:GetObject']);
  });

  it('expands narrow wildcards only when expansions are given', () => {
    const statement = { Effect: 'Allow', Action: ['ec2:Describe*'], Resource: '*' };
    expect(rewriteStatements([statement], null).changes).toEqual([]);
    const { statements } = rewriteStatements([statement], null, { 'ec2:describe*': ['ec2:DescribeInstances', 'ec2:DescribeVpcs'] });
    expect(statements[0]?.Action).toEqual(['ec2:DescribeInstances', 'ec2:DescribeVpcs']);
  });
});

describe('keeping the document as it was', () => {
  it.each([
    ['compact', '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Allow","Action":"sns:Publish","Resource":"*"}]}'],
    ['two-space', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }, { Effect: 'Allow', Action: 'sns:Publish', Resource: '*' }] }, null, 2)],
    ['four-space', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }, { Effect: 'Allow', Action: 'sns:Publish', Resource: '*' }] }, null, 4)],
  ])('%s JSON keeps its layout', (_name, text) => {
    const parsed = parsePolicy(text);
    const { statements } = rewriteStatements(parsed.statements, usage({ s3: ['s3:GetObject'] }));
    const output = serializePolicy(parsed, statements);
    expect(output).toBe(text.replace('"s3:*"', '"s3:GetObject"'));
  });

  it('a single Statement object stays an object; Id and Version stay in place', () => {
    const text = '{"Version":"2012-10-17","Id":"p1","Statement":{"Effect":"Allow","Action":["s3:*","sqs:SendMessage"],"Resource":"*"}}';
    const parsed = parsePolicy(text);
    const output = serializePolicy(parsed, rewriteStatements(parsed.statements, null).statements);
    expect(output).toBe('{"Version":"2012-10-17","Id":"p1","Statement":{"Effect":"Allow","Action":["sqs:SendMessage"],"Resource":"*"}}');
  });
});

describe('the statement-level diff people read', () => {
  it('warns when a removed grant covered services used without action-level data', () => {
    const { changes } = rewriteStatements(
      [
        { Sid: 'Admin', Effect: 'Allow', Action: '*', Resource: '*' },
        { Sid: 'Queues', Effect: 'Allow', Action: 'sqs:*', Resource: '*' },
      ],
      { actionLevel: { s3: ['s3:GetObject'] }, serviceLevelOnly: ['sqs'], trackingPeriodDays: 400 },
    );
    const [admin, queues] = describeChanges(changes);
    expect(admin).toContain('replace * with s3:GetObject');
    expect(admin).toContain('sqs was used, but IAM keeps no action-level data for it');
    expect(queues).toContain('statement "Queues": remove sqs:*');
    expect(queues).toContain('sqs was used');
  });

  it('says which actions go, which replace them, and on what evidence', () => {
    const { changes } = rewriteStatements(
      [
        { Sid: 'Data', Effect: 'Allow', Action: 's3:*', Resource: '*' },
        { Effect: 'Allow', Action: '*', Resource: '*' },
      ],
      usage({ s3: ['s3:GetObject'] }),
    );
    expect(describeChanges(changes)).toEqual([
      'statement "Data": replace s3:* with s3:GetObject (the actions used in the last 400 days, per IAM last-accessed data)',
      'statement #2: replace * with s3:GetObject (the actions used in the last 400 days, per IAM last-accessed data)',
    ]);
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

  it('keeps a list a list, even when one statement is left', () => {
    const parsed = parsePolicy('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Allow","Action":"sns:Publish","Resource":"*"}]}');
    expect(serializePolicy(parsed, rewriteStatements(parsed.statements, null).statements)).toBe(
      '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sns:Publish","Resource":"*"}]}',
    );
  });

  it('names the service of an action in lower case', () => {
    expect(serviceOf('S3:GetObject')).toBe('s3');
    expect(serviceOf('aws-marketplace:ViewSubscriptions')).toBe('aws-marketplace');
    expect(serviceOf('*')).toBe('*');
  });
});

describe('rewriting, at the edges', () => {
  it('never touches a Deny, whatever it names', () => {
    const deny: Statement[] = [
      { Effect: 'Deny', Action: '*', Resource: '*' },
      { Effect: 'Deny', NotAction: 'iam:*', Resource: '*' },
    ];
    expect(findBroadGrants(deny)).toEqual([]);
    expect(rewriteStatements(deny, usage({ s3: ['s3:GetObject'] }), { 'iam:*': ['iam:GetRole'] })).toEqual({ statements: deny, changes: [] });
  });

  it('an Allow NotAction on a policy attached to nothing is dropped, with that reason', () => {
    const { statements, changes } = rewriteStatements([{ Sid: 'AllButIam', Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }], null);
    expect(statements).toEqual([]);
    expect(changes).toEqual([
      { index: 0, sid: 'AllButIam', removed: ['NotAction iam:*'], added: [], evidence: 'no usage to keep: the policy is attached to nothing', dropped: true },
    ]);
  });

  it('an Allow NotAction keeps only used actions its exclusions do not cover', () => {
    const { statements } = rewriteStatements([{ Effect: 'Allow', NotAction: ['iam:*', 's3:Delete*'], Resource: '*' }], usage({ s3: ['s3:GetObject', 's3:DeleteObject'], iam: ['iam:PassRole'] }));
    expect(statements).toEqual([{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: '*' }]);
  });

  it('adds nothing a narrower grant left in the statement already covers', () => {
    const { statements, changes } = rewriteStatements([{ Effect: 'Allow', Action: ['s3:*', 's3:Get*'], Resource: '*' }], usage({ s3: ['s3:GetObject', 's3:ListBucket'] }));
    expect(statements[0]?.Action).toEqual(['s3:Get*', 's3:ListBucket']);
    expect(changes[0]).toMatchObject({ removed: ['s3:*'], added: ['s3:ListBucket'], dropped: false });
  });

  it('service:* keeps only that service’s used actions; * keeps every service’s', () => {
    const used = usage({ s3: ['s3:GetObject'], sqs: ['sqs:SendMessage'] });
    expect(rewriteStatements([{ Effect: 'Allow', Action: 'sqs:*', Resource: '*' }], used).statements[0]?.Action).toBe('sqs:SendMessage');
    expect(rewriteStatements([{ Effect: 'Allow', Action: '*', Resource: '*' }], used).statements[0]?.Action).toEqual(['s3:GetObject', 'sqs:SendMessage']);
  });

  it('warns about services used without action-level data only where the removed grant covered them', () => {
    const used = { actionLevel: {}, serviceLevelOnly: ['s3'], trackingPeriodDays: 400 };
    const [queues] = rewriteStatements([{ Effect: 'Allow', Action: ['sqs:*', 'sns:Publish'], Resource: '*' }], used).changes;
    expect(queues?.evidence).toBe('no recorded use of its actions in IAM last-accessed data for the last 400 days');
    const [buckets] = rewriteStatements([{ Effect: 'Allow', Action: ['S3:*', 'sns:Publish'], Resource: '*' }], used).changes;
    expect(buckets?.evidence).toContain('s3 was used, but IAM keeps no action-level data for it');
  });

  it('looks up narrow-wildcard expansions whatever the case of the action', () => {
    const { statements, changes } = rewriteStatements([{ Effect: 'Allow', Action: ['EC2:Describe*', 'ec2:StartInstances'], Resource: '*' }], null, {
      'ec2:describe*': ['ec2:DescribeInstances', 'ec2:DescribeVpcs'],
    });
    expect(statements[0]?.Action).toEqual(['ec2:StartInstances', 'ec2:DescribeInstances', 'ec2:DescribeVpcs']);
    expect(changes[0]).toMatchObject({ removed: ['EC2:Describe*'], evidence: 'narrow wildcards expanded from the IAM action catalog' });
  });

  it('says "remove" when nothing replaces a grant, and when the whole statement goes', () => {
    const { changes } = rewriteStatements(
      [
        { Sid: 'Keep', Effect: 'Allow', Action: ['kms:*', 'kms:Decrypt'], Resource: '*' },
        { Effect: 'Allow', Action: 'kms:*', Resource: '*' },
      ],
      usage({}),
    );
    expect(describeChanges(changes)).toEqual([
      'statement "Keep": remove kms:* (no recorded use of its actions in IAM last-accessed data for the last 400 days)',
      'statement #2: remove kms:*, and with it the statement, which allows nothing else (no recorded use of its actions in IAM last-accessed data for the last 400 days)',
    ]);
  });
});
