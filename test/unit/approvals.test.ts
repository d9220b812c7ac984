import { describe, expect, it } from 'vitest';
import { decideApproval, putBack } from '../../core/engine/decide.ts';
import { handleRuleEvent } from '../../core/engine/handle-event.ts';
import { decisionParts, MAX_DECISION_PARTS } from '../../core/model/index.ts';
import { approvedEvent, freshId } from '../support/events.ts';
import { widgetEvent } from '../support/crash-harness.ts';
import { FakeAnnouncer, FakeWorld, fakeDeps, fakeRule, MemoryLedger } from '../support/fake-rule.ts';


/** "Remediation Approved" for the fake rule, or another rule or account. */
const approved = (approvalId: string, ruleId = 'fake-widget', account?: string) => approvedEvent(approvalId, ruleId, account ? { account } : {});

function setup(options: { level?: string; scoped?: boolean | ((configRuleName: string) => string | undefined) } = {}) {
  const world = new FakeWorld();
  const ledger = new MemoryLedger();
  const announcer = new FakeAnnouncer();
  const clock = { now: Date.now() };
  const rule = fakeRule({ mode: 'approve', ...(options.scoped ? { scoped: options.scoped } : {}) });
  const widget = `w-${freshId().slice(-6)}`;
  world.levels.set(widget, options.level ?? 'unsafe');
  // Every Config rule name runs the fake managed rule (as Security Hub, packs and people name theirs).
  const configRules = { describe: async (name: string) => ({ name, owner: 'AWS', identifier: 'FAKE_WIDGET_SAFE' }) };
  const run = (event: unknown) => handleRuleEvent(event, rule, { ...fakeDeps(world, ledger, { rule, now: () => clock.now, announcer }), configRules }, { dryRun: false });
  const decide = (approvalId: string, decision: 'approve' | 'reject' | 'exempt', extra: { days?: number; reason?: string } = {}) =>
    decideApproval(ledger, { approvalId, decision, by: 'U0APPROVER1', now: clock.now, suppressionDays: 30, ...extra });
  return { world, ledger, announcer, clock, rule, widget, run, decide };
}

describe('questions about part of a resource (a rule with a scope, as security group ports)', () => {
  it('a rejection holds for the question rejected only; another part of the same resource is asked about, and an exception is per part too', async () => {
    const { widget, run, decide, ledger } = setup({ scoped: true });
    const ssh = await run(widgetEvent(widget, freshId(), 'restricted-ssh'));
    expect(ssh.outcome).toBe('pending-approval');
    // The other part gets its own question while the first is open.
    const mysql = await run(widgetEvent(widget, freshId(), 'restricted-common-ports'));
    expect(mysql.outcome).toBe('pending-approval');
    expect(mysql.approvalId).not.toBe(ssh.approvalId);

    await decide(mysql.approvalId ?? '', 'reject');
    expect(ledger.suppressions.get(`fake-widget#AWS::Fake::Widget/${widget}#restricted-common-ports`)).toMatchObject({ scope: 'restricted-common-ports' });
    const mysqlAgain = await run(widgetEvent(widget, freshId(), 'restricted-common-ports'));
    expect(mysqlAgain.outcome).toBe('skipped');
    expect(mysqlAgain.reason).toMatch(/suppressed|rejected/);
    const sshAgain = await run(widgetEvent(widget, freshId(), 'restricted-ssh'));
    expect(sshAgain.reason).toMatch(new RegExp(`^already waiting for approval ${ssh.approvalId}`));

    await decide(ssh.approvalId ?? '', 'exempt', { days: 7, reason: 'bastion migration' });
    expect((await run(widgetEvent(widget, freshId(), 'restricted-ssh'))).reason).toMatch(/^exempted until .*: bastion migration/);
  });
});

describe('questions about overlapping parts (ports flagged by different rules)', () => {
  // As the security group rule scopes its questions: by the ports each finding flags.
  const PORTS: Record<string, string> = { 'restricted-common-ports': 'ports:3306,3389', 'rdp-only': 'ports:3389', 'restricted-ssh': 'ports:22' };
  const byPorts = (name: string) => PORTS[name];

  it('an exception on a question about several ports holds for a later question about one of them, not for other ports', async () => {
    const { widget, run, decide, world } = setup({ scoped: byPorts });
    const common = await run(widgetEvent(widget, freshId(), 'restricted-common-ports'));
    await decide(common.approvalId ?? '', 'exempt', { days: 7, reason: 'database migration' });
    const rdp = await run(widgetEvent(widget, freshId(), 'rdp-only'));
    expect(rdp.outcome).toBe('skipped');
    expect(rdp.reason).toMatch(/^exempted until .*: database migration/);
    const ssh = await run(widgetEvent(widget, freshId(), 'restricted-ssh'));
    expect(ssh.outcome).toBe('pending-approval');
    expect(world.writes).toBe(0);
  });

  it('a shorter exception on an overlapping question leaves a longer one on the shared port as it is', async () => {
    const { widget, run, decide, ledger, clock } = setup({ scoped: byPorts });
    const rdp = await run(widgetEvent(widget, freshId(), 'rdp-only'));
    const common = await run(widgetEvent(widget, freshId(), 'restricted-common-ports'));
    await decide(rdp.approvalId ?? '', 'exempt', { days: 365, reason: 'bastion needs RDP this year' });
    await decide(common.approvalId ?? '', 'exempt', { days: 7, reason: 'database migration' });
    expect(ledger.exemptions.get(`fake-widget#AWS::Fake::Widget/${widget}#ports:3389`)?.reason).toBe('bastion needs RDP this year');
    clock.now += 8 * 86_400_000;
    expect((await run(widgetEvent(widget, freshId(), 'rdp-only'))).reason).toMatch(/bastion needs RDP this year/);
  });

  it('a question about many ports is decided as a whole (each part costs two checks in a transaction of at most 100)', () => {
    const ports = Array.from({ length: MAX_DECISION_PARTS + 1 }, (_, index) => 1000 + index).join(',');
    expect(decisionParts({ ruleId: 'r', resource: 'x', scope: `ports:${ports}` })).toEqual([`r#x#ports:${ports}`]);
    expect(decisionParts({ ruleId: 'r', resource: 'x', scope: 'ports:22,3389' })).toEqual(['r#x#ports:22,3389', 'r#x#ports:22', 'r#x#ports:3389']);
  });

  it('a Reject of one port holds for a later question that includes it; a Reject of the whole resource holds for every part', async () => {
    const { widget, run, decide } = setup({ scoped: byPorts });
    const rdp = await run(widgetEvent(widget, freshId(), 'rdp-only'));
    await decide(rdp.approvalId ?? '', 'reject');
    expect((await run(widgetEvent(widget, freshId(), 'restricted-common-ports'))).outcome).toBe('skipped');

    const whole = setup({ scoped: () => undefined });
    const asked = await whole.run(widgetEvent(whole.widget, freshId(), 'restricted-ssh'));
    await whole.decide(asked.approvalId ?? '', 'reject');
    const scoped = setup({ scoped: byPorts });
    // The same table and widget, now asked about by port: the whole-resource Reject covers it.
    const later = await handleRuleEvent(widgetEvent(whole.widget, freshId(), 'restricted-ssh'), scoped.rule, { ...fakeDeps(whole.world, whole.ledger, { rule: scoped.rule, now: () => whole.clock.now }), configRules: { describe: async (name: string) => ({ name, owner: 'AWS', identifier: 'FAKE_WIDGET_SAFE' }) } }, { dryRun: false });
    expect(later.outcome).toBe('skipped');
    expect(whole.world.writes).toBe(0);
  });
});

describe('a decision that could not be handed over (putBack)', () => {
  it('goes back to pending and is again the one open question; false once the approval moved on', async () => {
    const { widget, run, decide, ledger, announcer } = setup();
    const asked = await run(widgetEvent(widget));
    const approvalId = asked.approvalId ?? '';
    const decided = await decide(approvalId, 'approve');
    if (decided.kind !== 'decided') throw new Error(decided.reason);
    expect(await putBack(ledger, decided.approval, { remote: false })).toBe(true);
    expect(ledger.approvals.get(approvalId)).toMatchObject({ status: 'pending', decidedBy: '' });
    // The question is open again: a new finding waits for it instead of asking a second time.
    expect((await run(widgetEvent(widget))).reason).toMatch(new RegExp(`^already waiting for approval ${approvalId}`));
    expect(announcer.posts).toHaveLength(1);

    const again = await decide(approvalId, 'approve');
    if (again.kind !== 'decided') throw new Error(again.reason);
    await ledger.transitionApproval(approvalId, { from: 'approved', to: 'applied' });
    expect(await putBack(ledger, again.approval, { remote: false })).toBe(false);
    expect(ledger.approvals.get(approvalId)?.status).toBe('applied');
  });
});

describe('asking a person', () => {
  it('stores the approval with the plan, posts one question with buttons, in two table requests', async () => {
    const { ledger, announcer, widget, run, world } = setup();
    const result = await run(widgetEvent(widget));
    expect(result.outcome).toBe('pending-approval');
    expect(ledger.requests).toEqual(['requestApproval', 'setNotification']);
    expect(announcer.posts).toHaveLength(1);
    expect(announcer.posts[0]?.approvalId).toBe(result.approvalId);
    expect(ledger.approvals.get(result.approvalId ?? '')?.message).toEqual({ channel: 'C0DRIFTFIX1', ts: '1.000001' });
    expect(world.writes).toBe(0);
  });

  it('an approved approval relabelled to another account is refused and marked failed, not left "approved" for ever', async () => {
    const { ledger, widget, run, decide, world } = setup();
    const asked = await run(widgetEvent(widget));
    const approvalId = asked.approvalId ?? '';
    await decide(approvalId, 'approve');
    const stored = ledger.approvals.get(approvalId);
    if (!stored) throw new Error('no approval stored');
    ledger.approvals.set(approvalId, { ...stored, finding: { ...stored.finding, account: '444455556666' } });
    const applied = await run(approved(approvalId));
    expect(applied.outcome).toBe('rejected');
    expect(applied.reason).toContain('is for 444455556666/us-east-1');
    expect(ledger.approvals.get(approvalId)?.status).toBe('failed');
    expect(world.writes).toBe(0);
  });

  it('asks once per resource: another finding says it is already waiting, and posts nothing', async () => {
    const { announcer, widget, run } = setup();
    const first = await run(widgetEvent(widget));
    const second = await run(widgetEvent(widget));
    expect(second.reason).toMatch(new RegExp(`^already waiting for approval ${first.approvalId}`));
    expect(second.approvalId).toBe(first.approvalId);
    expect(announcer.posts).toHaveLength(1);
  });

  it('an approved change is applied once, updates the question, and the finding\'s redelivery reports it as done', async () => {
    const { ledger, announcer, widget, run, decide, world } = setup();
    const event = widgetEvent(widget);
    const asked = await run(event);
    expect((await decide(asked.approvalId ?? '', 'approve')).kind).toBe('decided');
    const applied = await run(approved(asked.approvalId ?? ''));
    expect(applied.outcome).toBe('remediated');
    expect(world.levels.get(widget)).toBe('safe');
    expect(ledger.approvals.get(asked.approvalId ?? '')?.status).toBe('applied');
    expect(announcer.updates.at(-1)?.updates).toEqual({ channel: 'C0DRIFTFIX1', ts: '1.000001' });
    // A redelivered approval is answered with its record, as it is now.
    const again = await run(approved(asked.approvalId ?? ''));
    expect(again).toMatchObject({ outcome: 'remediated', duplicate: true, recordId: applied.recordId, writes: 0 });
    expect(world.writes).toBe(1);

    const redelivered = await run(event);
    expect(redelivered.duplicate).toBe(true);
    expect(redelivered.outcome).toBe('remediated');
    expect(redelivered.reason).toMatch(/approval .* was applied by U0APPROVER1/);
  });

  it('refuses to apply when the resource changed after the approval', async () => {
    const { ledger, widget, run, decide, world } = setup();
    const asked = await run(widgetEvent(widget));
    await decide(asked.approvalId ?? '', 'approve');
    world.levels.set(widget, 'other');
    const applied = await run(approved(asked.approvalId ?? ''));
    expect(applied.outcome).toBe('skipped');
    expect(applied.reason).toMatch(/changed after the approval/);
    expect(ledger.approvals.get(asked.approvalId ?? '')?.status).toBe('stale');
    expect(world.writes).toBe(0);
  });

  it('a Reject suppresses the fix, and the finding\'s redelivery says so', async () => {
    const { widget, run, decide, world } = setup();
    const event = widgetEvent(widget);
    const asked = await run(event);
    expect((await decide(asked.approvalId ?? '', 'reject')).kind).toBe('decided');
    expect((await run(widgetEvent(widget))).reason).toMatch(/^suppressed until .* U0APPROVER1 rejected this fix/);
    expect((await run(event)).reason).toMatch(/approval .* was rejected by U0APPROVER1/);
    expect(world.writes).toBe(0);
  });

  it('an exception is a record, leaves the resource alone until it ends, and then the next finding asks again', async () => {
    const { ledger, widget, run, decide, clock } = setup();
    const asked = await run(widgetEvent(widget));
    const refused = await decide(asked.approvalId ?? '', 'exempt', { days: 0, reason: 'x' });
    expect(refused.kind).toBe('refused');
    const outcome = await decide(asked.approvalId ?? '', 'exempt', { days: 7, reason: 'vendor migration until the 6th' });
    expect(outcome.kind).toBe('decided');
    if (outcome.kind !== 'decided') return;
    expect(outcome.record).toMatchObject({ outcome: 'exempted', decidedBy: 'U0APPROVER1' });
    expect(ledger.records.get(outcome.record?.recordId ?? '')?.reason).toMatch(/vendor migration until the 6th/);
    const during = await run(widgetEvent(widget));
    expect(during.reason).toMatch(/^exempted until .* by U0APPROVER1: vendor migration until the 6th/);
    clock.now += 8 * 86_400_000;
    const after = await run(widgetEvent(widget));
    expect(after.outcome).toBe('pending-approval');
    expect(after.approvalId).not.toBe(asked.approvalId);
  });

  it('an expired approval cannot be decided; its redelivered finding says it expired; a new finding asks again', async () => {
    const { widget, run, decide, clock } = setup();
    const event = widgetEvent(widget);
    const asked = await run(event);
    clock.now += 25 * 3_600_000;
    expect(await decide(asked.approvalId ?? '', 'approve')).toMatchObject({ kind: 'refused', reason: expect.stringMatching(/expired/) });
    expect((await run(event)).reason).toMatch(/expired unanswered/);
    const fresh = await run(widgetEvent(widget));
    expect(fresh.outcome).toBe('pending-approval');
    expect(fresh.approvalId).not.toBe(asked.approvalId);
  });

  it('refuses approved events the table does not back', async () => {
    const { run } = setup();
    expect((await run(approved('apr-00000000-0000-4000-8000-000000000000'))).reason).toMatch(/does not exist/);
    expect((await run(approved('apr-00000000-0000-4000-8000-000000000000', 'another-rule'))).reason).toMatch(/not fake-widget/);
    expect((await run(approved('apr-00000000-0000-4000-8000-000000000000', 'fake-widget', '444455556666'))).outcome).toBe('rejected');
  });

  it('a still-pending approval is not applied', async () => {
    const { widget, run, world } = setup();
    const asked = await run(widgetEvent(widget));
    const early = await run(approved(asked.approvalId ?? ''));
    expect(early.outcome).toBe('skipped');
    expect(early.reason).toMatch(/is pending, not approved/);
    expect(world.writes).toBe(0);
  });
});
