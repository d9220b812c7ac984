import { ConfigurationError } from '../../core/model/index.ts';
import { type InteractivityDeps, parseApprovers } from '../../core/slack/interactivity.ts';
import { SlackWebApi, slackConfigFromEnv } from '../../core/slack/notifier.ts';
import { loadSlackSecret } from '../../core/slack/secret.ts';
import { SECRETS_MANAGER } from '../../core/aws/services.ts';
import { LocalBus } from './local-bus.ts';
import type { LocalRuntime } from './local-runtime.ts';

/** What the interactivity function gets in Lambda, for a local run: approvals applied by the local bus. */
export function localInteractivity(runtime: LocalRuntime, env: Record<string, string | undefined> = process.env): InteractivityDeps & { bus: LocalBus } {
  const slack = slackConfigFromEnv(env);
  if (!slack) throw new ConfigurationError('set SLACK_SECRET_ID and SLACK_CHANNEL (and SLACK_API_URL for a local Slack stand-in)');
  const ledger = runtime.ledger;
  if (!ledger) throw new ConfigurationError('set REMEDIATION_TABLE');
  const secrets = () => runtime.factory.shared(SECRETS_MANAGER, { record: false });
  const bus = new LocalBus(runtime);
  return {
    ledger,
    slack: new SlackWebApi(slack, secrets, undefined, 1_500),
    sink: bus,
    bus,
    signingSecret: async () => (await loadSlackSecret(secrets, slack.secretId)).signingSecret,
    approvers: parseApprovers(env.SLACK_APPROVERS, env.SLACK_APPROVER_GROUP),
    suppressionDays: runtime.settings.suppressionDays,
    log: runtime.deps.log,
  };
}
