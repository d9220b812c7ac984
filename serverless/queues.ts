import { routerPatterns, rulePatterns, unhandledFindingPatterns } from '../core/intake/routing.ts';
import type { EventPattern } from '../core/intake/event-pattern.ts';
import { DETAIL_TYPE, EVENT_SOURCE } from '../core/model/index.ts';
import { RULES } from '../rules/index.ts';
import {
  type DeploymentOptions,
  driftfixBusName,
  eventFunctions,
  HUB_NOTIFIER_FUNCTION,
  INTERACTIVITY_FUNCTION,
  logicalName,
  ROUTER_FUNCTION,
  stackName,
  UNHANDLED_FUNCTION,
} from './options.ts';

/* biome-ignore-start lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub expressions, not JavaScript */

export const queueId = (functionId: string) => `${logicalName(functionId)}Queue`;
export const deadLetterQueueId = (functionId: string) => `${logicalName(functionId)}DeadLetterQueue`;
export const DRIFTFIX_BUS = 'DriftfixEventBus';

/** Lambda's functions time out at 60 s; SQS hides a message for six times that (Lambda's SQS guidance). */
export const VISIBILITY_TIMEOUT_S = 360;
/** Deliveries before an event goes to the dead-letter queue: about an hour of retries. */
export const MAX_RECEIVES = 10;

const getAtt = (logicalId: string, attribute: string) => ({ 'Fn::GetAtt': [logicalId, attribute] });
const sub = (text: string) => ({ 'Fn::Sub': text });

/** The EventBridge patterns that feed each function's queue, and the bus each listens on. */
export function patternsByFunction(options: DeploymentOptions): Record<string, Array<{ pattern: EventPattern; bus: 'default' | 'driftfix' }>> {
  const routing = { acceptReplay: options.acceptReplay, hubAccount: options.hubAccount || undefined };
  const onDefault = (patterns: EventPattern[]) => patterns.map((pattern) => ({ pattern, bus: 'default' as const }));
  const byFunction: Record<string, Array<{ pattern: EventPattern; bus: 'default' | 'driftfix' }>> = {};
  for (const rule of RULES) {
    byFunction[rule.id] = rulePatterns(rule, routing).map((pattern) => ({
      pattern,
      // Decisions from the hub arrive on the member's driftfix bus, which admits the hub account only.
      bus: (pattern.source as string[]).includes(EVENT_SOURCE.hub) ? ('driftfix' as const) : ('default' as const),
    }));
  }
  const router = routerPatterns(RULES, routing);
  if (router.length > 0) byFunction[ROUTER_FUNCTION] = onDefault(router);
  byFunction[UNHANDLED_FUNCTION] = onDefault(unhandledFindingPatterns(RULES, routing));
  if (options.hub) {
    byFunction[HUB_NOTIFIER_FUNCTION] = [{ pattern: { source: [EVENT_SOURCE.member], 'detail-type': [DETAIL_TYPE.record] }, bus: 'driftfix' }];
  }
  return byFunction;
}

/** An alarm that fires on the first occurrence within five minutes. */
function alarm(description: string, metric: { namespace: string; metric: string; statistic: 'Sum' | 'Maximum'; dimension: { Name: string; Value: unknown } }): unknown {
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
      AlarmActions: { 'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }] },
    },
  };
}

/**
 * Per event function: its queue (events wait there, at most `concurrency` invocations at once),
 * its dead-letter queue, the queue policies that let the stack's EventBridge rules send, the rules
 * themselves, and alarms on errors and dead letters. Plus the driftfix bus of a hub or member.
 */
export function operationsResources(options: DeploymentOptions): Record<string, unknown> {
  const resources: Record<string, unknown> = {};
  const patterns = patternsByFunction(options);
  for (const functionId of eventFunctions().concat(options.hub ? [HUB_NOTIFIER_FUNCTION] : [])) {
    const name = logicalName(functionId);
    const queue = queueId(functionId);
    const dlq = deadLetterQueueId(functionId);
    resources[dlq] = { Type: 'AWS::SQS::Queue', Properties: { MessageRetentionPeriod: 1_209_600, SqsManagedSseEnabled: true } };
    resources[queue] = {
      Type: 'AWS::SQS::Queue',
      Properties: {
        VisibilityTimeout: VISIBILITY_TIMEOUT_S,
        MessageRetentionPeriod: 345_600,
        SqsManagedSseEnabled: true,
        RedrivePolicy: { deadLetterTargetArn: getAtt(dlq, 'Arn'), maxReceiveCount: MAX_RECEIVES },
      },
    };
    const ruleIds = (patterns[functionId] ?? []).map((_pattern, index) => `${name}Events${index + 1}`);
    // Exactly the EventBridge rules that feed this queue, by ARN: whatever CloudFormation names them
    // (a StackSet's stack names are long, and generated names are cut to 64 characters).
    const fromStackRules = { ArnEquals: { 'aws:SourceArn': ruleIds.map((id) => getAtt(id, 'Arn')) } };
    resources[`${queue}Policy`] = {
      Type: 'AWS::SQS::QueuePolicy',
      Properties: {
        Queues: [{ Ref: queue }, { Ref: dlq }],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'StackEventRules',
              Effect: 'Allow',
              Principal: { Service: 'events.amazonaws.com' },
              Action: 'sqs:SendMessage',
              Resource: [getAtt(queue, 'Arn'), getAtt(dlq, 'Arn')],
              Condition: fromStackRules,
            },
          ],
        },
      },
    };
    (patterns[functionId] ?? []).forEach(({ pattern, bus: where }, index) => {
      resources[`${name}Events${index + 1}`] = {
        Type: 'AWS::Events::Rule',
        Properties: {
          Description: `driftfix: events for ${functionId}`,
          State: 'ENABLED',
          ...(where === 'driftfix' ? { EventBusName: { Ref: DRIFTFIX_BUS } } : {}),
          EventPattern: pattern,
          Targets: [
            {
              Id: 'queue',
              Arn: getAtt(queue, 'Arn'),
              // Events EventBridge could not deliver at all.
              DeadLetterConfig: { Arn: getAtt(dlq, 'Arn') },
              RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
            },
          ],
        },
      };
    });
    resources[`${dlq}Alarm`] = alarm(`driftfix ${functionId}: events failed every retry and wait in the dead-letter queue (npm run redrive)`, {
      namespace: 'AWS/SQS',
      metric: 'ApproximateNumberOfMessagesVisible',
      statistic: 'Maximum',
      dimension: { Name: 'QueueName', Value: getAtt(dlq, 'QueueName') },
    });
  }
  for (const functionId of [...eventFunctions(), ...(options.hubAccount ? [] : [INTERACTIVITY_FUNCTION]), ...(options.hub ? [HUB_NOTIFIER_FUNCTION] : [])]) {
    resources[`${logicalName(functionId)}ErrorsAlarm`] = alarm(`driftfix ${functionId}: the function failed (a change could not be made or recorded)`, {
      namespace: 'AWS/Lambda',
      metric: 'Errors',
      statistic: 'Sum',
      dimension: { Name: 'FunctionName', Value: `${stackName(options)}-${functionId}` },
    });
  }
  if (options.hub || options.hubAccount) Object.assign(resources, busResources(options));
  return resources;
}

/**
 * The driftfix bus. At the hub it admits PutEvents from the organization (aws:PrincipalOrgID) or
 * the listed member accounts; at a member, from the hub account only.
 */
function busResources(options: DeploymentOptions): Record<string, unknown> {
  const senders = options.hub
    ? options.organizationId
      ? [{ Sid: 'Organization', Principal: '*', Condition: { StringEquals: { 'aws:PrincipalOrgID': options.organizationId } } }]
      : [{ Sid: 'MemberAccounts', Principal: { AWS: options.memberAccounts.map((account) => sub(`arn:\${AWS::Partition}:iam::${account}:root`)) } }]
    : [{ Sid: 'HubAccount', Principal: { AWS: sub(`arn:\${AWS::Partition}:iam::${options.hubAccount}:root`) } }];
  return {
    [DRIFTFIX_BUS]: {
      Type: 'AWS::Events::EventBus',
      Properties: {
        Name: driftfixBusName(options),
        Policy: {
          Version: '2012-10-17',
          Statement: senders.map((sender) => ({
            ...sender,
            Effect: 'Allow',
            Action: 'events:PutEvents',
            Resource: sub(`arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:event-bus/${driftfixBusName(options)}`),
          })),
        },
      },
    },
  };
}

/** The managed Config rules driftfix answers, under their default names, only with the `deployConfigRules` param. */
export function configRuleResources(): Record<string, unknown> {
  const resources: Record<string, unknown> = {};
  for (const answer of RULES.flatMap((rule) => rule.answers.config ?? [])) {
    resources[`${logicalName(answer.defaultName)}ConfigRule`] = {
      Type: 'AWS::Config::ConfigRule',
      Condition: 'DeployConfigRules',
      Properties: {
        ConfigRuleName: answer.defaultName,
        Description: `AWS managed rule ${answer.identifier}, answered by driftfix`,
        Source: { Owner: 'AWS', SourceIdentifier: answer.identifier },
        ...(answer.periodic ? { MaximumExecutionFrequency: 'TwentyFour_Hours' } : { Scope: { ComplianceResourceTypes: [...answer.resourceTypes] } }),
      },
    };
  }
  return resources;
}
/* biome-ignore-end lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub expressions */
