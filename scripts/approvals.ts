import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { decideApproval } from '../functions/commons/approval-decisions.ts';
import type { PendingApproval } from '../functions/commons/change-record.ts';
import type { EventResult } from '../functions/commons/engine.ts';
import { describeError } from '../functions/commons/errors.ts';
import { EventBridgeEmitter } from '../functions/commons/event-emitter.ts';
import type { RecordStore } from '../functions/commons/record-store.ts';
import { updateApprovalMessage } from '../functions/commons/slack/interactivity.ts';
import { LogOnlyNotifier } from '../functions/commons/slack/slack-notifier.ts';
import { prepareCliEnvironment, runCli } from './lib/cli-env.ts';
import { LocalBus } from './lib/local-bus.ts';
import { createLocalRuntime } from './lib/local-runtime.ts';

const USAGE = `usage: npm run approvals -- list [--all] [--json]
       npm run approvals -- approve <approval-id> [--bus <name>] [--json]
       npm run approvals -- reject <approval-id> [--json]

Decides pending approvals from a terminal, with the same conditional transitions as Slack.
Against a local emulator (AWS_ENDPOINT_URL set) an approved fix is applied at once by the same
handler code; otherwise the approval is sent to the deployed rule function on the event bus
(--bus, default "default").`;

async function main(argv: string[]): Promise<number> {
  prepareCliEnvironment();
  const { values, positionals } = parseArgs({
    args: argv,
    options: { all: { type: 'boolean' }, json: { type: 'boolean' }, bus: { type: 'string' }, help: { type: 'boolean' } },
    allowPositionals: true,
  });
  const [command, approvalId, ...extra] = positionals;
  if (values.help || !command || extra.length > 0) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  const runtime = await createLocalRuntime({ needStore: true });
  const store = runtime.deps.store as RecordStore;

  if (command === 'list') {
    const approvals = (await store.listApprovals()).filter((approval) => values.all || approval.status === 'pending');
    if (values.json) for (const approval of approvals) console.log(JSON.stringify(summary(approval)));
    else if (approvals.length === 0) console.log(values.all ? 'No approvals.' : 'No pending approvals.');
    else for (const approval of approvals) console.log(describe(approval));
    return 0;
  }
  if ((command !== 'approve' && command !== 'reject') || !approvalId) {
    console.error(USAGE);
    return 2;
  }

  const by = `cli:${userInfo().username}`;
  const outcome = await decideApproval(store, {
    approvalId,
    decision: command,
    by,
    now: Date.now(),
    suppressionDays: runtime.settings.suppressionDays,
  });
  if (outcome.kind === 'refused') {
    print(values.json, { approvalId, decision: command, result: 'refused', reason: outcome.reason }, `Refused: ${outcome.reason}. Nothing changed.`);
    return 1;
  }
  const slackDeps = { store, notifier: runtime.deps.notifier ?? new LogOnlyNotifier(), log: runtime.deps.log };
  if (outcome.decision === 'reject') {
    const until = outcome.suppression?.until;
    await updateApprovalMessage(slackDeps, outcome.approval, `Rejected by ${by.slice(4)} (terminal). driftfix will not propose this fix again until ${until}.`);
    print(values.json, { approvalId, decision: 'reject', result: 'rejected', suppressedUntil: until }, `Rejected ${approvalId}; ${outcome.approval.ruleId} leaves ${outcome.approval.resource} alone until ${until}.`);
    return 0;
  }

  await updateApprovalMessage(slackDeps, outcome.approval, `Approved by ${by.slice(4)} (terminal); applying the change…`);
  if (process.env.AWS_ENDPOINT_URL) {
    const bus = new LocalBus(runtime);
    await bus.emitApproved({ approvalId, ruleId: outcome.approval.ruleId });
    const applied = bus.delivered[0] as EventResult;
    print(values.json, { approvalId, decision: 'approve', result: applied.outcome, reason: applied.reason, calls: applied.calls, writes: applied.writes, recordId: applied.recordId }, `Approved ${approvalId}: ${applied.outcome}: ${applied.reason}`);
    return applied.outcome === 'failed' ? 1 : 0;
  }
  const bus = values.bus ?? 'default';
  try {
    await new EventBridgeEmitter(new EventBridgeClient({ region: runtime.identity.region }), bus).emitApproved({ approvalId, ruleId: outcome.approval.ruleId });
  } catch (error) {
    await store.transitionApproval(approvalId, { from: 'approved', to: 'pending', set: { decidedBy: '', decidedAt: '' } });
    print(values.json, { approvalId, decision: 'approve', result: 'refused', reason: describeError(error) }, `Could not hand the approval to the ${bus} bus (${describeError(error)}); it is pending again.`);
    return 1;
  }
  print(values.json, { approvalId, decision: 'approve', result: 'approved', bus }, `Approved ${approvalId}; the ${outcome.approval.ruleId} function applies it (event sent to bus ${bus}).`);
  return 0;
}

function summary(approval: PendingApproval) {
  return {
    approvalId: approval.approvalId,
    status: approval.status,
    rule: approval.ruleId,
    resource: approval.resource,
    reason: approval.reason,
    steps: approval.steps.map((step) => step.description),
    createdAt: approval.createdAt,
    expiresAt: approval.expiresAt,
    ...(approval.decidedBy ? { decidedBy: approval.decidedBy } : {}),
  };
}

function describe(approval: PendingApproval): string {
  const lines = [
    `${approval.approvalId}  ${approval.status}  ${approval.ruleId}  ${approval.resource}`,
    ...approval.steps.map((step) => `    ${step.description}`),
    `    why approval: ${approval.reason}`,
    `    expires ${approval.expiresAt}${approval.decidedBy ? `; decided by ${approval.decidedBy}` : ''}`,
  ];
  return lines.join('\n');
}

function print(json: boolean | undefined, data: Record<string, unknown>, text: string): void {
  console.log(json ? JSON.stringify(data) : text);
}

runCli('approvals', main);
