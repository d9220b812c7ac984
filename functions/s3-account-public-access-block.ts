import { s3AccountPublicAccessBlock } from '../rules/s3-account-public-access-block.ts';
import { createRuleHandler } from './commons/rule-handler.ts';

/** Lambda entry point for rule s3-account-public-access-block. */
export const handler = createRuleHandler(s3AccountPublicAccessBlock);
