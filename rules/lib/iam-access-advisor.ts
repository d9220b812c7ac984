import type { GetServiceLastAccessedDetailsCommandOutput, IAMClient } from '@aws-sdk/client-iam';

/** The IAM SDK module, loaded when a rule first reads: not at a function's cold start. */
const sdk = () => import('@aws-sdk/client-iam');
import type { Usage } from './iam-policy-document.ts';

/** IAM keeps action-level last-accessed data for up to 400 days. */
export const TRACKING_PERIOD_DAYS = 400;

export interface AdvisorOptions {
  /** How long to wait for IAM to prepare the report. */
  maxWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * What the entities a managed policy is attached to actually used, per service, from IAM's
 * last-accessed data (access advisor) at action level where the service tracks actions.
 */
export async function readPolicyUsage(client: IAMClient, policyArn: string, options: AdvisorOptions = {}): Promise<Usage> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const { JobId } = await client.send(new (await sdk()).GenerateServiceLastAccessedDetailsCommand({ Arn: policyArn, Granularity: 'ACTION_LEVEL' }));
  if (!JobId) throw new Error('IAM returned no job id for the last-accessed report');

  const deadline = Date.now() + (options.maxWaitMs ?? 20_000);
  let delay = 250;
  let page: GetServiceLastAccessedDetailsCommandOutput;
  for (;;) {
    page = await client.send(new (await sdk()).GetServiceLastAccessedDetailsCommand({ JobId }));
    if (page.JobStatus === 'COMPLETED') break;
    if (page.JobStatus === 'FAILED') throw new Error(`IAM could not prepare the last-accessed report: ${page.Error?.Message ?? 'unknown error'}`);
    if (Date.now() + delay > deadline) throw new Error('IAM did not finish the last-accessed report in time; the event will be retried');
    await sleep(delay);
    delay = Math.min(delay * 2, 2_000);
  }

  const usage: Usage = { actionLevel: {}, serviceLevelOnly: [], trackingPeriodDays: TRACKING_PERIOD_DAYS };
  for (;;) {
    for (const service of page.ServicesLastAccessed ?? []) {
      const namespace = (service.ServiceNamespace ?? '').toLowerCase();
      if (!namespace) continue;
      if (service.TrackedActionsLastAccessed) {
        const usedActions = service.TrackedActionsLastAccessed.filter((action) => action.LastAccessedTime && action.ActionName).map(
          (action) => `${namespace}:${action.ActionName}`,
        );
        if (usedActions.length > 0) usage.actionLevel[namespace] = [...new Set(usedActions)].sort();
      } else if (service.LastAuthenticated) {
        usage.serviceLevelOnly.push(namespace);
      }
    }
    if (!page.IsTruncated || !page.Marker) break;
    page = await client.send(new (await sdk()).GetServiceLastAccessedDetailsCommand({ JobId, Marker: page.Marker }));
  }
  return usage;
}
