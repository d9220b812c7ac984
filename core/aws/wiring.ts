import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, SQSBatchResponse } from 'aws-lambda';
import { handleRuleEvent, routeConfigEvent } from '../engine/handle-event.ts';
import { relayMemberRecord } from '../engine/hub.ts';
import type { EngineDeps } from '../engine/ports.ts';
import type { EventResult } from '../engine/results.ts';
import { handleUnhandledFinding } from '../engine/unhandled.ts';
import { type AnyRule, ConfigurationError, DEFAULT_SUPPRESSION_DAYS } from '../model/index.ts';
import { handleSlackAction, parseApprovers } from '../slack/interactivity.ts';
import { SlackAnnouncer, SlackWebApi, slackConfigFromEnv } from '../slack/notifier.ts';
import { loadSlackSecret } from '../slack/secret.ts';
import { ClientFactory } from './clients.ts';
import { ConfigRules } from './config-rules.ts';
import { announcerFor } from './announcers.ts';
import { EventBridgeSink } from './emitter.ts';
import { awsFollowUps } from './follow-ups.ts';
import { type LambdaContext, accountOf, processLambdaEvent } from './lambda.ts';
import { DynamoLedger } from './ledger.ts';
import { CONFIG, DYNAMODB, EVENTBRIDGE, SECRETS_MANAGER, SECURITY_HUB, SQS } from './services.ts';

export { announcerFor };
import { loadSettings, parsePositiveNumber } from './settings.ts';

/**
 * The one wiring module: what every Lambda function builds once per container from its
 * environment (settings, clients, table, Slack or hub), and its handler.
 */

type Env = Record<string, string | undefined>;

interface Container {
  env: Env;
  region: string;
  factory: ClientFactory;
  logger: Logger;
}

function container(name: string, env: Env = process.env): Container {
  const region = env.AWS_REGION;
  if (!region) throw new ConfigurationError('AWS_REGION is not set');
  const logger = new Logger({ serviceName: 'driftfix', persistentKeys: { function: name } });
  return { env, region, factory: new ClientFactory({ region, endpoint: env.AWS_ENDPOINT_URL || undefined }), logger };
}

function engineDeps(c: Container, rules: readonly AnyRule[], account: string, context?: LambdaContext): Omit<EngineDeps, 'clientsFor'> {
  const settings = loadSettings(rules, c.env);
  if (!settings.table) throw new ConfigurationError('REMEDIATION_TABLE is not set');
  const table = settings.table;
  return {
    rules,
    settings,
    identity: { account, region: c.region },
    log: c.logger,
    ledger: lazyLedger(c, table),
    announcer: announcerFor(c),
    configRules: new ConfigRules(() => c.factory.shared(CONFIG)),
    followUps: awsFollowUps({ config: () => c.factory.shared(CONFIG), securityHub: () => c.factory.shared(SECURITY_HUB) }),
    // A claim never outlives the invocation that holds it.
    ...(context?.getRemainingTimeInMillis ? { maxLeaseMs: () => (context.getRemainingTimeInMillis?.() ?? 60_000) - 1_000 } : {}),
  };
}

const ledgers = new Map<string, DynamoLedger>();
function lazyLedger(c: Container, table: string): DynamoLedger {
  let ledger = ledgers.get(table);
  if (!ledger) {
    const factory = c.factory;
    // The DynamoDB client is made on the first request, not at cold start.
    const proxy = { send: async (command: never) => (await factory.shared(DYNAMODB, { record: false })).send(command) };
    ledger = new DynamoLedger(proxy as never, table);
    ledgers.set(table, ledger);
  }
  return ledger;
}

/** A rule's function: its events arrive through its own queue. */
export function ruleHandler(rule: AnyRule): (event: unknown, context: LambdaContext) => Promise<SQSBatchResponse | EventResult> {
  const c = container(rule.id);
  c.logger.appendPersistentKeys({ rule: rule.id });
  loadSettings([rule], c.env); // a typo in the settings stops the function at start
  return async (event, context) => {
    c.logger.addContext(context as never);
    const clients = await c.factory.forRule(rule);
    const deps: EngineDeps = { ...engineDeps(c, [rule], accountOf(context), context), clientsFor: () => clients };
    return processLambdaEvent(event, (raw) => handleRuleEvent(raw, rule, deps, { dryRun: false }), c.logger);
  };
}

/** The Config router: resolves which managed rule a Config rule runs and hands the event to that rule's queue. */
export function routerHandler(rules: readonly AnyRule[]): (event: unknown, context: LambdaContext) => Promise<SQSBatchResponse | EventResult> {
  const c = container('config-router');
  const queues = parseQueues(c.env.RULE_QUEUES, rules);
  return async (event, context) => {
    c.logger.addContext(context as never);
    const deps: EngineDeps = { ...engineDeps(c, rules, accountOf(context), context), clientsFor: () => ({}) };
    return processLambdaEvent(
      event,
      async (raw) => {
        const routed = await routeConfigEvent(raw, rules, deps);
        if (routed.kind === 'result') return routed.result;
        const { SendMessageCommand } = await import('@aws-sdk/client-sqs');
        await (await c.factory.shared(SQS, { record: false })).send(new SendMessageCommand({ QueueUrl: queues[routed.rule.id], MessageBody: JSON.stringify(raw) }));
        return { outcome: 'planned', rule: routed.rule.id, reason: `handed to rule ${routed.rule.id}`, calls: [], writes: 0 };
      },
      c.logger,
    );
  };
}

function parseQueues(text: string | undefined, rules: readonly AnyRule[]): Record<string, string> {
  let queues: Record<string, string> = {};
  try {
    queues = JSON.parse(text ?? '{}') as Record<string, string>;
  } catch {
    throw new ConfigurationError('RULE_QUEUES is not JSON');
  }
  const missing = rules.filter((rule) => rule.answers.config && !queues[rule.id]).map((rule) => rule.id);
  if (missing.length > 0) throw new ConfigurationError(`RULE_QUEUES has no queue for ${missing.join(', ')}`);
  return queues;
}

/** Access Analyzer findings no rule fixes: recorded and posted, or skipped. It can touch nothing in the account. */
export function unhandledHandler(): (event: unknown, context: LambdaContext) => Promise<SQSBatchResponse | EventResult> {
  const c = container('unhandled-findings');
  loadSettings([], c.env);
  return async (event, context) => {
    c.logger.addContext(context as never);
    const deps: EngineDeps = { ...engineDeps(c, [], accountOf(context), context), clientsFor: () => ({}) };
    return processLambdaEvent(event, (raw) => handleUnhandledFinding(raw, deps, { dryRun: false }), c.logger);
  };
}

/**
 * The hub's notifier: member stacks' records, from the hub's bus, kept for the organization-wide
 * view and posted to the one Slack channel (or updating the request they answer).
 */
export function hubNotifierHandler(): (event: unknown, context: LambdaContext) => Promise<SQSBatchResponse | EventResult> {
  const c = container('hub-notifier');
  const table = c.env.REMEDIATION_TABLE;
  const slack = slackConfigFromEnv(c.env);
  if (!table || !slack) throw new ConfigurationError('a hub needs REMEDIATION_TABLE, SLACK_SECRET_ID and SLACK_CHANNEL');
  const announcer = new SlackAnnouncer(new SlackWebApi(slack, () => c.factory.shared(SECRETS_MANAGER, { record: false })));
  const memberAccounts = (c.env.MEMBER_ACCOUNTS ?? '').split(',').map((entry) => entry.trim()).filter(Boolean);
  const deps = { ledger: lazyLedger(c, table), announcer, log: c.logger, memberAccounts };
  return async (event, context) => {
    c.logger.addContext(context as never);
    const own = { ...deps, ownAccount: accountOf(context), ownRegion: c.region };
    return processLambdaEvent(event, (raw) => relayMemberRecord(raw, own), c.logger);
  };
}

/** The Slack interactivity endpoint (HTTP API): decisions only, no access to any account's resources. */
export function slackActionsHandler(): (event: APIGatewayProxyEventV2, context?: LambdaContext) => Promise<APIGatewayProxyStructuredResultV2> {
  const c = container('slack-actions');
  const slack = slackConfigFromEnv(c.env);
  const table = c.env.REMEDIATION_TABLE;
  if (!table || !slack) throw new ConfigurationError('REMEDIATION_TABLE, SLACK_SECRET_ID and SLACK_CHANNEL must be set');
  const secrets = () => c.factory.shared(SECRETS_MANAGER, { record: false });
  const api = new SlackWebApi(slack, secrets, undefined, 1_500);
  const regional = new Map<string, ClientFactory>([[c.region, c.factory]]);
  const eventsIn = (region = c.region) => {
    let factory = regional.get(region);
    if (!factory) {
      factory = new ClientFactory({ ...c.factory.options, region });
      regional.set(region, factory);
    }
    return factory.shared(EVENTBRIDGE, { record: false });
  };
  const sink = new EventBridgeSink(eventsIn, c.env.EVENT_BUS_NAME || 'default', c.env.HUB_MEMBER_BUS_NAME);
  sink.ownRegion = c.region;
  const deps = {
    ledger: lazyLedger(c, table),
    slack: api,
    sink,
    signingSecret: async () => (await loadSlackSecret(secrets, slack.secretId)).signingSecret,
    approvers: parseApprovers(c.env.SLACK_APPROVERS, c.env.SLACK_APPROVER_GROUP),
    suppressionDays: parsePositiveNumber('SUPPRESSION_DAYS', c.env.SUPPRESSION_DAYS, DEFAULT_SUPPRESSION_DAYS),
    log: c.logger,
  };
  return (event, context) => {
    // A hub carries out its own account's decisions itself; the rest go to the member accounts.
    if (context) sink.ownAccount = accountOf(context);
    return handleSlackAction(event, deps);
  };
}
