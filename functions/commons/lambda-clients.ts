import type { ReadClients, Service } from '../../rules/types.ts';
import { buildResourceClients, type ClientClasses, type ClientOptions } from './client-factory.ts';

/**
 * The clients of the services a rule declares, their SDK modules loaded on first invocation and
 * not at cold start: a function for S3 never loads the IAM or Access Analyzer client.
 */
export async function loadResourceClients(services: readonly Service[], options: ClientOptions): Promise<ReadClients> {
  const classes: ClientClasses = {};
  for (const service of new Set(services)) {
    switch (service) {
      case 's3':
        classes.S3Client = (await import('@aws-sdk/client-s3')).S3Client;
        break;
      case 's3control':
        classes.S3ControlClient = (await import('@aws-sdk/client-s3-control')).S3ControlClient;
        break;
      case 'iam':
        classes.IAMClient = (await import('@aws-sdk/client-iam')).IAMClient;
        break;
      case 'config':
        classes.ConfigServiceClient = (await import('@aws-sdk/client-config-service')).ConfigServiceClient;
        break;
      case 'accessAnalyzer':
        classes.AccessAnalyzerClient = (await import('@aws-sdk/client-accessanalyzer')).AccessAnalyzerClient;
        break;
    }
  }
  return buildResourceClients(classes, options);
}
