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

const cache = new Map<string, Promise<SlackSecret>>();

/**
 * The bot token and signing secret, from one Secrets Manager secret, read once per container.
 * A failed read is not cached, so the next invocation tries again.
 */
/** A client, or a way to make one when first needed (functions load the SDK module only then). */
export type SecretsSource = SecretsManagerClient | (() => Promise<SecretsManagerClient>);

export function loadSlackSecret(client: SecretsSource, secretId: string): Promise<SlackSecret> {
  let pending = cache.get(secretId);
  if (!pending) {
    pending = readSecret(client, secretId);
    cache.set(secretId, pending);
    pending.catch(() => cache.delete(secretId));
  }
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

