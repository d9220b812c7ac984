import { basename, join, relative } from 'node:path';
import { difference, startCountingProxy, tableRequests } from './bench-proxy.ts';
import { heading, load, REGION, ROOT, table, track, withMoto } from './bench-util.ts';
import { expandEventPaths } from './event-files.ts';
import { createLocalRuntime } from './local-runtime.ts';
import { LOCAL_ACCOUNT } from './moto-server.ts';
import { replayFile } from './replay-files.ts';
import { seedSampleWorld } from './sample-world.ts';

/**
 * Section 3 of `npm run bench`: every sample in events/, one after another, through replayFile
 * with `apply` on the world the demo seeds, the runtime's requests going through a counting
 * proxy: the outcome, the AWS calls on the account's resources, the writes, and the requests to
 * the bot's own table, against the bound each outcome should keep.
 */

export const FIX_CALLS = 4; // tags, read, write, verify
export const FIX_TABLE = 2; // claim, finalize
export const COMPLIANT_TABLE = 1;

export interface SampleRow {
  file: string;
  expected: string;
  outcome: string;
  reason: string;
  calls: string[];
  writes: number;
  table: number;
  tableOps: string;
  /** HTTP requests beyond the table's and those in `calls`, by service (an SDK retry, a lookup not logged). */
  extra: Record<string, number>;
  /** Within the bound its outcome should keep; undefined where the brief sets none. */
  withinBound: boolean | undefined;
}

export interface SamplesResult {
  rows: SampleRow[];
  load: string;
}

function bound(row: Omit<SampleRow, 'withinBound'>): boolean | undefined {
  if (row.outcome === 'remediated') return row.calls.length <= FIX_CALLS && row.table <= FIX_TABLE;
  if (row.outcome === 'compliant') return row.writes === 0 && row.table <= COMPLIANT_TABLE;
  // Intake refuses or ignores before any AWS call (docs/ARCHITECTURE.md, step 2).
  if (row.outcome === 'rejected' || row.outcome === 'ignored') return row.calls.length === 0 && row.table === 0;
  return undefined;
}

export async function measureSamples(): Promise<SamplesResult> {
  const before = load();
  return withMoto(async (endpoint) => {
    const { rewrite } = await seedSampleWorld(endpoint, REGION, LOCAL_ACCOUNT);
    const proxy = await startCountingProxy(endpoint);
    const untrack = track(() => proxy.close());
    try {
      const env = { AWS_REGION: REGION, AWS_ENDPOINT_URL: proxy.endpoint, REMEDIATION_TABLE: 'bench-samples' };
      const runtime = await createLocalRuntime({ needStore: true, env });
      const rows: SampleRow[] = [];
      for (const file of await expandEventPaths([join(ROOT, 'events')])) {
        const before = proxy.counts();
        const result = await replayFile(file, runtime, { apply: true, rewrite });
        const delta = difference(proxy.counts(), before);
        const tableCounts = tableRequests(delta);
        // Requests the proxy saw beyond the result's calls, by service (an SDK retry, a lookup not logged).
        const extra: Record<string, number> = {};
        for (const [key, count] of delta) {
          const service = key.split(' ')[0] ?? key;
          if (service === 'dynamodb') continue;
          const logged = result.calls.filter((call) => signingName(call) === service).length;
          if (count > logged) extra[service] = (extra[service] ?? 0) + count - logged;
        }
        const row = {
          file: relative(join(ROOT, 'events'), file),
          expected: /\.([a-z-]+)\.json$/.exec(basename(file))?.[1] ?? '?',
          outcome: result.outcome,
          reason: result.reason,
          calls: result.calls,
          writes: result.writes,
          table: tableCounts.total,
          tableOps: tableCounts.ops,
          extra,
        };
        rows.push({ ...row, withinBound: bound(row) });
      }
      return { rows, load: `${before} at the start, ${load()} at the end` };
    } finally {
      await proxy.close();
      untrack();
    }
  });
}

/** The service a call-log entry's request is signed for, as the proxy names it. */
function signingName(call: string): string {
  const service = call.split('.')[0] ?? call;
  const names: Record<string, string> = { S3Control: 's3', AccessAnalyzer: 'access-analyzer', Config: 'config', SecurityHub: 'securityhub' };
  return names[service] ?? service.toLowerCase();
}

const short = (call: string) => call.replace(/^(\w+)\./, '$1 ');

export function samplesHeadline(result: SamplesResult): string[] {
  const judged = result.rows.filter((row) => row.withinBound !== undefined);
  const within = judged.filter((row) => row.withinBound).length;
  const fixes = result.rows.filter((row) => row.outcome === 'remediated');
  const most = Math.max(0, ...fixes.map((row) => row.calls.length));
  return [`samples: ${result.rows.length} events; ${within} of ${judged.length} within their bound; fixes make ${Math.min(...fixes.map((row) => row.calls.length))}-${most} AWS calls and ${Math.max(0, ...fixes.map((row) => row.table))} table requests at most`];
}

function extraLine(rows: readonly SampleRow[]): string {
  const byService = new Map<string, { count: number; samples: string[] }>();
  for (const row of rows) {
    for (const [service, count] of Object.entries(row.extra)) {
      const entry = byService.get(service) ?? { count: 0, samples: [] };
      entry.count += count;
      entry.samples.push(row.file);
      byService.set(service, entry);
    }
  }
  if (byService.size === 0) return 'none';
  return [...byService]
    .map(([service, { count, samples }]) => {
      const folders = [...new Set(samples.map((file) => file.split('/')[0]))].join(', ');
      return `${service} ×${count} over ${samples.length} samples (in ${folders}/)`;
    })
    .join('; ');
}

export function formatSamples(result: SamplesResult): string {
  const { rows } = result;
  const judged = rows.filter((row) => row.withinBound !== undefined);
  const outside = judged.filter((row) => !row.withinBound);
  const unexpected = rows.filter((row) => row.outcome !== row.expected);
  const perOutcome = new Map<string, SampleRow[]>();
  for (const row of rows) perOutcome.set(row.outcome, [...(perOutcome.get(row.outcome) ?? []), row]);
  const averages = [...perOutcome].map(([outcome, group]) => {
    const mean = (pick: (row: SampleRow) => number) => (group.reduce((sum, row) => sum + pick(row), 0) / group.length).toFixed(1);
    return [outcome, String(group.length), mean((row) => row.calls.length), mean((row) => row.writes), mean((row) => row.table)];
  });
  return [
    heading(
      '3. AWS calls per event, per sample',
      `Every sample in events/ (${rows.length}), one after another, through \`replayFile\` with \`{ apply: true, rewrite }\` on the world \`seedSampleWorld\` makes in a fresh moto, with a fresh table; requests counted through a proxy. "calls" is the result's \`calls\` (AWS calls on the account's resources), "table" the requests to the bot's DynamoDB table (its one-off creation apart). Expected bounds: a fix <= ${FIX_CALLS} calls on the resource (tags, read, write, verify) + <= ${FIX_TABLE} table requests (claim, finalize); compliant: reads only + ${COMPLIANT_TABLE} table request; rejected and ignored (not a bound from the brief: docs/ARCHITECTURE.md says intake decides before any AWS call): 0 calls, 0 table requests. Other outcomes have no bound here.`,
    ),
    table(
      ['sample', 'outcome', 'calls', 'writes', 'table', 'table requests', 'within bound'],
      rows.map((row) => [
        row.file,
        row.outcome === row.expected ? row.outcome : `${row.outcome} (expected ${row.expected})`,
        `${row.calls.length}${row.calls.length ? `: ${row.calls.map(short).join(', ')}` : ''}`,
        String(row.writes),
        String(row.table),
        row.tableOps || '-',
        row.withinBound === undefined ? '-' : row.withinBound ? 'yes' : 'NO',
      ]),
    ),
    '',
    'Mean per outcome:',
    '',
    table(['outcome', 'samples', 'calls', 'writes', 'table requests'], averages),
    '',
    `Within bound: ${judged.length - outside.length} of ${judged.length} samples that have one${outside.length ? `; outside: ${outside.map((row) => `${row.file} (${row.calls.length} calls, ${row.table} table)`).join('; ')}` : ''}.`,
    unexpected.length ? `Outcome differs from the file name for: ${unexpected.map((row) => `${row.file} → ${row.outcome}: ${row.reason}`).join('; ')}.` : 'Every sample ended in the outcome its file name names.',
    `HTTP requests beyond the table's and those in \`calls\`: ${extraLine(rows)}. Load average ${result.load} of the section.`,
  ].join('\n');
}
