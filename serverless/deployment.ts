import { RULES } from '../rules/index.ts';
import {
  type DeploymentOptions,
  driftfixBusName,
  hubBusArn,
  eventFunctions,
  HUB_NOTIFIER_FUNCTION,
  INTERACTIVITY_FUNCTION,
  logicalName,
  ownSettings,
  ROUTER_FUNCTION,
  routerNeeded,
  UNHANDLED_FUNCTION,
  validateOptions,
} from './options.ts';
import { queueId } from './queues.ts';
import { roleLogicalId } from './roles.ts';

export { configRuleResources, operationsResources } from './queues.ts';
export { roleResources } from './roles.ts';
export type { DeploymentOptions };

/**
 * The deployment, derived from what each rule declares: one function per rule with its own
 * least-privilege role, its own queue (EventBridge rules → queue → function, at most
 * `concurrency` at once, without reserving any of the account's concurrency), its dead-letter
 * queue and alarms. serverless/manifest.cjs hands this to serverless.yml.
 */

const DEFAULT_CONCURRENCY = 5;
/** Lambda invokes at most this many times per queue (ScalingConfig.MaximumConcurrency, 2 to 1000). */
export function concurrencyOf(functionId: string): number {
  const rule = RULES.find((candidate) => candidate.id === functionId);
  return Math.max(2, rule?.concurrency ?? DEFAULT_CONCURRENCY);
}

const getAtt = (logicalId: string, attribute: string) => ({ 'Fn::GetAtt': [logicalId, attribute] });

export function functionDefinitions(options: DeploymentOptions): Record<string, unknown> {
  validateOptions(options);
  const fromQueue = (id: string) => ({
    sqs: {
      arn: getAtt(queueId(id), 'Arn'),
      // One event per invocation: each gets the whole timeout and is retried on its own.
      batchSize: 1,
      functionResponseType: 'ReportBatchItemFailures',
      maximumConcurrency: concurrencyOf(id),
    },
  });
  const shared = sharedEnvironment(options);
  const eventFunction = (id: string, handler: string, description: string, environment: Record<string, unknown> = {}) => ({
    handler,
    description,
    // Fn::Sub rather than a logical id: the framework would add a DependsOn that cfn-lint
    // flags as redundant (W3005); Sub already orders the role first.
    role: { 'Fn::Sub': `\${${roleLogicalId(id)}.Arn}` },
    environment: { ...shared, ...environment },
    events: [fromQueue(id)],
  });
  const functions: Record<string, unknown> = {};
  for (const rule of RULES) {
    functions[rule.id] = eventFunction(rule.id, 'functions/remediate.handler', `driftfix: ${rule.title}`, { RULE_ID: rule.id, ...ownSettings(rule, options) });
  }
  if (routerNeeded()) {
    const queues = Object.fromEntries(RULES.filter((rule) => rule.answers.config).map((rule) => [rule.id, `\${${queueId(rule.id)}}`]));
    functions[ROUTER_FUNCTION] = eventFunction(ROUTER_FUNCTION, `functions/${ROUTER_FUNCTION}.handler`, 'driftfix: routes AWS Config findings to the rule that answers their managed rule', {
      RULE_QUEUES: { 'Fn::Sub': JSON.stringify(queues) },
    });
  }
  functions[UNHANDLED_FUNCTION] = eventFunction(UNHANDLED_FUNCTION, `functions/${UNHANDLED_FUNCTION}.handler`, 'driftfix: Access Analyzer findings with no automatic fix (notified or skipped)');
  if (!options.hubAccount) {
    functions[INTERACTIVITY_FUNCTION] = {
      handler: `functions/${INTERACTIVITY_FUNCTION}.handler`,
      description: 'driftfix: Slack interactivity endpoint (approve / reject / exempt)',
      role: { 'Fn::Sub': `\${${roleLogicalId(INTERACTIVITY_FUNCTION)}.Arn}` },
      timeout: 10,
      environment: options.hub ? { HUB_MEMBER_BUS_NAME: driftfixBusName(options) } : {},
      events: [{ httpApi: { method: 'POST', path: '/slack/actions' } }],
    };
  }
  if (options.hub) {
    functions[HUB_NOTIFIER_FUNCTION] = eventFunction(
      HUB_NOTIFIER_FUNCTION,
      `functions/${HUB_NOTIFIER_FUNCTION}.handler`,
      "driftfix hub: posts every member account's records to Slack",
      options.memberAccounts.length > 0 ? { MEMBER_ACCOUNTS: options.memberAccounts.join(',') } : {},
    );
  }
  return functions;
}

/** Environment every event function shares, by its stack's place in an organization. */
function sharedEnvironment(options: DeploymentOptions): Record<string, unknown> {
  if (options.hubAccount) {
    return { HUB_ACCOUNT: options.hubAccount, HUB_EVENT_BUS_ARN: { 'Fn::Sub': hubBusArn(options) } };
  }
  return {};
}

/** The stack's outputs: the Slack Request URL where there is an endpoint, the table, the driftfix bus. */
export function outputs(options: DeploymentOptions): Record<string, unknown> {
  return {
    RemediationTableName: { Value: { Ref: 'RemediationTable' } },
    ...(options.hubAccount
      ? {}
      : {
          SlackInteractivityUrl: {
            Description: "Request URL for the Slack app's Interactivity settings",
            // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub expression, not JavaScript
            Value: { 'Fn::Sub': 'https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/slack/actions' },
          },
        }),
    ...(options.hub || options.hubAccount ? { DriftfixEventBusArn: { Value: { 'Fn::GetAtt': ['DriftfixEventBus', 'Arn'] } } } : {}),
  };
}

export { eventFunctions, logicalName };
