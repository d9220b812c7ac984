import type { ConfigServiceClient } from '@aws-sdk/client-config-service';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecurityHubClient } from '@aws-sdk/client-securityhub';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { ClientSpec } from '../model/index.ts';

/** The clients driftfix itself uses, whatever the rule: findings' services, its table, its bus, its secret. */

export const CONFIG: ClientSpec<ConfigServiceClient> = {
  service: 'Config',
  load: async () => (await import('@aws-sdk/client-config-service')).ConfigServiceClient,
};

export const SECURITY_HUB: ClientSpec<SecurityHubClient> = {
  service: 'SecurityHub',
  load: async () => (await import('@aws-sdk/client-securityhub')).SecurityHubClient,
};

export const DYNAMODB: ClientSpec<DynamoDBClient> = {
  service: 'DynamoDB',
  load: async () => (await import('@aws-sdk/client-dynamodb')).DynamoDBClient,
};

export const EVENTBRIDGE: ClientSpec<EventBridgeClient> = {
  service: 'EventBridge',
  load: async () => (await import('@aws-sdk/client-eventbridge')).EventBridgeClient,
};

export const SQS: ClientSpec<SQSClient> = {
  service: 'SQS',
  load: async () => (await import('@aws-sdk/client-sqs')).SQSClient,
};

export const SECRETS_MANAGER: ClientSpec<SecretsManagerClient> = {
  service: 'SecretsManager',
  load: async () => (await import('@aws-sdk/client-secrets-manager')).SecretsManagerClient,
};
