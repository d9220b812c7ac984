import { s3DefaultEncryption } from '../rules/s3-default-encryption.ts';
import { createRuleHandler } from './commons/rule-handler.ts';

/** Lambda entry point for rule s3-default-encryption. */
export const handler = createRuleHandler(s3DefaultEncryption);
