import { RULES } from '../rules/index.ts';
import type { AnyRule } from '../rules/types.ts';
import { eventPatternsFor } from '../functions/commons/routing.ts';

/**
 * The deployment, derived from what each rule declares: one function per rule, its EventBridge
 * patterns (the same ones local replay routes with) and its own least-privilege role.
 * serverless/manifest.cjs hands this to serverless.yml.
 */

/** What every rule function needs besides its rule's own permissions. */
export const TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'] as const;
export const LOG_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents'] as const;
export const SECRET_ACTIONS = ['secretsmanager:GetSecretValue'] as const;
/** The interactivity function: decisions in the table, one event per approval, the Slack secret. Nothing else. */
export const INTERACTIVITY_ACTIONS = {
  table: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  events: ['events:PutEvents'],
} as const;
export const INTERACTIVITY_FUNCTION = 'slack-actions';

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

export function roleLogicalId(rule: AnyRule): string {
  return `${logicalName(rule.id)}Role`;
}

export function functionDefinitions(options: DeploymentOptions): Record<string, unknown> {
  const interactivity = {
    handler: `functions/${INTERACTIVITY_FUNCTION}.ts`.replace(/\.ts$/, '.handler'),
    description: 'driftfix: Slack interactivity endpoint (approve / reject)',
    role: { 'Fn::Sub': `\${${logicalName(INTERACTIVITY_FUNCTION)}Role.Arn}` },
    timeout: 10,
    events: [{ httpApi: { method: 'POST', path: '/slack/actions' } }],
  };
  const rules = Object.fromEntries(
    RULES.map((rule) => [
      rule.id,
      {
        handler: `functions/${rule.id}.handler`,
        description: `driftfix: ${rule.title}`,
        // Fn::Sub rather than a logical id: the framework would add a DependsOn that cfn-lint
        // flags as redundant (W3005); Sub already orders the role first.
        role: { 'Fn::Sub': `\${${roleLogicalId(rule)}.Arn}` },
        events: eventPatternsFor(rule, { acceptReplay: options.acceptReplay }).map((pattern) => ({
          eventBridge: { pattern, retryPolicy: { maximumEventAge: 86_400, maximumRetryAttempts: 2 } },
        })),
      },
    ]),
  );
  return { ...rules, [INTERACTIVITY_FUNCTION]: interactivity };
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
    case 'none':
      return undefined;
  }
}

/** The rule's own statements: scoped reads, scoped writes, and the few actions IAM grants only on "*". */
function ruleStatements(rule: AnyRule): Statement[] {
  const { read, write, wildcardOnly } = rule.permissions;
  const scoped = (actions: readonly string[]) => actions.filter((action) => !wildcardOnly.includes(action));
  const statements: Statement[] = [];
  const resource = resourceArns(rule);
  if (resource && scoped(read).length > 0) statements.push({ Sid: 'ReadResource', Effect: 'Allow', Action: scoped(read), Resource: resource });
  if (resource && scoped(write).length > 0) statements.push({ Sid: 'FixResource', Effect: 'Allow', Action: scoped(write), Resource: resource });
  if (wildcardOnly.length > 0) statements.push({ Sid: 'NoResourceLevelPermissions', Effect: 'Allow', Action: [...wildcardOnly], Resource: '*' });
  return statements;
}

type Statement = { Sid: string; Effect: 'Allow'; Action: string[]; Resource: unknown };

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

const TABLE = { 'Fn::GetAtt': ['RemediationTable', 'Arn'] };

export function roleResources(options: DeploymentOptions): Record<string, unknown> {
  const resources: Record<string, unknown> = {};
  for (const rule of RULES) {
    resources[roleLogicalId(rule)] = role(
      rule.id,
      `driftfix ${rule.id}: only what the rule declares`,
      [
        { Sid: 'RecordsTable', Effect: 'Allow', Action: [...TABLE_ACTIONS], Resource: TABLE },
        slackSecret(options),
        ...ruleStatements(rule),
      ],
      options,
    );
  }
  resources[`${logicalName(INTERACTIVITY_FUNCTION)}Role`] = role(
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
