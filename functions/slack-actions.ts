import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ConfigurationError } from './commons/errors.ts';
import { EventBridgeEmitter } from './commons/event-emitter.ts';
import { DynamoRecordStore } from './commons/record-store.ts';
import { parsePositiveNumber } from './commons/settings.ts';
import { handleSlackAction, parseApprovers } from './commons/slack/interactivity.ts';
import { createNotifier, slackConfigFromEnv } from './commons/slack/slack-notifier.ts';
import { loadSlackSecret } from './commons/slack/slack-secret.ts';
import { DEFAULT_SUPPRESSION_DAYS } from './commons/constants.ts';

/** Lambda entry point behind the HTTP API route POST /slack/actions. */
const logger = new Logger({ serviceName: 'driftfix', persistentKeys: { function: 'slack-actions' } });
const region = process.env.AWS_REGION;
const table = process.env.REMEDIATION_TABLE;
const slack = slackConfigFromEnv();
if (!region || !table || !slack) throw new ConfigurationError('AWS_REGION, REMEDIATION_TABLE, SLACK_SECRET_ID and SLACK_CHANNEL must be set');
const endpoint = process.env.AWS_ENDPOINT_URL || undefined;
const local = endpoint ? { endpoint } : {};
const secrets = new SecretsManagerClient({ region, ...local });

const deps = {
  store: new DynamoRecordStore(new DynamoDBClient({ region, ...local }), table),
  notifier: createNotifier(slack, secrets),
  emitter: new EventBridgeEmitter(new EventBridgeClient({ region, ...local }), process.env.EVENT_BUS_NAME || 'default'),
  signingSecret: async () => (await loadSlackSecret(secrets, slack.secretId)).signingSecret,
  approvers: parseApprovers(process.env.SLACK_APPROVERS, process.env.SLACK_APPROVER_GROUP),
  suppressionDays: parsePositiveNumber('SUPPRESSION_DAYS', process.env.SUPPRESSION_DAYS, DEFAULT_SUPPRESSION_DAYS),
  log: logger,
};

export const handler = (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => handleSlackAction(event, deps);
