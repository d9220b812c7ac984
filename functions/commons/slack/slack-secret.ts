import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { ConfigurationError } from '../errors.ts';

export interface SlackSecret {
  botToken: string;
  signingSecret: string;
}

const secretShape = z.strictObject({
  botToken: z.string().regex(/^xox[a-z]-[A-Za-z0-9-]+$/, 'expected a Slack bot token (xoxb-…)'),
  signingSecret: z.string().regex(/^[0-9a-f]{16,128}$/, 'expected a Slack signing secret (hex)'),
});

const cache = new Map<string, Promise<SlackSecret>>();

/**
 * The bot token and signing secret, from one Secrets Manager secret, read once per container.
 * A failed read is not cached, so the next invocation tries again.
 */
export function loadSlackSecret(client: SecretsManagerClient, secretId: string): Promise<SlackSecret> {
  let pending = cache.get(secretId);
  if (!pending) {
    pending = readSecret(client, secretId);
    cache.set(secretId, pending);
    pending.catch(() => cache.delete(secretId));
  }
  return pending;
}

async function readSecret(client: SecretsManagerClient, secretId: string): Promise<SlackSecret> {
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

export function forgetSlackSecrets(): void {
  cache.clear();
}
