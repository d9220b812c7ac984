import { hubNotifierHandler } from '../core/aws/wiring.ts';

/** At the hub: every member account's records into the hub's table and the one Slack channel. */
export const handler = hubNotifierHandler();
