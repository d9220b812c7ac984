import { slackActionsHandler } from '../core/aws/wiring.ts';

/** Behind the HTTP API route POST /slack/actions: Slack's Approve, Reject and Exempt. */
export const handler = slackActionsHandler();
