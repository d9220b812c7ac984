/** Event sources and detail-types driftfix understands. */
export const EVENT_SOURCE = {
  config: 'aws.config',
  accessAnalyzer: 'aws.access-analyzer',
  /** PutEvents refuses sources starting with `aws.`, so replayed events carry this one instead. */
  replay: 'driftfix.replay',
  /** Emitted when a person approves a change; the rule's own function applies it. */
  approvals: 'driftfix.approvals',
} as const;

export const DETAIL_TYPE = {
  configComplianceChange: 'Config Rules Compliance Change',
  configItemChange: 'Configuration Item Change',
  accessAnalyzerFinding: 'Access Analyzer Finding',
  remediationApproved: 'Remediation Approved',
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
} as const;
export type Outcome = (typeof OUTCOME)[keyof typeof OUTCOME];

export const MODES = ['auto', 'approve', 'notify', 'off'] as const;
export type Mode = (typeof MODES)[number];

/** EventBridge refuses events over 256 KB; anything larger did not come from it. */
export const MAX_EVENT_BYTES = 256 * 1024;
export const MAX_EVENT_DEPTH = 32;
/** The date before which no AWS Config or Access Analyzer event can exist. */
export const EARLIEST_EVENT_TIME = Date.parse('2014-01-01T00:00:00Z');
/** Clock skew tolerated for event times in the future. */
export const MAX_FUTURE_SKEW_MS = 15 * 60 * 1000;

export const DEFAULT_EXCLUSION_TAG = 'remediation:skip';
export const DEFAULT_APPROVAL_TTL_HOURS = 24;
export const DEFAULT_SUPPRESSION_DAYS = 30;
/** A resource lock outlives the longest invocation, so a crashed holder never blocks for ever. */
export const LOCK_LEASE_MS = 120_000;
export const LOCK_WAIT_MS = 20_000;
