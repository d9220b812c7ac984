import { userInfo } from 'node:os';
import { rollbackRecord } from '../core/engine/rollback.ts';
import { parseCliArgs, prepareCliEnvironment, runCli } from './lib/cli-env.ts';
import { createLocalRuntime } from './lib/local-runtime.ts';

const USAGE = `usage: npm run rollback -- [--json] [--force] <recordId>

Restores the before-state recorded for a change driftfix made, if the resource is still as the
bot left it (--force: even if someone changed it since). The rollback is recorded and posted.`;

async function main(argv: string[]): Promise<number> {
  prepareCliEnvironment();
  const options = { json: { type: 'boolean' }, force: { type: 'boolean' }, help: { type: 'boolean' } } as const;
  const parsed = parseCliArgs(argv, options, USAGE);
  if (!parsed) return 2;
  const { values, positionals } = parsed;
  const [recordId, ...extra] = positionals;
  if (values.help || !recordId || extra.length > 0) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  const runtime = await createLocalRuntime({ needStore: true });
  for (const rule of runtime.deps.rules) await runtime.factory.forRule(rule);
  const result = await rollbackRecord(recordId, runtime.deps, {
    force: values.force === true,
    by: `cli:${userInfo().username}`,
  });
  if (values.json) {
    const { rollbackRecordId: _, ...line } = result;
    console.log(JSON.stringify(line));
  } else {
    console.log(`${result.outcome}: ${result.reason}`);
    if (result.calls.length > 0) console.log(`calls: ${result.calls.join(', ')} (${result.writes} write(s))`);
    if (result.rollbackRecordId) console.log(`record: ${result.rollbackRecordId}`);
  }
  return result.outcome === 'rolled-back' ? 0 : 1;
}

runCli('rollback', main);
