import type { WebClient } from '@slack/web-api';
import type { Announcement, Announcer } from '../engine/ports.ts';
import type { Notification } from '../model/index.ts';
import { recordMessage, type SlackMessage } from './messages.ts';
import { loadSlackSecret, type SecretsSource } from './secret.ts';

export interface MessageRef {
  channel: string;
  ts: string;
}

/** The Slack Web API calls driftfix makes (the app's scopes follow from these: slack/manifest.json). */
export interface SlackApi {
  post(message: SlackMessage, recordId: string): Promise<MessageRef>;
  update(ref: MessageRef, message: SlackMessage, recordId: string): Promise<void>;
  /** The message posted for a record, found by its metadata, if any. */
  findByRecord(recordId: string): Promise<MessageRef | undefined>;
  /** A message only `user` sees, in the channel of the message they clicked. */
  tellUser(channel: string, user: string, text: string): Promise<void>;
  groupMembers(groupId: string): Promise<string[]>;
  openModal(triggerId: string, view: Record<string, unknown>): Promise<void>;
}

export interface SlackConfig {
  secretId: string;
  channel: string;
  apiUrl?: string | undefined;
}

/**
 * Slack is on when SLACK_CHANNEL is set; it then needs SLACK_SECRET_ID. Without a channel the bot
 * only logs its records.
 */
export function slackConfigFromEnv(env: Record<string, string | undefined> = process.env): SlackConfig | undefined {
  const secretId = env.SLACK_SECRET_ID || undefined;
  const channel = env.SLACK_CHANNEL || undefined;
  if (!channel) return undefined;
  if (!secretId) throw new Error('SLACK_CHANNEL is set but SLACK_SECRET_ID is not: the bot token comes from Secrets Manager');
  // Public (C…) or private (G…) channels: the app reads their history with channels:history / groups:history.
  if (!/^[CG][A-Z0-9]{2,}$/.test(channel)) throw new Error(`SLACK_CHANNEL must be a channel id such as C0123456789, not "${channel}"`);
  return { secretId, channel, apiUrl: env.SLACK_API_URL || undefined };
}

/** How long one Slack call may take, retries included: a Lambda cannot wait half an hour. */
const CALL_BUDGET_MS = 10_000;
/** Messages carry the record's id as metadata; a record's message is looked for among this many recent ones. */
const METADATA_EVENT = 'driftfix_record';
const LOOKUP_WINDOW_S = 7 * 86_400;

export class SlackWebApi implements SlackApi {
  private client: Promise<WebClient> | undefined;

  constructor(
    private readonly config: SlackConfig,
    private readonly secrets: SecretsSource,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    private readonly timeoutMs = 3_000,
  ) {}

  private web(): Promise<WebClient> {
    // The Slack client is loaded on first use, not at cold start.
    this.client ??= Promise.all([loadSlackSecret(this.secrets, this.config.secretId), import('@slack/web-api')]).then(
      ([secret, { WebClient }]) =>
        new WebClient(secret.botToken, {
          ...(this.config.apiUrl ? { slackApiUrl: this.config.apiUrl.replace(/\/?$/, '/') } : {}),
          retryConfig: { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 1_000, randomize: true },
          timeout: this.timeoutMs,
          // 429s are handled below, within the budget, instead of waiting as long as Slack asks.
          rejectRateLimitedCalls: true,
          allowAbsoluteUrls: false,
        }),
    );
    this.client.catch(() => {
      this.client = undefined;
    });
    return this.client;
  }

  private async call<T>(work: (client: WebClient) => Promise<T>): Promise<T> {
    const client = await this.web();
    const deadline = Date.now() + CALL_BUDGET_MS;
    for (;;) {
      try {
        return await work(client);
      } catch (error) {
        const retryAfterMs = rateLimitedFor(error);
        if (retryAfterMs === undefined || Date.now() + retryAfterMs > deadline) throw error;
        await this.sleep(retryAfterMs);
      }
    }
  }

  async post(message: SlackMessage, recordId: string): Promise<MessageRef> {
    const result = await this.call((client) =>
      client.chat.postMessage({
        channel: this.config.channel,
        text: message.text,
        blocks: message.blocks as never,
        unfurl_links: false,
        metadata: { event_type: METADATA_EVENT, event_payload: { record_id: recordId } },
      }),
    );
    if (!result.channel || !result.ts) throw new Error('Slack accepted the message but returned no channel or ts');
    return { channel: result.channel, ts: result.ts };
  }

  async update(ref: MessageRef, message: SlackMessage, recordId: string): Promise<void> {
    await this.call((client) =>
      client.chat.update({
        channel: ref.channel,
        ts: ref.ts,
        text: message.text,
        blocks: message.blocks as never,
        metadata: { event_type: METADATA_EVENT, event_payload: { record_id: recordId } },
      }),
    );
  }

  async findByRecord(recordId: string): Promise<MessageRef | undefined> {
    const oldest = String(Math.floor(Date.now() / 1000) - LOOKUP_WINDOW_S);
    let cursor: string | undefined;
    for (let page = 0; page < 5; page++) {
      const result = await this.call((client) =>
        client.conversations.history({ channel: this.config.channel, include_all_metadata: true, oldest, limit: 200, ...(cursor ? { cursor } : {}) }),
      );
      for (const message of result.messages ?? []) {
        const metadata = (message as { metadata?: { event_type?: string; event_payload?: { record_id?: unknown } } }).metadata;
        if (metadata?.event_type === METADATA_EVENT && metadata.event_payload?.record_id === recordId && message.ts) {
          return { channel: this.config.channel, ts: message.ts };
        }
      }
      cursor = result.response_metadata?.next_cursor || undefined;
      if (!cursor) break;
    }
    return undefined;
  }

  async tellUser(channel: string, user: string, text: string): Promise<void> {
    await this.call((client) => client.chat.postEphemeral({ channel, user, text }));
  }

  async groupMembers(groupId: string): Promise<string[]> {
    const result = await this.call((client) => client.usergroups.users.list({ usergroup: groupId }));
    return result.users ?? [];
  }

  async openModal(triggerId: string, view: Record<string, unknown>): Promise<void> {
    await this.call((client) => client.views.open({ trigger_id: triggerId, view: view as never }));
  }
}

/** @slack/web-api's ErrorCode.RateLimitedError, by value: the module is loaded lazily. */
const RATE_LIMITED = 'slack_webapi_rate_limited_error';

function rateLimitedFor(error: unknown): number | undefined {
  const candidate = error as { code?: string; retryAfter?: number };
  return candidate.code === RATE_LIMITED ? Math.max(0, (candidate.retryAfter ?? 1) * 1000) : undefined;
}

/**
 * Records as Slack messages: posted with the record's id as metadata, or updating the approval
 * request they answer. After a crash between a post and its record, the earlier message is found
 * and updated, so a record never gets two messages.
 */
export class SlackAnnouncer implements Announcer {
  readonly kind = 'slack' as const;
  constructor(readonly api: SlackApi) {}

  async announce(announcement: Announcement, options: { lookFirst: boolean }): Promise<Notification> {
    const { record } = announcement;
    const message = recordMessage({
      record,
      ruleTitle: announcement.ruleTitle,
      risk: announcement.risk,
      ...(announcement.approvalId ? { approvalId: announcement.approvalId } : {}),
      ...(record.decidedBy ? { decidedBy: record.decidedBy } : {}),
      ...(announcement.note ? { note: announcement.note } : {}),
      ...(announcement.consoleUrl ? { consoleUrl: announcement.consoleUrl } : {}),
    });
    let ref = announcement.updates ?? (options.lookFirst ? await this.api.findByRecord(record.recordId) : undefined);
    if (ref) await this.api.update(ref, message, record.recordId);
    else ref = await this.api.post(message, record.recordId);
    return { status: 'posted', attempts: 1, channel: ref.channel, ts: ref.ts };
  }
}
