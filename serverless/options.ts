import { loadSettings } from '../core/aws/settings.ts';
import { type AnyRule, ConfigurationError, REGION_NAME } from '../core/model/index.ts';
import { ROUTER_FUNCTION, UNHANDLED_FUNCTION } from '../core/intake/routing.ts';
import { RULES } from '../rules/index.ts';

/** What `serverless package` / `deploy` was given (serverless.yml params), checked before anything is built. */
export interface DeploymentOptions {
  service: string;
  stage: string;
  acceptReplay: boolean;
  /** Name of the Secrets Manager secret holding {"botToken", "signingSecret"}. */
  slackSecretName: string;
  ruleModes: string;
  ruleParams: string;
  /** A permissions boundary every role the stack creates carries. */
  permissionsBoundaryArn: string;
  /** The hub of an organization: one Slack app, one channel, decisions for every member account. */
  hub: boolean;
  /** A member stack: records go to this account's hub bus, decisions come from it. */
  hubAccount: string;
  /** The region of the hub's stack (one hub serves every region); empty: the member's own region. */
  hubRegion: string;
  organizationId: string;
  memberAccounts: string[];
}

export const INTERACTIVITY_FUNCTION = 'slack-actions';
export const HUB_NOTIFIER_FUNCTION = 'hub-notifier';
export { ROUTER_FUNCTION, UNHANDLED_FUNCTION };

export function stackName(options: Pick<DeploymentOptions, 'service' | 'stage'>): string {
  return `${options.service}-${options.stage}`;
}

/** The bus members' records go to and decisions come from, named the same in every account. */
/** The hub's driftfix bus, as a member addresses it (CloudFormation Fn::Sub text). */
export function hubBusArn(options: Pick<DeploymentOptions, 'service' | 'stage' | 'hubAccount' | 'hubRegion'>): string {
  return `arn:\${AWS::Partition}:events:${options.hubRegion || `\${AWS::Region}`}:${options.hubAccount}:event-bus/${driftfixBusName(options)}`;
}

export function driftfixBusName(options: Pick<DeploymentOptions, 'service' | 'stage'>): string {
  return `${stackName(options)}-bus`;
}

/** `config-router` → `ConfigRouter`, for CloudFormation logical ids. */
export function logicalName(id: string): string {
  return id
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

export const routerNeeded = (rules: readonly AnyRule[] = RULES) => rules.some((rule) => (rule.answers.config ?? []).length > 0);

/** Functions fed by a queue: one per rule, the Config router and the one for findings no rule fixes. */
export function eventFunctions(): string[] {
  return [...RULES.map((rule) => rule.id), ...(routerNeeded() ? [ROUTER_FUNCTION] : []), UNHANDLED_FUNCTION];
}

/**
 * Checks the params as the functions will: an unknown rule, mode or parameter, a malformed
 * account or organization id, or a stack that is both hub and member fails the package, not a
 * function at 3 a.m.
 */
export function validateOptions(options: DeploymentOptions): void {
  loadSettings(RULES, { RULE_MODES: options.ruleModes, RULE_PARAMS: options.ruleParams });
  if (options.hub && options.hubAccount) throw new ConfigurationError('a stack is a hub (hub=true) or a member (hubAccount=…), not both');
  if (options.hubAccount && !/^\d{12}$/.test(options.hubAccount)) throw new ConfigurationError(`hubAccount must be a 12-digit account id, not "${options.hubAccount}"`);
  if (options.hubRegion && !options.hubAccount) throw new ConfigurationError('hubRegion is the region of a member\'s hub: set hubAccount too');
  if (options.hubRegion && !REGION_NAME.test(options.hubRegion)) throw new ConfigurationError(`hubRegion must be a region such as eu-west-1, not "${options.hubRegion}"`);
  if (options.organizationId && !/^o-[a-z0-9]{10,32}$/.test(options.organizationId)) {
    throw new ConfigurationError(`organizationId must be an AWS Organizations id (o-…), not "${options.organizationId}"`);
  }
  for (const account of options.memberAccounts) {
    if (!/^\d{12}$/.test(account)) throw new ConfigurationError(`memberAccounts: "${account}" is not a 12-digit account id`);
  }
  if (!options.hub && (options.organizationId || options.memberAccounts.length > 0)) {
    throw new ConfigurationError('organizationId and memberAccounts are settings of a hub: add hub=true (a member names its hub with hubAccount)');
  }
  if (options.hub && !options.organizationId && options.memberAccounts.length === 0) {
    throw new ConfigurationError('a hub needs organizationId (o-…) or memberAccounts: its bus admits events from those only');
  }
  if (options.permissionsBoundaryArn && !/^arn:aws[a-z-]*:iam::(\d{12}|aws):policy\/[\w+=,.@/-]+$/.test(options.permissionsBoundaryArn)) {
    throw new ConfigurationError(`permissionsBoundaryArn must be an IAM policy ARN, not "${options.permissionsBoundaryArn}"`);
  }
}

/** The function's own share of RULE_MODES and RULE_PARAMS: every function sees only its rule's settings. */
export function ownSettings(rule: AnyRule, options: DeploymentOptions): { RULE_MODES: string; RULE_PARAMS: string } {
  const modes = options.ruleModes
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.split('=')[0]?.trim() === rule.id)
    .join(',');
  const params = JSON.parse(options.ruleParams.trim() || '{}') as Record<string, unknown>;
  return { RULE_MODES: modes, RULE_PARAMS: rule.id in params ? JSON.stringify({ [rule.id]: params[rule.id] }) : '{}' };
}
