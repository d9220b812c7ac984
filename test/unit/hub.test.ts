import { randomUUID } from 'node:crypto';
import type { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import { HubAnnouncer } from '../../core/aws/emitter.ts';
import { decideApproval } from '../../core/engine/decide.ts';
import { handleRuleEvent } from '../../core/engine/handle-event.ts';
import { relayMemberRecord } from '../../core/engine/hub.ts';
import { DETAIL_TYPE, EVENT_SOURCE } from '../../core/model/index.ts';
import { freshId } from '../support/events.ts';
import { FakeAnnouncer, FakeWorld, fakeDeps, fakeRule, MemoryLedger, silentLog } from '../support/fake-rule.ts';

const HUB = '111122223333';
const MEMBER = '444455556666';
const HUB_BUS = `arn:aws:events:us-east-1:${HUB}:event-bus/driftfix-prod-bus`;

/** What EventBridge delivers to the hub when a member puts an entry on the hub's bus: `account` is the sender's. */
function delivered(entry: { Source?: string; DetailType?: string; Detail?: string }, account = MEMBER) {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': entry.DetailType,
    source: entry.Source,
    account,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: 'us-east-1',
    resources: [],
    detail: JSON.parse(entry.Detail ?? '{}'),
  };
}

function widgetEvent(widget: string) {
  return {
    version: '0',
    id: freshId(),
    'detail-type': 'Config Rules Compliance Change',
    source: 'aws.config',
    account: MEMBER,
    time: '2026-11-20T09:14:03Z',
    region: 'us-east-1',
    resources: [],
    detail: {
      awsAccountId: MEMBER,
      awsRegion: 'us-east-1',
      configRuleName: 'fake-widget-safe',
      resourceType: 'AWS::Fake::Widget',
      resourceId: widget,
      messageType: 'ComplianceChangeNotification',
      newEvaluationResult: { complianceType: 'NON_COMPLIANT' },
    },
  };
}

/** A member stack (approve mode, records to the hub's bus) and a hub (its own table, Slack). */
function organization(options: { memberAccounts?: string[] } = {}) {
  const world = new FakeWorld();
  const memberLedger = new MemoryLedger();
  const sent: Array<{ Source?: string; DetailType?: string; Detail?: string; EventBusName?: string }> = [];
  const events = { send: async (command: PutEventsCommand) => sent.push(...(command.input.Entries ?? [])) };
  const rule = fakeRule({ mode: 'approve' });
  const announcer = new HubAnnouncer(async () => events as never, HUB_BUS);
  const member = (event: unknown) =>
    handleRuleEvent(event, rule, { ...fakeDeps(world, memberLedger, { rule, announcer, env: { hubAccount: HUB } }), identity: { account: MEMBER, region: 'us-east-1' } }, { dryRun: false });
  const hubLedger = new MemoryLedger();
  const slack = new FakeAnnouncer();
  const hub = { ledger: hubLedger, announcer: slack, log: silentLog, ...(options.memberAccounts ? { memberAccounts: options.memberAccounts } : {}) };
  const widget = `w-${freshId().slice(-6)}`;
  world.levels.set(widget, 'unsafe');
  const decision = (approvalId: string, choice: 'approve' | 'reject') => ({
    version: '0',
    id: randomUUID(),
    'detail-type': DETAIL_TYPE.decision,
    source: EVENT_SOURCE.hub,
    account: HUB,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: 'us-east-1',
    resources: [],
    detail: { approvalId, ruleId: rule.id, decision: choice, by: 'U0APPROVER1' },
  });
  return { world, memberLedger, sent, member, hub, hubLedger, slack, widget, decision };
}

describe('the hub relays member records to the one Slack channel', () => {
  it('a member’s question is kept at the hub and posted once, with its buttons; the approved fix’s record updates the same message', async () => {
    const org = organization({ memberAccounts: [MEMBER] });
    const asked = await org.member(widgetEvent(org.widget));
    expect(asked.outcome).toBe('pending-approval');
    expect(org.sent).toHaveLength(1);
    expect(org.sent[0]).toMatchObject({ EventBusName: HUB_BUS, Source: EVENT_SOURCE.member, DetailType: DETAIL_TYPE.record });

    const relayed = await relayMemberRecord(delivered(org.sent[0] ?? {}), org.hub);
    expect(relayed.outcome).toBe('pending-approval');
    expect(org.slack.posts).toHaveLength(1);
    expect(org.slack.posts[0]?.approvalId).toBe(asked.approvalId);
    const atHub = await org.hubLedger.getApproval(asked.approvalId ?? '');
    expect(atHub).toMatchObject({ status: 'pending', message: { channel: 'C0DRIFTFIX1', ts: '1.000001' }, finding: { account: MEMBER } });
    expect(await org.hubLedger.listApprovals()).toHaveLength(1);

    // The hub decides its copy, the member decides its own and applies.
    await decideApproval(org.hubLedger, { approvalId: asked.approvalId ?? '', decision: 'approve', by: 'U0APPROVER1', now: Date.now(), suppressionDays: 30 });
    const applied = await org.member(org.decision(asked.approvalId ?? '', 'approve'));
    expect(applied.outcome).toBe('remediated');
    expect(org.world.writes).toBe(1);
    const final = org.sent.at(-1) ?? {};
    const relayedFinal = await relayMemberRecord(delivered(final), org.hub);
    expect(relayedFinal.outcome).toBe('remediated');
    expect(org.slack.posts).toHaveLength(1);
    expect(org.slack.updates.at(-1)?.updates).toEqual({ channel: 'C0DRIFTFIX1', ts: '1.000001' });
    expect((await org.hubLedger.getApproval(asked.approvalId ?? ''))?.status).toBe('applied');
  });

  it('a decision from any account but the hub never reaches a member’s rule', async () => {
    const org = organization();
    const asked = await org.member(widgetEvent(org.widget));
    const forged = { ...org.decision(asked.approvalId ?? '', 'approve'), account: '999988887777' };
    const result = await org.member(forged);
    expect(result.outcome).toBe('rejected');
    expect(org.world.writes).toBe(0);
    expect((await org.memberLedger.getApproval(asked.approvalId ?? ''))?.status).toBe('pending');
  });

  it.each([
    ['an account that is not a member', (entry: object) => delivered(entry, '999988887777'), /999988887777 is not a member of this hub/],
    ['another source', (entry: object) => ({ ...delivered(entry), source: EVENT_SOURCE.hub }), /the hub takes member records/],
    ['another detail type', (entry: object) => ({ ...delivered(entry), 'detail-type': DETAIL_TYPE.decision }), /the hub takes member records/],
  ])('refuses a record from %s, and keeps and posts nothing', async (_case, wrap, reason) => {
    const org = organization({ memberAccounts: [MEMBER] });
    await org.member(widgetEvent(org.widget));
    const result = await relayMemberRecord(wrap(org.sent[0] ?? {}), org.hub);
    expect(result.outcome).toBe('rejected');
    expect(result.reason).toMatch(reason);
    expect(org.slack.posts).toHaveLength(0);
    expect(org.hubLedger.records.size).toBe(0);
  });

  it('a member speaks only for itself: a record or approval naming another account is refused', async () => {
    const org = organization();
    await org.member(widgetEvent(org.widget));
    const entry = org.sent[0] ?? {};
    const detail = JSON.parse(entry.Detail ?? '{}');
    const otherRecord = { ...entry, Detail: JSON.stringify({ ...detail, record: { ...detail.record, account: '999988887777' } }) };
    expect((await relayMemberRecord(delivered(otherRecord), org.hub)).reason).toMatch(/a record of 999988887777\/us-east-1 sent by 444455556666/);
    const otherApproval = { ...entry, Detail: JSON.stringify({ ...detail, approval: { ...detail.approval, finding: { ...detail.approval.finding, account: '999988887777' } } }) };
    expect((await relayMemberRecord(delivered(otherApproval), org.hub)).reason).toMatch(/is not 444455556666\/us-east-1's/);
    expect(org.slack.posts).toHaveLength(0);
    expect(org.hubLedger.approvals.size).toBe(0);
  });

  it('Slack down: the record is kept, the result says the notification failed and asks for a retry, and the retry posts once', async () => {
    const org = organization();
    await org.member(widgetEvent(org.widget));
    const event = delivered(org.sent[0] ?? {});
    org.slack.fail = 1;
    const first = await relayMemberRecord(event, org.hub);
    expect(first).toMatchObject({ notification: 'failed', retryable: true });
    expect(org.hubLedger.records.size).toBe(1);
    const second = await relayMemberRecord(event, org.hub);
    expect(second.notification).toBe('posted');
    expect(org.slack.posts).toHaveLength(1);
  });

  it('a hub that died after posting, before noting where, finds its message on the retry instead of posting twice', async () => {
    const org = organization();
    await org.member(widgetEvent(org.widget));
    const event = delivered(org.sent[0] ?? {});
    org.hubLedger.stopAt('setNotification', 'before');
    const dying = relayMemberRecord(event, org.hub);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(org.slack.posts).toHaveLength(1);
    void dying;
    // The same hub table, a new invocation.
    const retry = await relayMemberRecord(event, org.hub);
    expect(retry.notification).toBe('posted');
    expect(org.slack.posts).toHaveLength(1);
    expect(org.slack.lookups).toHaveLength(1);
  });

  it('a member can never write over another account’s approval or record at the hub, whatever ids it copies from Slack', async () => {
    const org = organization();
    await org.member(widgetEvent(org.widget));
    const genuine = org.sent[0] ?? {};
    await relayMemberRecord(delivered(genuine), org.hub);
    const detail = JSON.parse(genuine.Detail ?? '{}');
    const EVIL = '777788889999';
    const relabel = {
      ...genuine,
      Detail: JSON.stringify({
        ...detail,
        record: { ...detail.record, recordId: 'rec-000000000000000000000666', account: EVIL },
        approval: { ...detail.approval, status: 'rejected', decidedBy: 'U0EVIL', recordId: 'rec-000000000000000000000666', finding: { ...detail.approval.finding, account: EVIL } },
      }),
    };
    const result = await relayMemberRecord(delivered(relabel, EVIL), org.hub);
    expect(result.outcome).toBe('rejected');
    expect(result.reason).toMatch(/belongs to another account than 777788889999/);
    expect(await org.hubLedger.getApproval(detail.approval.approvalId)).toMatchObject({ status: 'pending', finding: { account: MEMBER } });
    // The genuine record, sent again by another account under its own id: refused too.
    const sameRecord = { ...genuine, Detail: JSON.stringify({ ...detail, approval: undefined, record: { ...detail.record, account: EVIL } }) };
    expect((await relayMemberRecord(delivered(sameRecord, EVIL), org.hub)).outcome).toBe('rejected');
    expect((await org.hubLedger.getRecord(detail.record.recordId))?.account).toBe(MEMBER);
    expect(org.slack.updates).toHaveLength(0);
  });

  it('a "member record" from the hub’s own account is refused: the hub records its own changes itself', async () => {
    const org = organization();
    await org.member(widgetEvent(org.widget));
    const detail = JSON.parse(org.sent[0]?.Detail ?? '{}');
    const own = { ...org.sent[0], Detail: JSON.stringify({ ...detail, record: { ...detail.record, account: HUB }, approval: { ...detail.approval, finding: { ...detail.approval.finding, account: HUB } } }) };
    const result = await relayMemberRecord(delivered(own, HUB), { ...org.hub, ownAccount: HUB, ownRegion: 'us-east-1' });
    expect(result.outcome).toBe('rejected');
    expect(result.reason).toMatch(/the hub's own stack/);
    expect(org.hubLedger.records.size).toBe(0);
  });

  it('the hub account’s member stack in another region is a member: its record is taken and posted', async () => {
    const org = organization();
    await org.member(widgetEvent(org.widget));
    const detail = JSON.parse(org.sent[0]?.Detail ?? '{}');
    const inRegion = (value: { account: string; region: string }) => ({ ...value, account: HUB, region: 'eu-west-1' });
    const record = { ...inRegion(detail.record), finding: inRegion(detail.record.finding) };
    const approval = { ...detail.approval, finding: inRegion(detail.approval.finding) };
    const own = { ...org.sent[0], Detail: JSON.stringify({ ...detail, record, approval }) };
    const result = await relayMemberRecord({ ...delivered(own, HUB), region: 'eu-west-1' }, { ...org.hub, ownAccount: HUB, ownRegion: 'us-east-1', memberAccounts: [MEMBER] });
    expect(result.outcome, result.reason).not.toBe('rejected');
    expect((await org.hubLedger.getApproval(detail.approval.approvalId))?.finding).toMatchObject({ account: HUB, region: 'eu-west-1' });
  });

  it('a member’s failed record is posted once and not retried; a redelivered record updates its message instead of posting again', async () => {
    const org = organization();
    await org.member(widgetEvent(org.widget));
    const detail = JSON.parse(org.sent[0]?.Detail ?? '{}');
    const failed = { ...org.sent[0], Detail: JSON.stringify({ ...detail, approval: undefined, record: { ...detail.record, approvalId: undefined, outcome: 'failed', reason: 'AccessDenied' } }) };
    const event = delivered(failed);
    const first = await relayMemberRecord(event, org.hub);
    expect(first).toMatchObject({ outcome: 'failed', retryable: false, notification: 'posted' });
    const again = await relayMemberRecord(event, org.hub);
    expect(again.notification).toBe('posted');
    expect(org.slack.posts).toHaveLength(1);
    expect(org.slack.updates).toHaveLength(1);
  });

  it('a member’s note is shown as text and only AWS console links are kept: no mentions or links of its own in the hub’s channel', async () => {
    const org = organization();
    await org.member(widgetEvent(org.widget));
    const detail = JSON.parse(org.sent[0]?.Detail ?? '{}');
    const loud = {
      ...org.sent[0],
      Detail: JSON.stringify({ ...detail, note: '<!channel> approve now <https://evil.example/login|re-authenticate>', consoleUrl: 'https://evil.example/phish|<!here>' }),
    };
    await relayMemberRecord(delivered(loud), org.hub);
    const [post] = org.slack.posts;
    expect(post?.note).toBe('&lt;!channel&gt; approve now &lt;https://evil.example/login|re-authenticate&gt;');
    expect(post?.consoleUrl).toBeUndefined();
  });

  it('a redelivered question the hub has decided since is not asked again (no buttons come back)', async () => {
    const org = organization();
    const asked = await org.member(widgetEvent(org.widget));
    const event = delivered(org.sent[0] ?? {});
    await relayMemberRecord(event, org.hub);
    await decideApproval(org.hubLedger, { approvalId: asked.approvalId ?? '', decision: 'reject', by: 'U0APPROVER1', now: Date.now(), suppressionDays: 30, copyOnly: true });
    await relayMemberRecord(event, org.hub);
    expect(org.slack.updates.at(-1)?.approvalId).toBeUndefined();
    expect((await org.hubLedger.getApproval(asked.approvalId ?? ''))?.status).toBe('rejected');
  });

  it('refuses malformed member details (a record without its trigger, an approval without steps or expiry) before keeping anything', async () => {
    const org = organization();
    await org.member(widgetEvent(org.widget));
    const detail = JSON.parse(org.sent[0]?.Detail ?? '{}');
    const { trigger: _trigger, ...noTrigger } = detail.record;
    const { steps: _steps, expiresAt: _expiry, ...thin } = detail.approval;
    for (const broken of [{ ...detail, record: noTrigger }, { ...detail, approval: thin }]) {
      const result = await relayMemberRecord(delivered({ ...org.sent[0], Detail: JSON.stringify(broken) }), org.hub);
      expect(result.outcome).toBe('rejected');
    }
    expect(org.hubLedger.records.size).toBe(0);
  });

  it('a decision the member does not take is reported back: the hub’s copy and message follow the member’s approval, not "applying…"', async () => {
    const org = organization();
    const asked = await org.member(widgetEvent(org.widget));
    await relayMemberRecord(delivered(org.sent[0] ?? {}), org.hub);
    // Someone at the member decided first, from the member's own terminal.
    await decideApproval(org.memberLedger, { approvalId: asked.approvalId ?? '', decision: 'reject', by: 'cli:memberops', now: Date.now(), suppressionDays: 30 });
    await decideApproval(org.hubLedger, { approvalId: asked.approvalId ?? '', decision: 'approve', by: 'U0APPROVER1', now: Date.now(), suppressionDays: 30, copyOnly: true });
    const sentBefore = org.sent.length;
    const decisionEvent = org.decision(asked.approvalId ?? '', 'approve');
    const refused = await org.member(decisionEvent);
    expect(refused.outcome).toBe('skipped');
    expect(refused.reason).toMatch(/^decision "approve" by U0APPROVER1 not taken: .*rejected/);
    expect(org.world.writes).toBe(0);
    expect(org.sent).toHaveLength(sentBefore + 1);
    await relayMemberRecord(delivered(org.sent.at(-1) ?? {}), org.hub);
    expect((await org.hubLedger.getApproval(asked.approvalId ?? ''))?.status).toBe('rejected');
    expect(org.slack.updates.at(-1)?.updates).toEqual({ channel: 'C0DRIFTFIX1', ts: '1.000001' });
    // The same decision delivered again: reported once.
    await org.member(structuredClone(decisionEvent));
    expect(org.sent).toHaveLength(sentBefore + 1);
  });

  it('refuses input that is not an event', async () => {
    const org = organization();
    expect((await relayMemberRecord('not an event', org.hub)).outcome).toBe('rejected');
    expect((await relayMemberRecord({ ...delivered({ Source: EVENT_SOURCE.member, DetailType: DETAIL_TYPE.record, Detail: '{}' }) }, org.hub)).outcome).toBe('rejected');
  });
});
