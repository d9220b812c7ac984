import type { AnyRule, ConfigAnswer } from '../../core/model/index.ts';
import { RULES } from '../../rules/index.ts';

/**
 * Rules found by what they declare, never by their id: a rule's id is named only in its own file,
 * the registry and its own test (test/unit/architecture.test.ts), so tests elsewhere ask the
 * registry "which rule answers this?" and use `rule.id` at run time.
 */

function theOne(found: readonly AnyRule[], what: string, rules: readonly AnyRule[]): AnyRule {
  const [rule, ...others] = found;
  if (!rule) throw new Error(`no rule of ${rules.length} ${what}`);
  if (others.length > 0) throw new Error(`${found.length} rules ${what}: ${found.map((candidate) => candidate.id).join(', ')}`);
  return rule;
}

/** The rule that answers the AWS Config managed rule of this identifier (`S3_BUCKET_VERSIONING_ENABLED`). */
export function ruleAnswering(identifier: string, rules: readonly AnyRule[] = RULES): AnyRule {
  return theOne(
    rules.filter((rule) => rule.answers.config?.some((answer) => answer.identifier === identifier)),
    `answers the managed rule ${identifier}`,
    rules,
  );
}

/** The declaration of the managed rule of this identifier: its resource types and documented default name. */
export function configAnswer(identifier: string, rules: readonly AnyRule[] = RULES): ConfigAnswer {
  const answer = ruleAnswering(identifier, rules).answers.config?.find((candidate) => candidate.identifier === identifier);
  if (!answer) throw new Error(`no answer for ${identifier}`);
  return answer;
}

/** The rule that answers the Security Hub control of this id (`S3.8`). */
export function ruleForControl(controlId: string, rules: readonly AnyRule[] = RULES): AnyRule {
  return theOne(
    rules.filter((rule) => rule.answers.securityHub?.includes(controlId)),
    `answers the Security Hub control ${controlId}`,
    rules,
  );
}

/** The rule that answers Access Analyzer's external-access findings of this resource type and exposure. */
export function ruleForAnalyzer(resourceType: string, isPublic: boolean, rules: readonly AnyRule[] = RULES): AnyRule {
  return theOne(
    rules.filter((rule) => rule.answers.accessAnalyzer?.resourceType === resourceType && rule.answers.accessAnalyzer.isPublic === isPublic),
    `answers Access Analyzer findings of ${isPublic ? 'public' : 'cross-account'} ${resourceType}`,
    rules,
  );
}

/** Some registered rule, where a test needs a real one but not a particular one. */
export function anyRule(rules: readonly AnyRule[] = RULES): AnyRule {
  const [rule] = rules;
  if (!rule) throw new Error('the registry holds no rule');
  return rule;
}
