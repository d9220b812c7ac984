import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Announcement, Announcer } from '../engine/ports.ts';
import type { Decision } from '../engine/decide.ts';
import { DETAIL_TYPE, EVENT_SOURCE, type Notification, type PendingApproval, type Step } from '../model/index.ts';
import type { DecisionSink } from '../slack/interactivity.ts';

type Entry = { EventBusName: string; Source: string; DetailType: string; Detail: string };

async function put(client: EventBridgeClient, entry: Entry): Promise<void> {
  const { PutEventsCommand } = await import('@aws-sdk/client-eventbridge');
  const output = await client.send(new PutEventsCommand({ Entries: [entry] }));
  if ((output.FailedEntryCount ?? 0) > 0) {
    const failed = output.Entries?.[0];
    throw new Error(`EventBridge refused the event: ${failed?.ErrorCode ?? 'unknown'} ${failed?.ErrorMessage ?? ''}`.trim());
  }
}

export function approvedEntry(detail: { approvalId: string; ruleId: string }, bus: string): Entry {
  return { EventBusName: bus, Source: EVENT_SOURCE.approvals, DetailType: DETAIL_TYPE.remediationApproved, Detail: JSON.stringify(detail) };
}

/**
 * Carries a decision to where the resource is. In one account, an approval goes to the rule's own
 * function on the account's bus ("Remediation Approved"). In a hub, every decision goes to the
 * member account's driftfix bus ("Remediation Decision"), which accepts it from the hub only.
 */
export class EventBridgeSink implements DecisionSink {
  /** This stack's account (in a hub, set per invocation from the function's ARN). */
  ownAccount: string | undefined;
  /** This stack's region: the hub account's stacks in other regions are members too. */
  ownRegion: string | undefined;

  constructor(
    /** A client in a region: the stack's own, or a member's (PutEvents goes to the bus's own region). */
    private readonly client: (region?: string) => Promise<EventBridgeClient>,
    private readonly bus: string,
    /** In a hub: the name of the members' driftfix bus. */
    private readonly memberBus?: string | undefined,
  ) {}

  isRemote(approval: PendingApproval): boolean {
    return Boolean(this.memberBus) && !this.isOwn(approval);
  }

  private isOwn(approval: PendingApproval): boolean {
    return (this.ownAccount === undefined || approval.finding.account === this.ownAccount) && (this.ownRegion === undefined || approval.finding.region === this.ownRegion);
  }

  serves(approval: PendingApproval): boolean {
    // A hub serves its members (the hub's bus admitted their records); a single stack its own account.
    return Boolean(this.memberBus) || this.isOwn(approval);
  }

  async deliver(approval: PendingApproval, decision: { decision: Decision; by: string; days?: number; reason?: string }): Promise<void> {
    if (!this.isRemote(approval)) {
      await put(await this.client(), approvedEntry({ approvalId: approval.approvalId, ruleId: approval.ruleId }, this.bus));
      return;
    }
    const { account, region } = approval.finding;
    await put(await this.client(region), {
      EventBusName: `arn:${partitionOf(region)}:events:${region}:${account}:event-bus/${this.memberBus}`,
      Source: EVENT_SOURCE.hub,
      DetailType: DETAIL_TYPE.decision,
      Detail: JSON.stringify({ approvalId: approval.approvalId, ruleId: approval.ruleId, ...decision }),
    });
  }
}

/** The partition a region belongs to (China and GovCloud regions have their own). */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** EventBridge's entry limit; a record's states are left out when they would not fit. */
const MAX_DETAIL_BYTES = 200 * 1024;

/**
 * A member stack's records go to the hub's bus, which posts them to the one Slack channel of the
 * organization. Delivered once PutEvents accepts it; the hub posts, updates and retries.
 */
export class HubAnnouncer implements Announcer {
  readonly kind = 'hub' as const;
  constructor(
    private readonly client: () => Promise<EventBridgeClient>,
    private readonly hubBusArn: string,
  ) {}

  async announce(announcement: Announcement, options: { lookFirst: boolean }): Promise<Notification> {
    let detail = JSON.stringify({ ...announcement, lookFirst: options.lookFirst });
    if (Buffer.byteLength(detail) > MAX_DETAIL_BYTES) {
      // The states and step inputs stay in the member's table; the hub shows the summaries.
      const slimSteps = (steps: Step[]) => steps.map((step) => ({ ...step, input: {}, before: null, after: null, undo: null }));
      const { record, approval } = announcement;
      const slim = {
        ...record,
        ...(record.before ? { before: { summary: record.before.summary, state: null } } : {}),
        ...(record.after ? { after: { summary: record.after.summary, state: null } } : {}),
        steps: slimSteps(record.steps),
      };
      detail = JSON.stringify({ ...announcement, record: slim, ...(approval ? { approval: { ...approval, steps: slimSteps(approval.steps) } } : {}), lookFirst: options.lookFirst });
    }
    await put(await this.client(), { EventBusName: this.hubBusArn, Source: EVENT_SOURCE.member, DetailType: DETAIL_TYPE.record, Detail: detail });
    return { status: 'sent', attempts: 1 };
  }
}
