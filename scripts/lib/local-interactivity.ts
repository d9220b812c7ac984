import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigurationError } from '../../functions/commons/errors.ts';
import type { RecordStore } from '../../functions/commons/record-store.ts';
import { type InteractivityDeps, parseApprovers } from '../../functions/commons/slack/interactivity.ts';
import { slackConfigFromEnv } from '../../functions/commons/slack/slack-notifier.ts';
import { loadSlackSecret } from '../../functions/commons/slack/slack-secret.ts';
import { LocalBus } from './local-bus.ts';
import type { LocalRuntime } from './local-runtime.ts';

/** What the interactivity function gets in Lambda, for a local run: approvals applied by the local bus. */
export function localInteractivity(runtime: LocalRuntime, env: Record<string, string | undefined> = process.env): InteractivityDeps & { bus: LocalBus } {
  const slack = slackConfigFromEnv(env);
  if (!slack) throw new ConfigurationError('set SLACK_SECRET_ID and SLACK_CHANNEL (and SLACK_API_URL for a local Slack stand-in)');
  const store = runtime.deps.store as RecordStore;
  const endpoint = env.AWS_ENDPOINT_URL || undefined;
  const secrets = new SecretsManagerClient({ region: runtime.identity.region, ...(endpoint ? { endpoint } : {}) });
  const bus = new LocalBus(runtime);
  const notifier = runtime.deps.notifier;
  if (!notifier) throw new ConfigurationError('no notifier');
  return {
    store,
    notifier,
    emitter: bus,
    bus,
    signingSecret: async () => (await loadSlackSecret(secrets, slack.secretId)).signingSecret,
    approvers: parseApprovers(env.SLACK_APPROVERS, env.SLACK_APPROVER_GROUP),
    suppressionDays: runtime.settings.suppressionDays,
    log: runtime.deps.log,
  };
}
