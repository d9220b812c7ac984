import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { ConfigurationError } from '../model/index.ts';

export interface SlackSecret {
  botToken: string;
  signingSecret: string;
}

const secretShape = z.strictObject({
  botToken: z.string().regex(/^xox[a-z]-[A-Za-z0-9-]+$/, 'expected a Slack bot token (xoxb-…)'),
  signingSecret: z.string().min(1, 'expected a Slack signing secret').max(256),
});

/** How long a container keeps the secret: a rotated token or signing secret is in use within this. */
export const SECRET_CACHE_MS = 5 * 60 * 1000;

const cache = new Map<string, { at: number; pending: Promise<SlackSecret> }>();

/** A client, or a way to make one when first needed (functions load the SDK module only then). */
export type SecretsSource = SecretsManagerClient | (() => Promise<SecretsManagerClient>);

/**
 * The bot token and signing secret, from one Secrets Manager secret, read at most once every
 * five minutes per container (a failed read is not kept: the next call tries again). Requests
 * that fail the signature check never cause a read.
 */
export function loadSlackSecret(client: SecretsSource, secretId: string, now: () => number = Date.now): Promise<SlackSecret> {
  const cached = cache.get(secretId);
  if (cached && now() - cached.at < SECRET_CACHE_MS) return cached.pending;
  const pending = readSecret(client, secretId);
  const entry = { at: now(), pending };
  cache.set(secretId, entry);
  pending.catch(() => {
    if (cache.get(secretId) === entry) cache.delete(secretId);
  });
  return pending;
}

async function readSecret(source: SecretsSource, secretId: string): Promise<SlackSecret> {
  const client = typeof source === 'function' ? await source() : source;
  const { GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const output = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  let parsed: unknown;
  try {
    parsed = JSON.parse(output.SecretString ?? '');
  } catch {
    throw new ConfigurationError(`secret ${secretId} is not JSON {"botToken": "...", "signingSecret": "..."}`);
  }
  const checked = secretShape.safeParse(parsed);
  if (!checked.success) {
    // Never echo the values: only which field is wrong.
    throw new ConfigurationError(`secret ${secretId}: ${checked.error.issues.map((issue) => `${issue.path.join('.') || 'value'}: ${issue.message}`).join('; ')}`);
  }
  return checked.data;
}

