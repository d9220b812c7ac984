import type { ApprovalRequest, ClaimRequest, Conflict, FinalizeRequest, Guards, Ledger, LockItem, Written } from '../../core/engine/ports.ts';
import { type ChangeRecord, decisionKey, decisionParts, type Exemption, guardKeys, latestEnding, type Notification, type PendingApproval, type Suppression } from '../../core/model/index.ts';

const clone = <T>(value: T): T => structuredClone(value);

/**
 * The ledger's contract in memory, for unit tests: the same conditions as the DynamoDB ledger
 * (test/integration/ledger-contract.test.ts runs the same checks against both), each method one
 * request, counted. `stopAt` makes a named request hang for ever after (or before) it takes
 * effect, as if the process died right there.
 */
export class MemoryLedger implements Ledger {
  readonly records = new Map<string, ChangeRecord>();
  readonly approvals = new Map<string, PendingApproval>();
  readonly locks = new Map<string, LockItem>();
  readonly open = new Map<string, { approvalId: string; expiresAt: string; closed?: boolean }>();
  readonly suppressions = new Map<string, Suppression>();
  readonly exemptions = new Map<string, Exemption>();
  requests: string[] = [];
  private stops: Array<{ method: string; when: 'before' | 'after'; nth: number }> = [];

  /** The next time `method` is called (the nth time, from now), it never returns. */
  stopAt(method: keyof Ledger, when: 'before' | 'after' = 'after', nth = 1): void {
    this.stops.push({ method, when, nth });
  }

  private async request<T>(method: string, work: () => T): Promise<T> {
    this.requests.push(method);
    const stop = this.stops.find((candidate) => candidate.method === method);
    if (stop) stop.nth -= 1;
    const dies = stop !== undefined && stop.nth === 0;
    if (dies) this.stops = this.stops.filter((candidate) => candidate !== stop);
    if (dies && stop.when === 'before') return new Promise<T>(() => {});
    const result = work();
    if (dies) return new Promise<T>(() => {});
    return clone(result);
  }

  /** The record standing in the way of writing `record`, if any (RECORD_WRITABLE and its message clause). */
  private writable(record: ChangeRecord): ChangeRecord | undefined {
    const existing = this.records.get(record.recordId);
    if (!existing) return undefined;
    const retryable = existing.status === 'final' && existing.outcome === 'failed' && !existing.needsPerson;
    const message = existing.notification?.ts;
    return retryable && (record.notification?.ts ? message === record.notification.ts : message === undefined) ? undefined : existing;
  }

  private guardConflict(guards: Guards | undefined, now: string): Conflict {
    if (!guards) return {};
    const conflict: Conflict = {};
    for (const key of guards.keys) {
      const suppression = this.suppressions.get(key);
      if (suppression && suppression.until > now) conflict.suppression = clone(suppression);
      const exemption = this.exemptions.get(key);
      if (exemption && exemption.until > now) conflict.exemption = clone(exemption);
    }
    return conflict;
  }

  settle(record: ChangeRecord, guards?: Guards): Promise<Written> {
    return this.request('settle', () => {
      const conflict: Conflict = { ...this.guardConflict(guards, record.updatedAt) };
      const existing = this.writable(record);
      if (existing) conflict.record = clone(existing);
      if (Object.keys(conflict).length > 0) return { ok: false, conflict } as Written;
      this.records.set(record.recordId, clone(record));
      return { ok: true } as Written;
    });
  }

  claim(request: ClaimRequest): Promise<Written> {
    return this.request('claim', () => {
      const conflict: Conflict = { ...this.guardConflict(request.guards, new Date(request.now).toISOString()) };
      const lock = this.locks.get(request.lockKey);
      if (lock) {
        const leaseOk = lock.leaseUntil === undefined || lock.leaseUntil < request.now;
        const intentOk = lock.intent === undefined || lock.intent === request.record.recordId;
        const freshOk = lock.settledAt === undefined || lock.settledAt < request.readSince;
        if (!leaseOk || !intentOk || !freshOk) conflict.lock = clone(lock);
      }
      const existing = this.writable(request.record);
      if (existing) conflict.record = clone(existing);
      if (request.approvalId) {
        const approval = this.approvals.get(request.approvalId);
        if (approval?.status !== 'approved') conflict.approval = clone(approval ?? ({ approvalId: request.approvalId, status: 'gone' } as never));
      }
      if (Object.keys(conflict).length > 0) return { ok: false, conflict } as Written;
      this.locks.set(request.lockKey, { ...lock, owner: request.owner, leaseUntil: request.leaseUntil, intent: request.record.recordId });
      this.records.set(request.record.recordId, clone(request.record));
      return { ok: true } as Written;
    });
  }

  finalize(request: FinalizeRequest): Promise<boolean> {
    return this.request('finalize', () => {
      const current = this.records.get(request.record.recordId);
      const lock = this.locks.get(request.lockKey);
      if (current?.status !== 'in-progress' || !lock) return false;
      const lockOk = request.takeOver ? lock.intent === request.record.recordId && (lock.leaseUntil ?? 0) < request.now : lock.owner === request.owner;
      if (!lockOk) return false;
      if (request.approval && this.approvals.get(request.approval.approvalId)?.status !== 'approved') return false;
      if (request.rolledBack && !this.records.has(request.rolledBack.recordId)) return false;
      const { claim: _claim, ...record } = request.record;
      this.records.set(record.recordId, clone(record));
      this.locks.set(request.lockKey, { leaseUntil: 0, ...(request.changed ? { settledAt: request.now } : lock.settledAt !== undefined ? { settledAt: lock.settledAt } : {}) });
      if (request.approval) {
        const approval = this.approvals.get(request.approval.approvalId) as PendingApproval;
        this.approvals.set(approval.approvalId, { ...approval, status: request.approval.to, resultRecordId: record.recordId });
      }
      if (request.rolledBack) {
        const original = this.records.get(request.rolledBack.recordId) as ChangeRecord;
        this.records.set(original.recordId, { ...original, rolledBackBy: request.rolledBack.by });
      }
      return true;
    });
  }

  takeOver(request: { lockKey: string; recordId: string; owner: string; leaseUntil: number; now: number }): Promise<boolean> {
    return this.request('takeOver', () => {
      const lock = this.locks.get(request.lockKey);
      const record = this.records.get(request.recordId);
      if (!lock || lock.intent !== request.recordId || (lock.leaseUntil ?? 0) >= request.now || record?.status !== 'in-progress') return false;
      this.locks.set(request.lockKey, { ...lock, owner: request.owner, leaseUntil: request.leaseUntil });
      this.records.set(request.recordId, { ...record, claim: { owner: request.owner, leaseUntil: request.leaseUntil, lockKey: request.lockKey } });
      return true;
    });
  }

  requestApproval(request: ApprovalRequest): Promise<Written> {
    return this.request('requestApproval', () => {
      const now = new Date(request.now).toISOString();
      const conflict: Conflict = { ...this.guardConflict(request.guards, now) };
      const existing = this.writable(request.record);
      if (existing) conflict.record = clone(existing);
      const open = this.open.get(request.openKey);
      if (open && open.expiresAt > now && !open.closed) conflict.openApproval = { approvalId: open.approvalId, expiresAt: open.expiresAt };
      if (Object.keys(conflict).length > 0) return { ok: false, conflict } as Written;
      this.records.set(request.record.recordId, clone(request.record));
      this.approvals.set(request.approval.approvalId, clone(request.approval));
      this.open.set(request.openKey, { approvalId: request.approval.approvalId, expiresAt: request.approval.expiresAt });
      return { ok: true } as Written;
    });
  }

  setNotification(record: ChangeRecord, notification: Notification, approvalMessage?: { approvalId: string; channel: string; ts: string }): Promise<void> {
    return this.request('setNotification', () => {
      const current = this.records.get(record.recordId);
      if (!current) throw new Error('ConditionalCheckFailedException');
      this.records.set(record.recordId, { ...current, notification: clone(notification) });
      if (approvalMessage) {
        const approval = this.approvals.get(approvalMessage.approvalId);
        if (approval) this.approvals.set(approval.approvalId, { ...approval, message: { channel: approvalMessage.channel, ts: approvalMessage.ts } });
      }
    });
  }

  getRecord(recordId: string): Promise<ChangeRecord | undefined> {
    return this.request('getRecord', () => this.records.get(recordId));
  }

  getApproval(approvalId: string): Promise<PendingApproval | undefined> {
    return this.request('getApproval', () => this.approvals.get(approvalId));
  }

  mirror(record: ChangeRecord, approval?: PendingApproval): Promise<boolean> {
    return this.request('mirror', () => {
      const existing = this.records.get(record.recordId);
      const held = approval ? this.approvals.get(approval.approvalId) : undefined;
      const other = (owner: { account: string; region: string }) => owner.account !== record.account || owner.region !== record.region;
      if ((existing && other(existing)) || (held && other(held.finding))) return false;
      this.records.set(record.recordId, { ...clone(record), ...(existing?.notification ? { notification: existing.notification } : {}) });
      if (approval) {
        const copy = this.approvals.get(approval.approvalId);
        const memberSettled = !['pending', 'approved'].includes(approval.status);
        this.approvals.set(approval.approvalId, {
          ...clone(approval),
          ...(copy?.message ? { message: copy.message } : {}),
          ...(copy && !memberSettled ? { status: copy.status, ...(copy.decidedBy ? { decidedBy: copy.decidedBy } : {}), ...(copy.decidedAt ? { decidedAt: copy.decidedAt } : {}) } : {}),
        });
      }
      return true;
    });
  }

  getExemption(ruleId: string, resource: string, scope?: string): Promise<Exemption | undefined> {
    return this.request('getExemption', () => latestEnding(guardKeys({ ruleId, resource, scope }).map((key) => this.exemptions.get(key))));
  }

  getSuppression(ruleId: string, resource: string, scope?: string): Promise<Suppression | undefined> {
    return this.request('getSuppression', () => latestEnding(guardKeys({ ruleId, resource, scope }).map((key) => this.suppressions.get(key))));
  }

  listApprovals(): Promise<PendingApproval[]> {
    return this.request('listApprovals', () => [...this.approvals.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt)));
  }

  private move(approvalId: string, change: { from: PendingApproval['status']; to: PendingApproval['status']; notExpiredAt?: string; set?: Partial<PendingApproval> }): boolean {
    const approval = this.approvals.get(approvalId);
    if (!approval || approval.status !== change.from) return false;
    if (change.notExpiredAt && !(approval.expiresAt > change.notExpiredAt)) return false;
    this.approvals.set(approvalId, { ...approval, ...change.set, status: change.to });
    return true;
  }

  private close(key: string, approvalId: string): void {
    const open = this.open.get(key);
    if (open && open.approvalId === approvalId) this.open.set(key, { ...open, closed: true });
  }

  transitionApproval(
    approvalId: string,
    change: {
      from: PendingApproval['status'];
      to: PendingApproval['status'];
      notExpiredAt?: string;
      set?: Partial<PendingApproval>;
      closeOpen?: string;
      reopenOpen?: string;
    },
  ): Promise<boolean> {
    return this.request('transitionApproval', () => {
      const moved = this.move(approvalId, change);
      if (moved && change.closeOpen) this.close(change.closeOpen, approvalId);
      const open = change.reopenOpen ? this.open.get(change.reopenOpen) : undefined;
      if (moved && change.reopenOpen && open?.approvalId === approvalId) this.open.set(change.reopenOpen, { ...open, closed: false });
      return moved;
    });
  }

  reject(approvalId: string, suppression: Suppression, at: string): Promise<boolean> {
    return this.request('reject', () => {
      const moved = this.move(approvalId, { from: 'pending', to: 'rejected', notExpiredAt: at, set: { decidedBy: suppression.by, decidedAt: at } });
      if (!moved) return false;
      const key = decisionKey(suppression);
      for (const part of decisionParts(suppression)) {
        const held = this.suppressions.get(part);
        if (!held || held.until <= suppression.until) this.suppressions.set(part, clone(suppression));
      }
      this.close(key, approvalId);
      return true;
    });
  }

  exempt(exemption: Exemption, record: ChangeRecord, at: string): Promise<boolean> {
    return this.request('exempt', () => {
      if (this.records.has(record.recordId)) return false;
      if (exemption.approvalId) {
        const moved = this.move(exemption.approvalId, { from: 'pending', to: 'exempted', notExpiredAt: at, set: { decidedBy: exemption.by, decidedAt: at, resultRecordId: record.recordId } });
        if (!moved) return false;
      }
      const key = decisionKey(exemption);
      for (const part of decisionParts(exemption)) {
        const held = this.exemptions.get(part);
        if (!held || held.until <= exemption.until) this.exemptions.set(part, clone(exemption));
      }
      this.records.set(record.recordId, clone(record));
      if (exemption.approvalId) this.close(key, exemption.approvalId);
      return true;
    });
  }
}
