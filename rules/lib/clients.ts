import type { AccessAnalyzerClient } from '@aws-sdk/client-accessanalyzer';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { RDSClient } from '@aws-sdk/client-rds';
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3ControlClient } from '@aws-sdk/client-s3-control';
import type { ClientSpec } from '../../core/model/index.ts';

/** The SDK clients rules read and write with; each function loads only those its rule names. */

export const S3: ClientSpec<S3Client> = {
  service: 'S3',
  load: async () => (await import('@aws-sdk/client-s3')).S3Client,
  local: () => ({ forcePathStyle: true }),
};

export const S3_CONTROL: ClientSpec<S3ControlClient> = {
  service: 'S3Control',
  load: async () => (await import('@aws-sdk/client-s3-control')).S3ControlClient,
  // The S3 Control endpoint rules put the account id in front of the host name, which a local
  // endpoint such as http://127.0.0.1:5000 cannot take; send to the endpoint as given instead.
  local: (endpoint) => ({ endpointProvider: () => ({ url: new URL(endpoint) }) }),
};

export const IAM: ClientSpec<IAMClient> = {
  service: 'IAM',
  load: async () => (await import('@aws-sdk/client-iam')).IAMClient,
};

export const ACCESS_ANALYZER: ClientSpec<AccessAnalyzerClient> = {
  service: 'AccessAnalyzer',
  load: async () => (await import('@aws-sdk/client-accessanalyzer')).AccessAnalyzerClient,
};

export const KMS: ClientSpec<KMSClient> = {
  service: 'KMS',
  load: async () => (await import('@aws-sdk/client-kms')).KMSClient,
};

export const EC2: ClientSpec<EC2Client> = {
  service: 'EC2',
  load: async () => (await import('@aws-sdk/client-ec2')).EC2Client,
};

export const RDS: ClientSpec<RDSClient> = {
  service: 'RDS',
  load: async () => (await import('@aws-sdk/client-rds')).RDSClient,
};
