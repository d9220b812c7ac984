import { randomUUID } from 'node:crypto';
import type { EventResult } from '../../functions/commons/engine.ts';
import { approvedEvent, type ApprovalEmitter, type ApprovedDetail } from '../../functions/commons/event-emitter.ts';
import { dispatchEvent, type LocalRuntime } from './local-runtime.ts';

/**
 * The event bus of a local run: an emitted event is wrapped as EventBridge would deliver it and
 * handed to the function whose pattern matches (the same patterns as serverless.yml), at once.
 */
export class LocalBus implements ApprovalEmitter {
  readonly delivered: EventResult[] = [];

  constructor(private readonly runtime: LocalRuntime) {}

  async emitApproved(detail: ApprovedDetail): Promise<void> {
    const entry = approvedEvent(detail, 'default');
    const event = {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.DetailType,
      source: entry.Source,
      account: this.runtime.identity.account,
      time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.runtime.identity.region,
      resources: [],
      detail: JSON.parse(entry.Detail) as unknown,
    };
    this.delivered.push(await dispatchEvent(event, this.runtime, { dryRun: false }));
  }
}
