import { describe, expect, it } from 'vitest';
import type { ChangeRecord, Step } from '../../core/model/index.ts';
import { type Block, escapeText, exemptionModal, LIMITS, type MessageInput, recordMessage, truncate } from '../../core/slack/messages.ts';

const APPROVAL_ID = 'apr-0f8e7d6c-5b4a-4392-8a1b-0c2d3e4f5a6b';
const BUCKET = 'site-bucket';

const STEP: Step = {
  operation: 'S3.PutPublicAccessBlock',
  input: { Bucket: BUCKET },
  description: 'block public access: none → all four flags',
  before: { flags: null },
  after: { flags: 'all' },
  undo: { operation: 'S3.DeletePublicAccessBlock', input: { Bucket: BUCKET } },
};

function changeRecord(overrides: Partial<ChangeRecord> = {}): ChangeRecord {
  return {
    recordId: 'rec-0123456789abcdef01234567',
    status: 'final',
    eventId: '00000000-0000-4000-8000-000000000001',
    ruleId: 'example-rule',
    resource: `AWS::S3::Bucket/${BUCKET}`,
    account: '111122223333',
    region: 'us-east-1',
    mode: 'auto',
    outcome: 'pending-approval',
    reason: 'waiting for approval (the bucket hosts a static website): block public access',
    trigger: { kind: 'config-rule', configRuleName: 's3-bucket-public-read-prohibited', identifier: 'S3_BUCKET_PUBLIC_READ_PROHIBITED', complianceType: 'NON_COMPLIANT' },
    replayed: false,
    before: { summary: 'no Block Public Access; static website hosting on', state: {} },
    steps: [STEP],
    calls: [],
    writes: 0,
    approvalId: APPROVAL_ID,
    risks: ['the static website this bucket hosts goes offline'],
    createdAt: '2026-11-29T10:00:00.000Z',
    updatedAt: '2026-11-29T10:00:00.000Z',
    ...overrides,
  };
}

function approvalInput(overrides: Partial<MessageInput> = {}): MessageInput {
  return { record: changeRecord(), ruleTitle: 'S3 bucket Block Public Access', risk: 'high', approvalId: APPROVAL_ID, ...overrides };
}

/** All the text a block holds, wherever Block Kit puts it. */
function textOf(block: Block | undefined): string {
  if (!block) return '';
  const parts: string[] = [];
  const text = block.text as { text?: string } | undefined;
  if (text?.text) parts.push(text.text);
  for (const field of (block.fields as Array<{ text: string }> | undefined) ?? []) parts.push(field.text);
  for (const element of (block.elements as Array<{ text?: string | { text: string } }> | undefined) ?? []) {
    if (typeof element.text === 'string') parts.push(element.text);
    else if (element.text) parts.push(element.text.text);
  }
  return parts.join('\n');
}

const fieldsOf = (blocks: Block[]) => ((blocks[1]?.fields as Array<{ text: string }>) ?? []).map((field) => field.text);
const actionsOf = (blocks: Block[]) => blocks.find((block) => block.type === 'actions');
const buttonsOf = (blocks: Block[]) => (actionsOf(blocks)?.elements ?? []) as Array<Record<string, any>>;

describe('a record as a Slack message', () => {
  it('asks for approval: header, the facts, what could break first, then what was wrong, the proposed change and why', () => {
    const message = recordMessage(
      approvalInput({
        record: changeRecord({
          trigger: { kind: 'config-rule', configRuleName: 's3-bucket-public-read-prohibited', complianceType: 'NON_COMPLIANT', annotation: 'The bucket allows public read access.' },
          before: undefined,
        }),
      }),
    );
    const { blocks } = message;
    expect(blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'Approval needed: S3 bucket Block Public Access', emoji: true } });
    expect(fieldsOf(blocks)).toEqual([
      `*Resource*\nAWS::S3::Bucket/${BUCKET}`,
      '*Account / region*\n111122223333 / us-east-1',
      '*Reported by*\nAWS Config rule `s3-bucket-public-read-prohibited`',
      '*Decided by*\nwaiting for an approver',
    ]);
    const sections = blocks.slice(2).map(textOf);
    expect(sections[0]).toBe('*:warning: What could break*\n• the static website this bucket hosts goes offline');
    expect(sections[1]).toBe('*What was wrong*\nThe bucket allows public read access.');
    expect(sections[2]).toBe(`*Proposed change*\n• ${escapeText(STEP.description)}`);
    expect(sections[3]).toBe(`*Why*\n${changeRecord().reason}`);
    expect(blocks.at(-2)?.type).toBe('actions');
    expect(textOf(blocks.at(-1))).toBe('record `rec-0123456789abcdef01234567` · event `00000000-0000-4000-8000-000000000001` · 0 write(s) · 2026-11-29T10:00:00.000Z');
    expect(message.text).toBe(`Approval needed: S3 bucket Block Public Access — AWS::S3::Bucket/${BUCKET}: ${changeRecord().reason}`);
  });

  it('puts what could break before everything else an approver reads, several risks one per line', () => {
    const { blocks } = recordMessage(approvalInput({ record: changeRecord({ risks: ['the website goes offline', 'CloudFront origins fail'] }) }));
    const risksAt = blocks.findIndex((block) => textOf(block).includes('What could break'));
    expect(risksAt).toBe(2);
    expect(textOf(blocks[risksAt])).toContain('• the website goes offline\n• CloudFront origins fail');
    expect(blocks.findIndex((block) => textOf(block).startsWith('*Proposed change*'))).toBeGreaterThan(risksAt);
    expect(blocks.findIndex((block) => textOf(block).startsWith('*Why*'))).toBeGreaterThan(risksAt);
  });

  it('has no risk section when the plan named none', () => {
    const { blocks } = recordMessage(approvalInput({ record: changeRecord({ risks: undefined }) }));
    expect(blocks.some((block) => textOf(block).includes('What could break'))).toBe(false);
  });

  it('shows as many whole risks as fit, then how many more the record holds; a long first risk is cut, not the list', () => {
    const risks = Array.from({ length: 40 }, (_, i) => `risk ${i} ${'x'.repeat(150)}`);
    const text = textOf(recordMessage(approvalInput({ record: changeRecord({ risks }) })).blocks.find((block) => textOf(block).includes('What could break')));
    expect(text.length).toBeLessThanOrEqual(LIMITS.sectionText);
    const lines = text.split('\n');
    expect(lines[0]).toBe('*:warning: What could break*');
    const shown = lines.filter((line) => line.startsWith('• '));
    expect(shown.length).toBeGreaterThan(10);
    // Whole lines, in order, and the rest counted last.
    expect(shown).toEqual(risks.slice(0, shown.length).map((risk) => `• ${risk}`));
    expect(lines.at(-1)).toBe(`… and ${risks.length - shown.length} more (in the record)`);

    const [first = ''] = risks;
    const long = textOf(recordMessage(approvalInput({ record: changeRecord({ risks: ['y'.repeat(5_000), first, 'a < b'] }) })).blocks[2]);
    expect(long.split('\n')).toEqual(['*:warning: What could break*', `• ${'y'.repeat(997)}…`, `• ${first}`, '• a &lt; b']);
  });

  it('offers Approve, Reject and Exempt, each carrying the opaque approval id and nothing else', () => {
    const { blocks } = recordMessage(approvalInput({ risk: 'medium' }));
    expect(actionsOf(blocks)?.block_id).toBe('driftfix_approval');
    const buttons = buttonsOf(blocks);
    expect(buttons.map((button) => [button.action_id, button.value, button.text.text])).toEqual([
      ['approve', APPROVAL_ID, 'Approve'],
      ['reject', APPROVAL_ID, 'Reject'],
      ['exempt', APPROVAL_ID, 'Exempt…'],
    ]);
    for (const button of buttons) {
      expect(Object.keys(button).filter((key) => !['action_id', 'style', 'text', 'type', 'value'].includes(key))).toEqual([]);
    }
    expect(buttons[0]?.confirm).toBeUndefined();
  });

  it('asks Approve to be confirmed when the change is high-risk, within the confirm dialog limits', () => {
    const [approve, reject, exempt] = buttonsOf(recordMessage(approvalInput({ risk: 'high' })).blocks);
    expect(approve?.confirm).toMatchObject({
      title: { type: 'plain_text', text: 'Apply this change?' },
      confirm: { type: 'plain_text', text: 'Apply' },
      deny: { type: 'plain_text', text: 'Cancel' },
      style: 'danger',
    });
    expect(approve?.confirm.text.text).toContain(`*AWS::S3::Bucket/${BUCKET}*`);
    expect(reject?.confirm).toBeUndefined();
    expect(exempt?.confirm).toBeUndefined();
    // Block Kit confirmation dialog: title 100, text 300, confirm and deny 30 characters.
    const long = buttonsOf(recordMessage(approvalInput({ record: changeRecord({ resource: `AWS::S3::Bucket/${'b'.repeat(600)}` }) })).blocks)[0];
    expect(long?.confirm.text.text.length).toBeLessThanOrEqual(300);
    expect(long?.confirm.text.text.endsWith('…')).toBe(true);
  });

  it('has no buttons once decided or for a record that asks nothing', () => {
    for (const input of [
      { record: changeRecord({ outcome: 'remediated', writes: 1 }), ruleTitle: 'S3 bucket Block Public Access', risk: 'high' as const, decidedBy: 'U0APPROVER1' },
      { record: changeRecord({ outcome: 'failed', approvalId: undefined }), ruleTitle: 'S3 bucket Block Public Access', risk: 'low' as const },
    ]) {
      expect(actionsOf(recordMessage(input).blocks)).toBeUndefined();
    }
  });

  it.each([
    ['an AWS Config rule, with the managed rule behind it', changeRecord().trigger, '*Reported by*\nAWS Config rule `s3-bucket-public-read-prohibited` (S3_BUCKET_PUBLIC_READ_PROHIBITED)'],
    [
      'a Security Hub control',
      { kind: 'security-hub', findingId: 'arn:aws:securityhub:us-east-1:111122223333:security-control/S3.8/finding/1', productArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub', controlId: 'S3.8', complianceStatus: 'FAILED', workflowStatus: 'NEW' },
      '*Reported by*\nSecurity Hub control `S3.8`',
    ],
    [
      'an Access Analyzer finding',
      { kind: 'access-analyzer', findingId: '0a1b2c3d-finding', status: 'ACTIVE', isPublic: true },
      '*Reported by*\nAccess Analyzer finding `0a1b2c3d-finding`',
    ],
  ] as const)('names who reported the drift: %s', (_name, trigger, expected) => {
    expect(fieldsOf(recordMessage(approvalInput({ record: changeRecord({ trigger: trigger as ChangeRecord['trigger'] }) })).blocks)[2]).toBe(expected);
  });

  it('says when the event was replayed rather than sent by AWS', () => {
    expect(fieldsOf(recordMessage(approvalInput({ record: changeRecord({ replayed: true }) })).blocks)[2]).toMatch(/ \(replayed\)$/);
  });

  it.each([
    ['an approver in Slack', { decidedBy: 'U0APPROVER1' }, '*Decided by*\n<@U0APPROVER1>'],
    ['someone at a terminal', { decidedBy: 'cli:alice' }, '*Decided by*\nalice (terminal)'],
    ['the rule’s mode', { record: changeRecord({ outcome: 'remediated', approvalId: undefined, mode: 'auto' }), approvalId: undefined }, '*Decided by*\ndriftfix (mode `auto`)'],
  ])('names who decided: %s', (_name, overrides, expected) => {
    expect(fieldsOf(recordMessage(approvalInput(overrides)).blocks)[3]).toBe(expected);
  });

  it('links the resource to its console page when the announcement has one', () => {
    const url = `https://s3.console.aws.amazon.com/s3/buckets/${BUCKET}?region=us-east-1&tab=permissions`;
    expect(fieldsOf(recordMessage(approvalInput({ consoleUrl: url })).blocks)[0]).toBe(`*Resource*\n<${url}|AWS::S3::Bucket/${BUCKET}>`);
    expect(fieldsOf(recordMessage(approvalInput()).blocks)[0]).not.toContain('<');
  });

  it('shows before → after for a change that was made, with the headline of its outcome', () => {
    const done = changeRecord({
      outcome: 'remediated',
      approvalId: undefined,
      writes: 1,
      before: { summary: 'no default encryption', state: {} },
      after: { summary: 'SSE-S3 (AES256)', state: {} },
    });
    const { blocks, text } = recordMessage({ record: done, ruleTitle: 'S3 default encryption', risk: 'low' });
    expect(textOf(blocks[0])).toBe('Fixed: S3 default encryption');
    expect(blocks.map(textOf)).toContain('*Change*\n*before:* no default encryption\n*after:*  SSE-S3 (AES256)');
    expect(blocks.some((block) => textOf(block).includes('What could break'))).toBe(false);
    expect(text.startsWith('Fixed: S3 default encryption — ')).toBe(true);
  });

  it('shows the state it found when there is neither a change nor a plan', () => {
    const record = changeRecord({ outcome: 'failed', approvalId: undefined, steps: [], before: { summary: 'policy document unreadable', state: {} } });
    expect(recordMessage({ record, ruleTitle: 'Rule', risk: 'low' }).blocks.map(textOf)).toContain('*State*\npolicy document unreadable');
  });

  it('headlines an outcome it has no words for by its name', () => {
    const { blocks } = recordMessage({ record: changeRecord({ outcome: 'planned', approvalId: undefined }), ruleTitle: 'Rule', risk: 'low' });
    expect(textOf(blocks[0])).toBe('planned: Rule');
  });

  it.each([
    ['notified', 'Drift found (notify only)'],
    ['failed', 'Fix failed'],
    ['rolled-back', 'Rolled back'],
    ['exempted', 'Exception granted'],
    ['skipped', 'Not applied'],
    ['compliant', 'Already compliant'],
    ['rejected', 'Rejected'],
  ] as const)('headlines a %s record as "%s"', (outcome, headline) => {
    const { blocks } = recordMessage({ record: changeRecord({ outcome, approvalId: undefined }), ruleTitle: 'Rule', risk: 'low' });
    expect(textOf(blocks[0])).toBe(`${headline}: Rule`);
  });

  it('adds driftfix’s own note as written, mentions included', () => {
    const { blocks } = recordMessage(approvalInput({ note: 'Approved by <@U0APPROVER1>; applying the change…' }));
    expect(blocks.map(textOf)).toContain('Approved by <@U0APPROVER1>; applying the change…');
  });

  it('escapes what came from AWS or the event, so nobody can mention @channel or hide a link in a resource name or a reason', () => {
    const hostile = changeRecord({
      resource: 'AWS::S3::Bucket/<!channel>&<https://evil.example|bucket>',
      reason: 'policy <!here> grants <@U0MALLORY1> access & more',
      risks: ['<!everyone> loses access'],
      steps: [{ ...STEP, description: 'remove <https://evil.example|statement>' }],
      before: undefined,
      eventId: '<!subteam^S0>',
    });
    const message = recordMessage(approvalInput({ record: hostile, consoleUrl: 'https://s3.console.aws.amazon.com/s3/buckets/x' }));
    const all = message.blocks.map(textOf).join('\n');
    for (const raw of ['<!channel>', '<!here>', '<@U0MALLORY1>', '<!everyone>', '<https://evil.example', '<!subteam']) expect(all).not.toContain(raw);
    expect(all).toContain('&lt;!channel&gt;&amp;&lt;https://evil.example|bucket&gt;');
    expect(all).toContain('policy &lt;!here&gt; grants &lt;@U0MALLORY1&gt; access &amp; more');
    expect(all).toContain('• &lt;!everyone&gt; loses access');
  });

  it('escapes exactly &, < and >', () => {
    expect(escapeText('a & b < c > d "e" \'f\' *g*')).toBe('a &amp; b &lt; c &gt; d "e" \'f\' *g*');
    expect(escapeText('&amp;')).toBe('&amp;amp;');
  });

  it('keeps every part within Block Kit’s limits however long the record is', () => {
    const huge = changeRecord({
      resource: `AWS::IAM::Policy/${'p'.repeat(2_500)}`,
      reason: 'r'.repeat(10_000),
      risks: Array.from({ length: 200 }, (_, i) => `risk ${i} ${'x'.repeat(50)}`),
      steps: Array.from({ length: 400 }, (_, i) => ({ ...STEP, description: `step ${i} ${'y'.repeat(40)}` })),
      before: undefined,
    });
    const message = recordMessage(approvalInput({ record: huge, ruleTitle: 'T'.repeat(400), note: 'n'.repeat(5_000) }));
    expect(message.blocks.length).toBeLessThanOrEqual(LIMITS.blocks);
    expect(message.text.length).toBeLessThanOrEqual(LIMITS.fallbackText);
    const header = message.blocks[0]?.text as { text: string };
    expect(header.text.length).toBe(LIMITS.headerText);
    expect(header.text.endsWith('…')).toBe(true);
    for (const block of message.blocks) {
      const text = (block.text as { text?: string } | undefined)?.text;
      if (block.type === 'section' && text) expect(text.length).toBeLessThanOrEqual(LIMITS.sectionText);
      for (const field of (block.fields as Array<{ text: string }> | undefined) ?? []) expect(field.text.length).toBeLessThanOrEqual(LIMITS.fieldText);
      if (block.type === 'context') for (const element of block.elements as Array<{ text: string }>) expect(element.text.length).toBeLessThanOrEqual(LIMITS.fieldText);
    }
    // Cut, not dropped: the buttons survive a record of any length.
    expect(buttonsOf(message.blocks).map((button) => button.value)).toEqual([APPROVAL_ID, APPROVAL_ID, APPROVAL_ID]);
    expect(message.blocks.find((block) => textOf(block).startsWith('*Why*'))?.text).toMatchObject({ text: expect.stringMatching(/^\*Why\*\nr+…$/) });
  });

  it('truncates to the limit with an ellipsis, and leaves shorter text alone', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abcd', 4)).toBe('abcd');
    expect(truncate('', 4)).toBe('');
  });
});

describe('the exception modal', () => {
  const modal = exemptionModal(APPROVAL_ID, 'AWS::S3::Bucket/<!channel>', 365) as Record<string, any>;

  it('is a modal the interactivity endpoint recognises on submission, carrying the approval id', () => {
    expect(modal).toMatchObject({ type: 'modal', callback_id: 'driftfix_exempt', private_metadata: APPROVAL_ID });
    // Block Kit modal limits: title, submit and close at most 24 characters; private_metadata 3000.
    for (const key of ['title', 'submit', 'close']) {
      expect(modal[key].type).toBe('plain_text');
      expect(modal[key].text.length).toBeLessThanOrEqual(24);
    }
  });

  it('asks how many whole days (1 to the maximum) and why', () => {
    const inputs = (modal.blocks as Array<Record<string, any>>).filter((block) => block.type === 'input');
    expect(inputs.map((block) => [block.block_id, block.element.action_id, block.element.type])).toEqual([
      ['days', 'value', 'number_input'],
      ['reason', 'value', 'plain_text_input'],
    ]);
    expect(inputs[0]?.element).toMatchObject({ is_decimal_allowed: false, min_value: '1', max_value: '365' });
    expect(inputs[1]?.element.multiline).toBe(true);
    expect(inputs[1]?.element.max_length).toBeLessThanOrEqual(2000);
    expect((exemptionModal(APPROVAL_ID, 'r', 30) as any).blocks[1].element.max_value).toBe('30');
  });

  it('names the resource, escaped', () => {
    const intro = (modal.blocks as Array<Record<string, any>>)[0];
    expect(intro?.text.text).toContain('*AWS::S3::Bucket/&lt;!channel&gt;*');
    expect(intro?.text.text).not.toContain('<!channel>');
  });
});
