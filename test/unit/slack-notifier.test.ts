import { randomBytes } from 'node:crypto';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ErrorCode } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { announceRecord } from '../../core/engine/announce.ts';
import type { ChangeRecord } from '../../core/model/index.ts';
import { recordMessage } from '../../core/slack/messages.ts';
import { SlackAnnouncer, SlackWebApi, slackConfigFromEnv } from '../../core/slack/notifier.ts';
import { FakeSlack } from '../../scripts/lib/fake-slack.ts';
import { BOT_TOKEN, CHANNEL, SIGNING_SECRET } from '../support/slack.ts';

const APPROVAL_ID = 'apr-0f8e7d6c-5b4a-4392-8a1b-0c2d3e4f5a6b';

function changeRecord(recordId: string, overrides: Partial<ChangeRecord> = {}): ChangeRecord {
  return {
    recordId,
    status: 'final',
    eventId: '00000000-0000-4000-8000-000000000001',
    ruleId: 'example-rule',
    resource: 'AWS::S3::Bucket/records-bucket',
    account: '111122223333',
    region: 'us-east-1',
    mode: 'auto',
    outcome: 'remediated',
    reason: 'default encryption was off',
    trigger: { kind: 'config-rule', configRuleName: 's3-bucket-server-side-encryption-enabled', complianceType: 'NON_COMPLIANT' },
    replayed: false,
    before: { summary: 'no default encryption', state: {} },
    after: { summary: 'SSE-S3 (AES256)', state: {} },
    steps: [],
    calls: [],
    writes: 1,
    createdAt: '2026-11-29T10:00:00.000Z',
    updatedAt: '2026-11-29T10:00:00.000Z',
    ...overrides,
  };
}

const recordId = () => `rec-${randomBytes(12).toString('hex')}`;

/** A Secrets Manager stand-in holding the app's secret; counts reads and can fail the next ones. */
function secretsHolding(secret: unknown = { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET }) {
  const state = { reads: 0, failNext: 0 };
  const client = {
    async send() {
      state.reads += 1;
      if (state.failNext > 0) {
        state.failNext -= 1;
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      }
      return { SecretString: JSON.stringify(secret) };
    },
  } as unknown as SecretsManagerClient;
  return { client, state };
}

let slack: FakeSlack;
let sleeps: number[];

/** A Web API client against the stand-in, with its own secret id (the secret is cached per id) and a recording sleep. */
function webApi(options: { timeoutMs?: number; secrets?: SecretsManagerClient; sleep?: (ms: number) => Promise<void> } = {}) {
  const config = { channel: CHANNEL, secretId: `driftfix/slack-${randomBytes(4).toString('hex')}`, apiUrl: slack.url };
  const sleep =
    options.sleep ??
    (async (ms: number) => {
      sleeps.push(ms);
    });
  return new SlackWebApi(config, options.secrets ?? secretsHolding().client, sleep, options.timeoutMs ?? 3_000);
}

beforeEach(async () => {
  slack = new FakeSlack();
  await slack.start();
  sleeps = [];
});
afterEach(async () => {
  vi.useRealTimers();
  await slack.stop();
});

describe('Slack configuration', () => {
  it('recognises the Web API client’s rate-limit error by the code the client uses', async () => {
    // notifier.ts loads @slack/web-api lazily and compares the code by value.
    const source = await import('node:fs/promises').then((fs) => fs.readFile(new URL('../../core/slack/notifier.ts', import.meta.url), 'utf8'));
    expect(source).toContain(`'${ErrorCode.RateLimitedError}'`);
  });

  it('is off without a channel, and refuses a channel without a secret or a channel that is not an id', () => {
    expect(slackConfigFromEnv({})).toBeUndefined();
    expect(slackConfigFromEnv({ SLACK_SECRET_ID: 'driftfix/slack' })).toBeUndefined();
    expect(() => slackConfigFromEnv({ SLACK_CHANNEL: 'C0123ABCD' })).toThrow('SLACK_SECRET_ID');
    expect(() => slackConfigFromEnv({ SLACK_CHANNEL: '#security', SLACK_SECRET_ID: 's' })).toThrow('channel id');
    expect(slackConfigFromEnv({ SLACK_CHANNEL: 'C0123ABCD', SLACK_SECRET_ID: 's', SLACK_API_URL: 'http://127.0.0.1:9/api/' })).toEqual({
      channel: 'C0123ABCD',
      secretId: 's',
      apiUrl: 'http://127.0.0.1:9/api/',
    });
  });

  it('without Slack, a record goes to the log and nothing is sent anywhere', async () => {
    const lines: string[] = [];
    const log = { info: (line: string) => lines.push(line), warn() {}, error() {} };
    const record = changeRecord(recordId());
    const notification = await announceRecord(record, { announcer: undefined, log, rule: { title: 'S3 default encryption', risk: 'low', resource: {} as never } });
    expect(notification).toEqual({ status: 'log-only', attempts: 1 });
    expect(lines).toEqual([`record ${record.recordId}: remediated: default encryption was off`]);
    expect(slack.calls).toEqual([]);
  });
});

describe('the Slack Web API client', () => {
  it('posts with the bot token from the secret, the record id as message metadata, and no link previews', async () => {
    const api = webApi();
    const id = recordId();
    const message = recordMessage({ record: changeRecord(id), ruleTitle: 'S3 default encryption', risk: 'low' });
    const ref = await api.post(message, id);
    const [call] = slack.callsTo('chat.postMessage');
    expect(call?.authorization).toBe(`Bearer ${BOT_TOKEN}`);
    expect(call?.args).toMatchObject({
      channel: CHANNEL,
      text: message.text,
      blocks: message.blocks,
      unfurl_links: 'false',
      metadata: { event_type: 'driftfix_record', event_payload: { record_id: id } },
    });
    expect(ref).toEqual({ channel: CHANNEL, ts: expect.stringMatching(/^\d{10}\.\d{6}$/) });
    expect(slack.message(ref.channel, ref.ts)?.metadata).toEqual({ event_type: 'driftfix_record', event_payload: { record_id: id } });
  });

  it('reads the secret once for many calls, and again after a failed read', async () => {
    const secrets = secretsHolding();
    secrets.state.failNext = 1;
    const api = webApi({ secrets: secrets.client });
    const id = recordId();
    const message = { text: 'hello', blocks: [] };
    await expect(api.post(message, id)).rejects.toThrow('Rate exceeded');
    expect(slack.calls).toEqual([]);
    await api.post(message, id);
    await api.post(message, id);
    expect(secrets.state.reads).toBe(2);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(2);
  });

  it('updates a message in place, keeping the record id on it', async () => {
    const api = webApi();
    const id = recordId();
    const ref = await api.post({ text: 'first', blocks: [] }, id);
    await api.update(ref, { text: 'second', blocks: [{ type: 'divider' }] }, id);
    expect(slack.callsTo('chat.update')[0]?.args).toMatchObject({ channel: ref.channel, ts: ref.ts, text: 'second', metadata: { event_payload: { record_id: id } } });
    expect(slack.messages).toHaveLength(1);
    expect(slack.message(ref.channel, ref.ts)).toMatchObject({ text: 'second', blocks: [{ type: 'divider' }], metadata: { event_payload: { record_id: id } } });
  });

  it('finds the message of a record by its metadata in the channel’s history of the last 7 days', async () => {
    const api = webApi();
    const [a, b] = [recordId(), recordId()];
    const refA = await api.post({ text: 'a', blocks: [] }, a);
    const refB = await api.post({ text: 'b', blocks: [] }, b);
    expect(await api.findByRecord(a)).toEqual(refA);
    expect(await api.findByRecord(b)).toEqual(refB);
    expect(await api.findByRecord(recordId())).toBeUndefined();
    const [lookup] = slack.callsTo('conversations.history');
    expect(lookup?.args).toMatchObject({ channel: CHANNEL, include_all_metadata: 'true' });
    expect(Math.floor(Date.now() / 1000) - Number(lookup?.args.oldest)).toBeGreaterThanOrEqual(7 * 86_400 - 5);
    expect(Math.floor(Date.now() / 1000) - Number(lookup?.args.oldest)).toBeLessThanOrEqual(7 * 86_400 + 5);
  });

  it('looks past the first page of history, and not before the last 7 days', async () => {
    const api = webApi();
    const now = Math.floor(Date.now() / 1000);
    const early = recordId();
    const ancient = recordId();
    const at = (seconds: number, n: number) => `${seconds}.${String(n).padStart(6, '0')}`;
    slack.messages.push({ channel: CHANNEL, ts: at(now - 8 * 86_400, 1), text: 'old', blocks: [], metadata: { event_type: 'driftfix_record', event_payload: { record_id: ancient } } });
    slack.messages.push({ channel: CHANNEL, ts: at(now - 3_600, 2), text: 'early', blocks: [], metadata: { event_type: 'driftfix_record', event_payload: { record_id: early } } });
    for (let i = 0; i < 250; i += 1) {
      slack.messages.push({ channel: CHANNEL, ts: at(now - 60, 10 + i), text: `chatter ${i}`, blocks: [], metadata: { event_type: 'driftfix_record', event_payload: { record_id: recordId() } } });
    }
    expect(await api.findByRecord(early)).toEqual({ channel: CHANNEL, ts: at(now - 3_600, 2) });
    const pages = slack.callsTo('conversations.history');
    expect(pages).toHaveLength(2);
    expect(pages[1]?.args.cursor).toEqual(expect.any(String));
    expect(await api.findByRecord(ancient)).toBeUndefined();
  });

  it('ignores messages of other apps or kinds that carry no driftfix metadata', async () => {
    const api = webApi();
    const id = recordId();
    const now = Math.floor(Date.now() / 1000);
    slack.messages.push({ channel: CHANNEL, ts: `${now}.000900`, text: id, blocks: [] });
    slack.messages.push({ channel: CHANNEL, ts: `${now}.000901`, text: 'x', blocks: [], metadata: { event_type: 'other_app', event_payload: { record_id: id } } });
    slack.messages.push({ channel: 'C0ELSEWHERE', ts: `${now}.000902`, text: 'x', blocks: [], metadata: { event_type: 'driftfix_record', event_payload: { record_id: id } } });
    expect(await api.findByRecord(id)).toBeUndefined();
  });

  it('answers a user privately, reads an approver group and opens a modal', async () => {
    const api = webApi();
    slack.groups.set('S0APPROVERS', ['U0ONE', 'U0TWO']);
    await api.tellUser(CHANNEL, 'U0APPROVER1', 'Nothing changed.');
    expect(await api.groupMembers('S0APPROVERS')).toEqual(['U0ONE', 'U0TWO']);
    await api.openModal('12345.98765.abcd2358fdea', { type: 'modal', callback_id: 'driftfix_exempt' });
    expect(slack.callsTo('chat.postEphemeral')[0]?.args).toMatchObject({ channel: CHANNEL, user: 'U0APPROVER1', text: 'Nothing changed.' });
    expect(slack.callsTo('usergroups.users.list')[0]?.args).toMatchObject({ usergroup: 'S0APPROVERS' });
    expect(slack.views).toEqual([{ triggerId: '12345.98765.abcd2358fdea', view: { type: 'modal', callback_id: 'driftfix_exempt' } }]);
  });

  it('waits out a 429 with a short Retry-After, then posts once', async () => {
    const api = webApi();
    slack.rateLimitNext(1, 1);
    const ref = await api.post({ text: 'hello', blocks: [] }, recordId());
    expect(sleeps).toEqual([1_000]);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(2);
    expect(slack.messages.map((message) => message.ts)).toEqual([ref.ts]);
  });

  it('gives up at once when Slack asks to wait longer than the call’s budget', async () => {
    const api = webApi();
    slack.rateLimitNext(1, 120);
    await expect(api.post({ text: 'hello', blocks: [] }, recordId())).rejects.toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 120 });
    expect(sleeps).toEqual([]);
    expect(slack.messages).toEqual([]);
  });

  it('waits for repeated 429s only as long as the 10 s budget lasts', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const api = webApi({
      sleep: async (ms) => {
        sleeps.push(ms);
        vi.setSystemTime(Date.now() + ms);
      },
    });
    slack.rateLimitNext(5, 4);
    await expect(api.post({ text: 'hello', blocks: [] }, recordId())).rejects.toMatchObject({ code: ErrorCode.RateLimitedError });
    expect(sleeps).toEqual([4_000, 4_000]);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(3);
    expect(slack.messages).toEqual([]);
  });

  it('retries a 500 and posts once', async () => {
    const api = webApi();
    slack.failNext(2, 500);
    await api.post({ text: 'hello', blocks: [] }, recordId());
    expect(slack.callsTo('chat.postMessage')).toHaveLength(3);
    expect(slack.messages).toHaveLength(1);
  });

  it('fails when Slack keeps answering 500', async () => {
    const api = webApi();
    slack.failNext(3, 500);
    await expect(api.post({ text: 'hello', blocks: [] }, recordId())).rejects.toThrow(/500/);
    expect(slack.messages).toEqual([]);
  });

  it('fails on an error Slack reports in the answer (ok: false)', async () => {
    const api = webApi();
    await expect(api.update({ channel: CHANNEL, ts: '1.000001' }, { text: 'x', blocks: [] }, recordId())).rejects.toThrow('message_not_found');
  });

  it('times out a call Slack never answers, and the retry posts once', async () => {
    const api = webApi({ timeoutMs: 300 });
    slack.hangNext(1);
    await api.post({ text: 'hello', blocks: [] }, recordId());
    expect(slack.messages).toHaveLength(1);
  });

  it('gives up on a Slack that never answers, in bounded time', async () => {
    const api = webApi({ timeoutMs: 300 });
    slack.hangNext(3);
    const started = Date.now();
    await expect(api.post({ text: 'hello', blocks: [] }, recordId())).rejects.toThrow();
    // Three attempts of 300 ms and two back-offs of at most 1 s each.
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(slack.messages).toEqual([]);
  });
});

describe('the Slack announcer', () => {
  const rule = { ruleTitle: 'S3 default encryption', risk: 'low' as const };

  it('posts a record once, with its message and the record id as metadata', async () => {
    const announcer = new SlackAnnouncer(webApi());
    const record = changeRecord(recordId());
    const consoleUrl = 'https://s3.console.aws.amazon.com/s3/buckets/records-bucket?region=us-east-1&tab=permissions';
    const notification = await announcer.announce({ record, ...rule, consoleUrl }, { lookFirst: false });
    const [message] = slack.messages;
    expect(notification).toEqual({ status: 'posted', attempts: 1, channel: CHANNEL, ts: message?.ts });
    expect(message?.metadata?.event_payload).toEqual({ record_id: record.recordId });
    expect(message?.blocks).toEqual(recordMessage({ record, ...rule, consoleUrl }).blocks);
    expect(slack.callsTo('conversations.history')).toEqual([]);
    expect(announcer.kind).toBe('slack');
  });

  it('asked to look first, updates the message already posted for the record instead of posting a second', async () => {
    const announcer = new SlackAnnouncer(webApi());
    const record = changeRecord(recordId());
    const first = await announcer.announce({ record, ...rule }, { lookFirst: false });
    const again = await announcer.announce({ record: { ...record, reason: 'posted again after a crash' }, ...rule }, { lookFirst: true });
    expect(again).toMatchObject({ channel: first.channel, ts: first.ts });
    expect(slack.callsTo('conversations.history')).toHaveLength(1);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    expect(slack.messages).toHaveLength(1);
    expect(slack.messages[0]?.text).toContain('posted again after a crash');
  });

  it('asked to look first and finding nothing, posts once', async () => {
    const announcer = new SlackAnnouncer(webApi());
    await announcer.announce({ record: changeRecord(recordId()), ...rule }, { lookFirst: false });
    await announcer.announce({ record: changeRecord(recordId()), ...rule }, { lookFirst: true });
    expect(slack.callsTo('conversations.history')).toHaveLength(1);
    expect(slack.messages).toHaveLength(2);
  });

  it('answers an approval request by updating its message: buttons gone, decider named', async () => {
    const announcer = new SlackAnnouncer(webApi());
    const asking = changeRecord(recordId(), { outcome: 'pending-approval', approvalId: APPROVAL_ID, writes: 0 });
    const request = await announcer.announce({ record: asking, ruleTitle: 'S3 bucket Block Public Access', risk: 'high', approvalId: APPROVAL_ID }, { lookFirst: false });
    expect(JSON.stringify(slack.messages[0]?.blocks)).toContain('"action_id":"approve"');

    const result = changeRecord(recordId(), { approvalId: APPROVAL_ID, decidedBy: 'U0APPROVER1' });
    const updates = { channel: request.channel ?? '', ts: request.ts ?? '' };
    const answered = await announcer.announce({ record: result, ruleTitle: 'S3 bucket Block Public Access', risk: 'high', updates, note: 'Applied after approval.' }, { lookFirst: true });
    expect(answered).toMatchObject(updates);
    expect(slack.callsTo('conversations.history')).toEqual([]);
    expect(slack.messages).toHaveLength(1);
    const blocks = JSON.stringify(slack.messages[0]?.blocks);
    expect(blocks).not.toContain('"action_id":"approve"');
    expect(blocks).toContain('Fixed: S3 bucket Block Public Access');
    expect(blocks).toContain('<@U0APPROVER1>');
    expect(blocks).toContain('Applied after approval.');
    expect(slack.messages[0]?.metadata?.event_payload).toEqual({ record_id: result.recordId });
  });

  it('throws when Slack cannot be reached, so the engine marks the record pending', async () => {
    const announcer = new SlackAnnouncer(webApi());
    slack.failNext(3, 503);
    await expect(announcer.announce({ record: changeRecord(recordId()), ...rule }, { lookFirst: false })).rejects.toThrow();
    const log = { info() {}, warn() {}, error() {} };
    slack.failNext(3, 503);
    const notification = await announceRecord(changeRecord(recordId()), { announcer, log, rule: { title: 'S3 default encryption', risk: 'low', resource: {} as never } });
    expect(notification).toMatchObject({ status: 'pending', attempts: 1, lastError: expect.stringContaining('503') });
    expect(slack.messages).toEqual([]);
  });
});
