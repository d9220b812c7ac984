import type { ChangeRecord } from '../change-record.ts';

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
}

const HEADLINE: Record<string, string> = {
  remediated: ':white_check_mark: Fixed',
  'pending-approval': ':hourglass_flowing_sand: Approval needed',
  notified: ':mega: Drift found (notify only)',
  failed: ':x: Fix failed',
  'rolled-back': ':leftwards_arrow_with_hook: Rolled back',
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

/** A link to the resource in the AWS console, where there is a page for it. */
export function consoleUrl(record: Pick<ChangeRecord, 'resource' | 'region'>): string | undefined {
  const [type, ...rest] = record.resource.split('/');
  const id = rest.join('/');
  const region = encodeURIComponent(record.region);
  switch (type) {
    case 'AWS::S3::Bucket':
      return `https://s3.console.aws.amazon.com/s3/buckets/${encodeURIComponent(id)}?region=${region}&tab=permissions`;
    case 'AWS::::Account':
      return `https://s3.console.aws.amazon.com/s3/settings?region=${region}`;
    case 'AWS::IAM::Policy':
      return `https://console.aws.amazon.com/iam/home#/policies/details/${encodeURIComponent(id)}`;
    case 'AWS::IAM::Role':
      return `https://console.aws.amazon.com/iam/home#/roles/details/${encodeURIComponent(id.split('/').pop() ?? id)}`;
    default:
      return undefined;
  }
}

function reporter(record: ChangeRecord): string {
  const trigger = record.trigger;
  return trigger.kind === 'config-rule'
    ? `AWS Config rule \`${escapeText(trigger.configRuleName)}\``
    : `Access Analyzer finding \`${escapeText(trigger.findingId)}\``;
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

/** The change record as a message a busy engineer reads at a glance. */
export function recordMessage(input: MessageInput): SlackMessage {
  const { record } = input;
  const headline = `${HEADLINE[record.outcome] ?? record.outcome}: ${input.ruleTitle}`;
  const url = consoleUrl(record);
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
  return { type: 'actions', block_id: 'driftfix_approval', elements: [approve, reject] };
}
