import { routerHandler } from '../core/aws/wiring.ts';
import { RULES } from '../rules/index.ts';

/** AWS Config compliance changes: which rule answers the managed rule behind them, and to its queue. */
export const handler = routerHandler(RULES);
