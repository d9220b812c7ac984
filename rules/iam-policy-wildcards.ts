import type { AccessAnalyzerClient } from '@aws-sdk/client-accessanalyzer';
import type { IAMClient } from '@aws-sdk/client-iam';

/** The IAM SDK module, loaded when a rule first reads: not at a function's cold start. */
const sdk = () => import('@aws-sdk/client-iam');
import { z } from 'zod';
import { type Plan, type ReadContext, ResourceGoneError, type Rule, type RuleTarget, type Step } from '../core/model/index.ts';
import { ACCESS_ANALYZER, IAM } from './lib/clients.ts';
import { readPolicyUsage, readServiceUsers } from './lib/iam-access-advisor.ts';
import { expandActionPattern, isKnownAction } from './lib/iam-catalog.ts';
import {
  decodePolicyText,
  describeChanges,
  describeKept,
  findBroadGrants,
  isFullWildcard,
  parsePolicy,
  rewriteStatements,
  serializePolicy,
  type Statement,
  serviceOf,
} from './lib/iam-policy-document.ts';
import { type PolicyGenerationConfig, policyGenerationEvidence } from './lib/iam-policy-generation.ts';
import { type Attachments, risksOf, servicesNeedingEvidence, type Usage } from './lib/iam-usage.ts';
import { IAM_POLICY } from './lib/resources.ts';

const params = z.strictObject({
  /** Also replace narrow wildcards such as `ec2:Describe*` with the explicit actions they match. */
  expandNarrowWildcards: z.boolean().default(false),
  /**
   * IAM Access Analyzer policy generation over a CloudTrail trail: the actions each role or user
   * really called, also for services IAM last-accessed data tracks no actions of. `accessRoleArn` is
   * the service role Access Analyzer reads the trail with (trusting access-analyzer.amazonaws.com);
   * `days` of CloudTrail, at most 90 (Access Analyzer's limit).
   */
  policyGeneration: z
    .strictObject({
      trailArn: z.string().regex(/^arn:aws[a-z-]*:cloudtrail:[a-z0-9-]+:\d{12}:trail\/[A-Za-z0-9._-]{3,128}$/, 'expected a CloudTrail trail ARN (arn:aws:cloudtrail:<region>:<account>:trail/<name>)'),
      accessRoleArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, 'expected an IAM role ARN (arn:aws:iam::<account>:role/<name>)'),
      days: z.number().int().min(1).max(90).default(90),
    })
    .optional(),
});
export type IamPolicyWildcardsParams = z.infer<typeof params>;

export interface PolicyVersionInfo {
  versionId: string;
  isDefault: boolean;
  createDate: string;
}

export interface IamPolicyWildcardsState {
  /** `boundaryCount`: users and roles whose permissions boundary it is (PermissionsBoundaryUsageCount). */
  policy: { arn: string; id: string; name: string; defaultVersionId: string; attachmentCount: number; boundaryCount: number };
  /** The default version's document, exactly as IAM returned it (decoded). */
  document: string;
  /** Read only when a change is needed. */
  versions: PolicyVersionInfo[];
  /** The version that has to go to make room (IAM keeps five), with its document for the record. */
  versionToDelete: { versionId: string; document: string } | null;
  /** Last-accessed data (and policy generation's); null when the policy is attached to nothing or nothing needs it. */
  usage: Usage | null;
  /** The users, roles and groups it is attached to, read with the usage. */
  attachedTo: Attachments | null;
  /** Narrow wildcards and the explicit actions they stand for, when that option is on. */
  expansions: Record<string, string[]>;
}

const MAX_VERSIONS = 5;

const resolved = new WeakMap<RuleTarget, Promise<{ arn: string }>>();

/** Config names a policy by its id (ANPA…); the API wants its ARN. Only this account's own policies qualify. */
function resolvePolicyArn(iam: IAMClient, target: RuleTarget): Promise<{ arn: string }> {
  let pending = resolved.get(target);
  if (!pending) {
    pending = findPolicyArn(iam, target);
    resolved.set(target, pending);
  }
  return pending;
}

async function findPolicyArn(iam: IAMClient, target: RuleTarget): Promise<{ arn: string }> {
  if (target.resourceId.startsWith('arn:')) return { arn: target.resourceId };
  let marker: string | undefined;
  do {
    // Scope Local: customer-managed policies only, so an AWS-managed policy can never be chosen.
    const page = await iam.send(new (await sdk()).ListPoliciesCommand({ Scope: 'Local', Marker: marker, MaxItems: 1000 }));
    const match = page.Policies?.find((policy) => policy.PolicyId === target.resourceId);
    if (match?.Arn) {
      if (match.Arn.split(':')[4] !== target.account) throw new Error(`policy ${match.Arn} is not in account ${target.account}`);
      return { arn: match.Arn };
    }
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  throw new ResourceGoneError(
    `no customer-managed policy with id ${target.resourceId} in account ${target.account} (AWS-managed policies are never changed)`,
  );
}

function describe(state: IamPolicyWildcardsState): string {
  const grants = findBroadGrants(parsePolicy(state.document).statements);
  const where = `policy ${state.policy.name} (default version ${state.policy.defaultVersionId})`;
  if (grants.length === 0) return `${where}: no Allow statement grants * or service:*`;
  const list = grants.map((grant) => (grant.notAction ? 'NotAction' : grant.wildcards.join(', '))).join('; ');
  return `${where}: ${grants.length} Allow statement(s) grant ${list}`;
}

type Clients = { iam: IAMClient; iamAccessAdvisor: IAMClient; accessAnalyzer: AccessAnalyzerClient };

const rule: Rule<IamPolicyWildcardsState, IamPolicyWildcardsParams, Clients> = {
  id: 'iam-policy-wildcards',
  title: 'IAM policy wildcard grants',
  resource: IAM_POLICY,
  // Separate clients for last-accessed reports (access advisor) and policy generation, so that tests can fake them alone.
  clients: { iam: IAM, iamAccessAdvisor: IAM, accessAnalyzer: ACCESS_ANALYZER },
  answers: {
    config: [
      { identifier: 'IAM_POLICY_NO_STATEMENTS_WITH_ADMIN_ACCESS', resourceTypes: ['AWS::IAM::Policy'], defaultName: 'iam-policy-no-statements-with-admin-access' },
      { identifier: 'IAM_POLICY_NO_STATEMENTS_WITH_FULL_ACCESS', resourceTypes: ['AWS::IAM::Policy'], defaultName: 'iam-policy-no-statements-with-full-access' },
    ],
    // IAM.1 admin "*" and IAM.21 service wildcards in customer managed policies (Security Hub controls reference).
    securityHub: ['IAM.1', 'IAM.21'],
  },
  // Taking permissions away can break a workload: a person decides.
  defaultMode: 'approve',
  risk: 'high',
  // IAM's control-plane rate limits are low and account-wide: a burst of findings waits its turn.
  concurrency: 2,
  params,
  permissions: {
    read: [
      'iam:ListPolicies',
      'iam:GetPolicy',
      'iam:GetPolicyVersion',
      'iam:ListPolicyVersions',
      'iam:ListPolicyTags',
      'iam:GenerateServiceLastAccessedDetails',
      'iam:GetServiceLastAccessedDetails',
      'iam:GetServiceLastAccessedDetailsWithEntities',
      'iam:ListEntitiesForPolicy',
      'access-analyzer:ListPolicyGenerations',
      'access-analyzer:GetGeneratedPolicy',
    ],
    wildcardOnly: [
      'iam:ListPolicies',
      'iam:GetServiceLastAccessedDetails',
      'iam:GetServiceLastAccessedDetailsWithEntities',
      'access-analyzer:ListPolicyGenerations',
      'access-analyzer:GetGeneratedPolicy',
    ],
    // Only where policyGeneration is configured: starting a generation, and passing it the role that reads the trail
    // ("Permissions required to generate a policy", https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-policy-generation.html).
    alsoOn: [
      { actions: ['access-analyzer:StartPolicyGeneration'], resource: '*', param: 'policyGeneration' },
      { actions: ['iam:PassRole'], resource: 'role-param', param: 'policyGeneration.accessRoleArn', passedToService: 'access-analyzer.amazonaws.com' },
    ],
  },
  operations: {
    'IAM.CreatePolicyVersion': {
      client: 'iam',
      iamAction: 'iam:CreatePolicyVersion',
      command: async () => (await import('@aws-sdk/client-iam')).CreatePolicyVersionCommand,
    },
    'IAM.DeletePolicyVersion': {
      client: 'iam',
      iamAction: 'iam:DeletePolicyVersion',
      command: async () => (await import('@aws-sdk/client-iam')).DeletePolicyVersionCommand,
    },
    // The undo of a new default version: the previous one becomes the default again.
    'IAM.SetDefaultPolicyVersion': {
      client: 'iam',
      iamAction: 'iam:SetDefaultPolicyVersion',
      command: async () => (await import('@aws-sdk/client-iam')).SetDefaultPolicyVersionCommand,
      undoOnly: true,
    },
  },

  async readTags({ clients, target }: ReadContext<IamPolicyWildcardsParams, Clients>) {
    const { arn } = await resolvePolicyArn(clients.iam, target);
    const output = await clients.iam.send(new (await sdk()).ListPolicyTagsCommand({ PolicyArn: arn }));
    return Object.fromEntries((output.Tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
  },

  async readState({ clients, target, params: options }) {
    const { arn } = await resolvePolicyArn(clients.iam, target);
    const { Policy: policy } = await clients.iam.send(new (await sdk()).GetPolicyCommand({ PolicyArn: arn }));
    if (!policy?.DefaultVersionId || !policy.PolicyId || !policy.PolicyName) throw new Error(`IAM returned no default version for ${arn}`);
    const { PolicyVersion: current } = await clients.iam.send(new (await sdk()).GetPolicyVersionCommand({ PolicyArn: arn, VersionId: policy.DefaultVersionId }));
    const document = decodePolicyText(current?.Document);
    const state: IamPolicyWildcardsState = {
      policy: {
        arn,
        id: policy.PolicyId,
        name: policy.PolicyName,
        defaultVersionId: policy.DefaultVersionId,
        attachmentCount: policy.AttachmentCount ?? 0,
        boundaryCount: policy.PermissionsBoundaryUsageCount ?? 0,
      },
      document,
      versions: [],
      versionToDelete: null,
      usage: null,
      attachedTo: null,
      expansions: {},
    };
    const statements = parsePolicy(document).statements;
    const broad = findBroadGrants(statements).length > 0;
    // A permissions boundary is left as it is (plan): nothing more to read.
    if (broad && state.policy.boundaryCount > 0) return state;
    if (options.expandNarrowWildcards) state.expansions = await narrowWildcardExpansions(statements);
    if (!broad && Object.keys(state.expansions).length === 0) return state;

    const { Versions: versions } = await clients.iam.send(new (await sdk()).ListPolicyVersionsCommand({ PolicyArn: arn }));
    state.versions = (versions ?? [])
      .map((version) => ({ versionId: version.VersionId ?? '', isDefault: version.IsDefaultVersion === true, createDate: version.CreateDate?.toISOString() ?? '' }))
      .sort((a, b) => a.createDate.localeCompare(b.createDate));
    if (state.versions.length >= MAX_VERSIONS) {
      const oldest = state.versions.find((version) => !version.isDefault);
      if (oldest) {
        const { PolicyVersion: old } = await clients.iam.send(new (await sdk()).GetPolicyVersionCommand({ PolicyArn: arn, VersionId: oldest.versionId }));
        state.versionToDelete = { versionId: oldest.versionId, document: decodePolicyText(old?.Document) };
      }
    }
    if (broad && state.policy.attachmentCount > 0) {
      const evidence = await evidenceOnce(target, () => readEvidence(clients, arn, statements, options.policyGeneration));
      state.usage = evidence.usage;
      state.attachedTo = evidence.attachedTo;
    }
    return state;
  },

  plan(state, _params, finding): Plan {
    const parsed = parsePolicy(state.document);
    const { name } = state.policy;
    // Last-accessed data counts permissions policies only: "The excluded policy types include ... IAM permissions
    // boundaries" (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_last-accessed.html).
    if (state.policy.boundaryCount > 0 && findBroadGrants(parsed.statements).length > 0) {
      return {
        status: 'unfixable',
        summary: `policy ${name} is the permissions boundary of ${state.policy.boundaryCount} user(s) or role(s), which IAM last-accessed data leaves out: narrowing it could cut access they use, so it was left as it is`,
      };
    }
    const rewrite = rewriteStatements(parsed.statements, state.usage, state.expansions);
    const stillBroad = rewrite.kept.length > 0 ? `still broad: ${describeKept(rewrite.kept)}` : '';
    if (rewrite.changes.length === 0) {
      // Nothing can be narrowed safely: recorded as skipped, never a silent cut. `settled`: the state a partial
      // narrowing leaves is the same, and counts as done after that change.
      if (!stillBroad) return { status: 'compliant', summary: describe(state) };
      return { status: 'unfixable', settled: true, summary: `${describe(state)}; nothing can be narrowed safely, ${stillBroad}` };
    }
    if (rewrite.statements.length === 0) {
      return {
        status: 'unfixable',
        summary: `removing the wildcard grants would leave policy ${name} with no statement, so it was left as it is: detach or delete it by hand`,
      };
    }
    const newDocument = serializePolicy(parsed, rewrite.statements);
    const arn = state.policy.arn;
    const steps: Step[] = [];
    if (state.versionToDelete) {
      steps.push({
        operation: 'IAM.DeletePolicyVersion',
        input: { PolicyArn: arn, VersionId: state.versionToDelete.versionId },
        description: `delete the oldest non-default version ${state.versionToDelete.versionId} to make room (IAM keeps ${MAX_VERSIONS}); its document is kept in this record`,
        before: { versionId: state.versionToDelete.versionId, document: state.versionToDelete.document },
        after: null,
        // IAM holds five versions: a rollback sets the previous default back and leaves this one in the record.
        undo: null,
      });
    }
    const lines = [...describeChanges(rewrite.changes), ...(stillBroad ? [stillBroad] : [])];
    steps.push({
      operation: 'IAM.CreatePolicyVersion',
      input: { PolicyArn: arn, PolicyDocument: newDocument, SetAsDefault: true },
      description: `new default version of ${name} (${finding.resourceId}), ${state.policy.defaultVersionId} kept for rollback:\n${lines.join('\n')}`,
      before: { defaultVersionId: state.policy.defaultVersionId, document: state.document },
      after: { document: newDocument },
      undo: { operation: 'IAM.SetDefaultPolicyVersion', input: { PolicyArn: arn, VersionId: state.policy.defaultVersionId } },
    });
    const risks = state.usage
      ? risksOf({ ...rewrite, trackingPeriodDays: state.usage.trackingPeriodDays, attached: state.attachedTo })
      : [];
    const usedLongAgo = Object.keys(rewrite.removedUsed).sort();
    return {
      status: 'change',
      summary: lines.join('; '),
      steps,
      ...(risks.length > 0 ? { risks } : {}),
      // Even in auto mode a person decides when access goes that IAM saw used, however long ago.
      ...(usedLongAgo.length > 0 ? { approvalReason: `access to ${usedLongAgo.join(', ')} is removed although IAM saw it used before its tracking period` } : {}),
    };
  },

  describe,
  fingerprint: (state) => ({ defaultVersionId: state.policy.defaultVersionId, document: state.document }),
  canonicalId: (state) => state.policy.arn,
};

export default rule;

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

interface Evidence {
  usage: Usage;
  attachedTo: Attachments;
}

/** Read once per run: verification after a change reads the policy again, but what its principals used stays. */
const evidenceRead = new WeakMap<RuleTarget, Promise<Evidence>>();

function evidenceOnce(target: RuleTarget, read: () => Promise<Evidence>): Promise<Evidence> {
  let pending = evidenceRead.get(target);
  if (!pending) {
    pending = read();
    evidenceRead.set(target, pending);
    pending.catch(() => evidenceRead.delete(target));
  }
  return pending;
}

/** Last-accessed data, who the policy is attached to and, where configured, what policy generation found. */
async function readEvidence(clients: Clients, arn: string, statements: Statement[], generation: PolicyGenerationConfig | undefined): Promise<Evidence> {
  const [report, attachedTo] = await Promise.all([readPolicyUsage(clients.iamAccessAdvisor, arn), readAttachments(clients.iam, arn)]);
  const usage = await checkedAgainstCatalog(report.usage);
  if (!generation) return { usage, attachedTo };
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
async function readAttachments(iam: IAMClient, arn: string): Promise<Attachments> {
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

async function narrowWildcardExpansions(statements: ReturnType<typeof parsePolicy>['statements']): Promise<Record<string, string[]>> {
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
