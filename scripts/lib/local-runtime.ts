import { ClientFactory, type ClientOptions } from '../../core/aws/clients.ts';
import { emulatorShims } from './emulator-shims.ts';
import { ConfigRules } from '../../core/aws/config-rules.ts';
import { awsFollowUps } from '../../core/aws/follow-ups.ts';
import { DynamoLedger } from '../../core/aws/ledger.ts';
import { CONFIG, DYNAMODB, SECURITY_HUB } from '../../core/aws/services.ts';
import { loadSettings } from '../../core/aws/settings.ts';
import { announcerFor } from '../../core/aws/announcers.ts';
import { handleRuleEvent, intake, routeConfigEvent } from '../../core/engine/handle-event.ts';
import type { EngineDeps, EngineLog, Settings } from '../../core/engine/ports.ts';
import { bare, type EventResult } from '../../core/engine/results.ts';
import { handleUnhandledFinding } from '../../core/engine/unhandled.ts';
import { matchesPattern } from '../../core/intake/event-pattern.ts';
import { ROUTER_FUNCTION, routerPatterns, rulePatterns, UNHANDLED_FUNCTION, unhandledFindingPatterns } from '../../core/intake/routing.ts';
import { type AnyRule, ConfigurationError } from '../../core/model/index.ts';
import { RULES } from '../../rules/index.ts';

type Env = Record<string, string | undefined>;

export interface LocalRuntime {
  settings: Settings;
  identity: { account: string; region: string };
  deps: EngineDeps;
  factory: ClientFactory;
  ledger?: DynamoLedger | undefined;
}

const quietLog: EngineLog = { info() {}, warn() {}, error() {} };

/**
 * What the Lambda functions get from their environment, built for a terminal: the same settings,
 * clients, table and announcer, with the account read from STS.
 */
export async function createLocalRuntime(options: {
  needStore: boolean;
  env?: Env;
  log?: EngineLog;
  rules?: readonly AnyRule[];
  /** Another account's credentials (the organization demo); by default the SDK's chain. */
  credentials?: ClientOptions['credentials'];
  /** Against an emulator, answer the calls moto lacks (scripts/lib/emulator-shims.ts); default true. */
  shims?: boolean;
}): Promise<LocalRuntime> {
  const env = options.env ?? process.env;
  const rules = options.rules ?? RULES;
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (!region) throw new ConfigurationError('set AWS_REGION (for example us-east-1)');
  const endpoint = env.AWS_ENDPOINT_URL || undefined;
  const settings = loadSettings(rules, env);
  const { GetCallerIdentityCommand, STSClient } = await import('@aws-sdk/client-sts');
  const credentials = options.credentials;
  const sts = new STSClient({ region, ...(endpoint ? { endpoint } : {}), ...(credentials ? { credentials } : {}) });
  const { Account: account } = await sts.send(new GetCallerIdentityCommand({}));
  if (!account) throw new ConfigurationError('STS did not say which account these credentials belong to');
  const factory = new ClientFactory({ region, endpoint, credentials, ...(endpoint && options.shims !== false ? { shim: emulatorShims } : {}) });

  let ledger: DynamoLedger | undefined;
  if (options.needStore) {
    if (!settings.table) throw new ConfigurationError('set REMEDIATION_TABLE to apply changes (records are kept there)');
    const dynamo = await factory.shared(DYNAMODB, { record: false });
    // Against an emulator the table is made the first time it is missing: no request up front.
    ledger = new DynamoLedger(dynamo, settings.table, { createIfMissing: Boolean(endpoint) });
  }
  const identity = { account, region };
  const deps: EngineDeps = {
    rules,
    clientsFor: (rule) => factory.loadedFor(rule),
    ledger,
    settings,
    identity,
    log: options.log ?? quietLog,
    announcer: announcerFor({ env, factory }),
    configRules: new ConfigRules(() => factory.shared(CONFIG)),
    followUps: awsFollowUps({ config: () => factory.shared(CONFIG), securityHub: () => factory.shared(SECURITY_HUB) }),
  };
  return { settings, identity, deps, factory, ledger };
}

/** Every function the event goes to, by the same patterns as the deployed EventBridge rules. */
export function functionsFor(event: unknown, options: { acceptReplay: boolean; hubAccount?: string | undefined }, rules: readonly AnyRule[] = RULES): string[] {
  const targets = rules.filter((rule) => rulePatterns(rule, options).some((pattern) => matchesPattern(event, pattern))).map((rule) => rule.id);
  if (routerPatterns(rules, options).some((pattern) => matchesPattern(event, pattern))) targets.push(ROUTER_FUNCTION);
  if (unhandledFindingPatterns(rules, options).some((pattern) => matchesPattern(event, pattern))) targets.push(UNHANDLED_FUNCTION);
  return targets;
}

/** A rule's own function: its clients loaded, its rule only. */
export async function runRule(event: unknown, rule: AnyRule, runtime: LocalRuntime, options: { dryRun: boolean }): Promise<EventResult> {
  await runtime.factory.forRule(rule);
  return handleRuleEvent(event, rule, { ...runtime.deps, rules: [rule] }, options);
}

/**
 * Runs one event the way the cloud would: to the function its pattern routes it to (the Config
 * router handing it on to a rule's function), or explains why no function would receive it.
 */
export async function dispatchEvent(event: unknown, runtime: LocalRuntime, options: { dryRun: boolean }): Promise<EventResult> {
  const routing = { acceptReplay: runtime.settings.acceptReplay, hubAccount: runtime.settings.hubAccount };
  const targets = functionsFor(event, routing, runtime.deps.rules);
  if (targets.length > 1) throw new Error(`event matches the patterns of several functions: ${targets.join(', ')}`);
  const [target] = targets;
  if (target === UNHANDLED_FUNCTION) return handleUnhandledFinding(event, runtime.deps, options);
  if (target === ROUTER_FUNCTION) {
    const routed = await routeConfigEvent(event, runtime.deps.rules, runtime.deps);
    return routed.kind === 'result' ? routed.result : runRule(event, routed.rule, runtime, options);
  }
  const rule = runtime.deps.rules.find((candidate) => candidate.id === target);
  if (rule) return runRule(event, rule, runtime, options);

  // No function receives it: say why, as the function would have.
  const intook = intake(event, runtime.deps);
  if (intook.kind === 'approved') return bare('rejected', `no driftfix rule ${intook.approved.ruleId}`);
  if (intook.kind === 'decision') return bare('rejected', `no driftfix rule ${intook.decision.ruleId}`);
  if (intook.kind !== 'finding') return bare(intook.kind, intook.reason, intook.eventId ? { eventId: intook.eventId } : {});
  const { finding } = intook;
  if (finding.trigger.kind === 'security-hub') return bare('skipped', `no driftfix rule answers Security Hub control ${finding.trigger.controlId}`, { eventId: finding.eventId });
  if (finding.trigger.kind === 'config-rule') return bare('skipped', `no driftfix rule fixes ${finding.resourceType}`, { eventId: finding.eventId });
  return bare('skipped', `no EventBridge rule routes this event to a driftfix function`, { eventId: finding.eventId });
}
