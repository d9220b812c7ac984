import type { EventResult } from '../../core/engine/results.ts';

const MARK: Record<EventResult['outcome'], string> = {
  remediated: '✔',
  planned: '…',
  compliant: '=',
  'pending-approval': '?',
  notified: '!',
  skipped: '-',
  ignored: '·',
  rejected: '✘',
  failed: '✘',
  'rolled-back': '↩',
  exempted: '⏸',
};

/** A few lines a person reads at a glance: what, where, why, and before → after. */
export function formatResult(line: { file: string }, result: EventResult): string {
  const head = `${MARK[result.outcome]} ${result.outcome.padEnd(16)} ${line.file}`;
  const lines = [head];
  if (result.rule || result.resource) lines.push(`    ${[result.rule, result.resource].filter(Boolean).join('  ')}`);
  lines.push(`    ${result.reason}`);
  if (result.before && result.after) lines.push(`    before: ${result.before}`, `    after:  ${result.after}`);
  else if (result.before) lines.push(`    now: ${result.before}`);
  if (result.approvalId) lines.push(`    approval: ${result.approvalId}  (npm run approvals -- approve ${result.approvalId})`);
  if (result.calls.length > 0) lines.push(`    calls: ${result.calls.join(', ')} (${result.writes} write${result.writes === 1 ? '' : 's'})`);
  if (result.recordId) lines.push(`    record: ${result.recordId}${result.duplicate ? ' (handled before)' : ''}`);
  if (result.notification === 'failed') lines.push('    Slack: NOT posted (the record is kept as not yet posted; a redelivery posts it)');
  else if (result.notification && result.notification !== 'log-only') lines.push(`    Slack: ${result.notification}`);
  return lines.join('\n');
}
