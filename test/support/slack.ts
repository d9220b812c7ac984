import { createHmac } from 'node:crypto';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { REGION } from './events.ts';

/** Slack's own documentation example: a signing secret is an opaque string, not necessarily hex. */
export const SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
/** Assembled at run time so that no token-shaped string sits in the repository. */
export const BOT_TOKEN = ['xoxb', 'local', 'fixture'].join('-');
export const CHANNEL = 'C0DRIFTFIX1';
export const APPROVER = 'U0APPROVER1';
export const STRANGER = 'U0STRANGER1';

/** The app's secret in the tests' moto Secrets Manager (integration tests only: local-aws needs the global setup). */
export async function createSlackSecret(signingSecret = SIGNING_SECRET): Promise<string> {
  const { motoEndpoint, uniqueName } = await import('./local-aws.ts');
  const name = uniqueName('driftfix/slack');
  const client = new SecretsManagerClient({ region: REGION, endpoint: motoEndpoint() });
  await client.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify({ botToken: BOT_TOKEN, signingSecret }) }));
  return name;
}

export function sign(body: string, timestamp: number, secret = SIGNING_SECRET): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

/** A button click (block_actions) as Slack posts it to the interactivity URL, form-encoded. */
export function clickBody(options: { user: string; action: 'approve' | 'reject' | 'exempt'; approvalId: string; channel?: string; ts?: string; triggerId?: string }): string {
  const payload = {
    type: 'block_actions',
    user: { id: options.user, username: 'someone', team_id: 'T0TEAM' },
    team: { id: 'T0TEAM', domain: 'example' },
    container: { type: 'message', channel_id: options.channel ?? CHANNEL, message_ts: options.ts ?? '1.000100' },
    channel: { id: options.channel ?? CHANNEL, name: 'driftfix' },
    actions: [{ action_id: options.action, block_id: 'driftfix_approval', value: options.approvalId, type: 'button', action_ts: '1.2' }],
    response_url: 'https://hooks.slack.com/actions/T0TEAM/1/abc',
    trigger_id: options.triggerId ?? '1.2.3',
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/**
 * The exception modal submitted (view_submission), as Slack posts it: the values of its two inputs,
 * by block id and action id, and the approval id the modal was opened with as private_metadata.
 */
export function exemptionSubmitBody(options: { user: string; approvalId: string; days: string | null; reason: string | null; callbackId?: string }): string {
  const payload = {
    type: 'view_submission',
    team: { id: 'T0TEAM', domain: 'example' },
    user: { id: options.user, username: 'someone', name: 'someone', team_id: 'T0TEAM' },
    api_app_id: 'A0DRIFTFIX',
    trigger_id: '4.5.6',
    view: {
      id: 'V0000000001',
      team_id: 'T0TEAM',
      type: 'modal',
      callback_id: options.callbackId ?? 'driftfix_exempt',
      private_metadata: options.approvalId,
      hash: '1.abc',
      state: {
        values: {
          days: { value: { type: 'number_input', value: options.days } },
          reason: { value: { type: 'plain_text_input', value: options.reason } },
        },
      },
    },
    response_urls: [],
    is_enterprise_install: false,
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** An API Gateway HTTP API (payload 2.0) request as the interactivity function receives it. */
export function apiRequest(body: string, headers: Record<string, string>, options: { base64?: boolean; method?: string } = {}): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /slack/actions',
    rawPath: '/slack/actions',
    rawQueryString: '',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    isBase64Encoded: options.base64 === true,
    body: options.base64 ? Buffer.from(body).toString('base64') : body,
    requestContext: {
      accountId: '111122223333',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method: options.method ?? 'POST', path: '/slack/actions', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'Slackbot 1.0' },
      requestId: 'r-1',
      routeKey: 'POST /slack/actions',
      stage: '$default',
      time: '26/Nov/2026:00:00:00 +0000',
      timeEpoch: Date.now(),
    },
  };
}

export function signedRequest(body: string, options: { timestamp?: number; secret?: string; base64?: boolean } = {}): APIGatewayProxyEventV2 {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  return apiRequest(
    body,
    { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': sign(body, timestamp, options.secret) },
    { base64: options.base64 === true },
  );
}
