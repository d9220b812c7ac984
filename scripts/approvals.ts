import { userInfo } from 'node:os';
import { ClientFactory } from '../core/aws/clients.ts';
import { EventBridgeSink } from '../core/aws/emitter.ts';
import { EVENTBRIDGE } from '../core/aws/services.ts';
import { announceRecord } from '../core/engine/announce.ts';
import { decideApproval, putBack } from '../core/engine/decide.ts';
import { describeError, type PendingApproval } from '../core/model/index.ts';
import { updateApprovalMessage } from '../core/slack/interactivity.ts';
import { SlackWebApi, slackConfigFromEnv } from '../core/slack/notifier.ts';
import { SECRETS_MANAGER } from '../core/aws/services.ts';
import { parseCliArgs, prepareCliEnvironment, runCli } from './lib/cli-env.ts';
import { LocalBus } from './lib/local-bus.ts';
import { createLocalRuntime } from './lib/local-runtime.ts';

const USAGE = `usage: npm run approvals -- list [--all] [--json]
       npm run approvals -- approve <approval-id> [--bus <name>] [--member-bus <name>] [--json]
       npm run approvals -- reject <approval-id> [--member-bus <name>] [--json]
       npm run approvals -- exempt <approval-id> --days <n> --reason "<why>" [--member-bus <name>] [--json]

Decides pending approvals from a terminal, with the same conditional transitions as Slack.
Against a local emulator (AWS_ENDPOINT_URL set) an approved fix is applied at once by the same
handler code; otherwise the approval is sent to the deployed rule function on the event bus
(--bus, default "default"). An exception (exempt) makes the rule leave the resource alone for
<n> days, for the reason given; it is recorded and posted.
Against a hub, \`list\` shows every member account's approvals, and a decision on a member's approval
is sent to that member's driftfix bus (--member-bus, default HUB_MEMBER_BUS_NAME: the members'
\`<service>-<stage>-bus\`), where the member takes it under its own conditions.`;

async function main(argv: string[]): Promise<number> {
  prepareCliEnvironment();
  const options = {
    all: { type: 'boolean' },
    json: { type: 'boolean' },
    bus: { type: 'string' },
    'member-bus': { type: 'string' },
    days: { type: 'string' },
    reason: { type: 'string' },
    help: { type: 'boolean' },
  } as const;
  const parsed = parseCliArgs(argv, options, USAGE);
  if (!parsed) return 2;
  const { values, positionals } = parsed;
  const [command, approvalId, ...extra] = positionals;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const known = ['list', 'approve', 'reject', 'exempt'];
  if (!command || !known.includes(command) || extra.length > 0 || (command === 'list') !== !approvalId) {
    console.error(USAGE);
    return 2;
  }
  if (command === 'exempt' && (!values.days || !values.reason)) {
    console.error(`exempt needs --days <n> and --reason "<why>"\n${USAGE}`);
    return 2;
  }
  const runtime = await createLocalRuntime({ needStore: true });
  const ledger = runtime.ledger;
  if (!ledger) return 2;
  const now = Date.now();

  if (command === 'list') {
    const approvals = (await ledger.listApprovals()).filter((approval) => values.all || isOpen(approval, now));
    if (values.json) for (const approval of approvals) console.log(JSON.stringify(summary(approval, now)));
    else if (approvals.length === 0) console.log(values.all ? 'No approvals.' : 'No pending approvals.');
    else for (const approval of approvals) console.log(describe(approval, now));
    return 0;
  }
  const id = approvalId as string;
  const by = `cli:${userInfo().username}`;
  const decision = command as 'approve' | 'reject' | 'exempt';
  const days = values.days === undefined ? undefined : /^\d+$/.test(values.days) ? Number(values.days) : Number.NaN;
  const asked = await ledger.getApproval(id);
  if (asked && (asked.finding.account !== runtime.identity.account || asked.finding.region !== runtime.identity.region)) {
    // A hub: the member account applies its own decisions.
    const memberBus = values['member-bus'] ?? process.env.HUB_MEMBER_BUS_NAME;
    if (!memberBus) {
      console.error(`approval ${id} is for account ${asked.finding.account} in ${asked.finding.region}: give the members' driftfix bus with --member-bus <name> (or HUB_MEMBER_BUS_NAME)`);
      return 2;
    }
    return decideForMember(runtime, { approvalId: id, decision, by, days, reason: values.reason, memberBus, json: values.json === true });
  }
  const outcome = await decideApproval(ledger, { approvalId: id, decision, by, now, suppressionDays: runtime.settings.suppressionDays, days, reason: values.reason });
  if (outcome.kind === 'refused') {
    print(values.json, { approvalId: id, decision, result: 'refused', reason: outcome.reason }, `Refused: ${outcome.reason}. Nothing changed.`);
    return 1;
  }
  const slack = slackConfigFromEnv();
  const messages = slack
    ? { ledger, slack: new SlackWebApi(slack, () => runtime.factory.shared(SECRETS_MANAGER, { record: false })), log: runtime.deps.log }
    : undefined;
  const who = by.slice(4);
  if (outcome.decision === 'reject') {
    const until = outcome.suppression?.until;
    if (messages) await updateApprovalMessage(messages, outcome.approval, `Rejected by ${who} (terminal). driftfix will not propose this fix again until ${until}.`);
    print(values.json, { approvalId: id, decision, result: 'rejected', suppressedUntil: until }, `Rejected ${id}; ${outcome.approval.ruleId} leaves ${outcome.approval.resource} alone until ${until}.`);
    return 0;
  }
  if (outcome.decision === 'exempt' && outcome.record && outcome.exemption) {
    const rule = runtime.deps.rules.find((candidate) => candidate.id === outcome.approval.ruleId);
    if (rule) {
      const notification = await announceRecord(outcome.record, { announcer: runtime.deps.announcer, log: runtime.deps.log, rule, approval: outcome.approval });
      await ledger.setNotification(outcome.record, notification);
    }
    const { until, reason } = outcome.exemption;
    print(
      values.json,
      { approvalId: id, decision, result: 'exempted', until, reason, recordId: outcome.record.recordId },
      `Exempted ${outcome.approval.resource} from ${outcome.approval.ruleId} until ${until}: ${reason} (record ${outcome.record.recordId}).`,
    );
    return 0;
  }
  if (messages) await updateApprovalMessage(messages, outcome.approval, `Approved by ${who} (terminal); applying the change…`);
  if (process.env.AWS_ENDPOINT_URL) {
    const bus = new LocalBus(runtime);
    await bus.deliver(outcome.approval, { decision: 'approve' });
    const applied = bus.delivered[0];
    if (!applied) return 1;
    print(
      values.json,
      { approvalId: id, decision, result: applied.outcome, reason: applied.reason, calls: applied.calls, writes: applied.writes, recordId: applied.recordId },
      `Approved ${id}: ${applied.outcome}: ${applied.reason}${applied.recordId ? ` (record ${applied.recordId})` : ''}`,
    );
    // Exit 0 only when the approved change stands (applied, or the resource already as asked).
    return applied.outcome === 'remediated' || applied.outcome === 'compliant' ? 0 : 1;
  }
  const busName = values.bus ?? 'default';
  try {
    await new EventBridgeSink(() => runtime.factory.shared(EVENTBRIDGE, { record: false }), busName).deliver(outcome.approval, { decision: 'approve', by });
  } catch (error) {
    // Put back, as the Slack endpoint does, unless the hand-over landed after all and the approval moved on.
    const reverted = await putBack(ledger, outcome.approval, { remote: false });
    const after = reverted ? 'it is pending again' : 'but the approval has moved on since (the hand-over reached the function): see `npm run approvals -- list`';
    print(values.json, { approvalId: id, decision, result: 'refused', reason: describeError(error), pendingAgain: reverted }, `Could not hand the approval to the ${busName} bus (${describeError(error)}); ${after}.`);
    return 1;
  }
  print(values.json, { approvalId: id, decision, result: 'approved', bus: busName }, `Approved ${id}; the ${outcome.approval.ruleId} function applies it (event sent to bus ${busName}).`);
  return 0;
}

/**
 * At a hub: the hub's copy is decided (so that a second decision is refused here too), the
 * decision is put on the member's driftfix bus, and the member takes, applies and reports it.
 * When the member cannot be told, the hub's copy is put back to pending.
 */
async function decideForMember(
  runtime: Awaited<ReturnType<typeof createLocalRuntime>>,
  request: { approvalId: string; decision: 'approve' | 'reject' | 'exempt'; by: string; days: number | undefined; reason: string | undefined; memberBus: string; json: boolean },
): Promise<number> {
  const ledger = runtime.ledger;
  if (!ledger) return 2;
  const { approvalId: id, decision, by, memberBus } = request;
  const outcome = await decideApproval(ledger, {
    approvalId: id,
    decision,
    by,
    now: Date.now(),
    suppressionDays: runtime.settings.suppressionDays,
    days: request.days,
    reason: request.reason,
    copyOnly: true,
  });
  if (outcome.kind === 'refused') {
    print(request.json, { approvalId: id, decision, result: 'refused', reason: outcome.reason }, `Refused: ${outcome.reason}. Nothing changed.`);
    return 1;
  }
  // PutEvents goes to the member bus's own region.
  const regional = (region?: string) =>
    region && region !== runtime.identity.region
      ? new ClientFactory({ ...runtime.factory.options, region }).shared(EVENTBRIDGE, { record: false })
      : runtime.factory.shared(EVENTBRIDGE, { record: false });
  const sink = new EventBridgeSink(regional, 'default', memberBus);
  sink.ownAccount = runtime.identity.account;
  sink.ownRegion = runtime.identity.region;
  const { account } = outcome.approval.finding;
  try {
    await sink.deliver(outcome.approval, { decision, by, ...(request.days === undefined ? {} : { days: request.days }), ...(request.reason ? { reason: request.reason } : {}) });
  } catch (error) {
    const reverted = await putBack(ledger, outcome.approval, { remote: true });
    const after = reverted ? 'the approval is pending again' : 'but the approval has moved on since (the member received it)';
    print(request.json, { approvalId: id, decision, result: 'refused', reason: describeError(error), pendingAgain: reverted }, `Could not tell account ${account} (${describeError(error)}); ${after}.`);
    return 1;
  }
  // The hub's message says so now (a rejection sends no record back: the buttons must go).
  const slack = slackConfigFromEnv();
  if (slack) {
    const who = by.slice(4);
    const note =
      decision === 'approve'
        ? `Approved by ${who} (terminal); the change is being applied in ${account}…`
        : decision === 'reject'
          ? `Rejected by ${who} (terminal).`
          : `Exempted by ${who} (terminal) for ${request.days} days: ${request.reason ?? ''}`;
    await updateApprovalMessage({ ledger, slack: new SlackWebApi(slack, () => runtime.factory.shared(SECRETS_MANAGER, { record: false })), log: runtime.deps.log }, outcome.approval, note);
  }
  print(request.json, { approvalId: id, decision, result: 'sent', account, bus: memberBus }, `Decision "${decision}" on ${id} sent to account ${account} (bus ${memberBus}); the member applies it and reports back.`);
  return 0;
}

/** Pending and not yet expired: still waiting for a person. */
function isOpen(approval: PendingApproval, now: number): boolean {
  return approval.status === 'pending' && Date.parse(approval.expiresAt) > now;
}

/** An expired approval is shown as expired, whatever the table still says. */
function statusOf(approval: PendingApproval, now: number): string {
  return approval.status === 'pending' && Date.parse(approval.expiresAt) <= now ? 'expired' : approval.status;
}

function summary(approval: PendingApproval, now: number) {
  return {
    approvalId: approval.approvalId,
    status: statusOf(approval, now),
    rule: approval.ruleId,
    account: approval.finding.account,
    region: approval.finding.region,
    resource: approval.resource,
    reason: approval.reason,
    ...(approval.risks ? { risks: approval.risks } : {}),
    steps: approval.steps.map((step) => step.description),
    createdAt: approval.createdAt,
    expiresAt: approval.expiresAt,
    ...(approval.decidedBy ? { decidedBy: approval.decidedBy } : {}),
  };
}

function describe(approval: PendingApproval, now: number): string {
  const lines = [
    `${approval.approvalId}  ${statusOf(approval, now)}  ${approval.ruleId}  ${approval.finding.account}/${approval.finding.region}  ${approval.resource}`,
    ...(approval.risks ?? []).map((risk) => `    could break: ${risk}`),
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
