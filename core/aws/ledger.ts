import type { DynamoDBClient, } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ApprovalRequest, ClaimRequest, Conflict, FinalizeRequest, Guards, Ledger, Written } from '../engine/ports.ts';
import {
  approvalMove,
  closePointer,
  DAY_SECONDS,
  reopenPointer,
  guardChecks,
  guardKinds,
  keepUntil,
  type Item,
  KEY,
  putRecord,
  RECORD_WRITABLE,
  strip,
  type TransactItem,
  withoutClaim,
  takeOverItems,
  writableCondition,
  conflictOf,
} from './ledger-items.ts';
import { mirrorItems } from './ledger-mirror.ts';
import { ensureTable } from './table.ts';
import { type ChangeRecord, decisionKey, decisionParts, type Exemption, guardKeys, latestEnding, type Notification, type PendingApproval, type Suppression } from '../model/index.ts';

/**
 * The records table. Every decision is one conditional request (a transaction counts as one):
 * DynamoDB checks the conditions and says which failed and why (ReturnValuesOnConditionCheckFailure),
 * so no write needs a read before it.
 */

function isConditionFailure(error: unknown): boolean {
  return (error as Error).name === 'ConditionalCheckFailedException';
}

export class DynamoLedger implements Ledger {
  private readonly documents: { send: DynamoDBDocumentClient['send'] };

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
    /** Local runs only: the table is created the first time it is found missing (deployments get it from the stack). */
    options: { createIfMissing?: boolean } = {},
  ) {
    const documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true } });
    this.documents = options.createIfMissing
      ? {
          send: (async (command: never) => {
            try {
              return await documents.send(command);
            } catch (error) {
              if ((error as Error).name !== 'ResourceNotFoundException') throw error;
              await ensureTable(client, table);
              return documents.send(command);
            }
          }) as never,
        }
      : documents;
  }

  async settle(record: ChangeRecord, guards?: Guards): Promise<Written> {
    if (guards) {
      return this.transact([putRecord(this.table, record, RECORD_WRITABLE), ...guardChecks(this.table, guards, record.updatedAt)], ['record', ...guardKinds(guards)]);
    }
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: KEY.record(record.recordId), itemType: 'record', ...record },
          ...writableCondition(record),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { ok: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const old = (error as { Item?: Item }).Item;
      return { ok: false, conflict: old ? { record: strip<ChangeRecord>(unmarshall(old as never)) } : {} };
    }
  }

  async claim(request: ClaimRequest): Promise<Written> {
    const { record, lockKey, owner, leaseUntil, now, readSince } = request;
    const items: TransactItem[] = [
      {
        Update: {
          TableName: this.table,
          Key: { pk: KEY.lock(lockKey) },
          UpdateExpression: 'SET itemType = :lock, #owner = :owner, leaseUntil = :lease, intent = :record, #ttl = :ttl',
          ConditionExpression:
            'attribute_not_exists(pk) OR ((attribute_not_exists(leaseUntil) OR leaseUntil < :now) AND (attribute_not_exists(intent) OR intent = :record) AND (attribute_not_exists(settledAt) OR settledAt < :since))',
          ExpressionAttributeNames: { '#owner': 'owner', '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':lock': 'lock',
            ':owner': owner,
            ':lease': leaseUntil,
            ':record': record.recordId,
            ':now': now,
            ':since': readSince,
            ':ttl': Math.ceil(leaseUntil / 1000) + DAY_SECONDS,
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
      putRecord(this.table, record, RECORD_WRITABLE),
    ];
    const kinds: Array<keyof Conflict> = ['lock', 'record'];
    if (request.guards) {
      items.push(...guardChecks(this.table, request.guards, new Date(now).toISOString()));
      kinds.push(...guardKinds(request.guards));
    }
    if (request.approvalId) {
      items.push({
        ConditionCheck: {
          TableName: this.table,
          Key: { pk: KEY.approval(request.approvalId) },
          ConditionExpression: '#status = :approved',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':approved': 'approved' },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      });
      kinds.push('approval');
    }
    return this.transact(items, kinds);
  }

  async finalize(request: FinalizeRequest): Promise<boolean> {
    const { record, lockKey, owner, now } = request;
    const items: TransactItem[] = [
      {
        Put: {
          TableName: this.table,
          Item: { pk: KEY.record(record.recordId), itemType: 'record', ...withoutClaim(record) },
          ConditionExpression: '#status = :progress',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':progress': 'in-progress' },
        },
      },
      {
        Update: {
          TableName: this.table,
          Key: { pk: KEY.lock(lockKey) },
          UpdateExpression: `SET leaseUntil = :zero, ${request.changed ? 'settledAt = :now, ' : ''}#ttl = :ttl REMOVE intent, #owner`,
          ConditionExpression: request.takeOver ? 'intent = :record AND leaseUntil < :now' : '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner', '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':zero': 0,
            ':now': now,
            ':ttl': Math.ceil(now / 1000) + DAY_SECONDS,
            ...(request.takeOver ? { ':record': record.recordId } : { ':owner': owner }),
          },
        },
      },
    ];
    if (request.approval) {
      items.push({
        Update: {
          TableName: this.table,
          Key: { pk: KEY.approval(request.approval.approvalId) },
          UpdateExpression: 'SET #status = :to, resultRecordId = :record',
          ConditionExpression: '#status = :approved',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':to': request.approval.to, ':record': record.recordId, ':approved': 'approved' },
        },
      });
    }
    if (request.rolledBack) {
      items.push({
        Update: {
          TableName: this.table,
          Key: { pk: KEY.record(request.rolledBack.recordId) },
          UpdateExpression: 'SET rolledBackBy = :by',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':by': request.rolledBack.by },
        },
      });
    }
    return (await this.transact(items, [])).ok;
  }

  /** The run-out claim of a dead invocation, taken over: the lock and the intent's claim in one request, so both name the live lease. */
  async takeOver(request: { lockKey: string; recordId: string; owner: string; leaseUntil: number; now: number }): Promise<boolean> {
    return (await this.transact(takeOverItems(this.table, request), [])).ok;
  }

  async requestApproval(request: ApprovalRequest): Promise<Written> {
    const { record, approval, openKey, now } = request;
    const items: TransactItem[] = [
      putRecord(this.table, record, RECORD_WRITABLE),
      {
        Put: {
          TableName: this.table,
          Item: { pk: KEY.approval(approval.approvalId), itemType: 'approval', ...approval },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      {
        Put: {
          TableName: this.table,
          Item: { pk: KEY.open(openKey), itemType: 'pointer', approvalId: approval.approvalId, expiresAt: approval.expiresAt, ttl: Math.ceil(Date.parse(approval.expiresAt) / 1000) + DAY_SECONDS },
          // One open question per rule and resource; an expired or decided one no longer counts.
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now OR closed = :closed',
          ExpressionAttributeValues: { ':now': new Date(now).toISOString(), ':closed': true },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
      ...guardChecks(this.table, request.guards, new Date(now).toISOString()),
    ];
    return this.transact(items, ['record', 'approval', 'openApproval', ...guardKinds(request.guards)]);
  }

  async setNotification(record: ChangeRecord, notification: Notification, approvalMessage?: { approvalId: string; channel: string; ts: string }): Promise<void> {
    const update: TransactItem = {
      Update: {
        TableName: this.table,
        Key: { pk: KEY.record(record.recordId) },
        UpdateExpression: 'SET notification = :notification',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':notification': notification },
      },
    };
    if (!approvalMessage) {
      await this.documents.send(new UpdateCommand(update.Update as never));
      return;
    }
    await this.documents.send(
      new TransactWriteCommand({
        TransactItems: [
          update,
          {
            Update: {
              TableName: this.table,
              Key: { pk: KEY.approval(approvalMessage.approvalId) },
              UpdateExpression: 'SET #message = :message',
              ConditionExpression: 'attribute_exists(pk)',
              ExpressionAttributeNames: { '#message': 'message' },
              ExpressionAttributeValues: { ':message': { channel: approvalMessage.channel, ts: approvalMessage.ts } },
            },
          },
        ],
      }),
    );
  }

  async getRecord(recordId: string): Promise<ChangeRecord | undefined> {
    return this.get<ChangeRecord>(KEY.record(recordId));
  }

  async getApproval(approvalId: string): Promise<PendingApproval | undefined> {
    return this.get<PendingApproval>(KEY.approval(approvalId));
  }

  async getExemption(ruleId: string, resource: string, scope?: string): Promise<Exemption | undefined> {
    const found = await Promise.all(guardKeys({ ruleId, resource, scope }).map((key) => this.get<Exemption>(KEY.exemption(key))));
    return latestEnding(found);
  }

  async getSuppression(ruleId: string, resource: string, scope?: string): Promise<Suppression | undefined> {
    const found = await Promise.all(guardKeys({ ruleId, resource, scope }).map((key) => this.get<Suppression>(KEY.suppression(key))));
    return latestEnding(found);
  }

  async mirror(record: ChangeRecord, approval?: PendingApproval): Promise<boolean> {
    return mirrorItems(this.documents, this.table, record, approval);
  }

  async listApprovals(): Promise<PendingApproval[]> {
    const items = await this.scan('approval');
    return (items as unknown as PendingApproval[]).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async listRecords(): Promise<ChangeRecord[]> {
    const items = await this.scan('record');
    return (items as unknown as ChangeRecord[]).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async transitionApproval(
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
    const items: TransactItem[] = [approvalMove(this.table, approvalId, change)];
    if (change.closeOpen) items.push(closePointer(this.table, change.closeOpen, approvalId));
    const moved = items.length === 1 ? await this.conditionalUpdate(items[0]) : (await this.transact(items, [])).ok;
    // The pointer opens again only if it still names this approval (a new finding may have opened
    // its own since, or, at a hub, there is none): the approval moves either way.
    if (moved && change.reopenOpen) await this.conditionalUpdate(reopenPointer(this.table, change.reopenOpen, approvalId));
    return moved;
  }

  private async conditionalUpdate(item: TransactItem | undefined): Promise<boolean> {
    try {
      await this.documents.send(new UpdateCommand(item?.Update as never));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async reject(approvalId: string, suppression: Suppression, at: string): Promise<boolean> {
    const key = decisionKey(suppression);
    const ttl = Math.ceil(Date.parse(suppression.until) / 1000) + DAY_SECONDS;
    // Kept under each part it covers (decisionParts): a later question about any of them meets it.
    const kept = (await this.outlasting('suppression', decisionParts(suppression), suppression.until)).map((part) => keepUntil(this.table, KEY.suppression(part), { itemType: 'suppression', ...suppression, ttl }, suppression.until));
    return (
      await this.transact(
        [
          approvalMove(this.table, approvalId, { from: 'pending', to: 'rejected', notExpiredAt: at, set: { decidedBy: suppression.by, decidedAt: at } }),
          ...kept,
          closePointer(this.table, key, approvalId),
        ],
        [],
      )
    ).ok;
  }

  async exempt(exemption: Exemption, record: ChangeRecord, at: string): Promise<boolean> {
    const key = decisionKey(exemption);
    const ttl = Math.ceil(Date.parse(exemption.until) / 1000) + DAY_SECONDS;
    const items: TransactItem[] = [
      // Kept under each part it covers (decisionParts), as a Reject is.
      ...(await this.outlasting('exemption', decisionParts(exemption), exemption.until)).map((part) => keepUntil(this.table, KEY.exemption(part), { itemType: 'exemption', ...exemption, ttl }, exemption.until)),
      putRecord(this.table, record, 'attribute_not_exists(pk)'),
    ];
    if (exemption.approvalId) {
      items.push(
        approvalMove(this.table, exemption.approvalId, { from: 'pending', to: 'exempted', notExpiredAt: at, set: { decidedBy: exemption.by, decidedAt: at, resultRecordId: record.recordId } }),
        closePointer(this.table, key, exemption.approvalId),
      );
    }
    return (await this.transact(items, [])).ok;
  }

  /**
   * The keys under which a decision lasting `until` is kept: those with no decision yet, or one
   * that ends sooner. A longer one already there (another question's exception on a shared port)
   * stays as it is.
   */
  private async outlasting(kind: 'suppression' | 'exemption', keys: string[], until: string): Promise<string[]> {
    const held = await Promise.all(keys.map((key) => this.get<{ until?: string }>(kind === 'suppression' ? KEY.suppression(key) : KEY.exemption(key))));
    return keys.filter((_key, index) => !(held[index]?.until && held[index].until > until));
  }

  /** One transaction; when it is refused, the old values of the items whose condition failed, by kind. */
  private async transact(items: TransactItem[], kinds: Array<keyof Conflict>): Promise<Written> {
    try {
      await this.documents.send(new TransactWriteCommand({ TransactItems: items }));
      return { ok: true };
    } catch (error) {
      return { ok: false, conflict: conflictOf(error, kinds) };
    }
  }

  private async get<T>(pk: string): Promise<T | undefined> {
    const output = await this.documents.send(new GetCommand({ TableName: this.table, Key: { pk }, ConsistentRead: true }));
    return output.Item ? strip<T>(output.Item) : undefined;
  }

  private async scan(itemType: string): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: 'itemType = :type',
          ExpressionAttributeValues: { ':type': itemType },
          ExclusiveStartKey: startKey,
          ConsistentRead: true,
        }),
      );
      for (const item of page.Items ?? []) items.push(strip<Item>(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }
}

export { ensureTable };

