import type { GetServiceLastAccessedDetailsCommandOutput, IAMClient } from '@aws-sdk/client-iam';

/** The IAM SDK module, loaded when a rule first reads: not at a function's cold start. */
const sdk = () => import('@aws-sdk/client-iam');
import { type ServiceUsage, TRACKING_PERIOD_DAYS, type Usage } from './iam-usage.ts';

export { TRACKING_PERIOD_DAYS };

export interface AdvisorOptions {
  /** How long to wait for IAM to prepare the report. */
  maxWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface PolicyUsageReport {
  usage: Usage;
  /** The report's job: GetServiceLastAccessedDetailsWithEntities reads it, in the same session only. */
  jobId: string;
}

/** `CreateBucket` or `s3:CreateBucket`: IAM's documentation does not say which ActionName holds. */
function qualified(namespace: string, actionName: string): string {
  return actionName.includes(':') ? actionName : `${namespace}:${actionName}`;
}

/**
 * What the entities a managed policy is attached to actually used, per service, from IAM's
 * last-accessed data (access advisor) at action level where the service tracks actions
 * (GetServiceLastAccessedDetails: ServicesLastAccessed[].LastAuthenticated, LastAuthenticatedEntity,
 * TotalAuthenticatedEntities, TrackedActionsLastAccessed; "null if no IAM entities attempted to access
 * the service within the tracking period",
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetServiceLastAccessedDetails.html).
 */
export async function readPolicyUsage(client: IAMClient, policyArn: string, options: AdvisorOptions = {}): Promise<PolicyUsageReport> {
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

  const reportedAt = (page.JobCompletionDate ?? page.JobCreationDate ?? new Date()).toISOString();
  const usage: Usage = { services: {}, trackingPeriodDays: TRACKING_PERIOD_DAYS, reportedAt };
  for (;;) {
    for (const service of page.ServicesLastAccessed ?? []) {
      const namespace = (service.ServiceNamespace ?? '').toLowerCase();
      if (!namespace) continue;
      const actions: Record<string, string> = {};
      for (const action of service.TrackedActionsLastAccessed ?? []) {
        if (action.ActionName && action.LastAccessedTime) actions[qualified(namespace, action.ActionName)] = action.LastAccessedTime.toISOString();
      }
      const latestAction = Object.values(actions).sort().at(-1);
      const lastUsed = service.LastAuthenticated?.toISOString() ?? latestAction;
      if (!lastUsed) continue; // not used in the tracking period
      const used: ServiceUsage = { lastUsed, actions };
      if (service.LastAuthenticatedEntity) used.lastEntity = service.LastAuthenticatedEntity;
      if (service.TotalAuthenticatedEntities !== undefined) used.entities = service.TotalAuthenticatedEntities;
      usage.services[namespace] = used;
    }
    if (!page.IsTruncated || !page.Marker) break;
    page = await client.send(new (await sdk()).GetServiceLastAccessedDetailsCommand({ JobId, Marker: page.Marker }));
  }
  return { usage, jobId: JobId };
}

export interface ServiceUser {
  arn: string;
  type: string;
  lastUsed: string;
}

/**
 * The users and roles that used one service through the policy, most recent first: "For a policy
 * report, this operation returns a list of entities (users or roles) that could have used the policy"
 * (GetServiceLastAccessedDetailsWithEntities, sorted by date, most recent first,
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetServiceLastAccessedDetailsWithEntities.html).
 * Entities that never used it (no LastAuthenticated) are left out.
 */
export async function readServiceUsers(client: IAMClient, jobId: string, service: string): Promise<ServiceUser[]> {
  const users: ServiceUser[] = [];
  let marker: string | undefined;
  do {
    const page = await client.send(new (await sdk()).GetServiceLastAccessedDetailsWithEntitiesCommand({ JobId: jobId, ServiceNamespace: service, Marker: marker, MaxItems: 100 }));
    if (page.JobStatus === 'FAILED') throw new Error(`IAM could not list who used ${service}: ${page.Error?.Message ?? 'unknown error'}`);
    for (const entity of page.EntityDetailsList ?? []) {
      const arn = entity.EntityInfo?.Arn;
      if (!arn || !entity.LastAuthenticated) continue;
      users.push({ arn, type: entity.EntityInfo?.Type ?? '', lastUsed: entity.LastAuthenticated.toISOString() });
    }
    // Sorted most recent first: past the first entity that never used the service, none did.
    const exhausted = (page.EntityDetailsList ?? []).some((entity) => !entity.LastAuthenticated);
    marker = page.IsTruncated && !exhausted ? page.Marker : undefined;
  } while (marker);
  return users;
}
