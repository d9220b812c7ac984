import { describe, expect, it } from 'vitest';
import {
  actionMatches,
  describeChanges,
  findBroadGrants,
  isFullWildcard,
  parsePolicy,
  rewriteStatements,
  serializePolicy,
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
