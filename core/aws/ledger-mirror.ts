import { type DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { ChangeRecord, PendingApproval } from '../model/index.ts';
import { KEY } from './ledger-items.ts';

type Documents = { send: DynamoDBDocumentClient['send'] };
type Update = { TableName: string; Key: { pk: string }; UpdateExpression: string; ConditionExpression: string; ExpressionAttributeNames: Record<string, string>; ExpressionAttributeValues: Record<string, unknown> };

/**
 * At a hub, a member's record and approval as the member reports them; the hub's own fields (its
 * Slack message, a decision taken at the hub) stay until the member reports the approval settled.
 * One transaction, and only over items that are this account's or new: a member can never write
 * over another account's record or approval (ids are in every Slack message). False if refused.
 */
export async function mirrorItems(documents: Documents, table: string, record: ChangeRecord, approval?: PendingApproval): Promise<boolean> {
  // The record as the member has it; the hub's notification (its own message) stays.
  const { notification: _notification, ...fields } = record;
  const owner = { account: record.account, region: record.region };
  const items: Update[] = [update(table, KEY.record(record.recordId), 'record', fields, {}, [], owner)];
  if (approval) {
    const { message: _message, status, decidedBy, decidedAt, ...rest } = approval;
    // A decision taken at the hub stands until the member reports the approval settled.
    const settled = !['pending', 'approved'].includes(status);
    const decision = { status, ...(decidedBy ? { decidedBy } : {}), ...(decidedAt ? { decidedAt } : {}) };
    items.push(update(table, KEY.approval(approval.approvalId), 'approval', { ...rest, ...(settled ? decision : {}) }, settled ? {} : decision, ['finding'], owner));
  }
  try {
    await documents.send(new TransactWriteCommand({ TransactItems: items.map((Update) => ({ Update })) }));
    return true;
  } catch (error) {
    if ((error as Error).name === 'TransactionCanceledException') return false;
    throw error;
  }
}

/**
 * SET each field (`ifAbsent` ones only where the item has none yet), if the item is new or holds
 * the same account and region (under `under`): one stack's own items only.
 */
function update(table: string, pk: string, itemType: string, fields: Record<string, unknown>, ifAbsent: Record<string, unknown>, under: string[], owner: { account: string; region: string }): Update {
  const names: Record<string, string> = { '#itemType': 'itemType', '#pk': 'pk', '#ownerAccount': 'account', '#ownerRegion': 'region' };
  const values: Record<string, unknown> = { ':itemType': itemType, ':account': owner.account, ':region': owner.region };
  const assignments = ['#itemType = :itemType'];
  let index = 0;
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    names[`#f${index}`] = key;
    values[`:v${index}`] = value;
    assignments.push(`#f${index} = :v${index}`);
    index += 1;
  }
  for (const [key, value] of Object.entries(ifAbsent)) {
    if (value === undefined) continue;
    names[`#f${index}`] = key;
    values[`:v${index}`] = value;
    assignments.push(`#f${index} = if_not_exists(#f${index}, :v${index})`);
    index += 1;
  }
  under.forEach((part, position) => {
    names[`#o${position}`] = part;
  });
  const prefix = under.map((_part, position) => `#o${position}.`).join('');
  return {
    TableName: table,
    Key: { pk },
    UpdateExpression: `SET ${assignments.join(', ')}`,
    ConditionExpression: `attribute_not_exists(#pk) OR (${prefix}#ownerAccount = :account AND ${prefix}#ownerRegion = :region)`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}
