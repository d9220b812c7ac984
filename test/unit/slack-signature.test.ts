import { createHmac, randomBytes } from 'node:crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../core/model/index.ts';
import { loadSlackSecret, SECRET_CACHE_MS } from '../../core/slack/secret.ts';
import { MAX_SIGNATURE_AGE_SECONDS, verifySlackSignature } from '../../core/slack/signature.ts';

// The example from Slack's documentation "Verifying requests from Slack" (docs.slack.dev/authentication/verifying-requests-from-slack).
// Its signing secret is not hex: a signing secret is an opaque string, used as the HMAC key as it is.
const SLACK_EXAMPLE = {
  signingSecret: '8f742231b10e8888abcd99yyyzzz85a5',
  timestamp: '1531420618',
  rawBody:
    'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  signature: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
};
const AT = Number(SLACK_EXAMPLE.timestamp);
const BOT_TOKEN = ['xoxb', '1234', 'fixture'].join('-');

describe('Slack request signatures', () => {
  it("accepts Slack's published example", () => {
    expect(verifySlackSignature({ ...SLACK_EXAMPLE, nowSeconds: AT + 10 })).toEqual({ valid: true });
  });

  it('computes v0=HMAC-SHA256(secret, "v0:{timestamp}:{body}") for any body, byte for byte', () => {
    const signingSecret = randomBytes(16).toString('hex');
    const rawBody = `payload=${encodeURIComponent(JSON.stringify({ text: 'naïve ✓ <&>' }))}`;
    const signature = `v0=${createHmac('sha256', signingSecret).update(`v0:${AT}:${rawBody}`).digest('hex')}`;
    expect(verifySlackSignature({ signingSecret, timestamp: String(AT), signature, rawBody, nowSeconds: AT })).toEqual({ valid: true });
    expect(verifySlackSignature({ signingSecret, timestamp: String(AT), signature, rawBody: rawBody.replace('%C3%AF', 'i'), nowSeconds: AT }).valid).toBe(false);
  });

  it.each([
    ['a changed body', { rawBody: `${SLACK_EXAMPLE.rawBody}&text=rm` }, /does not match/],
    ['another secret', { signingSecret: '0'.repeat(32) }, /does not match/],
    ['a changed timestamp', { timestamp: String(AT + 1) }, /does not match/],
    ['an upper-case signature', { signature: SLACK_EXAMPLE.signature.toUpperCase().replace('V0=', 'v0=') }, /malformed X-Slack-Signature/],
    ['a signature of another scheme', { signature: SLACK_EXAMPLE.signature.replace('v0=', 'v1=') }, /malformed X-Slack-Signature/],
    ['a truncated signature', { signature: SLACK_EXAMPLE.signature.slice(0, 40) }, /malformed X-Slack-Signature/],
    ['a signature with more after it', { signature: `${SLACK_EXAMPLE.signature}00` }, /malformed X-Slack-Signature/],
    ['no signature', { signature: undefined }, /malformed X-Slack-Signature/],
    ['no timestamp', { timestamp: undefined }, /X-Slack-Request-Timestamp/],
    ['a timestamp that is not a number', { timestamp: '15314e6' }, /X-Slack-Request-Timestamp/],
    ['a negative timestamp', { timestamp: '-1531420618' }, /X-Slack-Request-Timestamp/],
  ])('refuses %s', (_name, change, reason) => {
    const result = verifySlackSignature({ ...SLACK_EXAMPLE, ...change, nowSeconds: AT });
    expect(result.valid).toBe(false);
    if (!result.valid) expect(result.reason).toMatch(reason);
  });

  it('accepts timestamps up to five minutes old or ahead, and refuses anything further either way', () => {
    expect(MAX_SIGNATURE_AGE_SECONDS).toBe(300);
    expect(verifySlackSignature({ ...SLACK_EXAMPLE, nowSeconds: AT + 300 }).valid).toBe(true);
    expect(verifySlackSignature({ ...SLACK_EXAMPLE, nowSeconds: AT - 300 }).valid).toBe(true);
    expect(verifySlackSignature({ ...SLACK_EXAMPLE, nowSeconds: AT + 301 })).toEqual({ valid: false, reason: 'request timestamp is 301 s old' });
    expect(verifySlackSignature({ ...SLACK_EXAMPLE, nowSeconds: AT - 301 })).toEqual({ valid: false, reason: 'request timestamp is 301 s in the future' });
  });
});

describe('the Slack secret', () => {
  const secrets = mockClient(SecretsManagerClient);
  afterEach(() => secrets.reset());
  const client = () => new SecretsManagerClient({ region: 'us-east-1' });
  const secretId = () => `driftfix/slack-${randomBytes(4).toString('hex')}`;

  it("takes Slack's own example signing secret, which is not hex, and the requests signed with it verify", async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ botToken: BOT_TOKEN, signingSecret: SLACK_EXAMPLE.signingSecret }) });
    const loaded = await loadSlackSecret(client(), secretId());
    expect(loaded).toEqual({ botToken: BOT_TOKEN, signingSecret: SLACK_EXAMPLE.signingSecret });
    expect(verifySlackSignature({ ...SLACK_EXAMPLE, signingSecret: loaded.signingSecret, nowSeconds: AT })).toEqual({ valid: true });
  });

  it('reads the secret once (within five minutes), from a client made only when first needed', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ botToken: BOT_TOKEN, signingSecret: 'any-opaque-secret' }) });
    const id = secretId();
    let made = 0;
    const source = async () => {
      made += 1;
      return client();
    };
    await loadSlackSecret(source, id);
    await loadSlackSecret(source, id);
    expect(made).toBe(1);
    expect(secrets.commandCalls(GetSecretValueCommand).map((call) => call.args[0].input)).toEqual([{ SecretId: id }]);
  });

  it('reads it again after five minutes, so a rotated secret is in use without a redeploy', async () => {
    const id = secretId();
    let now = 1_000_000;
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ botToken: BOT_TOKEN, signingSecret: 'before-rotation' }) });
    expect((await loadSlackSecret(client(), id, () => now)).signingSecret).toBe('before-rotation');
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ botToken: BOT_TOKEN, signingSecret: 'after-rotation' }) });
    now += SECRET_CACHE_MS - 1;
    expect((await loadSlackSecret(client(), id, () => now)).signingSecret).toBe('before-rotation');
    now += 1;
    expect((await loadSlackSecret(client(), id, () => now)).signingSecret).toBe('after-rotation');
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it.each([
    ['not JSON', 'xoxb-token', /is not JSON/],
    ['no signing secret', JSON.stringify({ botToken: BOT_TOKEN }), /signingSecret/],
    ['an empty signing secret', JSON.stringify({ botToken: BOT_TOKEN, signingSecret: '' }), /signingSecret/],
    ['a bot token that is not a Slack token', JSON.stringify({ botToken: 'not-a-token', signingSecret: 's' }), /botToken: expected a Slack bot token/],
    ['a field that does not belong', JSON.stringify({ botToken: BOT_TOKEN, signingSecret: 's', extra: 'x' }), /extra|Unrecognized/i],
  ])('refuses a secret with %s, naming the field and never its value', async (_name, SecretString, reason) => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString });
    const failure = await loadSlackSecret(client(), secretId()).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ConfigurationError);
    expect(String((failure as Error).message)).toMatch(reason);
    expect(String((failure as Error).message)).not.toContain(BOT_TOKEN);
  });

  it('does not remember a failed read: the next invocation reads again', async () => {
    const id = secretId();
    secrets.on(GetSecretValueCommand).rejectsOnce(new Error('throttled')).resolves({ SecretString: JSON.stringify({ botToken: BOT_TOKEN, signingSecret: 's3cr3t' }) });
    await expect(loadSlackSecret(client(), id)).rejects.toThrow('throttled');
    await expect(loadSlackSecret(client(), id)).resolves.toMatchObject({ signingSecret: 's3cr3t' });
  });
});
