import { s3BucketPublicAccessBlock } from '../rules/s3-bucket-public-access-block.ts';
import { createRuleHandler } from './commons/rule-handler.ts';

/** Lambda entry point for rule s3-bucket-public-access-block. */
export const handler = createRuleHandler(s3BucketPublicAccessBlock);
