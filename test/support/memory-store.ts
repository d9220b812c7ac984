import type { ApprovalStatus, ChangeRecord, PendingApproval, Suppression } from '../../core/model/record.ts';
import type { RecordStore } from '../../core/aws/record-store.ts';

/** The RecordStore contract in memory, for unit tests that fake AWS with aws-sdk-client-mock. */
export class MemoryRecordStore implements RecordStore {
  readonly records = new Map<string, ChangeRecord>();
  readonly approvals = new Map<string, PendingApproval>();
  readonly locks = new Map<string, { owner: string; until: number }>();
  /** Every record as written, in order, in-progress ones included. */
  readonly history: ChangeRecord[] = [];

  async getRecord(recordId: string) {
    return structuredClone(this.records.get(recordId));
  }
  async putRecord(record: ChangeRecord) {
    this.records.set(record.recordId, structuredClone(record));
    this.history.push(structuredClone(record));
  }
  async putApproval(approval: PendingApproval) {
    if (this.approvals.has(approval.approvalId)) throw new Error('ConditionalCheckFailedException');
    this.approvals.set(approval.approvalId, structuredClone(approval));
  }
  async getApproval(approvalId: string) {
    return structuredClone(this.approvals.get(approvalId));
  }
  async listApprovals() {
    return [...this.approvals.values()];
  }
  async findOpenApproval(ruleId: string, resource: string, now: number) {
    return [...this.approvals.values()].find(
      (a) => a.ruleId === ruleId && a.resource === resource && a.status === 'pending' && Date.parse(a.expiresAt) > now,
    );
  }
  readonly suppressions = new Map<string, Suppression>();
  async transitionApproval(
    approvalId: string,
    change: { from: ApprovalStatus; to: ApprovalStatus; notExpiredAt?: string; set?: Partial<PendingApproval> },
  ) {
    const approval = this.approvals.get(approvalId);
    if (!approval || approval.status !== change.from) return false;
    if (change.notExpiredAt && !(approval.expiresAt > change.notExpiredAt)) return false;
    this.approvals.set(approvalId, { ...approval, ...structuredClone(change.set ?? {}), status: change.to });
    return true;
  }
  async setApprovalMessage(approvalId: string, message: { channel: string; ts: string }) {
    const approval = this.approvals.get(approvalId);
    if (approval) approval.message = message;
  }
  async putSuppression(suppression: Suppression) {
    this.suppressions.set(`${suppression.ruleId}#${suppression.resource}`, structuredClone(suppression));
  }
  async getSuppression(ruleId: string, resource: string, now: number) {
    const found = this.suppressions.get(`${ruleId}#${resource}`);
    return found && Date.parse(found.until) > now ? structuredClone(found) : undefined;
  }
  async acquireLock(resource: string, owner: string, leaseMs: number) {
    const held = this.locks.get(resource);
    if (held && held.until > Date.now()) return false;
    this.locks.set(resource, { owner, until: Date.now() + leaseMs });
    return true;
  }
  async releaseLock(resource: string, owner: string) {
    if (this.locks.get(resource)?.owner === owner) this.locks.delete(resource);
  }
}
