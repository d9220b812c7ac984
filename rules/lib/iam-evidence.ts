import type { AccessAnalyzerClient } from '@aws-sdk/client-accessanalyzer';
import type { IAMClient } from '@aws-sdk/client-iam';

/** The IAM SDK module, loaded when a rule first reads: not at a function's cold start. */
const sdk = () => import('@aws-sdk/client-iam');
import type { RuleTarget } from '../../core/model/index.ts';
import { readPolicyUsage, readServiceUsers } from './iam-access-advisor.ts';
import { expandActionPattern, isKnownAction } from './iam-catalog.ts';
import { findBroadGrants, isFullWildcard, type Statement, serviceOf } from './iam-policy-document.ts';
import { type PolicyGenerationConfig, policyGenerationEvidence } from './iam-policy-generation.ts';
import { type Attachments, changedTooRecently, servicesNeedingEvidence, type Usage } from './iam-usage.ts';

/** What the users, groups and roles a policy is attached to used, and who they are. */
export interface Evidence {
  usage: Usage;
  attachedTo: Attachments;
}

export interface EvidenceClients {
  iam: IAMClient;
  iamAccessAdvisor: IAMClient;
  accessAnalyzer: AccessAnalyzerClient;
}

/** Tracked actions the IAM action catalog does not know are set apart: their service keeps its wildcard. */
async function checkedAgainstCatalog(usage: Usage): Promise<Usage> {
  for (const used of Object.values(usage.services)) {
    for (const action of Object.keys(used.actions)) {
      if (await isKnownAction(action)) continue;
      delete used.actions[action];
      used.unknownActions = [...(used.unknownActions ?? []), action];
    }
  }
  return usage;
}

/** Read once per run: verification after a change reads the policy again, but what its principals used stays. */
const evidenceRead = new WeakMap<RuleTarget, Promise<Evidence>>();

export function evidenceOnce(target: RuleTarget, read: () => Promise<Evidence>): Promise<Evidence> {
  let pending = evidenceRead.get(target);
  if (!pending) {
    pending = read();
    evidenceRead.set(target, pending);
    pending.catch(() => evidenceRead.delete(target));
  }
  return pending;
}

/**
 * Last-accessed data, who the policy is attached to and, where configured, what policy generation
 * found for the used services last-accessed data cannot narrow. A policy changed (`changedAt`) too
 * shortly before IAM's report is not narrowed at all (plan): no generation is spent on it.
 */
export async function readEvidence(
  clients: EvidenceClients,
  policy: { arn: string; changedAt: string },
  statements: Statement[],
  generation: PolicyGenerationConfig | undefined,
): Promise<Evidence> {
  const [report, attachedTo] = await Promise.all([readPolicyUsage(clients.iamAccessAdvisor, policy.arn), readAttachments(clients.iam, policy.arn)]);
  const usage = await checkedAgainstCatalog(report.usage);
  if (!generation || changedTooRecently(policy.changedAt, usage.reportedAt)) return { usage, attachedTo };
  const grants = findBroadGrants(statements);
  const everything = grants.some((grant) => grant.notAction || grant.wildcards.includes('*'));
  const services = servicesNeedingEvidence(usage, (service) => everything || grants.some((grant) => grant.wildcards.some((wildcard) => serviceOf(wildcard) === service)));
  if (services.length === 0) return { usage, attachedTo };
  const found = await policyGenerationEvidence({
    analyzer: clients.accessAnalyzer,
    config: generation,
    usage,
    services,
    whoUsed: async (service) => (await readServiceUsers(clients.iamAccessAdvisor, report.jobId, service)).map((user) => user.arn),
    now: Date.now(),
  });
  return { usage: { ...usage, generated: found.generated, generationNotes: found.notes }, attachedTo };
}

/**
 * The users, roles and groups the policy is attached to as a permissions policy: names only, paged by Marker
 * (https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListEntitiesForPolicy.html).
 */
export async function readAttachments(iam: IAMClient, arn: string): Promise<Attachments> {
  const attached: Attachments = { roles: [], users: [], groups: [] };
  let marker: string | undefined;
  do {
    const page = await iam.send(new (await sdk()).ListEntitiesForPolicyCommand({ PolicyArn: arn, PolicyUsageFilter: 'PermissionsPolicy', Marker: marker, MaxItems: 1000 }));
    attached.roles.push(...(page.PolicyRoles ?? []).map((role) => role.RoleName ?? ''));
    attached.users.push(...(page.PolicyUsers ?? []).map((user) => user.UserName ?? ''));
    attached.groups.push(...(page.PolicyGroups ?? []).map((group) => group.GroupName ?? ''));
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return attached;
}

/** Narrow wildcards of Allow statements (`ec2:Describe*`) and the explicit actions the IAM action catalog lists for them. */
export async function narrowWildcardExpansions(statements: Statement[]): Promise<Record<string, string[]>> {
  const expansions: Record<string, string[]> = {};
  for (const statement of statements) {
    if (statement.Effect !== 'Allow') continue;
    const actions = typeof statement.Action === 'string' ? [statement.Action] : Array.isArray(statement.Action) ? statement.Action : [];
    for (const action of actions) {
      if (typeof action !== 'string' || isFullWildcard(action) || !/[*?]/.test(action)) continue;
      const expanded = await expandActionPattern(action);
      if (expanded.length > 0) expansions[action.toLowerCase()] = expanded;
    }
  }
  return expansions;
}
