import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ChangeRecord, PendingApproval } from '../model/index.ts';
import { KEY } from './ledger-items.ts';

type Documents = { send: DynamoDBDocumentClient['send'] };

/**
 * At a hub, a member's record and approval as the member reports them; the hub's own fields (its
 * Slack message, a decision taken at the hub) stay until the member reports the approval settled.
 */
export async function mirrorItems(documents: Documents, table: string, record: ChangeRecord, approval?: PendingApproval): Promise<void> {
  // The record as the member has it; the hub's notification (its own message) stays.
  const { notification: _notification, ...fields } = record;
  await update(documents, table, KEY.record(record.recordId), 'record', fields);
  if (!approval) return;
  const { message: _message, status, decidedBy, decidedAt, ...rest } = approval;
  // A decision taken at the hub stands until the member reports the approval settled.
  const settled = !['pending', 'approved'].includes(status);
  await update(documents, table, KEY.approval(approval.approvalId), 'approval', { ...rest, ...(settled ? { status, ...(decidedBy ? { decidedBy } : {}), ...(decidedAt ? { decidedAt } : {}) } : {}) }, settled ? {} : { status, ...(decidedBy ? { decidedBy } : {}), ...(decidedAt ? { decidedAt } : {}) });
}

/** SET each field; `ifAbsent` fields only where the item has none yet. */
async function update(documents: Documents, table: string, pk: string, itemType: string, fields: Record<string, unknown>, ifAbsent: Record<string, unknown> = {}): Promise<void> {
  const names: Record<string, string> = { '#itemType': 'itemType' };
  const values: Record<string, unknown> = { ':itemType': itemType };
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
  await documents.send(
    new UpdateCommand({ TableName: table, Key: { pk }, UpdateExpression: `SET ${assignments.join(', ')}`, ExpressionAttributeNames: names, ExpressionAttributeValues: values }),
  );
}

