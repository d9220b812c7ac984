import type { Announcer } from '../engine/ports.ts';
import { SlackAnnouncer, SlackWebApi, slackConfigFromEnv } from '../slack/notifier.ts';
import { ClientFactory } from './clients.ts';
import { HubAnnouncer } from './emitter.ts';
import { EVENTBRIDGE, SECRETS_MANAGER } from './services.ts';

/** Where records go: the hub's bus (a member), Slack (a single account or the hub), or the log. */
export function announcerFor(c: { env: Record<string, string | undefined>; factory: ClientFactory }): Announcer | undefined {
  const hubBus = c.env.HUB_EVENT_BUS_ARN;
  if (hubBus) {
    // PutEvents goes to the bus's own region: one hub serves members in every region.
    const region = hubBus.split(':')[3] || c.factory.options.region;
    const factory = region === c.factory.options.region ? c.factory : new ClientFactory({ ...c.factory.options, region });
    return new HubAnnouncer(() => factory.shared(EVENTBRIDGE, { record: false }), hubBus);
  }
  const slack = slackConfigFromEnv(c.env);
  if (!slack) return undefined;
  return new SlackAnnouncer(new SlackWebApi(slack, () => c.factory.shared(SECRETS_MANAGER, { record: false })));
}

