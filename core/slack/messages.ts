import type { ChangeRecord } from '../model/index.ts';

/** Block Kit limits (api.slack.com/reference/block-kit/blocks). */
export const LIMITS = { headerText: 150, sectionText: 3000, fieldText: 2000, blocks: 50, fallbackText: 3000 } as const;

export type Block = Record<string, unknown>;
export interface SlackMessage {
  text: string;
  blocks: Block[];
}

export interface MessageInput {
  record: ChangeRecord;
  ruleTitle: string;
  /** High-risk approvals get a confirm dialog on Approve. */
  risk: 'low' | 'medium' | 'high';
  /** Present while the change waits for a decision: adds the Approve and Reject buttons. */
  approvalId?: string;
  /** Who decided: an approver's Slack id (or cli:name), or the rule's mode. */
  decidedBy?: string;
  /** One extra line written by driftfix itself (may hold Slack mentions such as <@U…>), never user input. */
  note?: string;
  /** The resource's page in the AWS console, where there is one. */
  consoleUrl?: string;
}

const HEADLINE: Record<string, string> = {
  remediated: ':white_check_mark: Fixed',
  'pending-approval': ':hourglass_flowing_sand: Approval needed',
  notified: ':mega: Drift found (notify only)',
  failed: ':x: Fix failed',
  'rolled-back': ':leftwards_arrow_with_hook: Rolled back',
  exempted: ':calendar: Exception granted',
  skipped: ':no_entry_sign: Not applied',
  compliant: ':ok: Already compliant',
  rejected: ':no_entry: Rejected',
};

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function reporter(record: ChangeRecord): string {
  const trigger = record.trigger;
  switch (trigger.kind) {
    case 'config-rule':
      return `AWS Config rule \`${escapeText(trigger.configRuleName)}\`${trigger.identifier ? ` (${escapeText(trigger.identifier)})` : ''}`;
    case 'security-hub':
      return `Security Hub control \`${escapeText(trigger.controlId)}\``;
    default:
      return `Access Analyzer finding \`${escapeText(trigger.findingId)}\``;
  }
}

function decider(input: MessageInput): string {
  if (input.decidedBy?.startsWith('cli:')) return `${escapeText(input.decidedBy.slice(4))} (terminal)`;
  if (input.decidedBy) return `<@${escapeText(input.decidedBy)}>`;
  if (input.record.outcome === 'pending-approval') return 'waiting for an approver';
  return `driftfix (mode \`${input.record.mode}\`)`;
}

function field(text: string): Block {
  return { type: 'mrkdwn', text: truncate(text, LIMITS.fieldText) };
}

function section(text: string): Block {
  return { type: 'section', text: { type: 'mrkdwn', text: truncate(text, LIMITS.sectionText) } };
}

/** One item of a list section at most this long, so that a long first item leaves room for others. */
const MAX_LIST_ITEM = 1000;

/**
 * A titled list, one `•` line per item, within a section's limit: whole lines only (each cut at
 * MAX_LIST_ITEM), and the count of those left out last, where the record has them all.
 */
function listSection(title: string, items: readonly string[], limit: number = LIMITS.sectionText): Block {
  const lines = items.map((item) => truncate(`• ${escapeText(item)}`, MAX_LIST_ITEM));
  const more = (left: number) => (left > 0 ? `\n… and ${left} more (in the record)` : '');
  let text = title;
  let shown = 0;
  for (const line of lines) {
    const next = `${text}\n${line}`;
    if (next.length + more(lines.length - shown - 1).length > limit) break;
    text = next;
    shown += 1;
  }
  return { type: 'section', text: { type: 'mrkdwn', text: truncate(`${text}${more(lines.length - shown)}`, limit) } };
}

/** The change record as a message a busy engineer reads at a glance. */
export function recordMessage(input: MessageInput): SlackMessage {
  const { record } = input;
  const headline = `${HEADLINE[record.outcome] ?? record.outcome}: ${input.ruleTitle}`;
  const url = input.consoleUrl;
  const resourceName = escapeText(record.resource);
  const resourceText = url ? `<${url}|${resourceName}>` : resourceName;
  const blocks: Block[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(headline.replace(/:[a-z_]+: /, ''), LIMITS.headerText), emoji: true } },
    {
      type: 'section',
      fields: [
        field(`*Resource*\n${resourceText}`),
        field(`*Account / region*\n${record.account} / ${record.region}`),
        field(`*Reported by*\n${reporter(record)}${record.replayed ? ' (replayed)' : ''}`),
        field(`*Decided by*\n${decider(input)}`),
      ],
    },
  ];
  // What could break comes first: an approver reads it before anything else.
  if (record.risks && record.risks.length > 0 && (record.outcome === 'pending-approval' || input.approvalId)) {
    blocks.push(listSection('*:warning: What could break*', record.risks));
  }
  const annotation = record.trigger.kind === 'config-rule' ? record.trigger.annotation : undefined;
  if (annotation) blocks.push(section(`*What was wrong*\n${escapeText(annotation)}`));
  if (record.before && record.after) {
    blocks.push(section(`*Change*\n*before:* ${escapeText(record.before.summary)}\n*after:*  ${escapeText(record.after.summary)}`));
  } else if (record.steps.length > 0) {
    const steps = record.steps.map((step) => `• ${escapeText(step.description)}`).join('\n');
    blocks.push(section(`*${record.outcome === 'pending-approval' ? 'Proposed change' : 'Change'}*\n${steps}`));
  } else if (record.before) {
    blocks.push(section(`*State*\n${escapeText(record.before.summary)}`));
  }
  blocks.push(section(`*Why*\n${escapeText(record.reason)}`));
  if (input.note) blocks.push(section(input.note));
  if (input.approvalId) blocks.push(approvalButtons(input));
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: truncate(`record \`${record.recordId}\` · event \`${escapeText(record.eventId)}\` · ${record.writes} write(s) · ${record.updatedAt}`, LIMITS.fieldText),
      },
    ],
  });
  return { text: truncate(`${headline.replace(/:[a-z_]+: /, '')} — ${record.resource}: ${record.reason}`, LIMITS.fallbackText), blocks: blocks.slice(0, LIMITS.blocks) };
}

function approvalButtons(input: MessageInput): Block {
  const approve: Block = {
    type: 'button',
    action_id: 'approve',
    text: { type: 'plain_text', text: 'Approve' },
    style: 'primary',
    value: input.approvalId,
  };
  if (input.risk === 'high') {
    approve.confirm = {
      title: { type: 'plain_text', text: 'Apply this change?' },
      text: { type: 'mrkdwn', text: truncate(`This changes *${escapeText(input.record.resource)}* for the whole account. It can be rolled back from its record.`, 300) },
      confirm: { type: 'plain_text', text: 'Apply' },
      deny: { type: 'plain_text', text: 'Cancel' },
      style: 'danger',
    };
  }
  const reject: Block = {
    type: 'button',
    action_id: 'reject',
    text: { type: 'plain_text', text: 'Reject' },
    style: 'danger',
    value: input.approvalId,
  };
  const exempt: Block = {
    type: 'button',
    action_id: 'exempt',
    text: { type: 'plain_text', text: 'Exempt…' },
    value: input.approvalId,
  };
  return { type: 'actions', block_id: 'driftfix_approval', elements: [approve, reject, exempt] };
}

/** The modal the Exempt button opens: how many days, and why (Slack Block Kit, views.open). */
export function exemptionModal(approvalId: string, resource: string, maxDays: number): Record<string, unknown> {
  return {
    type: 'modal',
    callback_id: 'driftfix_exempt',
    private_metadata: approvalId,
    title: { type: 'plain_text', text: 'Time-boxed exception' },
    submit: { type: 'plain_text', text: 'Exempt' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      section(`driftfix will leave *${escapeText(resource)}* alone for this rule until the exception ends; then the next finding acts again.`),
      {
        type: 'input',
        block_id: 'days',
        label: { type: 'plain_text', text: 'Days' },
        element: { type: 'number_input', action_id: 'value', is_decimal_allowed: false, min_value: '1', max_value: String(maxDays), initial_value: '30' },
      },
      {
        type: 'input',
        block_id: 'reason',
        label: { type: 'plain_text', text: 'Reason' },
        element: { type: 'plain_text_input', action_id: 'value', multiline: true, max_length: 500 },
      },
    ],
  };
}
