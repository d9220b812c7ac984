import { ruleHandler } from '../core/aws/wiring.ts';
import { ConfigurationError } from '../core/model/index.ts';
import { RULES } from '../rules/index.ts';

/**
 * Every rule's Lambda entry point: the rule is the one named by RULE_ID. Each function's bundle
 * carries only its own rule (serverless/bundle-plugin.cjs narrows the registry to it).
 */
const rule = RULES.find((candidate) => candidate.id === process.env.RULE_ID);
if (!rule) throw new ConfigurationError(`RULE_ID ${JSON.stringify(process.env.RULE_ID)} names no rule in this bundle`);

export const handler = ruleHandler(rule);
