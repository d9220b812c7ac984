import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { buildResourceClients } from './commons/client-factory.ts';
import type { EventResult } from './commons/engine.ts';
import { ConfigurationError } from './commons/errors.ts';
import { DynamoRecordStore } from './commons/record-store.ts';
import { reportResult } from './commons/rule-handler.ts';
import { loadSettings } from './commons/settings.ts';
import { createNotifier, slackConfigFromEnv } from './commons/slack/slack-notifier.ts';
import { handleUnhandledFinding } from './commons/unhandled-findings.ts';

/** Lambda entry point for Access Analyzer findings no rule fixes: notified or skipped, never changed. */
const logger = new Logger({ serviceName: 'driftfix', persistentKeys: { function: 'unhandled-findings' } });
const region = process.env.AWS_REGION;
const settings = loadSettings([]);
if (!region || !settings.table) throw new ConfigurationError('AWS_REGION and REMEDIATION_TABLE must be set');
const endpoint = process.env.AWS_ENDPOINT_URL || undefined;
const local = endpoint ? { endpoint } : {};
const store = new DynamoRecordStore(new DynamoDBClient({ region, ...local }), settings.table);
const secrets = async () => new (await import('@aws-sdk/client-secrets-manager')).SecretsManagerClient({ region, ...local });
const notifier = createNotifier(slackConfigFromEnv(), secrets, { log: (line) => logger.info(`record (Slack not configured): ${line}`) });
// This function reads and changes nothing in the account: it gets no resource client.
const clients = buildResourceClients({}, { region });

export const handler = async (event: unknown, context: Pick<Context, 'invokedFunctionArn'>): Promise<EventResult> => {
  const account = context.invokedFunctionArn.split(':')[4] ?? '';
  const result = await handleUnhandledFinding(event, { rules: [], clients, store, settings, identity: { account, region }, log: logger, notifier }, { dryRun: false });
  return reportResult(logger, result);
};
