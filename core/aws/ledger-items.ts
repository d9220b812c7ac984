import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Conflict, Guards, LockItem } from '../engine/ports.ts';
import type { ChangeRecord, PendingApproval } from '../model/index.ts';

/** The items of the records table, and the conditions under which each may be written. */
export const KEY = {
  record: (id: string) => `record#${id}`,
  approval: (id: string) => `approval#${id}`,
  lock: (key: string) => `lock#${key}`,
  open: (key: string) => `open-approval#${key}`,
  suppression: (key: string) => `suppress#${key}`,
  exemption: (key: string) => `exempt#${key}`,
};

export const DAY_SECONDS = 86_400;
/**
 * A record may be written over only when it is a failure a retry can settle, and, when that failure
 * was posted, only by a version that carries its message (`writableCondition`): the retry's outcome
 * updates the message instead of posting a second one. A refused write returns the old record.
 */
export const RECORD_WRITABLE = 'attribute_not_exists(pk) OR (#status = :final AND outcome = :failed AND attribute_not_exists(needsPerson))';
export const RECORD_NAMES = { '#status': 'status' };
export const RECORD_VALUES = { ':final': 'final', ':failed': 'failed' };

/** RECORD_WRITABLE for this record: over a posted failure only with that failure's message. */
export function writableCondition(record: ChangeRecord): { ConditionExpression: string; ExpressionAttributeNames: Record<string, string>; ExpressionAttributeValues: Record<string, unknown> } {
  const ts = record.notification?.ts;
  const names = { ...RECORD_NAMES, '#notification': 'notification', '#ts': 'ts' };
  const message = ts ? '#notification.#ts = :ts' : 'attribute_not_exists(#notification.#ts)';
  return {
    ConditionExpression: `${RECORD_WRITABLE.slice(0, -1)} AND ${message})`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: { ...RECORD_VALUES, ...(ts ? { ':ts': ts } : {}) },
  };
}
export const NOT_ACTIVE = 'attribute_not_exists(pk) OR #until <= :now';

export type Item = Record<string, unknown>;
export type TransactItem = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>[number];


export function putRecord(table: string, record: ChangeRecord, condition: string): TransactItem {
  return {
    Put: {
      TableName: table,
      Item: { pk: KEY.record(record.recordId), itemType: 'record', ...record },
      ...(condition === RECORD_WRITABLE ? writableCondition(record) : { ConditionExpression: condition }),
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/** For each guard key, its suppression and its exemption must not be active; `guardKinds` names them in order. */
export function guardChecks(table: string, guards: Guards, now: string): TransactItem[] {
  return guards.keys.flatMap((key) => [KEY.suppression(key), KEY.exemption(key)]).map((pk) => ({
    ConditionCheck: {
      TableName: table,
      Key: { pk },
      ConditionExpression: NOT_ACTIVE,
      ExpressionAttributeNames: { '#until': 'until' },
      ExpressionAttributeValues: { ':now': now },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  }));
}

/** A decision item, written only if none is there or the one there ends no later (a concurrent longer one wins). */
export function keepUntil(table: string, pk: string, fields: Record<string, unknown>, until: string): TransactItem {
  return {
    Put: {
      TableName: table,
      Item: { pk, ...fields },
      ConditionExpression: 'attribute_not_exists(pk) OR #until <= :until',
      ExpressionAttributeNames: { '#until': 'until' },
      ExpressionAttributeValues: { ':until': until },
    },
  };
}

export function guardKinds(guards: Guards): Array<'suppression' | 'exemption'> {
  return guards.keys.flatMap(() => ['suppression', 'exemption'] as const);
}

export function approvalMove(
  table: string,
  approvalId: string,
  change: { from: PendingApproval['status']; to: PendingApproval['status']; notExpiredAt?: string; set?: Partial<PendingApproval> },
): TransactItem {
  const names: Record<string, string> = { '#status': 'status' };
  const values: Record<string, unknown> = { ':from': change.from, ':to': change.to };
  const assignments = ['#status = :to'];
  for (const [index, [key, value]] of Object.entries(change.set ?? {}).entries()) {
    if (value === undefined || key === 'status') continue;
    names[`#f${index}`] = key;
    values[`:v${index}`] = value;
    assignments.push(`#f${index} = :v${index}`);
  }
  let condition = 'attribute_exists(pk) AND #status = :from';
  if (change.notExpiredAt) {
    names['#expiresAt'] = 'expiresAt';
    values[':now'] = change.notExpiredAt;
    condition += ' AND #expiresAt > :now';
  }
  return {
    Update: {
      TableName: table,
      Key: { pk: KEY.approval(approvalId) },
      UpdateExpression: `SET ${assignments.join(', ')}`,
      ConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    },
  };
}

/** The open-approval pointer of a rule and resource, closed if it still points at this approval. */
export function closePointer(table: string, key: string, approvalId: string): TransactItem {
  return {
    Update: {
      TableName: table,
      Key: { pk: KEY.open(key) },
      UpdateExpression: 'SET closed = :closed, approvalId = if_not_exists(approvalId, :id)',
      ConditionExpression: 'attribute_not_exists(pk) OR approvalId = :id',
      ExpressionAttributeValues: { ':closed': true, ':id': approvalId },
    },
  };
}


/** A dead invocation's run-out claim taken over: the lock, and the intent's own claim so that it names the live lease. */
export function takeOverItems(table: string, request: { lockKey: string; recordId: string; owner: string; leaseUntil: number; now: number }): TransactItem[] {
  const claim = { owner: request.owner, leaseUntil: request.leaseUntil, lockKey: request.lockKey };
  return [
    {
      Update: {
        TableName: table,
        Key: { pk: KEY.lock(request.lockKey) },
        UpdateExpression: 'SET #owner = :owner, leaseUntil = :lease',
        ConditionExpression: 'intent = :record AND leaseUntil < :now',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':owner': request.owner, ':lease': request.leaseUntil, ':record': request.recordId, ':now': request.now },
      },
    },
    {
      Update: {
        TableName: table,
        Key: { pk: KEY.record(request.recordId) },
        UpdateExpression: 'SET claim = :claim',
        ConditionExpression: '#status = :progress',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':claim': claim, ':progress': 'in-progress' },
      },
    },
  ];
}

/** The open-approval pointer opened again, if it still names this approval. */
export function reopenPointer(table: string, key: string, approvalId: string): TransactItem {
  return {
    Update: {
      TableName: table,
      Key: { pk: KEY.open(key) },
      UpdateExpression: 'REMOVE closed',
      ConditionExpression: 'approvalId = :id',
      ExpressionAttributeValues: { ':id': approvalId },
    },
  };
}

/** Items are written by this module only; the table's own keys are dropped on the way out. */
export function strip<T>(item: Record<string, unknown>): T {
  const { pk: _pk, itemType: _itemType, ttl: _ttl, ...rest } = item;
  return rest as T;
}

export function withoutClaim(record: ChangeRecord): ChangeRecord {
  const { claim: _claim, ...rest } = record;
  return rest;
}


/** Why a transaction was refused: the old values of the items whose condition failed, by kind; anything else is thrown on. */
export function conflictOf(error: unknown, kinds: ReadonlyArray<keyof Conflict>): Conflict {
  if (!(error instanceof TransactionCanceledException) && (error as Error).name !== 'TransactionCanceledException') throw error;
  const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
  if (!reasons.some((reason) => reason.Code === 'ConditionalCheckFailed')) throw error;
  const conflict: Conflict = {};
  reasons.forEach((reason, index) => {
    const kind = kinds[index];
    if (reason.Code !== 'ConditionalCheckFailed' || !kind) return;
    const item = reason.Item ? strip<Item>(unmarshall(reason.Item as never)) : {};
    if (kind === 'lock') conflict.lock = item as LockItem;
    else if (kind === 'openApproval') conflict.openApproval = item as { approvalId: string; expiresAt: string };
    else (conflict as Record<string, unknown>)[kind] = item;
  });
  return conflict;
}
