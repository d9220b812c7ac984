import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { type AttributeValue, DynamoDBClient, ScanCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { ensureTable } from '../../core/aws/table.ts';
import { median, REGION } from './bench-util.ts';

/**
 * How long moto takes for one DynamoDB transaction of the shape of the bot's claim (two writes,
 * two condition checks) on a table of a given size: moto copies the table for every item of a
 * transaction (its rollback), so its transactions slow down as the table grows, which real
 * DynamoDB does not. Measured on the replay's table after a run, and on an empty one.
 */

export interface TransactionProbe {
  /** Items in the run's table after the run. */
  items: number;
  /** Median of 5 transactions on that table. */
  onRunTableMs: number;
  /** Median of 5 transactions on an empty table. */
  onEmptyTableMs: number;
}

async function countItems(client: DynamoDBClient, table: string): Promise<number> {
  let items = 0;
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: table, Select: 'COUNT', ...(start ? { ExclusiveStartKey: start } : {}) }));
    items += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

async function transactionTimes(client: DynamoDBClient, table: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 5; i += 1) {
    const key = (suffix: string) => ({ pk: { S: `bench-probe#${i}#${suffix}` } });
    const started = performance.now();
    await client.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName: table, Item: { ...key('lock'), itemType: { S: 'probe' } }, ConditionExpression: 'attribute_not_exists(pk)' } },
          { Put: { TableName: table, Item: { ...key('record'), itemType: { S: 'probe' } }, ConditionExpression: 'attribute_not_exists(pk)' } },
          { ConditionCheck: { TableName: table, Key: key('suppression'), ConditionExpression: 'attribute_not_exists(pk)' } },
          { ConditionCheck: { TableName: table, Key: key('exemption'), ConditionExpression: 'attribute_not_exists(pk)' } },
        ],
      }),
    );
    times.push(performance.now() - started);
  }
  return median(times);
}

export async function probeTransactions(endpoint: string, runTable: string): Promise<TransactionProbe> {
  const client = new DynamoDBClient({ region: REGION, endpoint });
  const items = await countItems(client, runTable);
  const onRunTableMs = await transactionTimes(client, runTable);
  const empty = `${runTable}-probe-empty`;
  await ensureTable(client, empty);
  const onEmptyTableMs = await transactionTimes(client, empty);
  client.destroy();
  return { items, onRunTableMs, onEmptyTableMs };
}

/**
 * CPU seconds used so far by this process's Python children (the moto server of the moment), from
 * /proc; undefined where there is no /proc. With the CLI's own CPU time it tells whether a run
 * waited on moto (single-threaded: its CPU time close to the wall time) or on driftfix.
 */
export function motoCpuSeconds(): number | undefined {
  if (!existsSync('/proc/self/stat')) return undefined;
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid … utime(14) stime(15): fields after the command name, which may hold spaces.
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) !== process.pid || !/python|moto/.test(comm)) continue;
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / CLOCK_TICKS;
}

/** Linux's USER_HZ, 100 on every common architecture. */
const CLOCK_TICKS = 100;
