import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ApprovalStatus, ChangeRecord, PendingApproval, Suppression } from './change-record.ts';

/** Where records, approvals and resource locks live. An interface so tests can swap it. */
export interface RecordStore {
  getRecord(recordId: string): Promise<ChangeRecord | undefined>;
  putRecord(record: ChangeRecord): Promise<void>;
  putApproval(approval: PendingApproval): Promise<void>;
  getApproval(approvalId: string): Promise<PendingApproval | undefined>;
  listApprovals(): Promise<PendingApproval[]>;
  /** The approval still waiting for a decision on this rule and resource, if any. */
  findOpenApproval(ruleId: string, resource: string, now: number): Promise<PendingApproval | undefined>;
  /**
   * Moves an approval from one status to another only if it is still in `from` (and, for a
   * decision, not expired): a double click or a replayed request changes it at most once.
   * Returns false when the condition did not hold.
   */
  transitionApproval(
    approvalId: string,
    change: { from: ApprovalStatus; to: ApprovalStatus; notExpiredAt?: string; set?: Partial<PendingApproval> },
  ): Promise<boolean>;
  setApprovalMessage(approvalId: string, message: { channel: string; ts: string }): Promise<void>;
  putSuppression(suppression: Suppression): Promise<void>;
  getSuppression(ruleId: string, resource: string, now: number): Promise<Suppression | undefined>;
  /** True when this owner now holds the lock; false when someone else holds an unexpired one. */
  acquireLock(resource: string, owner: string, leaseMs: number): Promise<boolean>;
  releaseLock(resource: string, owner: string): Promise<void>;
}

const RECORD = 'record#';
const APPROVAL = 'approval#';
const LOCK = 'lock#';
const OPEN_APPROVAL = 'open-approval#';
const SUPPRESSION = 'suppress#';

function isConditionFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException';
}

export class DynamoRecordStore implements RecordStore {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
    });
  }

  async getRecord(recordId: string): Promise<ChangeRecord | undefined> {
    const output = await this.documents.send(
      new GetCommand({ TableName: this.table, Key: { pk: RECORD + recordId }, ConsistentRead: true }),
    );
    return output.Item ? strip<ChangeRecord>(output.Item) : undefined;
  }

  async putRecord(record: ChangeRecord): Promise<void> {
    await this.documents.send(
      new PutCommand({ TableName: this.table, Item: { pk: RECORD + record.recordId, itemType: 'record', ...record } }),
    );
  }

  async putApproval(approval: PendingApproval): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: APPROVAL + approval.approvalId, itemType: 'approval', ...approval },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    await this.documents.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: `${OPEN_APPROVAL}${approval.ruleId}#${approval.resource}`, itemType: 'pointer', approvalId: approval.approvalId },
      }),
    );
  }

  async findOpenApproval(ruleId: string, resource: string, now: number): Promise<PendingApproval | undefined> {
    const pointer = await this.documents.send(
      new GetCommand({ TableName: this.table, Key: { pk: `${OPEN_APPROVAL}${ruleId}#${resource}` }, ConsistentRead: true }),
    );
    const approvalId = pointer.Item?.approvalId;
    if (typeof approvalId !== 'string') return undefined;
    const approval = await this.getApproval(approvalId);
    return approval?.status === 'pending' && Date.parse(approval.expiresAt) > now ? approval : undefined;
  }

  async getApproval(approvalId: string): Promise<PendingApproval | undefined> {
    const output = await this.documents.send(
      new GetCommand({ TableName: this.table, Key: { pk: APPROVAL + approvalId }, ConsistentRead: true }),
    );
    return output.Item ? strip<PendingApproval>(output.Item) : undefined;
  }

  async listApprovals(): Promise<PendingApproval[]> {
    const items: PendingApproval[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: 'itemType = :approval',
          ExpressionAttributeValues: { ':approval': 'approval' },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) items.push(strip<PendingApproval>(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async transitionApproval(
    approvalId: string,
    change: { from: ApprovalStatus; to: ApprovalStatus; notExpiredAt?: string; set?: Partial<PendingApproval> },
  ): Promise<boolean> {
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
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: APPROVAL + approvalId },
          UpdateExpression: `SET ${assignments.join(', ')}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async setApprovalMessage(approvalId: string, message: { channel: string; ts: string }): Promise<void> {
    await this.documents.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: APPROVAL + approvalId },
        UpdateExpression: 'SET #message = :message',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#message': 'message' },
        ExpressionAttributeValues: { ':message': message },
      }),
    );
  }

  async putSuppression(suppression: Suppression): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          pk: `${SUPPRESSION}${suppression.ruleId}#${suppression.resource}`,
          itemType: 'suppression',
          ...suppression,
          ttl: Math.ceil(Date.parse(suppression.until) / 1000) + 86_400,
        },
      }),
    );
  }

  async getSuppression(ruleId: string, resource: string, now: number): Promise<Suppression | undefined> {
    const output = await this.documents.send(
      new GetCommand({ TableName: this.table, Key: { pk: `${SUPPRESSION}${ruleId}#${resource}` }, ConsistentRead: true }),
    );
    if (!output.Item) return undefined;
    const { ttl: _ttl, ...suppression } = strip<Suppression & { ttl?: number }>(output.Item);
    return Date.parse(suppression.until) > now ? suppression : undefined;
  }

  async acquireLock(resource: string, owner: string, leaseMs: number): Promise<boolean> {
    const now = Date.now();
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: LOCK + resource, itemType: 'lock', owner, leaseUntil: now + leaseMs, ttl: Math.ceil((now + leaseMs) / 1000) + 3600 },
          ConditionExpression: 'attribute_not_exists(pk) OR leaseUntil < :now',
          ExpressionAttributeValues: { ':now': now },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async releaseLock(resource: string, owner: string): Promise<void> {
    try {
      await this.documents.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: LOCK + resource },
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
    } catch (error) {
      // The lease ran out and someone else holds the lock now: theirs to release.
      if (!isConditionFailure(error)) throw error;
    }
  }
}

/** Items are written by this module only; the table's own keys are dropped on the way out. */
function strip<T>(item: Record<string, unknown>): T {
  const { pk: _pk, itemType: _itemType, ...rest } = item;
  return rest as T;
}

/** Creates the table when missing: for local runs only; deployments get it from serverless.yml. */
export async function ensureTable(client: DynamoDBClient, table: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: table }));
    return;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException) && (error as Error).name !== 'ResourceNotFoundException') throw error;
  }
  try {
    await client.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      }),
    );
    await client.send(
      new UpdateTimeToLiveCommand({ TableName: table, TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true } }),
    );
  } catch (error) {
    if ((error as Error).name !== 'ResourceInUseException') throw error;
  }
}
