import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DETAIL_TYPE, EVENT_SOURCE } from './constants.ts';

export interface ApprovedDetail {
  approvalId: string;
  ruleId: string;
}

/** Hands an approved change to the rule's own function. */
export interface ApprovalEmitter {
  emitApproved(detail: ApprovedDetail): Promise<void>;
}

export function approvedEvent(detail: ApprovedDetail, bus: string) {
  return {
    EventBusName: bus,
    Source: EVENT_SOURCE.approvals,
    DetailType: DETAIL_TYPE.remediationApproved,
    Detail: JSON.stringify(detail),
  };
}

export class EventBridgeEmitter implements ApprovalEmitter {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly bus: string,
  ) {}

  async emitApproved(detail: ApprovedDetail): Promise<void> {
    const output = await this.client.send(new PutEventsCommand({ Entries: [approvedEvent(detail, this.bus)] }));
    const failed = output.FailedEntryCount ?? 0;
    if (failed > 0) {
      const entry = output.Entries?.[0];
      throw new Error(`EventBridge refused the approval event: ${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`.trim());
    }
  }
}
