import { describe, expect, it } from 'vitest';
import { verifySlackSignature } from '../../core/slack/signature.ts';

// The example from Slack's documentation "Verifying requests from Slack".
const SLACK_EXAMPLE = {
  signingSecret: '8f742231b10e8888abcd99yyyzzz85a5',
  timestamp: '1531420618',
  rawBody:
    'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  signature: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
};

describe('Slack request signatures', () => {
  it("accepts Slack's published example", () => {
    expect(verifySlackSignature({ ...SLACK_EXAMPLE, nowSeconds: 1531420618 + 10 })).toEqual({ valid: true });
  });

  it.each([
    ['a changed body', { rawBody: `${SLACK_EXAMPLE.rawBody}&text=rm` }, /does not match/],
    ['another secret', { signingSecret: '0'.repeat(32) }, /does not match/],
    ['a changed timestamp', { timestamp: '1531420619' }, /does not match/],
    ['a signature of another scheme', { signature: SLACK_EXAMPLE.signature.replace('v0=', 'v1=') }, /malformed X-Slack-Signature/],
    ['a truncated signature', { signature: SLACK_EXAMPLE.signature.slice(0, 40) }, /malformed X-Slack-Signature/],
    ['no signature', { signature: undefined }, /malformed X-Slack-Signature/],
    ['no timestamp', { timestamp: undefined }, /X-Slack-Request-Timestamp/],
    ['a timestamp that is not a number', { timestamp: '15314e6' }, /X-Slack-Request-Timestamp/],
  ])('refuses %s', (_name, change, reason) => {
    const result = verifySlackSignature({ ...SLACK_EXAMPLE, ...change, nowSeconds: 1531420618 });
    expect(result.valid).toBe(false);
    if (!result.valid) expect(result.reason).toMatch(reason);
  });

  it('refuses timestamps more than five minutes in the past or the future', () => {
    expect(verifySlackSignature({ ...SLACK_EXAMPLE, nowSeconds: 1531420618 + 301 })).toMatchObject({ valid: false, reason: expect.stringContaining('old') });
    expect(verifySlackSignature({ ...SLACK_EXAMPLE, nowSeconds: 1531420618 - 301 })).toMatchObject({ valid: false, reason: expect.stringContaining('future') });
    expect(verifySlackSignature({ ...SLACK_EXAMPLE, nowSeconds: 1531420618 + 300 }).valid).toBe(true);
  });
});
