import type { IAMClient } from '@aws-sdk/client-iam';
import { z } from 'zod';
import type { Plan, Rule, RuleTarget, Step } from '../core/model/index.ts';
import { IAM } from './lib/clients.ts';
import { externalAccounts, removeAccounts, wildcardGrants } from './lib/external-principals.ts';
import { decodePolicyText, parsePolicy, serializePolicy } from './lib/iam-policy-document.ts';
import { IAM_ROLE } from './lib/resources.ts';

const params = z.strictObject({});

export interface IamRoleTrustState {
  roleName: string;
  /** The trust (assume-role) policy, decoded. */
  trustPolicy: string;
}

/** Access Analyzer names the role by ARN; the API wants its name (the last part of the path). */
function roleName(target: RuleTarget): string {
  const resource = target.resourceId.split(':').slice(5).join(':');
  if (!resource.startsWith('role/')) throw new Error(`${target.resourceId} is not a role ARN`);
  return resource.split('/').pop() ?? '';
}

const rule: Rule<IamRoleTrustState, z.infer<typeof params>, { iam: IAMClient }> = {
  id: 'iam-role-trust-external-access',
  title: 'IAM role assumable from another account',
  resource: IAM_ROLE,
  clients: { iam: IAM },
  answers: { accessAnalyzer: { resourceType: 'AWS::IAM::Role', isPublic: false } },
  // Cross-account roles are often intended: always a person's decision.
  defaultMode: 'approve',
  risk: 'high',
  // IAM's control-plane rate limits are low and account-wide: a burst of findings waits its turn.
  concurrency: 2,
  params,
  permissions: { read: ['iam:GetRole', 'iam:ListRoleTags'] },
  operations: {
    'IAM.UpdateAssumeRolePolicy': {
      client: 'iam',
      iamAction: 'iam:UpdateAssumeRolePolicy',
      command: async () => (await import('@aws-sdk/client-iam')).UpdateAssumeRolePolicyCommand,
    },
  },

  async readTags({ clients, target }) {
    const { ListRoleTagsCommand } = await import('@aws-sdk/client-iam');
    const output = await clients.iam.send(new ListRoleTagsCommand({ RoleName: roleName(target) }));
    return Object.fromEntries((output.Tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
  },

  async readState({ clients, target }) {
    const { GetRoleCommand } = await import('@aws-sdk/client-iam');
    const name = roleName(target);
    const { Role: role } = await clients.iam.send(new GetRoleCommand({ RoleName: name }));
    return { roleName: name, trustPolicy: decodePolicyText(role?.AssumeRolePolicyDocument) };
  },

  plan(state, _params, finding): Plan {
    const accounts = finding.trigger.kind === 'access-analyzer' ? externalAccounts(finding.trigger.principal, finding.account) : [];
    if (accounts.length === 0) return { status: 'unfixable', summary: `the finding names no account other than ${finding.account} to remove` };
    const parsed = parsePolicy(state.trustPolicy);
    const anyone = wildcardGrants(parsed.statements);
    if (anyone.length > 0) {
      return { status: 'unfixable', summary: `${anyone.join(', ')} of the trust policy lets any principal assume the role under conditions, which may be how ${accounts.join(', ')} gets in; removing named accounts cannot end that: change the trust policy by hand` };
    }
    const removal = removeAccounts(parsed.statements, accounts);
    if (removal.changes.length === 0) return { status: 'compliant', summary: `the trust policy no longer lets ${accounts.join(', ')} assume the role` };
    if (removal.statements.length === 0) {
      return {
        status: 'unfixable',
        summary: `removing ${accounts.join(', ')} would leave role ${state.roleName} with an empty trust policy; change it by hand`,
      };
    }
    const trustPolicy = serializePolicy(parsed, removal.statements);
    const summary = `stop ${accounts.join(', ')} assuming role ${state.roleName}: ${removal.changes.join('; ')}`;
    const step: Step = {
      operation: 'IAM.UpdateAssumeRolePolicy',
      input: { RoleName: state.roleName, PolicyDocument: trustPolicy },
      description: summary,
      before: state,
      after: { roleName: state.roleName, trustPolicy },
      undo: { operation: 'IAM.UpdateAssumeRolePolicy', input: { RoleName: state.roleName, PolicyDocument: state.trustPolicy } },
    };
    return {
      status: 'change',
      summary,
      steps: [step],
      approvalReason: 'access for another account may be intended: a person decides',
      risks: [`${accounts.join(', ')} can no longer assume ${state.roleName}; workloads there that use the role stop working`],
    };
  },

  describe: (state) => `trust policy of ${state.roleName} with ${parsePolicy(state.trustPolicy).statements.length} statement(s)`,
};

export default rule;
