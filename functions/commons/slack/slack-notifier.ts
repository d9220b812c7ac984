import type { WebClient } from '@slack/web-api';
import { loadSlackSecret, type SecretsSource } from './slack-secret.ts';
import type { SlackMessage } from './slack-messages.ts';

export interface MessageRef {
  channel: string;
  ts: string;
}

/** Where change records and approval requests go. */
export interface Notifier {
  /** False when no Slack is configured: records are then only logged. */
  readonly enabled: boolean;
  post(message: SlackMessage): Promise<MessageRef | undefined>;
  update(ref: MessageRef, message: SlackMessage): Promise<void>;
  /** A message only `user` sees, in the channel of the message they clicked. */
  tellUser(channel: string, user: string, text: string): Promise<void>;
  groupMembers(groupId: string): Promise<string[]>;
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
  if (!/^[CGD][A-Z0-9]{2,}$/.test(channel)) throw new Error(`SLACK_CHANNEL must be a channel id such as C0123456789, not "${channel}"`);
  return { secretId, channel, apiUrl: env.SLACK_API_URL || undefined };
}

/** How long one Slack call may take, retries included: a Lambda cannot wait half an hour. */
const CALL_BUDGET_MS = 10_000;

class SlackNotifier implements Notifier {
  readonly enabled = true;
  private client: Promise<WebClient> | undefined;

  constructor(
    private readonly config: SlackConfig,
    private readonly secrets: SecretsSource,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}

  private web(): Promise<WebClient> {
    // The Slack client is loaded on first use, not at cold start.
    this.client ??= Promise.all([loadSlackSecret(this.secrets, this.config.secretId), import('@slack/web-api')]).then(
      ([secret, { WebClient }]) =>
        new WebClient(secret.botToken, {
          ...(this.config.apiUrl ? { slackApiUrl: this.config.apiUrl.replace(/\/?$/, '/') } : {}),
          retryConfig: { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 1_000, randomize: true },
          timeout: 3_000,
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

  async post(message: SlackMessage): Promise<MessageRef> {
    const result = await this.call((client) =>
      client.chat.postMessage({ channel: this.config.channel, text: message.text, blocks: message.blocks as never, unfurl_links: false }),
    );
    if (!result.channel || !result.ts) throw new Error('Slack accepted the message but returned no channel or ts');
    return { channel: result.channel, ts: result.ts };
  }

  async update(ref: MessageRef, message: SlackMessage): Promise<void> {
    await this.call((client) => client.chat.update({ channel: ref.channel, ts: ref.ts, text: message.text, blocks: message.blocks as never }));
  }

  async tellUser(channel: string, user: string, text: string): Promise<void> {
    await this.call((client) => client.chat.postEphemeral({ channel, user, text }));
  }

  async groupMembers(groupId: string): Promise<string[]> {
    const result = await this.call((client) => client.usergroups.users.list({ usergroup: groupId }));
    return result.users ?? [];
  }
}

/** @slack/web-api's ErrorCode.RateLimitedError, by value: the module is loaded lazily. */
const RATE_LIMITED = 'slack_webapi_rate_limited_error';

function rateLimitedFor(error: unknown): number | undefined {
  const candidate = error as { code?: string; retryAfter?: number };
  return candidate.code === RATE_LIMITED ? Math.max(0, (candidate.retryAfter ?? 1) * 1000) : undefined;
}

/** Without Slack settings the bot still works: records go to the log only. */
export class LogOnlyNotifier implements Notifier {
  readonly enabled = false;
  constructor(private readonly log: (line: string) => void = () => {}) {}
  async post(message: SlackMessage): Promise<undefined> {
    this.log(message.text);
    return undefined;
  }
  async update(_ref: MessageRef, message: SlackMessage): Promise<void> {
    this.log(message.text);
  }
  async tellUser(_channel: string, _user: string, text: string): Promise<void> {
    this.log(text);
  }
  async groupMembers(): Promise<string[]> {
    return [];
  }
}

export function createNotifier(
  config: SlackConfig | undefined,
  secrets: SecretsSource,
  options: { log?: (line: string) => void; sleep?: (ms: number) => Promise<void> } = {},
): Notifier {
  if (!config) return new LogOnlyNotifier(options.log);
  return new SlackNotifier(config, secrets, options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))));
}
