import { RULES } from '../rules/index.ts';
import type { AnyRule } from '../rules/types.ts';
import { eventPatternsFor } from '../functions/commons/routing.ts';

/**
 * The deployment, derived from what each rule declares: one function per rule, its EventBridge
 * patterns (the same ones local replay routes with) and its own least-privilege role.
 * serverless/manifest.cjs hands this to serverless.yml.
 */

/** What every rule function needs besides its rule's own permissions. */
export const TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'] as const;
export const LOG_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents'] as const;

export interface DeploymentOptions {
  service: string;
  stage: string;
  acceptReplay: boolean;
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
  return Object.fromEntries(
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
}

function resourceArns(rule: AnyRule): unknown {
  // Account-level Block Public Access has no resource-level permissions: IAM requires "*".
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub expression, not JavaScript
  return rule.permissions.resource === 'account' ? '*' : { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::*' };
}

export function roleResources(options: DeploymentOptions): Record<string, unknown> {
  const resources: Record<string, unknown> = {};
  for (const rule of RULES) {
    const functionName = `${options.service}-${options.stage}-${rule.id}`;
    resources[roleLogicalId(rule)] = {
      Type: 'AWS::IAM::Role',
      Properties: {
        Description: `driftfix ${rule.id}: only what the rule declares`,
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        },
        Policies: [
          {
            PolicyName: `${rule.id}-least-privilege`,
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                {
                  Sid: 'Logs',
                  Effect: 'Allow',
                  Action: [...LOG_ACTIONS],
                  Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${functionName}:*` },
                },
                {
                  Sid: 'RecordsTable',
                  Effect: 'Allow',
                  Action: [...TABLE_ACTIONS],
                  Resource: { 'Fn::GetAtt': ['RemediationTable', 'Arn'] },
                },
                { Sid: 'ReadResource', Effect: 'Allow', Action: [...rule.permissions.read], Resource: resourceArns(rule) },
                { Sid: 'FixResource', Effect: 'Allow', Action: [...rule.permissions.write], Resource: resourceArns(rule) },
              ],
            },
          },
        ],
      },
    };
  }
  return resources;
}
