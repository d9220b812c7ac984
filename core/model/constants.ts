/** Event sources and detail-types driftfix understands (EventBridge events reference). */
/** us-east-1, cn-north-1, us-gov-west-1, eusc-de-east-1 (the AWS SDK's partitions list their region patterns). */
export const REGION_NAME = /^[a-z]{2,4}(-[a-z]+)+-\d{1,2}$/;

export const EVENT_SOURCE = {
  config: 'aws.config',
  accessAnalyzer: 'aws.access-analyzer',
  securityHub: 'aws.securityhub',
  /** PutEvents refuses sources starting with `aws.`, so replayed events carry this one instead. */
  replay: 'driftfix.replay',
  /** Emitted when a person approves a change; the rule's own function applies it. */
  approvals: 'driftfix.approvals',
  /** A hub stack's decisions and the member stacks' records, across accounts. */
  hub: 'driftfix.hub',
  member: 'driftfix.member',
} as const;

export const DETAIL_TYPE = {
  configComplianceChange: 'Config Rules Compliance Change',
  configItemChange: 'Config Configuration Item Change',
  accessAnalyzerFinding: 'Access Analyzer Finding',
  internalAccessFinding: 'Internal Access Finding',
  unusedAccessFinding: 'Unused Access Finding for IAM entities',
  accessPreviewStateChange: 'Access Preview State Change',
  securityHubImported: 'Security Hub Findings - Imported',
  remediationApproved: 'Remediation Approved',
  /** Hub → member: a person approved, rejected or exempted. */
  decision: 'Remediation Decision',
  /** Member → hub: a record to post or update in Slack. */
  record: 'Remediation Record',
} as const;

export const OUTCOME = {
  remediated: 'remediated',
  planned: 'planned',
  compliant: 'compliant',
  pendingApproval: 'pending-approval',
  notified: 'notified',
  skipped: 'skipped',
  ignored: 'ignored',
  rejected: 'rejected',
  failed: 'failed',
  /** Only for the record of a rollback (npm run rollback). */
  rolledBack: 'rolled-back',
  /** Only for the record of a time-boxed exception. */
  exempted: 'exempted',
} as const;
export type Outcome = (typeof OUTCOME)[keyof typeof OUTCOME];

export const MODES = ['auto', 'approve', 'notify', 'off'] as const;
export type Mode = (typeof MODES)[number];

export type Risk = 'low' | 'medium' | 'high';

/**
 * EventBridge's entry limit in the PutEvents API reference (AWS announced 1 MB in 2026; the
 * events driftfix answers are a few KB, so the smaller limit refuses nothing real).
 */
export const MAX_EVENT_BYTES = 256 * 1024;
export const MAX_EVENT_DEPTH = 32;
/** The date before which no AWS Config or Access Analyzer event can exist. */
export const EARLIEST_EVENT_TIME = Date.parse('2014-01-01T00:00:00Z');
/** Clock skew tolerated for event times in the future. */
export const MAX_FUTURE_SKEW_MS = 15 * 60 * 1000;

export const DEFAULT_EXCLUSION_TAG = 'remediation:skip';
export const DEFAULT_APPROVAL_TTL_HOURS = 24;
export const DEFAULT_SUPPRESSION_DAYS = 30;
/**
 * How long a claim on a resource lasts (LOCK_LEASE_SECONDS): under the functions' 60 s timeout, so
 * that a claim left by an invocation that died has run out before the event is delivered again.
 */
export const DEFAULT_LOCK_LEASE_SECONDS = 50;
/** Per container, how long a Config rule's managed identifier is trusted before it is read again. */
export const CONFIG_RULE_CACHE_MS = 10 * 60 * 1000;
