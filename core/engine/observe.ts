import { describeError, isResourceGone, NotReadyError, type Plan } from '../model/index.ts';
import type { Run } from './run.ts';

/** What the rule sees of the live resource: the only basis for any decision. Reads only. */
export type Observation =
  | { kind: 'protected' | 'excluded' | 'gone'; reason: string }
  | { kind: 'unreadable'; reason: string; notReady?: boolean }
  | { kind: 'seen'; state: unknown; plan: Plan; before: { summary: string; state: unknown }; readSince: number };

/** Throttling and timeouts pass; a retry may succeed where this attempt did not. */
const TRANSIENT = /Throttl|TooManyRequests|RequestLimitExceeded|SlowDown|TimeoutError|ECONNRESET|ServiceUnavailable|InternalError/;

export function isTransient(error: unknown): boolean {
  return error instanceof Error && (TRANSIENT.test(error.name) || TRANSIENT.test((error as { code?: string }).code ?? ''));
}

export async function observe(run: Run): Promise<Observation & { transient?: boolean }> {
  const { rule, context } = run;
  const where = { account: run.finding.account, region: run.finding.region, stackPrefix: run.deps.settings.stackName };
  const guarded = rule.resource.protected?.(run.finding.resourceId, where);
  if (guarded) return { kind: 'protected', reason: `${run.resource} is left alone: ${guarded}` };
  const readSince = run.now();
  try {
    if (rule.readTags) {
      const tags = await rule.readTags(context);
      const { key, value } = run.deps.settings.exclusionTag;
      if (tags[key] === value) return { kind: 'excluded', reason: `resource is tagged ${key}=${value}` };
    }
    const state = await rule.readState(context);
    const canonical = rule.canonicalId?.(state);
    if (canonical) {
      run.adopt(canonical);
      const reason = rule.resource.protected?.(canonical, where);
      if (reason) return { kind: 'protected', reason: `${run.resource} is left alone: ${reason}` };
    }
    const plan = rule.plan(state, context.params, run.finding);
    return { kind: 'seen', state, plan, before: { summary: rule.describe(state), state }, readSince };
  } catch (error) {
    if (isResourceGone(error)) return { kind: 'gone', reason: `the resource no longer exists: ${describeError(error)}` };
    if (error instanceof NotReadyError) return { kind: 'unreadable', reason: `waiting: ${error.message}`, notReady: true, transient: true };
    return { kind: 'unreadable', reason: `could not read the resource: ${describeError(error)}`, transient: isTransient(error) };
  }
}

/** A plan that says the resource is done: compliant, or settled as far as it can safely go. */
export function isDone(plan: Plan): boolean {
  return plan.status === 'compliant' || (plan.status === 'unfixable' && plan.settled === true);
}

/**
 * Reads and plans again after a change: only a plan that is done (`isDone`) counts. With the state
 * before the change, a rule's `readAfter` re-reads only what its write changed.
 */
export async function verify(run: Run, before?: { state: unknown }): Promise<{ ok: boolean; summary: string; after: { summary: string; state: unknown } }> {
  const state = before && run.rule.readAfter ? await run.rule.readAfter(run.context, before.state) : await run.rule.readState(run.context);
  const plan = run.rule.plan(state, run.context.params, run.finding);
  return { ok: isDone(plan), summary: plan.summary, after: { summary: run.rule.describe(state), state } };
}
