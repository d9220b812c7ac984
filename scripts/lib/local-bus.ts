import { randomUUID } from 'node:crypto';
import { approvedEntry } from '../../core/aws/emitter.ts';
import type { Decision } from '../../core/engine/decide.ts';
import type { EventResult } from '../../core/engine/results.ts';
import type { PendingApproval } from '../../core/model/index.ts';
import type { DecisionSink } from '../../core/slack/interactivity.ts';
import type { LocalRuntime } from './local-runtime.ts';
import { replayEvent } from './replay-files.ts';

/** An event as EventBridge delivers it. */
export function busEvent(entry: { Source: string; DetailType: string; Detail: string }, where: { account: string; region: string }) {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': entry.DetailType,
    source: entry.Source,
    account: where.account,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: where.region,
    resources: [],
    detail: JSON.parse(entry.Detail) as unknown,
  };
}

/**
 * The event bus of a local run: an approval is wrapped as EventBridge would deliver it and handed,
 * at once, to the function whose pattern matches (the same patterns as the deployed stack).
 */
export class LocalBus implements DecisionSink {
  isRemote(): boolean {
    return false;
  }

  serves(approval: PendingApproval): boolean {
    return approval.finding.account === this.runtime.identity.account && approval.finding.region === this.runtime.identity.region;
  }

  readonly delivered: EventResult[] = [];

  constructor(private readonly runtime: LocalRuntime) {}

  async deliver(approval: PendingApproval, decision: { decision: Decision }): Promise<void> {
    if (decision.decision !== 'approve') return;
    const event = busEvent(approvedEntry({ approvalId: approval.approvalId, ruleId: approval.ruleId }, 'default'), this.runtime.identity);
    this.delivered.push(await replayEvent(event, this.runtime, { apply: true }));
  }
}
