import type { AnyRule } from '../../rules/types.ts';
import { DETAIL_TYPE, EVENT_SOURCE } from './constants.ts';
import type { EventPattern } from './event-pattern.ts';
import type { Finding } from './finding.ts';

export interface RoutingOptions {
  acceptReplay: boolean;
}

/**
 * The EventBridge patterns that deliver events to a rule's function: one per reporting service.
 * serverless.yml and the local router both use exactly these.
 */
export function eventPatternsFor(rule: AnyRule, options: RoutingOptions): EventPattern[] {
  const sources = (awsSource: string) => (options.acceptReplay ? [awsSource, EVENT_SOURCE.replay] : [awsSource]);
  const patterns: EventPattern[] = [];
  if (rule.answers.configRules.length > 0) {
    patterns.push({
      source: sources(EVENT_SOURCE.config),
      'detail-type': [DETAIL_TYPE.configComplianceChange],
      detail: {
        configRuleName: [...rule.answers.configRules],
        newEvaluationResult: { complianceType: ['NON_COMPLIANT'] },
      },
    });
  }
  const analyzer = rule.answers.accessAnalyzer;
  if (analyzer) {
    patterns.push({
      source: sources(EVENT_SOURCE.accessAnalyzer),
      'detail-type': [DETAIL_TYPE.accessAnalyzerFinding],
      // Error findings (the analyzer could not read the resource) go to the unhandled-findings function.
      detail: { resourceType: [analyzer.resourceType], status: ['ACTIVE'], isPublic: [analyzer.isPublic], error: [{ exists: false }] },
    });
  }
  // Approved changes come back to the rule's own function, the only one holding its write permissions.
  patterns.push({
    source: [EVENT_SOURCE.approvals],
    'detail-type': [DETAIL_TYPE.remediationApproved],
    detail: { ruleId: [rule.id] },
  });
  return patterns;
}

export type RuleChoice = { kind: 'rule'; rule: AnyRule } | { kind: 'skipped' | 'rejected'; reason: string };

/** Which rule answers a finding; the handler checks this again even though EventBridge routed it. */
export function chooseRule(finding: Finding, rules: readonly AnyRule[]): RuleChoice {
  const { trigger } = finding;
  if (trigger.kind === 'config-rule') {
    const rule = rules.find((candidate) => candidate.answers.configRules.includes(trigger.configRuleName));
    if (!rule) return { kind: 'skipped', reason: `no driftfix rule answers AWS Config rule ${trigger.configRuleName}` };
    if (rule.resourceType !== finding.resourceType) {
      return {
        kind: 'rejected',
        reason: `AWS Config rule ${trigger.configRuleName} evaluates ${rule.resourceType}, not ${finding.resourceType}`,
      };
    }
    return { kind: 'rule', rule };
  }
  const rule = rules.find(
    (candidate) =>
      candidate.answers.accessAnalyzer?.resourceType === finding.resourceType &&
      candidate.answers.accessAnalyzer.isPublic === trigger.isPublic,
  );
  if (!rule) {
    const exposure = trigger.isPublic ? 'public' : 'cross-account';
    return { kind: 'skipped', reason: `no driftfix rule fixes ${exposure} access findings for ${finding.resourceType}` };
  }
  return { kind: 'rule', rule };
}
