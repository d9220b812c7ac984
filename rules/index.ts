import type { AnyRule } from '../core/model/index.ts';
import ec2EbsEncryptionByDefault from './ec2-ebs-encryption-by-default.ts';
import ec2SecurityGroupOpenPorts from './ec2-security-group-open-ports.ts';
import iamPolicyWildcards from './iam-policy-wildcards.ts';
import iamRoleTrustExternalAccess from './iam-role-trust-external-access.ts';
import kmsKeyRotation from './kms-key-rotation.ts';
import rdsInstancePublicAccess from './rds-instance-public-access.ts';
import s3AccountPublicAccessBlock from './s3-account-public-access-block.ts';
import s3BucketPolicyExternalAccess from './s3-bucket-policy-external-access.ts';
import s3BucketPublicAccessBlock from './s3-bucket-public-access-block.ts';
import s3BucketSslRequestsOnly from './s3-bucket-ssl-requests-only.ts';
import s3BucketVersioning from './s3-bucket-versioning.ts';
import s3DefaultEncryption from './s3-default-encryption.ts';

/**
 * The registry: every rule driftfix ships. Each becomes one Lambda function with its own role,
 * queue and routing; a function's bundle carries only its own rule (serverless/bundle-plugin.cjs).
 */
export const RULES: readonly AnyRule[] = [
  s3DefaultEncryption,
  s3BucketPublicAccessBlock,
  s3AccountPublicAccessBlock,
  iamPolicyWildcards,
  s3BucketPolicyExternalAccess,
  iamRoleTrustExternalAccess,
  rdsInstancePublicAccess,
  s3BucketSslRequestsOnly,
  s3BucketVersioning,
  ec2SecurityGroupOpenPorts,
  kmsKeyRotation,
  ec2EbsEncryptionByDefault,
];
