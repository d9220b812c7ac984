/** The one shape every accepted event becomes, whatever service reported it. */
export interface Finding {
  eventId: string;
  /** Which service reported the drift. */
  reporter: 'config' | 'access-analyzer';
  /** True when the event came through the bot's replay source rather than from AWS. */
  replayed: boolean;
  account: string;
  region: string;
  time: string;
  resourceType: string;
  /** Bucket name, account id or policy id, as the AWS API addresses the resource. */
  resourceId: string;
  resourceArn?: string;
  trigger: ConfigRuleTrigger | AccessAnalyzerTrigger;
}

export interface ConfigRuleTrigger {
  kind: 'config-rule';
  configRuleName: string;
  configRuleArn?: string;
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

/** A stable key for the resource, used for records, locks and suppression. */
export function resourceKey(finding: Pick<Finding, 'resourceType' | 'resourceId'>): string {
  return `${finding.resourceType}/${finding.resourceId}`;
}

