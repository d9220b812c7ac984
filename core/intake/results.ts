import { EVENT_SOURCE, type Finding, parseArn } from '../model/index.ts';
import type { Envelope } from './schemas.ts';

export interface IntakeContext {
  /** The account and region the bot runs in; it acts nowhere else. */
  account: string;
  region: string;
  acceptReplay: boolean;
  now: () => number;
  /** A member stack's hub: decisions are accepted from this account only. */
  hubAccount?: string | undefined;
}

/** A person approved a stored plan; only the id is taken from the event, the rest from the table. */
export interface ApprovedEvent {
  eventId: string;
  approvalId: string;
  ruleId: string;
}

/** A decision made at the hub, for an approval of this (member) account. */
export interface HubDecision {
  eventId: string;
  approvalId: string;
  ruleId: string;
  decision: 'approve' | 'reject' | 'exempt';
  by: string;
  days?: number | undefined;
  reason?: string | undefined;
}

/** A finding driftfix has no fix for: recorded as `notified` when so configured. */
export interface UnhandledFinding {
  eventId: string;
  account: string;
  region: string;
  replayed: boolean;
  findingId: string;
  resourceType: string;
  resource: string;
  findingType?: string;
  isPublic: boolean;
  reason: string;
}

export type IntakeResult =
  | { kind: 'finding'; finding: Finding }
  | { kind: 'approved'; approved: ApprovedEvent }
  | { kind: 'decision'; decision: HubDecision }
  | { kind: 'ignored'; reason: string; eventId?: string }
  | { kind: 'skipped'; reason: string; eventId?: string; unhandled?: UnhandledFinding }
  | { kind: 'rejected'; reason: string; eventId?: string };

/** What a person needs to know of a finding with no fix, from whichever Access Analyzer shape it has. */
export function unhandledFinding(envelope: Envelope, reason: string): UnhandledFinding {
  const detail = envelope.detail;
  const text = (value: unknown) => (typeof value === 'string' ? value.slice(0, 2048) : '');
  return {
    eventId: envelope.id,
    account: envelope.account,
    region: envelope.region,
    replayed: envelope.source === EVENT_SOURCE.replay,
    findingId: text(detail.id) || text(detail.findingId) || envelope.id,
    resourceType: text(detail.resourceType) || 'unknown',
    resource: text(detail.resource) || 'unknown',
    ...(text(detail.findingType) ? { findingType: text(detail.findingType) } : {}),
    isPublic: detail.isPublic === true,
    reason,
  };
}

/** An ARN names this account and region (or none, as S3 bucket ARNs do). */
export function arnIsLocal(arn: string, where: { account: string; region: string }): boolean {
  const parsed = parseArn(arn);
  if (!parsed) return false;
  return (parsed.account === '' || parsed.account === where.account) && (parsed.region === '' || parsed.region === where.region);
}
