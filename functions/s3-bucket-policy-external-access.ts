import { s3BucketPolicyExternalAccess } from '../rules/s3-bucket-policy-external-access.ts';
import { createRuleHandler } from './commons/rule-handler.ts';

/** Lambda entry point for rule s3-bucket-policy-external-access. */
export const handler = createRuleHandler(s3BucketPolicyExternalAccess);
