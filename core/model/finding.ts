/** The one shape every accepted event becomes, whatever service reported it. */
export interface Finding {
  eventId: string;
  /**
   * What identifies this report of the drift, when the event id does not: a Security Hub finding
   * and its UpdatedAt (BatchUpdateFindings re-sends the finding as a new event, UpdatedAt unchanged).
   */
  dedupeKey?: string;
  /** Which service reported the drift. */
  reporter: 'config' | 'access-analyzer' | 'security-hub';
  /** True when the event came through the bot's replay source rather than from AWS. */
  replayed: boolean;
  account: string;
  region: string;
  time: string;
  /** The resource type as the event names it. */
  resourceType: string;
  /** The resource as the event names it: a Config resourceId or an ARN. */
  resourceId: string;
  resourceArn?: string;
  trigger: ConfigRuleTrigger | AccessAnalyzerTrigger | SecurityHubTrigger;
}

export interface ConfigRuleTrigger {
  kind: 'config-rule';
  configRuleName: string;
  configRuleArn?: string;
  /** The managed rule's identifier, read from AWS Config (DescribeConfigRules), never from the event. */
  identifier?: string;
  /** The rule's InputParameters as AWS Config holds them (blocked ports, allowed keys). */
  parameters?: Record<string, string>;
  complianceType: string;
  annotation?: string;
}

export interface AccessAnalyzerTrigger {
  kind: 'access-analyzer';
  findingId: string;
  findingType?: string;
  status: string;
  isPublic: boolean;
  analyzerArn?: string;
  principal?: Record<string, string>;
  actions?: string[];
}

export interface SecurityHubTrigger {
  kind: 'security-hub';
  /** ASFF `Id` and `ProductArn`: what BatchUpdateFindings needs to name the finding. */
  findingId: string;
  productArn: string;
  controlId: string;
  complianceStatus: string;
  workflowStatus: string;
  /** The Config rule behind the control, when the finding names it (`ProductFields`). */
  configRuleName?: string;
}

/** A stable key for a resource, used for records, locks, suppressions and exceptions. */
export function resourceKey(type: string, id: string): string {
  return `${type}/${id}`;
}

/** How a finding is named in a sentence: `AWS Config rule x`, `Security Hub control S3.8`. */
export function describeTrigger(trigger: Finding['trigger']): string {
  switch (trigger.kind) {
    case 'config-rule':
      return `AWS Config rule ${trigger.configRuleName}${trigger.identifier ? ` (${trigger.identifier})` : ''}`;
    case 'access-analyzer':
      return `Access Analyzer finding ${trigger.findingId}`;
    case 'security-hub':
      return `Security Hub control ${trigger.controlId}`;
  }
}
