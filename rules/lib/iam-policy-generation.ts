import { createHash } from 'node:crypto';
import type { AccessAnalyzerClient, PolicyGeneration } from '@aws-sdk/client-accessanalyzer';

/** The Access Analyzer SDK module, loaded only where policy generation is configured. */
const sdk = () => import('@aws-sdk/client-accessanalyzer');
import { NotReadyError } from '../../core/model/index.ts';
import { type Statement, serviceOf } from './iam-policy-document.ts';
import { day, type GeneratedActions, principalName, type Usage } from './iam-usage.ts';

/**
 * IAM Access Analyzer policy generation: the actions a role or user called, from a CloudTrail trail
 * ("IAM Access Analyzer policy generation", https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-policy-generation.html).
 * A generation is per principal (StartPolicyGeneration's principalArn is one role or user) and
 * takes minutes; a Lambda does not wait for it. Each delivery finds the jobs started before
 * (ListPolicyGenerations lists those of the last seven days), uses those that succeeded, and starts
 * at most one more; while one runs, the delivery fails and SQS delivers the event again.
 */

export interface PolicyGenerationConfig {
  trailArn: string;
  accessRoleArn: string;
  days: number;
}

/**
 * Access Analyzer runs one policy generation at a time per account, 50 a day in most Regions
 * (5 in some), over at most 90 days of CloudTrail ("IAM Access Analyzer quotas",
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-quotas.html). One principal per
 * delivery: with SQS's ten deliveries of an event, six minutes apart, five principals fit with room
 * for a generation someone else runs.
 */
export const MAX_PRINCIPALS = 5;
/** Services whose users IAM is asked for (GetServiceLastAccessedDetailsWithEntities), per policy. */
export const MAX_USER_LOOKUPS = 10;
/** A generation this recent is used rather than another started; an older one is stale evidence. */
export const FRESH_MS = 24 * 3_600_000;
const DAY_MS = 86_400_000;

export interface GenerationEvidence {
  /** Services every principal that used them was analysed for, with the actions found. */
  generated: Record<string, GeneratedActions>;
  /** Why the other services asked about are not narrowed by it. */
  notes: Record<string, string>;
}

/** `windowStart`: where the CloudTrail window analysed starts (ISO). */
export type PrincipalResult = { ok: true; actions: Record<string, string[]>; evidence: string; windowStart: string } | { ok: false; reason: string };

const ANALYSABLE = /^arn:[^:]+:iam::\d{12}:(role|user)\//;

/**
 * The actions of generated policies by service. A wildcard is never dropped (some action it stands for
 * was called): `sqs:Get*` and `sqs:*` are filed under their service, `*` and anything else that is not
 * an action under `*`, and `combine` narrows no service by them.
 */
export function actionsByService(policies: readonly string[]): Record<string, string[]> {
  const found: Record<string, Set<string>> = {};
  for (const text of policies) {
    const document = JSON.parse(text) as { Statement?: Statement | Statement[] };
    const statements = Array.isArray(document.Statement) ? document.Statement : document.Statement ? [document.Statement] : [];
    for (const statement of statements) {
      if (statement.Effect !== 'Allow') continue;
      const actions = typeof statement.Action === 'string' ? [statement.Action] : Array.isArray(statement.Action) ? statement.Action : [];
      for (const action of actions) {
        const wellFormed = typeof action === 'string' && /^[a-z0-9-]+:[A-Za-z0-9*?]+$/i.test(action);
        const service = wellFormed ? serviceOf(action) : '*';
        found[service] ??= new Set();
        found[service].add(wellFormed ? action : '*');
      }
    }
  }
  return Object.fromEntries(Object.entries(found).map(([service, actions]) => [service, [...actions].sort()]));
}

/** The principals to analyse, service by service, as long as they fit; the services that do not fit get a note. */
export function chooseTargets(usersByService: Record<string, string[]>, max = MAX_PRINCIPALS): { targets: string[]; notes: Record<string, string> } {
  const chosen = new Set<string>();
  const notes: Record<string, string> = {};
  for (const [service, users] of Object.entries(usersByService).sort(([a], [b]) => a.localeCompare(b))) {
    const more = users.filter((user) => !chosen.has(user));
    if (chosen.size + more.length > max) {
      notes[service] = `used by ${users.length} principal(s); policy generation analyses at most ${max} per policy`;
      continue;
    }
    for (const user of more) chosen.add(user);
  }
  return { targets: [...chosen].sort(), notes };
}

/** Per service: its actions where every principal that used it was analysed and called some of them, else why not. */
export function combine(usersByService: Record<string, string[]>, results: Record<string, PrincipalResult>, skipped: Record<string, string>): GenerationEvidence {
  const evidence: GenerationEvidence = { generated: {}, notes: { ...skipped } };
  for (const [service, users] of Object.entries(usersByService)) {
    if (evidence.notes[service]) continue;
    const outcomes = users.map((user) => ({ user, result: results[user] }));
    const failed = outcomes.find(({ result }) => !result?.ok);
    if (failed) {
      evidence.notes[service] = failed.result && !failed.result.ok ? failed.result.reason : `${principalName(failed.user)} was not analysed`;
      continue;
    }
    const found = outcomes.flatMap(({ result }) => (result?.ok ? [result] : []));
    // A wildcard in the generated policy: which of its actions were called cannot be told, so the service's grant stays.
    const wildcard = found.flatMap((result) => [...(result.actions['*'] ?? []), ...(result.actions[service] ?? [])]).find((action) => /[*?]/.test(action));
    if (wildcard) {
      evidence.notes[service] = `policy generation returned ${wildcard}, a wildcard: which of its actions were called cannot be told`;
      continue;
    }
    const silent = outcomes.filter(({ result }) => result?.ok && (result.actions[service] ?? []).length === 0).map(({ user }) => principalName(user));
    const sources = [...new Set(found.map((result) => result.evidence))].join('; ');
    if (silent.length > 0) {
      evidence.notes[service] = `${sources} found no ${service} action called by ${silent.join(', ')}`;
      continue;
    }
    const actions = [...new Set(found.flatMap((result) => result.actions[service] ?? []))].sort();
    const windowStart = found.map((result) => result.windowStart).sort().at(-1) ?? '';
    evidence.generated[service] = { actions, evidence: sources, windowStart };
  }
  return evidence;
}

async function listJobs(analyzer: AccessAnalyzerClient): Promise<PolicyGeneration[]> {
  const jobs: PolicyGeneration[] = [];
  let nextToken: string | undefined;
  do {
    const page = await analyzer.send(new (await sdk()).ListPolicyGenerationsCommand({ maxResults: 100, nextToken }));
    jobs.push(...(page.policyGenerations ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return jobs;
}

/**
 * A succeeded generation's actions; why not, when it is not complete; or null when it is not evidence
 * this configuration accepts (another trail, a shorter or older window).
 */
async function readJob(analyzer: AccessAnalyzerClient, jobId: string, principal: string, config: PolicyGenerationConfig, now: number): Promise<PrincipalResult | null> {
  const output = await analyzer.send(
    new (await sdk()).GetGeneratedPolicyCommand({ jobId, includeResourcePlaceholders: false, includeServiceLevelTemplate: false }),
  );
  if (output.jobDetails?.status !== 'SUCCEEDED') return null;
  const trail = output.generatedPolicyResult?.properties?.cloudTrailProperties;
  const start = trail?.startTime?.getTime() ?? 0;
  const end = trail?.endTime?.getTime() ?? 0;
  const sameTrail = (trail?.trailProperties ?? []).some((properties) => properties.cloudTrailArn === config.trailArn);
  if (!sameTrail || end - start < (config.days - 1) * DAY_MS || end < now - FRESH_MS) return null;
  // isComplete: "true if the generated policy contains all possible actions for a service that IAM Access Analyzer
  // identified from the CloudTrail trail" (one flag for the whole policy, not per service,
  // https://docs.aws.amazon.com/access-analyzer/latest/APIReference/API_GeneratedPolicyProperties.html).
  if (output.generatedPolicyResult?.properties?.isComplete !== true) {
    return { ok: false, reason: `policy generation for ${principalName(principal)} (job ${jobId}) is not complete (isComplete is not true): actions may be missing` };
  }
  const policies = (output.generatedPolicyResult?.generatedPolicies ?? []).flatMap((generated) => (generated.policy ? [generated.policy] : []));
  const trailName = config.trailArn.slice(config.trailArn.indexOf(':trail/') + ':trail/'.length);
  const evidence = `Access Analyzer policy generation over trail ${trailName}, ${day(new Date(start).toISOString())} to ${day(new Date(end).toISOString())}`;
  return { ok: true, actions: actionsByService(policies), evidence, windowStart: new Date(start).toISOString() };
}

/** The same principal, trail and window on the same day: a retried StartPolicyGeneration returns the job it started. */
function clientToken(principal: string, config: PolicyGenerationConfig, now: number): string {
  const key = `${principal}|${config.trailArn}|${config.days}|${new Date(now).toISOString().slice(0, 10)}`;
  return createHash('sha256').update(key).digest('hex').slice(0, 32);
}

async function start(analyzer: AccessAnalyzerClient, principal: string, config: PolicyGenerationConfig, now: number): Promise<string> {
  const { jobId } = await analyzer.send(
    new (await sdk()).StartPolicyGenerationCommand({
      policyGenerationDetails: { principalArn: principal },
      cloudTrailDetails: {
        trails: [{ cloudTrailArn: config.trailArn, allRegions: true }],
        accessRole: config.accessRoleArn,
        // A minute inside the limit, so that the range never exceeds 90 days by the time it arrives.
        startTime: new Date(now - config.days * DAY_MS + 60_000),
      },
      clientToken: clientToken(principal, config, now),
    }),
  );
  return jobId ?? 'unknown';
}

/** Start refusals another delivery may not meet: a generation running (one at a time), a quota. */
const WAIT_AND_RETRY = /Conflict|ServiceQuotaExceeded|Throttl|TooManyRequests|InternalServer/;

export interface GenerationRequest {
  analyzer: AccessAnalyzerClient;
  config: PolicyGenerationConfig;
  usage: Usage;
  /** Used services whose actions IAM last-accessed data cannot tell. */
  services: readonly string[];
  /** Who used a service through the policy (GetServiceLastAccessedDetailsWithEntities). */
  whoUsed: (service: string) => Promise<string[]>;
  now: number;
}

/**
 * What policy generation says each service was used for. Throws, for SQS to deliver the event
 * again, while a generation it needs is running or has just been started.
 */
export async function policyGenerationEvidence(request: GenerationRequest): Promise<GenerationEvidence> {
  const { analyzer, config, usage, now } = request;
  const usersByService: Record<string, string[]> = {};
  const skipped: Record<string, string> = {};
  let lookups = 0;
  const windowStart = now - config.days * DAY_MS;
  for (const service of request.services) {
    const used = usage.services[service];
    if (used && Date.parse(used.lastUsed) < windowStart) {
      // A generation would not see that use: none is started for it.
      skipped[service] = `last used on ${day(used.lastUsed)}, before the ${config.days} days policy generation analyses`;
      continue;
    }
    let users: string[];
    if (used?.entities === 1 && used.lastEntity) users = [used.lastEntity];
    else if (lookups < MAX_USER_LOOKUPS) {
      lookups += 1;
      users = await request.whoUsed(service);
    } else {
      skipped[service] = `IAM was asked who used at most ${MAX_USER_LOOKUPS} services of this policy`;
      continue;
    }
    const other = users.find((user) => !ANALYSABLE.test(user));
    if (other) skipped[service] = `used by ${principalName(other)}, which policy generation cannot analyse (a role or user only)`;
    else if (users.length === 0) skipped[service] = 'IAM named no user or role that used it';
    else usersByService[service] = users;
  }
  const { targets, notes } = chooseTargets(usersByService);
  Object.assign(skipped, notes);
  if (targets.length === 0) return combine(usersByService, {}, skipped);

  const jobs = await listJobs(analyzer);
  const results: Record<string, PrincipalResult> = {};
  const toStart: string[] = [];
  const running: string[] = [];
  for (const principal of targets) {
    const newest = jobs
      .filter((job) => job.principalArn === principal && (job.startedOn?.getTime() ?? 0) >= now - FRESH_MS)
      .sort((a, b) => (b.startedOn?.getTime() ?? 0) - (a.startedOn?.getTime() ?? 0))[0];
    if (!newest) toStart.push(principal);
    else if (newest.status === 'IN_PROGRESS') running.push(`${principalName(principal)} (job ${newest.jobId})`);
    else if (newest.status === 'SUCCEEDED') {
      const result = await readJob(analyzer, newest.jobId ?? '', principal, config, now);
      if (result) results[principal] = result;
      else toStart.push(principal);
    } else {
      // Not started again within a day: a failing generation would spend the daily quota.
      results[principal] = { ok: false, reason: `policy generation for ${principalName(principal)} ended ${newest.status} (job ${newest.jobId})` };
    }
  }
  if (running.length > 0) throw new NotReadyError(`policy generation still running for ${running.join(', ')}; the event will be retried`);
  const [next] = toStart;
  if (next) {
    const busy = jobs.find((job) => job.status === 'IN_PROGRESS');
    if (busy) {
      throw new NotReadyError(
        `policy generation still running: job ${busy.jobId} (${principalName(busy.principalArn ?? '')}) runs, and Access Analyzer runs one at a time, so ${principalName(next)} waits; the event will be retried`,
      );
    }
    let jobId: string;
    try {
      jobId = await start(analyzer, next, config, now);
    } catch (error) {
      const name = (error as Error)?.name ?? '';
      if (WAIT_AND_RETRY.test(name)) throw new Error(`policy generation could not start yet (${name}: ${(error as Error).message}); the event will be retried`, { cause: error });
      const reason = `policy generation could not start (${name}: ${(error as Error)?.message ?? error})`;
      for (const principal of toStart) results[principal] = { ok: false, reason };
      return combine(usersByService, results, skipped);
    }
    const left = toStart.length > 1 ? `, ${toStart.length - 1} more after it` : '';
    throw new NotReadyError(`policy generation still running: started job ${jobId} for ${principalName(next)}${left}; the event will be retried`);
  }
  return combine(usersByService, results, skipped);
}
