import type { Outcome, Step } from '../model/index.ts';

/** The operator contract: one of these per event, as `npm run replay -- --json` prints it. */
export interface EventResult {
  outcome: Outcome;
  rule?: string;
  resource?: string;
  reason: string;
  /** The AWS calls this invocation made outside the bot's own table, and how many changed something. */
  calls: string[];
  writes: number;
  recordId?: string;
  approvalId?: string;
  eventId?: string;
  steps?: Array<Pick<Step, 'operation' | 'description'>>;
  before?: string;
  after?: string;
  /** The event was handled before: this is its record as it is now. */
  duplicate?: boolean;
  /** Whether the record reached Slack (or the hub); `failed` makes the Lambda retry (the change is not repeated). */
  notification?: 'posted' | 'sent' | 'log-only' | 'failed';
  /**
   * On every failure the engine reports: whether another delivery can settle it (a live claim, a
   * throttled call, a write whose outcome is unknown: Lambda retries) or not (a permanent refusal,
   * a failure for a person).
   */
  retryable?: boolean;
}

export function bare(outcome: Outcome, reason: string, extra: Partial<EventResult> = {}): EventResult {
  return { outcome, reason, calls: [], writes: 0, ...extra };
}
