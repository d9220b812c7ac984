import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RULES } from '../../rules/index.ts';
import { type EventPattern, matchesPattern } from '../../core/intake/event-pattern.ts';
import { DEAD_LETTER_ACTIONS, INTERACTIVITY_ACTIONS, LOG_ACTIONS, SECRET_ACTIONS, TABLE_ACTIONS, UNHANDLED_TABLE_ACTIONS } from '../../serverless/deployment.ts';
import { expandEventPaths } from '../../scripts/lib/event-files.ts';
import { functionsFor } from '../../scripts/lib/local-runtime.ts';
import { findPythonTool } from '../../scripts/lib/python-tools.ts';
import { EVENTS_DIR } from '../support/events.ts';
import { packaged, type Template } from '../support/packaged.ts';


let outDir: string;
let template: Template;

beforeAll(() => {
  ({ dir: outDir, template } = packaged('default'));
}, 200_000);

function functionResource(ruleId: string) {
  const entry = Object.values(template.Resources).find(
    (resource) => resource.Type === 'AWS::Lambda::Function' && String(resource.Properties.FunctionName).endsWith(`-${ruleId}`),
  );
  if (!entry) throw new Error(`no function for ${ruleId}`);
  return entry;
}

function roleOf(ruleId: string) {
  const sub = String(functionResource(ruleId).Properties.Role['Fn::Sub']);
  const logicalId = /^\$\{(\w+)\.Arn\}$/.exec(sub)?.[1] ?? '';
  const role = template.Resources[logicalId];
  if (!role) throw new Error(`no role ${logicalId} for ${ruleId}`);
  return role;
}

function statementsOf(ruleId: string): Array<{ Action: string[]; Resource: unknown }> {
  return roleOf(ruleId).Properties.Policies.flatMap((policy: any) => policy.PolicyDocument.Statement);
}

describe('the packaged CloudFormation template', () => {
  it('passes cfn-lint', () => {
    const cfnLint = findPythonTool('cfn-lint');
    if (!cfnLint) throw new Error('cfn-lint not found: the global setup installs it into ./.venv');
    const lint = spawnSync(cfnLint, [join(outDir, 'cloudformation-template-update-stack.json')], { encoding: 'utf8' });
    expect(lint.stdout + lint.stderr).toBe('');
    expect(lint.status).toBe(0);
  });

  it.each(RULES.map((rule) => [rule.id, rule] as const))('%s: its role holds exactly what the rule declares', (ruleId, rule) => {
    const actions = statementsOf(ruleId).flatMap((statement) => statement.Action).sort();
    const declared = [
      ...LOG_ACTIONS,
      ...TABLE_ACTIONS,
      ...SECRET_ACTIONS,
      ...DEAD_LETTER_ACTIONS,
      ...rule.permissions.read,
      ...rule.permissions.write,
      ...(rule.permissions.alsoOn ?? []).flatMap((extra) => extra.actions),
    ].sort();
    expect(actions).toEqual(declared);
    expect(actions.some((action) => action.includes('*'))).toBe(false);
  });

  it.each(RULES.map((rule) => [rule.id, rule] as const))('%s: Resource "*" only for the actions IAM grants on nothing else', (ruleId, rule) => {
    for (const statement of statementsOf(ruleId)) {
      if (statement.Resource !== '*') continue;
      expect(statement.Action.every((action) => rule.permissions.wildcardOnly.includes(action)), JSON.stringify(statement)).toBe(true);
    }
  });

  it('the unhandled-findings function holds no permission on the account resources', () => {
    const actions = statementsOf('unhandled-findings').flatMap((statement) => statement.Action).sort();
    expect(actions).toEqual([...LOG_ACTIONS, ...UNHANDLED_TABLE_ACTIONS, ...SECRET_ACTIONS, ...DEAD_LETTER_ACTIONS].sort());
  });

  it('the Slack interactivity function holds no permission on the account resources', () => {
    const actions = statementsOf('slack-actions').flatMap((statement) => statement.Action).sort();
    expect(actions).toEqual([...LOG_ACTIONS, ...INTERACTIVITY_ACTIONS.table, ...INTERACTIVITY_ACTIONS.events, ...SECRET_ACTIONS].sort());
    for (const statement of statementsOf('slack-actions')) expect(statement.Resource).not.toBe('*');
    const route = Object.values(template.Resources).find((resource) => resource.Type === 'AWS::ApiGatewayV2::Route');
    expect(route?.Properties.RouteKey).toBe('POST /slack/actions');
  });

  it.each(RULES.map((rule) => [rule.id] as const))('%s: dead-letter queue, retries, alarms, log retention', (ruleId) => {
    const fn = functionResource(ruleId);
    const queue = fn.Properties.DeadLetterConfig.TargetArn['Fn::GetAtt'][0];
    expect(template.Resources[queue]?.Type).toBe('AWS::SQS::Queue');
    const invokeConfig = Object.values(template.Resources).find(
      (resource) => resource.Type === 'AWS::Lambda::EventInvokeConfig' && JSON.stringify(resource.Properties.FunctionName).includes(functionLogicalIdFor(ruleId)),
    );
    expect(invokeConfig?.Properties.MaximumRetryAttempts).toBe(2);
    const targets = Object.values(template.Resources)
      .filter((resource) => resource.Type === 'AWS::Events::Rule')
      .map((resource) => resource.Properties.Targets[0])
      .filter((target) => target.Arn['Fn::GetAtt'][0] === functionLogicalIdFor(ruleId));
    expect(targets.length).toBeGreaterThan(0);
    for (const target of targets) {
      expect(target.DeadLetterConfig.Arn['Fn::GetAtt'][0]).toBe(queue);
      expect(target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 });
    }
    const alarms = Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::CloudWatch::Alarm').map((resource) => JSON.stringify(resource.Properties));
    expect(alarms.some((alarm) => alarm.includes('"Errors"') && alarm.includes(`-${ruleId}"`))).toBe(true);
    expect(alarms.some((alarm) => alarm.includes('ApproximateNumberOfMessagesVisible') && alarm.includes(queue))).toBe(true);
    const logGroup = Object.values(template.Resources).find((resource) => resource.Type === 'AWS::Logs::LogGroup' && String(resource.Properties.LogGroupName).endsWith(`-${ruleId}`));
    expect(logGroup?.Properties.RetentionInDays).toBe(90);
  });

  it('reserves concurrency for the IAM rules only (IAM rate limits are low)', () => {
    for (const rule of RULES) {
      expect(functionResource(rule.id).Properties.ReservedConcurrentExecutions).toBe(rule.id.startsWith('iam-') ? 2 : undefined);
    }
  });

  it('deploys the answered AWS Config managed rules only when asked to, and cfn-lint still passes', () => {
    const rules = Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::Config::ConfigRule');
    expect(rules.map((rule) => rule.Properties.ConfigRuleName).sort()).toEqual(RULES.flatMap((rule) => rule.answers.configRules).sort());
    expect(rules.every((rule) => rule.Condition === 'DeployConfigRules')).toBe(true);
    const withRules = packaged('withConfigRules');
    const cfnLint = findPythonTool('cfn-lint') ?? 'cfn-lint';
    const lint = spawnSync(cfnLint, [join(withRules.dir, 'cloudformation-template-update-stack.json')], { encoding: 'utf8' });
    expect(lint.stdout + lint.stderr).toBe('');
  }, 120_000);

  it('each function is its own bundle of a single file', () => {
    for (const rule of [...RULES, { id: 'slack-actions' }]) {
      const unzip = spawnSync('unzip', ['-Z1', join(outDir, `${rule.id}.zip`)], { encoding: 'utf8' });
      expect(unzip.stdout.trim().split('\n')).toEqual([`dist/${rule.id}/index.mjs`]);
      expect(functionResource(rule.id).Properties.Runtime).toBe('nodejs22.x');
      expect(functionResource(rule.id).Properties.Handler).toBe(`dist/${rule.id}/index.handler`);
    }
  });

  it('the packaged EventBridge patterns route every sample event to the function local replay picks', async () => {
    const rules = Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::Events::Rule');
    const targetsOf = (event: unknown) =>
      rules
        .filter((resource) => matchesPattern(event, resource.Properties.EventPattern as EventPattern))
        .map((resource) => String(resource.Properties.Targets[0].Arn['Fn::GetAtt'][0]))
        .sort();
    for (const file of await expandEventPaths([EVENTS_DIR])) {
      const event = JSON.parse(readFileSync(file, 'utf8'));
      const local = functionsFor(event, true).map((id) => functionLogicalIdFor(id)).sort();
      expect(targetsOf(event), file).toEqual(local);
    }
  });
});

function functionLogicalIdFor(ruleId: string): string {
  const found = Object.entries(template.Resources).find(
    ([, resource]) => resource.Type === 'AWS::Lambda::Function' && String(resource.Properties.FunctionName).endsWith(`-${ruleId}`),
  );
  return found?.[0] ?? '';
}
