import { AccessAnalyzerClient } from '@aws-sdk/client-accessanalyzer';
import { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';
import { S3ControlClient } from '@aws-sdk/client-s3-control';
import type { ReadClients } from '../../rules/types.ts';
import { buildResourceClients, type ClientOptions } from './client-factory.ts';

export type { ClientOptions } from './client-factory.ts';

/** Every resource client, for the local tools and tests (a Lambda function loads only its own: lambda-clients.ts). */
export function createResourceClients(options: ClientOptions): ReadClients {
  return buildResourceClients({ S3Client, S3ControlClient, IAMClient, AccessAnalyzerClient, ConfigServiceClient }, options);
}
