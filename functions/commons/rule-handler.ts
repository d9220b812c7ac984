import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import type { AnyRule } from '../../rules/types.ts';
import { loadResourceClients } from './lambda-clients.ts';
import { type EngineDeps, type EventResult, processEvent } from './engine.ts';
import { ConfigurationError, NotificationFailedError, RemediationFailedError } from './errors.ts';
import { DynamoRecordStore } from './record-store.ts';
import { loadSettings } from './settings.ts';
import { createNotifier, slackConfigFromEnv } from './slack/slack-notifier.ts';

export type RuleHandler = (event: unknown, context: Pick<Context, 'invokedFunctionArn' | 'awsRequestId'>) => Promise<EventResult>;

/**
 * The Lambda entry point of one rule's function. Settings, clients and the logger are made once per
 * container; each invocation reads its account from the invoking ARN (no STS call).
 */
export function createRuleHandler(rule: AnyRule): RuleHandler {
  const logger = new Logger({ serviceName: 'driftfix', persistentKeys: { rule: rule.id } });
  const region = process.env.AWS_REGION;
  if (!region) throw new ConfigurationError('AWS_REGION is not set');
  const settings = loadSettings([rule]);
  if (!settings.table) throw new ConfigurationError('REMEDIATION_TABLE is not set');
  const endpoint = process.env.AWS_ENDPOINT_URL || undefined;
  let clients: ReturnType<typeof loadResourceClients> | undefined;
  const store = new DynamoRecordStore(new DynamoDBClient({ region, ...(endpoint ? { endpoint } : {}) }), settings.table);
  const secrets = async () => new (await import('@aws-sdk/client-secrets-manager')).SecretsManagerClient({ region, ...(endpoint ? { endpoint } : {}) });
  const notifier = createNotifier(slackConfigFromEnv(), secrets, {
    log: (line) => logger.info(`record (Slack not configured): ${line}`),
  });

  return async (event, context) => {
    const account = context.invokedFunctionArn.split(':')[4] ?? '';
    clients ??= loadResourceClients(rule.services, { region, endpoint });
    const deps: EngineDeps = { rules: [rule], clients: await clients, store, settings, identity: { account, region }, log: logger, notifier };
    const result = await processEvent(event, rule, deps, { dryRun: false });
    return reportResult(logger, result);
  };
}

/**
 * Logs the outcome. A failed change, or a record Slack did not get, is thrown so that Lambda
 * retries the event (the record makes the retry repeat no change) and finally dead-letters it.
 */
export function reportResult(logger: Pick<Logger, 'info' | 'warn'>, result: EventResult): EventResult {
  if (result.outcome === 'rejected') logger.warn(`rejected event: ${result.reason}`, { result });
  else if (result.outcome === 'ignored' || result.outcome === 'skipped') logger.info(`${result.outcome}: ${result.reason}`, { result });
  if (result.outcome === 'failed') throw new RemediationFailedError(`${result.rule ?? 'driftfix'}: ${result.reason}`);
  if (result.notification === 'failed') {
    throw new NotificationFailedError(`${result.rule ?? 'driftfix'}: record ${result.recordId} is ${result.outcome} but Slack did not get it`);
  }
  return result;
}
