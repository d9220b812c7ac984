import { ErrorCode } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { createNotifier, slackConfigFromEnv } from '../../core/slack/notifier.ts';

describe('the Slack notifier', () => {
  it('recognises the Web API client’s rate-limit error by the code the client uses', async () => {
    // slack-notifier.ts loads @slack/web-api lazily and compares the code by value.
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

  it('without Slack, records go to the log and nothing is sent anywhere', async () => {
    const lines: string[] = [];
    const notifier = createNotifier(undefined, async () => {
      throw new Error('no secrets client should be made');
    }, { log: (line) => lines.push(line) });
    expect(notifier.enabled).toBe(false);
    expect(await notifier.post({ text: 'Fixed: S3 default encryption', blocks: [] })).toBeUndefined();
    expect(lines).toEqual(['Fixed: S3 default encryption']);
  });
});
