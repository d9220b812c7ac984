import { iamRoleTrustExternalAccess } from '../rules/iam-role-trust-external-access.ts';
import { createRuleHandler } from './commons/rule-handler.ts';

/** Lambda entry point for rule iam-role-trust-external-access. */
export const handler = createRuleHandler(iamRoleTrustExternalAccess);
