import type { AccessAnalyzerClient } from '@aws-sdk/client-accessanalyzer';
import type { IAMClient } from '@aws-sdk/client-iam';

/** The IAM SDK module, loaded when a rule first reads: not at a function's cold start. */
const sdk = () => import('@aws-sdk/client-iam');
import { z } from 'zod';
import { type Plan, type ReadContext, ResourceGoneError, type Rule, type RuleTarget, type Step } from '../core/model/index.ts';
import { ACCESS_ANALYZER, IAM } from './lib/clients.ts';
import { evidenceOnce, narrowWildcardExpansions, readAttachments, readEvidence } from './lib/iam-evidence.ts';
import {
  decodePolicyText,
  describeChanges,
  describeKept,
  findBroadGrants,
  isFullWildcard,
  parsePolicy,
  rewriteStatements,
  serializePolicy,
} from './lib/iam-policy-document.ts';
import { risksOf } from './lib/iam-risks.ts';
import { type Attachments, changedTooRecently, type Usage } from './lib/iam-usage.ts';
import { IAM_POLICY } from './lib/resources.ts';

const params = z.strictObject({
  /** Also replace narrow wildcards such as `ec2:Describe*` with the explicit actions they match. */
  expandNarrowWildcards: z.boolean().default(false),
  /**
   * IAM Access Analyzer policy generation over a CloudTrail trail: the actions each role or user
   * really called, also for services IAM last-accessed data tracks no actions of. `accessRoleArn` is
   * the service role Access Analyzer reads the trail with (trusting access-analyzer.amazonaws.com);
   * `days` of CloudTrail: at most 90 (Access Analyzer's limit), at least 30, so that a monthly job's
   * calls are in the window; uses before it are not (the approval says so).
   */
  policyGeneration: z
    .strictObject({
      trailArn: z.string().regex(/^arn:aws[a-z-]*:cloudtrail:[a-z0-9-]+:\d{12}:trail\/[A-Za-z0-9._-]{3,128}$/, 'expected a CloudTrail trail ARN (arn:aws:cloudtrail:<region>:<account>:trail/<name>)'),
      accessRoleArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, 'expected an IAM role ARN (arn:aws:iam::<account>:role/<name>)'),
      days: z.number().int().min(30).max(90).default(90),
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
  policy: {
    arn: string;
    id: string;
    name: string;
    defaultVersionId: string;
    attachmentCount: number;
    boundaryCount: number;
    /** When the policy last changed (ISO): the later of its UpdateDate and its default version's CreateDate. */
    changedAt: string;
  };
  /** The default version's document, exactly as IAM returned it (decoded). */
  document: string;
  /** Read only when a change is needed. */
  versions: PolicyVersionInfo[];
  /** The version that has to go to make room (IAM keeps five), with its document for the record. */
  versionToDelete: { versionId: string; document: string } | null;
  /** Last-accessed data (and policy generation's); null when the policy is attached to nothing or nothing needs it. */
  usage: Usage | null;
  /** The users, roles and groups it is attached to, read with the usage (or alone, for a change that expands narrow wildcards). */
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
    const changed = [policy.UpdateDate, current?.CreateDate].flatMap((date) => (date ? [date.toISOString()] : [])).sort();
    const state: IamPolicyWildcardsState = {
      policy: {
        arn,
        id: policy.PolicyId,
        name: policy.PolicyName,
        defaultVersionId: policy.DefaultVersionId,
        attachmentCount: policy.AttachmentCount ?? 0,
        boundaryCount: policy.PermissionsBoundaryUsageCount ?? 0,
        changedAt: changed.at(-1) ?? '',
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
    // A permissions boundary, and an unattached policy's wildcards, are left as they are (plan): nothing more to read.
    if (state.policy.boundaryCount > 0 || (broad && state.policy.attachmentCount === 0)) return state;
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
    if (broad) {
      const evidence = await evidenceOnce(target, () => readEvidence(clients, state.policy, statements, options.policyGeneration));
      state.usage = evidence.usage;
      state.attachedTo = evidence.attachedTo;
    } else if (state.policy.attachmentCount > 0) {
      state.attachedTo = await readAttachments(clients.iam, arn);
    }
    return state;
  },

  plan(state, _params, finding): Plan {
    const parsed = parsePolicy(state.document);
    const { name } = state.policy;
    const broad = findBroadGrants(parsed.statements).length > 0;
    const leftAsItIs = refusal(state, broad);
    if (leftAsItIs) return leftAsItIs;
    const rewrite = rewriteStatements(parsed.statements, state.usage, state.expansions);
    const stillBroad = rewrite.kept.length > 0 ? `still broad: ${describeKept(rewrite.kept)}` : '';
    if (rewrite.changes.length === 0) {
      // Nothing can be narrowed safely: recorded as skipped, never a silent cut. `settled`: the state a partial
      // narrowing leaves is the same, and counts as done after that change.
      if (!stillBroad) return { status: 'compliant', summary: describe(state) };
      return { status: 'unfixable', settled: true, summary: `${describe(state)}; nothing can be narrowed safely, ${stillBroad}` };
    }
    // What narrowing a wildcard rests on is the absence of recorded use: too soon after a change, absence shows nothing.
    const narrowsByUsage = rewrite.changes.some((change) => change.removed.some((removed) => isFullWildcard(removed) || removed.startsWith('NotAction ')));
    const recent = tooRecent(state.policy.changedAt, state.usage);
    if (narrowsByUsage && recent) return { status: 'unfixable', summary: recent };
    if (rewrite.statements.length === 0) {
      return {
        status: 'unfixable',
        summary: `removing the wildcard grants would leave policy ${name} with no statement, so it was left as it is: detach or delete it by hand`,
      };
    }
    const newDocument = serializePolicy(parsed, rewrite.statements);
    const size = policySize(newDocument);
    if (size > MAX_POLICY_SIZE) {
      return {
        status: 'unfixable',
        summary: `the new version of policy ${name} would be ${size} characters without whitespace, over IAM's limit of ${MAX_POLICY_SIZE} for a managed policy, so it was left as it is`,
      };
    }
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
    const risks = risksOf({ rewrite, usage: state.usage, attached: state.attachedTo });
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

/**
 * Policies left as they are, whatever they grant. A permissions boundary: last-accessed data counts
 * permissions policies only ("The excluded policy types include ... IAM permissions boundaries",
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_last-accessed.html). A policy attached
 * to nothing: no usage to read, and a managed policy can be a session policy (AssumeRole's PolicyArns,
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html), which last-accessed data
 * also leaves out ("session policies", same page).
 */
function refusal(state: IamPolicyWildcardsState, broad: boolean): Plan | null {
  const { name, boundaryCount, attachmentCount } = state.policy;
  if (boundaryCount > 0) {
    if (!broad) return { status: 'compliant', summary: describe(state) };
    return {
      status: 'unfixable',
      summary: `policy ${name} is the permissions boundary of ${boundaryCount} user(s) or role(s), which IAM last-accessed data leaves out: narrowing it could cut access they use, so it was left as it is`,
    };
  }
  if (broad && attachmentCount === 0) {
    return {
      status: 'unfixable',
      summary: `policy ${name} is attached to no user, group or role: no evidence of what it is used for (it may be used as a session policy); left as it is`,
    };
  }
  if (broad && !state.usage) return { status: 'unfixable', summary: `no usage of policy ${name} was read, so its wildcards were left as they are` };
  return null;
}

/** Why IAM's report cannot yet show what the policy's current version is used for; null when it can. */
function tooRecent(changedAt: string, usage: Usage | null): string | null {
  if (!usage || !changedTooRecently(changedAt, usage.reportedAt)) return null;
  return `too recent to judge: the policy changed at ${changedAt}, less than four hours before IAM's report of ${usage.reportedAt}, and recent activity usually takes up to four hours to appear in it; the next evaluation acts`;
}

/**
 * IAM's limit for a managed policy document: 6,144 characters, white space not counted ("IAM and AWS STS
 * quotas", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html). Counted on the
 * compact JSON, with any white space inside strings: never less than IAM counts.
 */
export const MAX_POLICY_SIZE = 6144;

export function policySize(document: string): number {
  return JSON.stringify(JSON.parse(document)).length;
}
