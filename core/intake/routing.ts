import { type AnyRule, DETAIL_TYPE, EVENT_SOURCE, type Finding } from '../model/index.ts';
import type { EventPattern } from './event-pattern.ts';

/**
 * Which function an event goes to. The EventBridge rules of the deployed stack and the local
 * `npm run replay` are both built from these patterns, so the two cannot disagree.
 *
 * - AWS Config compliance changes go to the router: a Config rule may have any name (Security
 *   Hub's, a conformance pack's, a person's), and only AWS Config knows which managed rule it runs.
 * - Access Analyzer and Security Hub findings go straight to the rule that answers them.
 * - Approved changes and hub decisions go to the rule's own function, the only one holding its
 *   write permissions.
 */

export const ROUTER_FUNCTION = 'config-router';
export const UNHANDLED_FUNCTION = 'unhandled-findings';

export interface RoutingOptions {
  acceptReplay: boolean;
  /** A member stack takes decisions from its hub account only. */
  hubAccount?: string | undefined;
}

const sources = (awsSource: string, options: RoutingOptions) => (options.acceptReplay ? [awsSource, EVENT_SOURCE.replay] : [awsSource]);

/** The resource types any rule's AWS Config answers report on. */
export function configResourceTypes(rules: readonly AnyRule[]): string[] {
  return [...new Set(rules.flatMap((rule) => (rule.answers.config ?? []).flatMap((answer) => [...answer.resourceTypes])))].sort();
}

export function routerPatterns(rules: readonly AnyRule[], options: RoutingOptions): EventPattern[] {
  const types = configResourceTypes(rules);
  if (types.length === 0) return [];
  return [
    {
      source: sources(EVENT_SOURCE.config, options),
      'detail-type': [DETAIL_TYPE.configComplianceChange],
      detail: { newEvaluationResult: { complianceType: ['NON_COMPLIANT'] }, resourceType: types },
    },
  ];
}

export function rulePatterns(rule: AnyRule, options: RoutingOptions): EventPattern[] {
  const patterns: EventPattern[] = [];
  const analyzer = rule.answers.accessAnalyzer;
  if (analyzer) {
    patterns.push({
      source: sources(EVENT_SOURCE.accessAnalyzer, options),
      'detail-type': [DETAIL_TYPE.accessAnalyzerFinding],
      // Error findings (the analyzer could not read the resource) go to the unhandled-findings function.
      detail: { resourceType: [analyzer.resourceType], status: ['ACTIVE'], isPublic: [analyzer.isPublic], error: [{ exists: false }] },
    });
  }
  const controls = rule.answers.securityHub ?? [];
  if (controls.length > 0) {
    patterns.push({
      source: sources(EVENT_SOURCE.securityHub, options),
      'detail-type': [DETAIL_TYPE.securityHubImported],
      detail: {
        findings: {
          Compliance: { SecurityControlId: [...controls], Status: ['FAILED'] },
          RecordState: ['ACTIVE'],
          Workflow: { Status: ['NEW', 'NOTIFIED'] },
        },
      },
    });
  }
  patterns.push({ source: [EVENT_SOURCE.approvals], 'detail-type': [DETAIL_TYPE.remediationApproved], detail: { ruleId: [rule.id] } });
  if (options.hubAccount) {
    patterns.push({ source: [EVENT_SOURCE.hub], 'detail-type': [DETAIL_TYPE.decision], account: [options.hubAccount], detail: { ruleId: [rule.id] } });
  }
  return patterns;
}

/**
 * Access Analyzer findings no rule's pattern takes: other resource types, exposures of a handled
 * type that no rule fixes (a public role, say), error findings, internal- and unused-access findings.
 */
export function unhandledFindingPatterns(rules: readonly AnyRule[], options: RoutingOptions): EventPattern[] {
  const from = sources(EVENT_SOURCE.accessAnalyzer, options);
  const handled = new Map<string, Set<boolean>>();
  for (const rule of rules) {
    const answer = rule.answers.accessAnalyzer;
    if (answer) handled.set(answer.resourceType, (handled.get(answer.resourceType) ?? new Set()).add(answer.isPublic));
  }
  const finding = DETAIL_TYPE.accessAnalyzerFinding;
  const patterns: EventPattern[] = [
    { source: from, 'detail-type': [DETAIL_TYPE.unusedAccessFinding, DETAIL_TYPE.internalAccessFinding], detail: { status: ['ACTIVE'] } },
    { source: from, 'detail-type': [finding], detail: { status: ['ACTIVE'], resourceType: [{ 'anything-but': [...handled.keys()] }] } },
    { source: from, 'detail-type': [finding], detail: { status: ['ACTIVE'], resourceType: [...handled.keys()], error: [{ exists: true }] } },
  ];
  for (const [resourceType, exposures] of handled) {
    for (const isPublic of [true, false].filter((value) => !exposures.has(value))) {
      patterns.push({ source: from, 'detail-type': [finding], detail: { status: ['ACTIVE'], resourceType: [resourceType], isPublic: [isPublic] } });
    }
  }
  return patterns;
}

export type RuleChoice = { kind: 'rule'; rule: AnyRule } | { kind: 'skipped' | 'rejected'; reason: string };

/** Which rule answers a finding; a function checks this again even though EventBridge routed it. */
export function chooseRule(finding: Finding, rules: readonly AnyRule[]): RuleChoice {
  const { trigger } = finding;
  switch (trigger.kind) {
    case 'config-rule': {
      const identifier = trigger.identifier;
      if (!identifier) return { kind: 'skipped', reason: `AWS Config rule ${trigger.configRuleName} runs no managed rule driftfix knows` };
      for (const rule of rules) {
        const answer = rule.answers.config?.find((candidate) => candidate.identifier === identifier);
        if (!answer) continue;
        if (!answer.resourceTypes.includes(finding.resourceType)) {
          return { kind: 'rejected', reason: `${identifier} evaluates ${answer.resourceTypes.join(', ')}, not ${finding.resourceType}` };
        }
        return { kind: 'rule', rule };
      }
      return { kind: 'skipped', reason: `no driftfix rule answers the managed rule ${identifier} (AWS Config rule ${trigger.configRuleName})` };
    }
    case 'access-analyzer': {
      const rule = rules.find(
        (candidate) => candidate.answers.accessAnalyzer?.resourceType === finding.resourceType && candidate.answers.accessAnalyzer.isPublic === trigger.isPublic,
      );
      if (rule) return { kind: 'rule', rule };
      return { kind: 'skipped', reason: `no driftfix rule fixes ${trigger.isPublic ? 'public' : 'cross-account'} access findings for ${finding.resourceType}` };
    }
    case 'security-hub': {
      const rule = rules.find((candidate) => candidate.answers.securityHub?.includes(trigger.controlId));
      if (!rule) return { kind: 'skipped', reason: `no driftfix rule answers Security Hub control ${trigger.controlId}` };
      if (!rule.resource.securityHubTypes?.includes(finding.resourceType)) {
        return { kind: 'rejected', reason: `control ${trigger.controlId} is about ${rule.resource.securityHubTypes?.join(', ')}, not ${finding.resourceType}` };
      }
      return { kind: 'rule', rule };
    }
  }
}

/** The resource the finding names, as the rule's API wants it, or why it cannot be one of this account's. */
export function targetOf(finding: Finding, rule: AnyRule): { id: string } | { problem: string } {
  const kind = rule.resource;
  if (finding.reporter !== 'security-hub' && finding.resourceType !== kind.type && !kind.aliases?.includes(finding.resourceType)) {
    return { problem: `rule ${rule.id} fixes ${kind.type}, not ${finding.resourceType}` };
  }
  return kind.parseId(finding.resourceId, finding);
}
