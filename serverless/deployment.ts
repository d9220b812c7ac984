import { RULES } from '../rules/index.ts';
import type { AnyRule } from '../rules/types.ts';
import type { EventPattern } from '../functions/commons/event-pattern.ts';
import { eventPatternsFor } from '../functions/commons/routing.ts';
import { UNHANDLED_FUNCTION, unhandledFindingPatterns } from '../functions/commons/unhandled-findings.ts';

/**
 * The deployment, derived from what each rule declares: one function per rule, its EventBridge
 * patterns (the same ones local replay routes with), its own least-privilege role, its dead-letter
 * queue and alarms. serverless/manifest.cjs hands this to serverless.yml.
 */

/** What every rule function needs besides its rule's own permissions. */
export const TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'] as const;
export const LOG_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents'] as const;
export const SECRET_ACTIONS = ['secretsmanager:GetSecretValue'] as const;
export const DEAD_LETTER_ACTIONS = ['sqs:SendMessage'] as const;
/** The interactivity function: decisions in the table, one event per approval, the Slack secret. Nothing else. */
export const INTERACTIVITY_ACTIONS = {
  table: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  events: ['events:PutEvents'],
} as const;
export const INTERACTIVITY_FUNCTION = 'slack-actions';
/** The unhandled-findings function only writes its records: it reads and changes nothing else. */
export const UNHANDLED_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem'] as const;

/** Functions EventBridge invokes: one per rule, and the one for findings no rule fixes. */
export const EVENT_FUNCTIONS = [...RULES.map((rule) => rule.id), UNHANDLED_FUNCTION];

/** The AWS Config managed rules driftfix answers, by rule name: deployed with `deployConfigRules`. */
export const MANAGED_CONFIG_RULES: Record<string, { identifier: string; scope?: string[]; periodic?: boolean }> = {
  's3-bucket-server-side-encryption-enabled': { identifier: 'S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED', scope: ['AWS::S3::Bucket'] },
  's3-default-encryption-kms': { identifier: 'S3_DEFAULT_ENCRYPTION_KMS', scope: ['AWS::S3::Bucket'] },
  's3-bucket-level-public-access-prohibited': { identifier: 'S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED', scope: ['AWS::S3::Bucket'] },
  's3-bucket-public-read-prohibited': { identifier: 'S3_BUCKET_PUBLIC_READ_PROHIBITED', scope: ['AWS::S3::Bucket'] },
  's3-bucket-public-write-prohibited': { identifier: 'S3_BUCKET_PUBLIC_WRITE_PROHIBITED', scope: ['AWS::S3::Bucket'] },
  's3-account-level-public-access-blocks': { identifier: 'S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS', scope: ['AWS::S3::AccountPublicAccessBlock'] },
  's3-account-level-public-access-blocks-periodic': { identifier: 'S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS_PERIODIC', periodic: true },
  'iam-policy-no-statements-with-admin-access': { identifier: 'IAM_POLICY_NO_STATEMENTS_WITH_ADMIN_ACCESS', scope: ['AWS::IAM::Policy'] },
  'iam-policy-no-statements-with-full-access': { identifier: 'IAM_POLICY_NO_STATEMENTS_WITH_FULL_ACCESS', scope: ['AWS::IAM::Policy'] },
};

export interface DeploymentOptions {
  service: string;
  stage: string;
  acceptReplay: boolean;
  /** Name of the Secrets Manager secret holding {"botToken", "signingSecret"}. */
  slackSecretName: string;
}

/** `s3-default-encryption` → `S3DefaultEncryption`, for CloudFormation logical ids. */
export function logicalName(id: string): string {
  return id
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

export function roleLogicalId(rule: Pick<AnyRule, 'id'>): string {
  return `${logicalName(rule.id)}Role`;
}

export function deadLetterQueueId(functionId: string): string {
  return `${logicalName(functionId)}DeadLetterQueue`;
}

const getAtt = (logicalId: string, attribute: string) => ({ 'Fn::GetAtt': [logicalId, attribute] });

export function functionDefinitions(options: DeploymentOptions): Record<string, unknown> {
  const interactivity = {
    handler: `functions/${INTERACTIVITY_FUNCTION}.handler`,
    description: 'driftfix: Slack interactivity endpoint (approve / reject)',
    role: { 'Fn::Sub': `\${${roleLogicalId({ id: INTERACTIVITY_FUNCTION })}.Arn}` },
    timeout: 10,
    events: [{ httpApi: { method: 'POST', path: '/slack/actions' } }],
  };
  const eventFunction = (id: string, description: string, patterns: EventPattern[], reservedConcurrency?: number) => ({
    handler: `functions/${id}.handler`,
    description,
    // Fn::Sub rather than a logical id: the framework would add a DependsOn that cfn-lint
    // flags as redundant (W3005); Sub already orders the role first.
    role: { 'Fn::Sub': `\${${roleLogicalId({ id })}.Arn}` },
    // Asynchronous invocations that fail every retry land here, the event intact, for redrive.
    onError: getAtt(deadLetterQueueId(id), 'Arn'),
    maximumRetryAttempts: 2,
    ...(reservedConcurrency ? { reservedConcurrency } : {}),
    events: patterns.map((pattern) => ({
      eventBridge: {
        pattern,
        retryPolicy: { maximumEventAge: 86_400, maximumRetryAttempts: 185 },
        // Events EventBridge could not deliver at all (throttled, function missing).
        deadLetterQueueArn: getAtt(deadLetterQueueId(id), 'Arn'),
      },
    })),
  });
  const rules = Object.fromEntries(
    RULES.map((rule) => [
      rule.id,
      eventFunction(rule.id, `driftfix: ${rule.title}`, eventPatternsFor(rule, { acceptReplay: options.acceptReplay }), rule.reservedConcurrency),
    ]),
  );
  const unhandled = eventFunction(
    UNHANDLED_FUNCTION,
    'driftfix: Access Analyzer findings with no automatic fix (notified or skipped)',
    unhandledFindingPatterns(RULES, { acceptReplay: options.acceptReplay }),
  );
  return { ...rules, [UNHANDLED_FUNCTION]: unhandled, [INTERACTIVITY_FUNCTION]: interactivity };
}

/** The resources a rule's scoped actions apply to. */
function resourceArns(rule: AnyRule): unknown {
  switch (rule.permissions.resource) {
    case 'bucket':
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub expression, not JavaScript
      return { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::*' };
    case 'iam-policy':
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub expression, not JavaScript
      return { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/*' };
    case 'iam-role':
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub expression, not JavaScript
      return { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*' };
    case 'none':
      return undefined;
  }
}

type Statement = { Sid: string; Effect: 'Allow'; Action: string[]; Resource: unknown };

/** The rule's own statements: scoped reads, scoped writes, and the few actions IAM grants only on "*". */
function ruleStatements(rule: AnyRule): Statement[] {
  const { read, write, wildcardOnly } = rule.permissions;
  const scoped = (actions: readonly string[]) => actions.filter((action) => !wildcardOnly.includes(action));
  const statements: Statement[] = [];
  const resource = resourceArns(rule);
  if (resource && scoped(read).length > 0) statements.push({ Sid: 'ReadResource', Effect: 'Allow', Action: scoped(read), Resource: resource });
  if (resource && scoped(write).length > 0) statements.push({ Sid: 'FixResource', Effect: 'Allow', Action: scoped(write), Resource: resource });
  for (const extra of rule.permissions.alsoOn ?? []) {
    const resources = {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub expression, not JavaScript
      analyzer: { Sid: 'Rescan', Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:access-analyzer:${AWS::Region}:${AWS::AccountId}:analyzer/*' } },
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub expression, not JavaScript
      'config-rule': { Sid: 'Reevaluate', Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:config:${AWS::Region}:${AWS::AccountId}:config-rule/*' } },
    };
    const { Sid, Resource } = resources[extra.resource];
    statements.push({ Sid, Effect: 'Allow', Action: [...extra.actions], Resource });
  }
  if (wildcardOnly.length > 0) statements.push({ Sid: 'NoResourceLevelPermissions', Effect: 'Allow', Action: [...wildcardOnly], Resource: '*' });
  return statements;
}

function role(functionId: string, description: string, statements: Statement[], options: DeploymentOptions): unknown {
  const functionName = `${options.service}-${options.stage}-${functionId}`;
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: description,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      },
      Policies: [
        {
          PolicyName: `${functionId}-least-privilege`,
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'Logs',
                Effect: 'Allow',
                Action: [...LOG_ACTIONS],
                Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${functionName}:*` },
              },
              ...statements,
            ],
          },
        },
      ],
    },
  };
}

function slackSecret(options: DeploymentOptions): Statement {
  return {
    Sid: 'SlackSecret',
    Effect: 'Allow',
    Action: [...SECRET_ACTIONS],
    // Secrets Manager appends six random characters to a secret's name in its ARN.
    Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:${options.slackSecretName}-??????` },
  };
}

const TABLE = getAtt('RemediationTable', 'Arn');

/** A function may send to its own dead-letter queue (asynchronous invocations that failed every retry). */
function deadLetters(functionId: string): Statement {
  return { Sid: 'DeadLetters', Effect: 'Allow', Action: [...DEAD_LETTER_ACTIONS], Resource: getAtt(deadLetterQueueId(functionId), 'Arn') };
}

export function roleResources(options: DeploymentOptions): Record<string, unknown> {
  const resources: Record<string, unknown> = {};
  for (const rule of RULES) {
    resources[roleLogicalId(rule)] = role(
      rule.id,
      `driftfix ${rule.id}: only what the rule declares`,
      [
        { Sid: 'RecordsTable', Effect: 'Allow', Action: [...TABLE_ACTIONS], Resource: TABLE },
        slackSecret(options),
        deadLetters(rule.id),
        ...ruleStatements(rule),
      ],
      options,
    );
  }
  resources[roleLogicalId({ id: UNHANDLED_FUNCTION })] = role(
    UNHANDLED_FUNCTION,
    'driftfix unhandled findings: its records only, no access to the account resources',
    [
      { Sid: 'RecordsTable', Effect: 'Allow', Action: [...UNHANDLED_TABLE_ACTIONS], Resource: TABLE },
      slackSecret(options),
      deadLetters(UNHANDLED_FUNCTION),
    ],
    options,
  );
  resources[roleLogicalId({ id: INTERACTIVITY_FUNCTION })] = role(
    INTERACTIVITY_FUNCTION,
    'driftfix Slack interactivity: decisions and approval events only, no access to the account resources',
    [
      { Sid: 'Decisions', Effect: 'Allow', Action: [...INTERACTIVITY_ACTIONS.table], Resource: TABLE },
      {
        Sid: 'ApprovalEvents',
        Effect: 'Allow',
        Action: [...INTERACTIVITY_ACTIONS.events],
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub expression, not JavaScript
        Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default' },
      },
      slackSecret(options),
    ],
    options,
  );
  return resources;
}

/** An alarm that fires on the first occurrence within five minutes. */
function alarm(
  description: string,
  metric: { namespace: string; metric: string; statistic: 'Sum' | 'Maximum'; dimension: { Name: string; Value: unknown } },
  actions: unknown,
): unknown {
  return {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmDescription: description,
      Namespace: metric.namespace,
      MetricName: metric.metric,
      Dimensions: [metric.dimension],
      Statistic: metric.statistic,
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: actions,
    },
  };
}

/** Per function: a dead-letter queue (with the policy EventBridge needs) and alarms on errors and dead letters. */
export function operationsResources(options: DeploymentOptions): Record<string, unknown> {
  const resources: Record<string, unknown> = {};
  const alarmActions = { 'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }] };
  for (const functionId of [...EVENT_FUNCTIONS, INTERACTIVITY_FUNCTION]) {
    const name = logicalName(functionId);
    const functionName = `${options.service}-${options.stage}-${functionId}`;
    resources[`${name}ErrorsAlarm`] = alarm(
      `driftfix ${functionId}: the function failed (a change could not be made or recorded)`,
      { namespace: 'AWS/Lambda', metric: 'Errors', statistic: 'Sum', dimension: { Name: 'FunctionName', Value: functionName } },
      alarmActions,
    );
    if (functionId === INTERACTIVITY_FUNCTION) continue;
    const queue = deadLetterQueueId(functionId);
    resources[queue] = {
      Type: 'AWS::SQS::Queue',
      Properties: { MessageRetentionPeriod: 1_209_600, SqsManagedSseEnabled: true },
    };
    resources[`${queue}Policy`] = {
      Type: 'AWS::SQS::QueuePolicy',
      Properties: {
        Queues: [{ Ref: queue }],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'UndeliverableEvents',
              Effect: 'Allow',
              Principal: { Service: 'events.amazonaws.com' },
              Action: 'sqs:SendMessage',
              Resource: getAtt(queue, 'Arn'),
              Condition: {
                ArnLike: { 'aws:SourceArn': { 'Fn::Sub': `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:rule/${options.service}-${options.stage}-*` } },
              },
            },
          ],
        },
      },
    };
    resources[`${queue}Alarm`] = alarm(
      `driftfix ${functionId}: events failed every retry and wait in the dead-letter queue (npm run redrive)`,
      { namespace: 'AWS/SQS', metric: 'ApproximateNumberOfMessagesVisible', statistic: 'Maximum', dimension: { Name: 'QueueName', Value: getAtt(queue, 'QueueName') } },
      alarmActions,
    );
  }
  return resources;
}

/** The managed Config rules driftfix answers, deployed only when the `deployConfigRules` param is true. */
export function configRuleResources(): Record<string, unknown> {
  const resources: Record<string, unknown> = {};
  const answered = new Set(RULES.flatMap((rule) => rule.answers.configRules));
  for (const [name, managed] of Object.entries(MANAGED_CONFIG_RULES)) {
    if (!answered.has(name)) continue;
    resources[`${logicalName(name)}ConfigRule`] = {
      Type: 'AWS::Config::ConfigRule',
      Condition: 'DeployConfigRules',
      Properties: {
        ConfigRuleName: name,
        Description: `AWS managed rule ${managed.identifier}, answered by driftfix`,
        Source: { Owner: 'AWS', SourceIdentifier: managed.identifier },
        ...(managed.scope ? { Scope: { ComplianceResourceTypes: managed.scope } } : {}),
        ...(managed.periodic ? { MaximumExecutionFrequency: 'TwentyFour_Hours' } : {}),
      },
    };
  }
  return resources;
}
