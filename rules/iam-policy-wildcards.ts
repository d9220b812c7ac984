import type { IAMClient } from '@aws-sdk/client-iam';

/** The IAM SDK module, loaded when a rule first reads: not at a function's cold start. */
const sdk = () => import('@aws-sdk/client-iam');
import { z } from 'zod';
import { type Plan, type ReadContext, ResourceGoneError, type Rule, type RuleTarget, type Step } from '../core/model/index.ts';
import { IAM } from './lib/clients.ts';
import { readPolicyUsage } from './lib/iam-access-advisor.ts';
import { expandActionPattern, isKnownAction } from './lib/iam-catalog.ts';
import {
  decodePolicyText,
  describeChanges,
  findBroadGrants,
  isFullWildcard,
  parsePolicy,
  rewriteStatements,
  serializePolicy,
  type Usage,
} from './lib/iam-policy-document.ts';
import { IAM_POLICY } from './lib/resources.ts';

const params = z.strictObject({
  /** Also replace narrow wildcards such as `ec2:Describe*` with the explicit actions they match. */
  expandNarrowWildcards: z.boolean().default(false),
});
export type IamPolicyWildcardsParams = z.infer<typeof params>;

export interface PolicyVersionInfo {
  versionId: string;
  isDefault: boolean;
  createDate: string;
}

export interface IamPolicyWildcardsState {
  policy: { arn: string; id: string; name: string; defaultVersionId: string; attachmentCount: number };
  /** The default version's document, exactly as IAM returned it (decoded). */
  document: string;
  /** Read only when a change is needed. */
  versions: PolicyVersionInfo[];
  /** The version that has to go to make room (IAM keeps five), with its document for the record. */
  versionToDelete: { versionId: string; document: string } | null;
  /** Last-accessed data; null when the policy is attached to nothing or nothing needs it. */
  usage: Usage | null;
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

type Clients = { iam: IAMClient; iamAccessAdvisor: IAMClient };

const rule: Rule<IamPolicyWildcardsState, IamPolicyWildcardsParams, Clients> = {
  id: 'iam-policy-wildcards',
  title: 'IAM policy wildcard grants',
  resource: IAM_POLICY,
  // A separate client for last-accessed reports (access advisor), so that tests can fake it alone.
  clients: { iam: IAM, iamAccessAdvisor: IAM },
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
    ],
    wildcardOnly: ['iam:ListPolicies', 'iam:GetServiceLastAccessedDetails'],
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
      policy: { arn, id: policy.PolicyId, name: policy.PolicyName, defaultVersionId: policy.DefaultVersionId, attachmentCount: policy.AttachmentCount ?? 0 },
      document,
      versions: [],
      versionToDelete: null,
      usage: null,
      expansions: {},
    };
    const statements = parsePolicy(document).statements;
    if (options.expandNarrowWildcards) state.expansions = await narrowWildcardExpansions(statements);
    const needsChange = findBroadGrants(statements).length > 0 || Object.keys(state.expansions).length > 0;
    if (!needsChange) return state;

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
    if (findBroadGrants(statements).length > 0 && state.policy.attachmentCount > 0) {
      state.usage = await knownActionsOnly(await readPolicyUsage(clients.iamAccessAdvisor, arn));
    }
    return state;
  },

  plan(state, _params, finding): Plan {
    const parsed = parsePolicy(state.document);
    const rewrite = rewriteStatements(parsed.statements, state.usage, state.expansions);
    if (rewrite.changes.length === 0) return { status: 'compliant', summary: describe(state) };
    if (rewrite.statements.length === 0) {
      return {
        status: 'unfixable',
        summary: `removing the wildcard grants would leave policy ${state.policy.name} with no statement, so it was left as it is: detach or delete it by hand`,
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
    steps.push({
      operation: 'IAM.CreatePolicyVersion',
      input: { PolicyArn: arn, PolicyDocument: newDocument, SetAsDefault: true },
      description: `new default version of ${state.policy.name} (${finding.resourceId}), ${state.policy.defaultVersionId} kept for rollback:\n${describeChanges(rewrite.changes).join('\n')}`,
      before: { defaultVersionId: state.policy.defaultVersionId, document: state.document },
      after: { document: newDocument },
      undo: { operation: 'IAM.SetDefaultPolicyVersion', input: { PolicyArn: arn, VersionId: state.policy.defaultVersionId } },
    });
    return { status: 'change', summary: describeChanges(rewrite.changes).join('; '), steps };
  },

  describe,
  fingerprint: (state) => ({ defaultVersionId: state.policy.defaultVersionId, document: state.document }),
  canonicalId: (state) => state.policy.arn,
};

export default rule;

/** Action names from the usage report that the catalog does not know are not granted. */
async function knownActionsOnly(usage: Usage): Promise<Usage> {
  const actionLevel: Record<string, string[]> = {};
  for (const [service, actions] of Object.entries(usage.actionLevel)) {
    const known: string[] = [];
    for (const action of actions) if (await isKnownAction(action)) known.push(action);
    if (known.length > 0) actionLevel[service] = known;
  }
  return { ...usage, actionLevel };
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
