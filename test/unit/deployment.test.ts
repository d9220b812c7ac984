import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, DETAIL_TYPE, EVENT_SOURCE } from '../../core/model/index.ts';
import { RULES } from '../../rules/index.ts';
import { configRuleResources, type DeploymentOptions, functionDefinitions, operationsResources, outputs, roleResources } from '../../serverless/deployment.ts';
import { validateOptions } from '../../serverless/options.ts';
import { queueId } from '../../serverless/queues.ts';
import { roleLogicalId } from '../../serverless/roles.ts';
import { ruleAnswering } from '../support/rules.ts';

/**
 * serverless/deployment.ts called directly with the params of a stage (no packaging): what each
 * option adds to or takes from the functions, roles, queues, rules and bus.
 */

const ROOT = resolve(import.meta.dirname, '..', '..');
const HUB = '444455556666';
const MEMBER = '111122223333';
const ORG = 'o-a1b2c3d4e5';
const BUS = 'driftfix-dev-bus';
const BOUNDARY = `arn:aws:iam::${MEMBER}:policy/driftfix-boundary`;

const BASE: DeploymentOptions = {
  service: 'driftfix',
  stage: 'dev',
  acceptReplay: false,
  slackSecretName: 'driftfix/slack',
  ruleModes: '',
  ruleParams: '{}',
  permissionsBoundaryArn: '',
  hub: false,
  hubAccount: '',
  hubRegion: '',
  organizationId: '',
  memberAccounts: [],
};
const hub = { ...BASE, hub: true, organizationId: ORG };
const member = { ...BASE, hubAccount: HUB };

type Json = Record<string, any>;
type Statement = { Sid?: string; Effect: string; Action: string[]; Resource: unknown };

const ofType = (resources: Record<string, unknown>, type: string) => Object.entries(resources as Record<string, Json>).filter(([, resource]) => resource.Type === type);
const eventRules = (options: DeploymentOptions): Json[] => ofType(operationsResources(options), 'AWS::Events::Rule').map(([id, rule]) => ({ id, ...(rule.Properties as Json) }));
const statementsOf = (role: unknown): Statement[] => (role as Json).Properties.Policies.flatMap((policy: Json) => policy.PolicyDocument.Statement);
const allStatements = (options: DeploymentOptions) => ofType(roleResources(options), 'AWS::IAM::Role').flatMap(([, role]) => statementsOf(role));
const fnSub = (value: unknown) => (value as { 'Fn::Sub'?: string })['Fn::Sub'];
const targetQueue = (rule: Json) => rule.Targets[0].Arn['Fn::GetAtt'][0] as string;
const [firstRule, secondRule] = RULES;


describe('options checked before anything is built', () => {
  it('has rules to test with', () => {
    expect(firstRule).toBeDefined();
    expect(secondRule).toBeDefined();
  });

  it.each([
    ['a misspelt rule id in ruleModes', { ruleModes: `${firstRule?.id}x=approve` }, `${firstRule?.id}x`],
    ['an unknown mode in ruleModes', { ruleModes: `${firstRule?.id}=aprove` }, `${firstRule?.id}`],
    ['a misspelt rule id in ruleParams', { ruleParams: JSON.stringify({ [`${secondRule?.id}x`]: {} }) }, `${secondRule?.id}x`],
    ['a misspelt parameter of a rule', { ruleParams: JSON.stringify({ [secondRule?.id ?? '']: { noSuchParameter: true } }) }, `${secondRule?.id}`],
  ])('%s fails the package with a ConfigurationError naming the rule', (_case, override, named) => {
    const options = { ...BASE, ...override };
    expect(() => validateOptions(options)).toThrow(ConfigurationError);
    expect(() => validateOptions(options)).toThrow(named);
    expect(() => functionDefinitions(options)).toThrow(ConfigurationError);
  });

  it.each([
    ['hub and member at once', { hub: true, organizationId: ORG, hubAccount: HUB }, /hub.*or a member/],
    ['a hub admitting nobody (no organizationId, no memberAccounts)', { hub: true }, /organizationId.*memberAccounts/],
    ['a hub account that is not 12 digits', { hubAccount: '4444' }, /hubAccount/],
    ['an organization id that is not o-…', { hub: true, organizationId: 'org-1' }, /organizationId/],
    ['a member account that is not 12 digits', { hub: true, memberAccounts: [MEMBER, 'x'] }, /memberAccounts/],
    ['a permissions boundary that is not a policy ARN', { permissionsBoundaryArn: 'driftfix-boundary' }, /permissionsBoundaryArn/],
    ['an organizationId without hub=true (it would package a single stack)', { organizationId: ORG }, /settings of a hub: add hub=true/],
    ['memberAccounts without hub=true', { memberAccounts: [MEMBER] }, /settings of a hub: add hub=true/],
  ])('refuses %s', (_case, override, message) => {
    expect(() => validateOptions({ ...BASE, ...override })).toThrow(ConfigurationError);
    expect(() => functionDefinitions({ ...BASE, ...override })).toThrow(message);
  });

  it('accepts the defaults and the documented variants', () => {
    for (const options of [BASE, hub, member, { ...hub, organizationId: '', memberAccounts: [MEMBER, HUB] }, { ...BASE, permissionsBoundaryArn: BOUNDARY }]) {
      expect(() => validateOptions(options)).not.toThrow();
    }
  });
});

describe('replayed events', () => {
  it('acceptReplay false: no pattern accepts the replay source', () => {
    const rules = eventRules(BASE);
    expect(rules.length).toBeGreaterThan(0);
    expect(rules.filter((rule) => rule.EventPattern.source.includes(EVENT_SOURCE.replay))).toEqual([]);
  });

  it('acceptReplay true: every pattern for an AWS source also accepts driftfix.replay, and no other pattern does', () => {
    const rules = eventRules({ ...BASE, acceptReplay: true });
    const fromAws = rules.filter((rule) => rule.EventPattern.source.some((source: string) => source.startsWith('aws.')));
    expect(fromAws.length).toBeGreaterThan(0);
    for (const rule of fromAws) expect(rule.EventPattern.source, rule.id).toContain(EVENT_SOURCE.replay);
    for (const rule of rules.filter((candidate) => !fromAws.includes(candidate))) expect(rule.EventPattern.source, rule.id).not.toContain(EVENT_SOURCE.replay);
  });
});

describe('each function sees only its own rule’s settings', () => {
  const encryptionRule = ruleAnswering('S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED');
  const wildcardRule = ruleAnswering('IAM_POLICY_NO_STATEMENTS_WITH_ADMIN_ACCESS');
  const options = {
    ...BASE,
    ruleModes: `${encryptionRule.id}=approve, ${wildcardRule.id}=notify`,
    ruleParams: JSON.stringify({ [encryptionRule.id]: { kmsKeyArn: `arn:aws:kms:us-east-1:${MEMBER}:key/1234abcd-12ab-34cd-56ef-1234567890ab` }, [wildcardRule.id]: { expandNarrowWildcards: true } }),
  };
  const functions = functionDefinitions(options) as Record<string, Json>;

  it.each(RULES.map((rule) => [rule.id, rule] as const))('%s: RULE_MODES and RULE_PARAMS hold its entries only', (id, rule) => {
    const environment = functions[id]?.environment;
    expect(environment.RULE_ID).toBe(id);
    const modes = { [encryptionRule.id]: `${encryptionRule.id}=approve`, [wildcardRule.id]: `${wildcardRule.id}=notify` };
    expect(environment.RULE_MODES).toBe(modes[rule.id] ?? '');
    const params = JSON.parse(options.ruleParams);
    expect(JSON.parse(environment.RULE_PARAMS)).toEqual(rule.id in params ? { [rule.id]: params[rule.id] } : {});
  });

  it('the functions that are no rule get no rule settings', () => {
    for (const [id, fn] of Object.entries(functions).filter(([id]) => !RULES.some((rule) => rule.id === id))) {
      expect(fn.environment?.RULE_MODES, id).toBeUndefined();
      expect(fn.environment?.RULE_PARAMS, id).toBeUndefined();
      expect(fn.environment?.RULE_ID, id).toBeUndefined();
    }
  });
});

describe('entry points', () => {
  it.each([
    ['a single stack', BASE],
    ['a hub', hub],
    ['a member', member],
  ])('in %s, every function’s handler is a file under functions/ (the bundler’s entry point)', (_case, options) => {
    const functions = Object.entries(functionDefinitions(options) as Record<string, Json>);
    expect(functions.length).toBeGreaterThan(RULES.length);
    const missing = functions.filter(([, fn]) => {
      const entry = /^functions\/([a-z0-9-]+)\.handler$/.exec(String(fn.handler))?.[1];
      return !entry || !existsSync(join(ROOT, 'functions', `${entry}.ts`));
    });
    expect(missing.map(([id, fn]) => `${id}: ${fn.handler}`)).toEqual([]);
  });
});

describe('queues feeding the functions', () => {
  it('each rule, the Config router and the unhandled-findings function read their own queue, one event at a time, at most rule.concurrency ?? 5 at once', () => {
    const functions = functionDefinitions(BASE) as Record<string, Json>;
    for (const id of [...RULES.map((rule) => rule.id), 'config-router', 'unhandled-findings']) {
      const rule = RULES.find((candidate) => candidate.id === id);
      expect(functions[id]?.events, id).toEqual([
        { sqs: { arn: { 'Fn::GetAtt': [queueId(id), 'Arn'] }, batchSize: 1, functionResponseType: 'ReportBatchItemFailures', maximumConcurrency: rule?.concurrency ?? 5 } },
      ]);
      expect(functions[id]?.reservedConcurrency, id).toBeUndefined();
    }
  });
});

describe('the Deny on the stack’s own resources', () => {
  // CloudFormation names a role "<stack>-<logical id>-<suffix>" with the stack name as written, and
  // IAM compares names in a Resource ARN case-sensitively; S3 bucket names are always lower case.
  const options = { ...BASE, stage: 'Prod' };
  const denied = (rule: (typeof RULES)[number]) =>
    statementsOf(roleResources(options)[roleLogicalId(rule.id)])
      .filter((statement) => statement.Effect === 'Deny')
      .flatMap((statement) => [statement.Resource].flat().map(fnSub));

  it.each(RULES.filter((rule) => rule.resource.iamArn?.includes(':iam::') && rule.resource.iamArn.endsWith('*')).map((rule) => [rule.id, rule] as const))(
    '%s: covers IAM resources named after a stage with capitals, as CloudFormation names them',
    (_id, rule) => {
      expect(denied(rule)).toContain(rule.resource.iamArn?.replace(/\*$/, 'driftfix-Prod-*'));
    },
  );

  it.each(RULES.filter((rule) => rule.resource.iamArn?.includes(':s3:::') && rule.resource.iamArn.endsWith('*')).map((rule) => [rule.id, rule] as const))(
    '%s: covers the stack’s buckets, whose names are lower case',
    (_id, rule) => {
      expect(denied(rule)).toContain(rule.resource.iamArn?.replace(/\*$/, 'driftfix-prod-*'));
    },
  );
});

describe('a permissions boundary', () => {
  it.each([
    ['a single stack', BASE],
    ['a hub', hub],
    ['a member', member],
  ])('in %s, is on every role, and on none without it', (_case, options) => {
    const withBoundary = ofType(roleResources({ ...options, permissionsBoundaryArn: BOUNDARY }), 'AWS::IAM::Role');
    expect(withBoundary.length).toBeGreaterThan(RULES.length);
    for (const [id, role] of withBoundary) expect(role.Properties.PermissionsBoundary, id).toBe(BOUNDARY);
    for (const [id, role] of ofType(roleResources(options), 'AWS::IAM::Role')) expect(role.Properties.PermissionsBoundary, id).toBeUndefined();
  });
});

describe('a hub (hub=true)', () => {
  const resources = operationsResources(hub) as Record<string, Json>;

  it('creates the driftfix bus, admitting PutEvents only from principals of its organization', () => {
    const bus = resources.DriftfixEventBus;
    expect(bus?.Type).toBe('AWS::Events::EventBus');
    expect(bus?.Properties.Name).toBe(BUS);
    expect(bus?.Properties.Policy.Statement).toEqual([
      {
        Sid: 'Organization',
        Effect: 'Allow',
        Principal: '*',
        Action: 'events:PutEvents',
        Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:event-bus/${BUS}` },
        Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG } },
      },
    ]);
    expect(outputs(hub)).toHaveProperty('DriftfixEventBusArn');
  });

  it('with memberAccounts instead, admits exactly those accounts’ roots', () => {
    const bus = (operationsResources({ ...hub, organizationId: '', memberAccounts: [MEMBER, HUB] }) as Record<string, Json>).DriftfixEventBus;
    const [statement, ...others] = bus?.Properties.Policy.Statement ?? [];
    expect(others).toEqual([]);
    expect(statement.Principal).toEqual({ AWS: [{ 'Fn::Sub': `arn:\${AWS::Partition}:iam::${MEMBER}:root` }, { 'Fn::Sub': `arn:\${AWS::Partition}:iam::${HUB}:root` }] });
    expect(statement.Condition).toBeUndefined();
    expect(statement.Action).toBe('events:PutEvents');
  });

  it('has a hub-notifier function fed by its own queue, which the bus fills with the members’ records', () => {
    const functions = functionDefinitions(hub) as Record<string, Json>;
    expect(functions['hub-notifier']?.events).toEqual([
      { sqs: { arn: { 'Fn::GetAtt': [queueId('hub-notifier'), 'Arn'] }, batchSize: 1, functionResponseType: 'ReportBatchItemFailures', maximumConcurrency: 5 } },
    ]);
    const rules = eventRules(hub).filter((rule) => targetQueue(rule) === queueId('hub-notifier'));
    expect(rules.map((rule) => [rule.EventBusName, rule.EventPattern])).toEqual([[{ Ref: 'DriftfixEventBus' }, { source: [EVENT_SOURCE.member], 'detail-type': [DETAIL_TYPE.record] }]]);
    const role = statementsOf(roleResources(hub)[roleLogicalId('hub-notifier')]);
    expect(role.flatMap((statement) => statement.Action).sort()).toEqual(
      ['logs:CreateLogStream', 'logs:PutLogEvents', 'dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage', 'secretsmanager:GetSecretValue'].sort(),
    );
  });

  it('the Slack interactivity function approves the hub’s own fixes on its default bus and sends decisions to the members’ driftfix buses, and may put events nowhere else', () => {
    const functions = functionDefinitions(hub) as Record<string, Json>;
    expect(functions['slack-actions']?.environment).toEqual({ HUB_MEMBER_BUS_NAME: BUS });
    const puts = statementsOf(roleResources(hub)[roleLogicalId('slack-actions')]).filter((statement) => statement.Action.some((action) => action.startsWith('events:')));
    // Its own account's approvals to its own default bus; members' decisions to their buses, in any region.
    expect(puts).toEqual([
      {
        Sid: 'Decisions',
        Effect: 'Allow',
        Action: ['events:PutEvents'],
        Resource: [{ 'Fn::Sub': `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:event-bus/default` }, { 'Fn::Sub': `arn:\${AWS::Partition}:events:*:*:event-bus/${BUS}` }],
      },
    ]);
  });

  it('a single stack has neither bus nor hub-notifier, and its interactivity puts decisions on its own default bus', () => {
    expect(operationsResources(BASE)).not.toHaveProperty('DriftfixEventBus');
    expect(functionDefinitions(BASE)).not.toHaveProperty('hub-notifier');
    expect(outputs(BASE)).not.toHaveProperty('DriftfixEventBusArn');
    const puts = statementsOf(roleResources(BASE)[roleLogicalId('slack-actions')]).filter((statement) => statement.Action.includes('events:PutEvents'));
    expect(puts.map((statement) => fnSub(statement.Resource))).toEqual([`arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:event-bus/default`]);
  });
});

describe(`a member (hubAccount=${HUB})`, () => {
  const functions = functionDefinitions(member) as Record<string, Json>;
  const roles = roleResources(member);
  const hubBusArn = `arn:\${AWS::Partition}:events:\${AWS::Region}:${HUB}:event-bus/${BUS}`;

  it('has no Slack interactivity function, endpoint, alarm or output, and holds no Slack secret', () => {
    expect(functions).not.toHaveProperty('slack-actions');
    expect(roles).not.toHaveProperty(roleLogicalId('slack-actions'));
    expect(Object.keys(operationsResources(member)).filter((id) => id.startsWith('SlackActions'))).toEqual([]);
    expect(outputs(member)).not.toHaveProperty('SlackInteractivityUrl');
    const secrets = allStatements(member).filter((statement) => statement.Action.some((action) => action.startsWith('secretsmanager:')) || statement.Sid === 'SlackSecret');
    expect(secrets).toEqual([]);
  });

  it('each rule’s and the unhandled-findings role may put its records on the hub’s bus, and on no other bus', () => {
    for (const id of [...RULES.map((rule) => rule.id), 'unhandled-findings']) {
      const puts = statementsOf(roles[roleLogicalId(id)]).filter((statement) => statement.Action.some((action) => action.startsWith('events:')));
      expect(puts, id).toEqual([{ Sid: 'RecordsToHub', Effect: 'Allow', Action: ['events:PutEvents'], Resource: { 'Fn::Sub': hubBusArn } }]);
      expect(functions[id]?.environment.HUB_ACCOUNT, id).toBe(HUB);
      expect(functions[id]?.environment.HUB_EVENT_BUS_ARN, id).toEqual({ 'Fn::Sub': hubBusArn });
    }
  });

  it('with hubRegion, a member in another region sends its records to the hub’s bus in the hub’s region', () => {
    const elsewhere = { ...member, hubRegion: 'eu-west-1' };
    const arn = `arn:\${AWS::Partition}:events:eu-west-1:${HUB}:event-bus/${BUS}`;
    for (const id of [...RULES.map((rule) => rule.id), 'unhandled-findings']) {
      expect((functionDefinitions(elsewhere) as Record<string, Json>)[id]?.environment.HUB_EVENT_BUS_ARN, id).toEqual({ 'Fn::Sub': arn });
      const puts = statementsOf(roleResources(elsewhere)[roleLogicalId(id)]).filter((statement) => statement.Sid === 'RecordsToHub');
      expect(puts.map((statement) => statement.Resource), id).toEqual([{ 'Fn::Sub': arn }]);
    }
  });

  it.each([
    ['a hubRegion that is not a region', { ...member, hubRegion: 'Ireland' }, /hubRegion must be a region/],
    ['a hubRegion without hubAccount', { ...BASE, hubRegion: 'eu-west-1' }, /set hubAccount too/],
  ])('refuses %s', (_case, options, message) => {
    expect(() => validateOptions(options)).toThrow(message);
  });

  it('its own driftfix bus admits the hub account only', () => {
    const bus = (operationsResources(member) as Record<string, Json>).DriftfixEventBus;
    expect(bus?.Properties.Name).toBe(BUS);
    expect(bus?.Properties.Policy.Statement).toEqual([
      {
        Sid: 'HubAccount',
        Effect: 'Allow',
        Principal: { AWS: { 'Fn::Sub': `arn:\${AWS::Partition}:iam::${HUB}:root` } },
        Action: 'events:PutEvents',
        Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:event-bus/${BUS}` },
      },
    ]);
  });

  it('each rule takes the hub’s decisions for it from that bus, sent from the hub account only, into its own queue', () => {
    const onBus = eventRules(member).filter((rule) => rule.EventBusName !== undefined);
    for (const rule of RULES) {
      const decisions = onBus.filter((candidate) => targetQueue(candidate) === queueId(rule.id));
      expect(decisions.map((candidate) => [candidate.EventBusName, candidate.EventPattern]), rule.id).toEqual([
        [{ Ref: 'DriftfixEventBus' }, { source: [EVENT_SOURCE.hub], 'detail-type': [DETAIL_TYPE.decision], account: [HUB], detail: { ruleId: [rule.id] } }],
      ]);
    }
    expect(onBus).toHaveLength(RULES.length);
    const decisionsElsewhere = eventRules(member).filter((rule) => rule.EventBusName === undefined && rule.EventPattern.source.includes(EVENT_SOURCE.hub));
    expect(decisionsElsewhere).toEqual([]);
  });
});

describe('deployConfigRules', () => {
  const answers = RULES.flatMap((rule) => rule.answers.config ?? []);
  const resources = Object.values(configRuleResources() as Record<string, Json>);

  it('one AWS Config managed rule per answer, under its default name, deployed only under the DeployConfigRules condition', () => {
    expect(answers.length).toBeGreaterThan(0);
    expect(resources.every((resource) => resource.Type === 'AWS::Config::ConfigRule' && resource.Condition === 'DeployConfigRules')).toBe(true);
    expect(resources.map((resource) => resource.Properties.ConfigRuleName).sort()).toEqual(answers.map((answer) => answer.defaultName).sort());
  });

  it.each(answers.map((answer) => [answer.defaultName, answer] as const))('%s runs its managed rule, periodic or on changes of its resource types', (name, answer) => {
    const resource = resources.find((candidate) => candidate.Properties.ConfigRuleName === name);
    expect(resource?.Properties.Source).toEqual({ Owner: 'AWS', SourceIdentifier: answer.identifier });
    if (answer.periodic) {
      expect(resource?.Properties.MaximumExecutionFrequency).toBeDefined();
      expect(resource?.Properties.Scope).toBeUndefined();
    } else {
      expect(resource?.Properties.MaximumExecutionFrequency).toBeUndefined();
      expect(resource?.Properties.Scope).toEqual({ ComplianceResourceTypes: [...answer.resourceTypes] });
    }
  });

  it('at least one answer is periodic and one is not, so both shapes are checked', () => {
    expect(answers.some((answer) => answer.periodic)).toBe(true);
    expect(answers.some((answer) => !answer.periodic)).toBe(true);
  });
});
