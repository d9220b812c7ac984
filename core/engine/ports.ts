import type {
  AnyRule,
  ChangeRecord,
  Exemption,
  Mode,
  Notification,
  PendingApproval,
  Risk,
  SecurityHubTrigger,
  Suppression,
} from '../model/index.ts';

/**
 * What the engine needs from the world, as interfaces: the AWS adapters (core/aws), Slack
 * (core/slack), the local tools and the tests each provide their own.
 */

export interface EngineLog {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

export interface Settings {
  table: string | undefined;
  modes: Record<string, Mode>;
  params: Record<string, unknown>;
  exclusionTag: { key: string; value: string };
  acceptReplay: boolean;
  approvalTtlHours: number;
  /** After a Reject, the rule leaves the resource alone for this long. */
  suppressionDays: number;
  /** Access Analyzer findings with no fix: recorded and posted (`notify`) or only logged (`skip`). */
  unhandledFindings: 'skip' | 'notify';
  /** After a fix answering an AWS Config rule, ask Config to evaluate that rule again now. */
  reevaluateConfigRules: boolean;
  /** After a fix answering a Security Hub finding, set its workflow (RESOLVED, or NOTIFIED while waiting). */
  updateSecurityHub: boolean;
  /** After a fix, the rule's own follow-up (asking Access Analyzer to re-scan a bucket). */
  ruleFollowUps: boolean;
  /** How long a claim on a resource lasts. */
  lockLeaseSeconds: number;
  /** The deployed stack's name: resources whose names start with it are the bot's own. */
  stackName: string;
  /** A member stack's hub account: decisions come from there, records go there. */
  hubAccount: string | undefined;
}

/** A claim on a resource: who holds it, until when, and the change it is for. */
export interface LockItem {
  owner?: string;
  leaseUntil?: number;
  /** The record of an unfinished change on this resource (an intent). */
  intent?: string;
  /** When the last change on this resource ended (epoch ms): reads older than this are stale. */
  settledAt?: number;
}

/** Why a conditional write did not happen: the items whose condition failed, as they are now. */
export interface Conflict {
  record?: ChangeRecord;
  lock?: LockItem;
  suppression?: Suppression;
  exemption?: Exemption;
  openApproval?: { approvalId: string; expiresAt: string };
  approval?: PendingApproval;
}

export type Written = { ok: true } | { ok: false; conflict: Conflict };

export interface ClaimRequest {
  /** The intent: status in-progress, with the plan and the state before it. */
  record: ChangeRecord;
  lockKey: string;
  owner: string;
  leaseUntil: number;
  now: number;
  /** When this invocation began reading the resource: a change settled after that makes its plan stale. */
  readSince: number;
  /** Absent for a rollback, which a person asked for. */
  guards?: Guards;
  /** An approved change: the approval must still be approved. */
  approvalId?: string;
}

/** Items whose presence stops a change: a person's Reject (suppression) and a time-boxed exception. */
export interface Guards {
  /** A Reject or an exception under any of these keys stops the change (`decisionParts`). */
  keys: string[];
}

export interface FinalizeRequest {
  record: ChangeRecord;
  lockKey: string;
  owner: string;
  now: number;
  approval?: { approvalId: string; to: 'applied' | 'failed' | 'stale' };
  /** Completing the intent of an invocation that stopped: its claim, run out, is taken over. */
  takeOver?: boolean;
  /** The resource was changed under this claim: reads that began before now are stale. */
  changed: boolean;
  /** A rollback marks the record it undid. */
  rolledBack?: { recordId: string; by: string };
}

export interface ApprovalRequest {
  record: ChangeRecord;
  approval: PendingApproval;
  openKey: string;
  now: number;
  guards: Guards;
}

/** The bot's own table: records, claims, approvals, suppressions and exceptions. */
export interface Ledger {
  /**
   * A final record, unless the event already has one that is settled or unfinished (and, with
   * guards, unless a suppression or exception stands). One request.
   */
  settle(record: ChangeRecord, guards?: Guards): Promise<Written>;
  /** The intent and the claim on the resource, in one request; refused with the reason. */
  claim(request: ClaimRequest): Promise<Written>;
  /** The final record and the claim released, in one request; false if the claim was lost. */
  finalize(request: FinalizeRequest): Promise<boolean>;
  /** Takes over the expired claim of a dead invocation on the same record; false if someone holds it. */
  takeOver(request: { lockKey: string; recordId: string; owner: string; leaseUntil: number; now: number }): Promise<boolean>;
  /** The record (pending-approval), the approval and the open-approval pointer, in one request. */
  requestApproval(request: ApprovalRequest): Promise<Written>;
  /** Notes where a record's message went, and on the approval its message, in one request. */
  setNotification(record: ChangeRecord, notification: Notification, approvalMessage?: { approvalId: string; channel: string; ts: string }): Promise<void>;
  getRecord(recordId: string): Promise<ChangeRecord | undefined>;
  getApproval(approvalId: string): Promise<PendingApproval | undefined>;
  listApprovals(): Promise<PendingApproval[]>;
  /**
   * Moves an approval from one status to another only if it is still in `from` (and, for a
   * decision, not expired): a double click or a replayed request changes it at most once.
   */
  transitionApproval(
    approvalId: string,
    change: {
      from: PendingApproval['status'];
      to: PendingApproval['status'];
      notExpiredAt?: string;
      set?: Partial<PendingApproval>;
      /** Leaving `pending`: the rule's open-approval pointer for the resource is closed, so a new finding may ask again. */
      closeOpen?: string;
      /** Back to `pending` (a hand-over that failed): the pointer is open again, if it still names this approval. */
      reopenOpen?: string;
    },
  ): Promise<boolean>;
  /** A Reject: the approval moves to rejected and the suppression is stored, in one request. */
  reject(approvalId: string, suppression: Suppression, at: string): Promise<boolean>;
  /** An exception: its record, the exemption and (when it answers one) the approval moved to exempted, in one request. */
  exempt(exemption: Exemption, record: ChangeRecord, at: string): Promise<boolean>;
  /** The longest-lasting exception kept under any key of the decision (`guardKeys`). */
  getExemption(ruleId: string, resource: string, scope?: string): Promise<Exemption | undefined>;
  /** The longest-lasting Reject kept under any key of the decision (`guardKeys`). */
  getSuppression(ruleId: string, resource: string, scope?: string): Promise<Suppression | undefined>;
  /**
   * At a hub: a member's record (and the approval it asks for or answers), as the member reports it.
   * The hub's own fields (its Slack message, a decision taken here) are kept.
   */
  /** A member's record (and approval) kept at the hub; false when one of them is another account's. */
  mirror(record: ChangeRecord, approval?: PendingApproval): Promise<boolean>;
}

/** Where records and approval requests go: Slack, the hub stack, or the log. */
export interface Announcer {
  /** `slack`, `hub` or `log`. */
  readonly kind: 'slack' | 'hub' | 'log';
  /**
   * Posts a record, or updates the message it belongs to. `lookFirst` asks to look for a message
   * already posted for this record (after a crash between the post and its record), so that a
   * record is never posted twice.
   */
  announce(message: Announcement, options: { lookFirst: boolean }): Promise<Notification>;
}

export interface Announcement {
  record: ChangeRecord;
  /** The approval the record asks for or answers (a hub keeps a copy, to show and decide it). */
  approval?: PendingApproval;
  ruleTitle: string;
  risk: Risk;
  /** Present while the change waits for a decision: adds the buttons. */
  approvalId?: string;
  /** The message to update instead of posting a new one (the approval request). */
  updates?: { channel: string; ts: string };
  note?: string;
  consoleUrl?: string;
}

/** What AWS Config says a rule is (DescribeConfigRules): its owner and, for managed rules, the identifier. */
export interface ConfigRuleInfo {
  name: string;
  owner: 'AWS' | 'CUSTOM_LAMBDA' | 'CUSTOM_POLICY' | string;
  identifier?: string;
  parameters?: Record<string, string>;
}

export interface ConfigRuleDirectory {
  /** null when AWS Config has no rule of that name. */
  describe(name: string): Promise<ConfigRuleInfo | null>;
}

/** Follow-ups after a verified change or an approval request, each best-effort. */
export interface FollowUps {
  reevaluateConfigRule?(name: string): Promise<void>;
  updateSecurityHubFinding?(trigger: SecurityHubTrigger, status: 'RESOLVED' | 'NOTIFIED', note: string): Promise<void>;
}

export interface EngineDeps {
  /** The rules this function may choose from: its own (Lambda) or all of them (local tools). */
  rules: readonly AnyRule[];
  /** The SDK clients a rule reads and writes with (each call goes to the call log). */
  clientsFor(rule: AnyRule): Record<string, unknown>;
  /** Required unless dry-running. */
  ledger?: Ledger | undefined;
  settings: Settings;
  identity: { account: string; region: string };
  log: EngineLog;
  announcer?: Announcer | undefined;
  configRules?: ConfigRuleDirectory | undefined;
  followUps?: FollowUps | undefined;
  now?: () => number;
  /** The longest a claim may last in this invocation (Lambda: the time it has left). */
  maxLeaseMs?: () => number;
}
