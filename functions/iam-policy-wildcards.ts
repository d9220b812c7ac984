import { iamPolicyWildcards } from '../rules/iam-policy-wildcards.ts';
import { createRuleHandler } from './commons/rule-handler.ts';

/** Lambda entry point for rule iam-policy-wildcards. */
export const handler = createRuleHandler(iamPolicyWildcards);
