import { unhandledHandler } from '../core/aws/wiring.ts';

/** Access Analyzer findings no rule fixes: recorded and posted, or skipped; it can change nothing. */
export const handler = unhandledHandler();
