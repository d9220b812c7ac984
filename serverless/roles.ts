import type { AnyRule } from '../core/model/index.ts';
import { RULES } from '../rules/index.ts';
import {
  type DeploymentOptions,
  driftfixBusName,
  hubBusArn,
  HUB_NOTIFIER_FUNCTION,
  INTERACTIVITY_FUNCTION,
  logicalName,
  ROUTER_FUNCTION,
  routerNeeded,
  stackName,
  UNHANDLED_FUNCTION,
} from './options.ts';
import { queueId } from './queues.ts';

/* biome-ignore-start lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub expressions, not JavaScript */

/** What each function needs besides its rule's own permissions. */
export const LOG_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents'] as const;
/** Records, claims and approvals: conditional puts and updates, some in transactions. */
export const TABLE_ACTIONS = ['dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'] as const;
export const QUEUE_ACTIONS = ['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'] as const;
export const SECRET_ACTIONS = ['secretsmanager:GetSecretValue'] as const;
/** Which managed rule a Config rule runs; IAM grants it only on Resource "*". */
export const CONFIG_READ_ACTIONS = ['config:DescribeConfigRules'] as const;
export const CONFIG_REEVALUATE_ACTIONS = ['config:StartConfigRulesEvaluation'] as const;
export const SECURITY_HUB_ACTIONS = ['securityhub:BatchUpdateFindings'] as const;

export function roleLogicalId(functionId: string): string {
  return `${logicalName(functionId)}Role`;
}

export type Statement = { Sid: string; Effect: 'Allow' | 'Deny'; Action: string[]; Resource: unknown; Condition?: unknown };

const TABLE = { 'Fn::GetAtt': ['RemediationTable', 'Arn'] };
const sub = (text: string) => ({ 'Fn::Sub': text });

/** The writes a rule's function may send: its declared operations, without those only a rollback uses. */
export function writeActions(rule: AnyRule): string[] {
  return [...new Set(Object.values(rule.operations).filter((operation) => !operation.undoOnly).map((operation) => operation.iamAction))].sort();
}

/** The rule's own statements: scoped reads and writes, the few actions IAM grants only on "*", and a Deny on the bot's own resources. */
export function ruleStatements(rule: AnyRule, options: DeploymentOptions): Statement[] {
  const { read, wildcardOnly = [], alsoOn = [] } = rule.permissions;
  const scoped = (actions: readonly string[]) => actions.filter((action) => !wildcardOnly.includes(action));
  const writes = writeActions(rule);
  const statements: Statement[] = [];
  const resource = rule.resource.iamArn ? sub(rule.resource.iamArn) : undefined;
  if (resource && scoped(read).length > 0) statements.push({ Sid: 'ReadResource', Effect: 'Allow', Action: scoped(read), Resource: resource });
  if (resource && scoped(writes).length > 0) statements.push({ Sid: 'FixResource', Effect: 'Allow', Action: scoped(writes), Resource: resource });
  const anywhere = [...new Set([...wildcardOnly.filter((action) => read.includes(action) || writes.includes(action))])];
  if (anywhere.length > 0) statements.push({ Sid: 'NoResourceLevelPermissions', Effect: 'Allow', Action: anywhere.sort(), Resource: '*' });
  for (const extra of alsoOn) {
    if ('param' in extra) {
      // Granted only where the deployment sets the parameter (RULE_PARAMS, checked by validateOptions).
      const value = ruleParam(rule, options, extra.param);
      if (value === undefined || value === null || value === '') continue;
      const sid = `${extra.resource === '*' ? 'When' : 'Pass'}${extra.param.split('.').map(logicalName).join('')}`;
      if (extra.resource === '*') statements.push({ Sid: sid, Effect: 'Allow', Action: [...extra.actions], Resource: '*' });
      else if (typeof value === 'string') {
        const condition = extra.passedToService ? { Condition: { StringEquals: { 'iam:PassedToService': extra.passedToService } } } : {};
        statements.push({ Sid: sid, Effect: 'Allow', Action: [...extra.actions], Resource: value, ...condition });
      }
      continue;
    }
    const where = {
      analyzer: { Sid: 'Rescan', Resource: sub('arn:${AWS::Partition}:access-analyzer:${AWS::Region}:${AWS::AccountId}:analyzer/*') },
      'kms-key': { Sid: 'KmsKeys', Resource: sub('arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*') },
    }[extra.resource];
    statements.push({ Sid: where.Sid, Effect: 'Allow', Action: [...extra.actions], Resource: where.Resource });
  }
  if (rule.answers.config) {
    statements.push({ Sid: 'WhichConfigRule', Effect: 'Allow', Action: [...CONFIG_READ_ACTIONS], Resource: '*' });
    statements.push({ Sid: 'Reevaluate', Effect: 'Allow', Action: [...CONFIG_REEVALUATE_ACTIONS], Resource: sub('arn:${AWS::Partition}:config:${AWS::Region}:${AWS::AccountId}:config-rule/*') });
  }
  if (rule.answers.securityHub) {
    statements.push({ Sid: 'FindingWorkflow', Effect: 'Allow', Action: [...SECURITY_HUB_ACTIONS], Resource: sub('arn:${AWS::Partition}:securityhub:${AWS::Region}:${AWS::AccountId}:hub/default') });
  }
  const own = ownResources(rule, options);
  if (own.length > 0 && writes.length > 0) statements.push({ Sid: 'NeverItself', Effect: 'Deny', Action: writes, Resource: own });
  return statements;
}

/** A rule parameter as the deployment sets it (`a.b` reads {"a":{"b":…}}), or undefined. */
function ruleParam(rule: AnyRule, options: DeploymentOptions, path: string): unknown {
  const all = JSON.parse(options.ruleParams.trim() || '{}') as Record<string, unknown>;
  return path.split('.').reduce<unknown>((value, key) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined), all[rule.id]);
}

/** ARNs of the bot's own stack and of what AWS manages, among the resources the rule writes to. */
export function ownResources(rule: AnyRule, options: DeploymentOptions): unknown[] {
  const arn = rule.resource.iamArn;
  if (!arn?.endsWith('*')) return [];
  // IAM compares names case-sensitively; CloudFormation names roles after the stack as written, buckets in lower case.
  // The stack as deployed (a StackSet's instances are named after the StackSet), and as `serverless deploy` names it.
  const prefixes = [...new Set(['${AWS::StackName}', stackName(options), stackName(options).toLowerCase()])];
  const own = prefixes.map((prefix) => sub(arn.replace(/\*$/, `${prefix}-*`)));
  if (arn.endsWith(':role/*')) own.push(sub(arn.replace(/\*$/, 'aws-service-role/*')), sub(arn.replace(/\*$/, 'aws-reserved/*')));
  return own;
}

function role(functionId: string, description: string, statements: Statement[], options: DeploymentOptions): unknown {
  const functionName = `${stackName(options)}-${functionId}`;
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: description,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      },
      ...(options.permissionsBoundaryArn ? { PermissionsBoundary: options.permissionsBoundaryArn } : {}),
      Policies: [
        {
          PolicyName: `${functionId}-least-privilege`,
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              { Sid: 'Logs', Effect: 'Allow', Action: [...LOG_ACTIONS], Resource: sub(`arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${functionName}:*`) },
              ...statements,
            ],
          },
        },
      ],
    },
  };
}

function slackSecret(options: DeploymentOptions): Statement[] {
  if (options.hubAccount) return []; // a member posts through its hub and holds no Slack secret
  // Secrets Manager appends six random characters to a secret's name in its ARN.
  return [{ Sid: 'SlackSecret', Effect: 'Allow', Action: [...SECRET_ACTIONS], Resource: sub(`arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:${options.slackSecretName}-??????`) }];
}

function hubBus(options: DeploymentOptions): Statement[] {
  if (!options.hubAccount) return [];
  return [{ Sid: 'RecordsToHub', Effect: 'Allow', Action: ['events:PutEvents'], Resource: sub(hubBusArn(options)) }];
}

function ownQueue(functionId: string): Statement {
  return { Sid: 'OwnQueue', Effect: 'Allow', Action: [...QUEUE_ACTIONS], Resource: { 'Fn::GetAtt': [queueId(functionId), 'Arn'] } };
}

export function roleResources(options: DeploymentOptions): Record<string, unknown> {
  const resources: Record<string, unknown> = {};
  const records: Statement = { Sid: 'RecordsTable', Effect: 'Allow', Action: [...TABLE_ACTIONS], Resource: TABLE };
  for (const rule of RULES) {
    resources[roleLogicalId(rule.id)] = role(
      rule.id,
      `driftfix ${rule.id}: only what the rule declares`,
      [records, ownQueue(rule.id), ...slackSecret(options), ...hubBus(options), ...ruleStatements(rule, options)],
      options,
    );
  }
  if (routerNeeded()) {
    const queues = RULES.filter((rule) => rule.answers.config).map((rule) => ({ 'Fn::GetAtt': [queueId(rule.id), 'Arn'] }));
    resources[roleLogicalId(ROUTER_FUNCTION)] = role(
      ROUTER_FUNCTION,
      'driftfix Config router: reads which managed rule a Config rule runs, hands findings to rule queues; no access to the account resources',
      [
        ownQueue(ROUTER_FUNCTION),
        { Sid: 'WhichConfigRule', Effect: 'Allow', Action: [...CONFIG_READ_ACTIONS], Resource: '*' },
        { Sid: 'RuleQueues', Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: queues },
      ],
      options,
    );
  }
  resources[roleLogicalId(UNHANDLED_FUNCTION)] = role(
    UNHANDLED_FUNCTION,
    'driftfix unhandled findings: its records only, no access to the account resources',
    [records, ownQueue(UNHANDLED_FUNCTION), ...slackSecret(options), ...hubBus(options)],
    options,
  );
  if (!options.hubAccount) {
    const ownBus = sub('arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default');
    // A hub also approves its own account's fixes (to its own default bus), and sends every member's
    // decisions to that member's driftfix bus, in every region: one hub serves them all.
    const decisions = options.hub ? [ownBus, sub(`arn:\${AWS::Partition}:events:*:*:event-bus/${driftfixBusName(options)}`)] : ownBus;
    resources[roleLogicalId(INTERACTIVITY_FUNCTION)] = role(
      INTERACTIVITY_FUNCTION,
      'driftfix Slack interactivity: decisions and the events that carry them, no access to any account resources',
      [records, { Sid: 'Decisions', Effect: 'Allow', Action: ['events:PutEvents'], Resource: decisions }, ...slackSecret(options)],
      options,
    );
  }
  if (options.hub) {
    resources[roleLogicalId(HUB_NOTIFIER_FUNCTION)] = role(
      HUB_NOTIFIER_FUNCTION,
      'driftfix hub notifier: members\' records into the hub table and Slack, nothing else',
      [records, ownQueue(HUB_NOTIFIER_FUNCTION), ...slackSecret(options)],
      options,
    );
  }
  return resources;
}
/* biome-ignore-end lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub expressions */
