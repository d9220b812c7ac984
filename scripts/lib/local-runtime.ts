import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { createNotifier, slackConfigFromEnv } from '../../functions/commons/slack/slack-notifier.ts';
import { RULES } from '../../rules/index.ts';
import type { AnyRule } from '../../rules/types.ts';
import { createResourceClients } from '../../functions/commons/aws-clients.ts';
import { type EngineDeps, type EngineLog, type EventResult, processEvent } from '../../functions/commons/engine.ts';
import { ConfigurationError } from '../../functions/commons/errors.ts';
import { matchesPattern } from '../../functions/commons/event-pattern.ts';
import { intakeEvent } from '../../functions/commons/intake.ts';
import { DynamoRecordStore, ensureTable } from '../../functions/commons/record-store.ts';
import { chooseRule, eventPatternsFor } from '../../functions/commons/routing.ts';
import { handleUnhandledFinding, UNHANDLED_FUNCTION, unhandledFindingPatterns } from '../../functions/commons/unhandled-findings.ts';
import { loadSettings, type Settings } from '../../functions/commons/settings.ts';

type Env = Record<string, string | undefined>;

export interface LocalRuntime {
  settings: Settings;
  identity: { account: string; region: string };
  deps: EngineDeps;
}

const quietLog: EngineLog = { info() {}, warn() {}, error() {} };

/**
 * What a Lambda function gets from its environment, built for a terminal: the same settings,
 * clients and table, with the account read from STS.
 */
export async function createLocalRuntime(options: { needStore: boolean; env?: Env; log?: EngineLog }): Promise<LocalRuntime> {
  const env = options.env ?? process.env;
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (!region) throw new ConfigurationError('set AWS_REGION (for example us-east-1)');
  const endpoint = env.AWS_ENDPOINT_URL || undefined;
  const settings = loadSettings(RULES, env);
  const sts = new STSClient({ region, ...(endpoint ? { endpoint } : {}) });
  const { Account: account } = await sts.send(new GetCallerIdentityCommand({}));
  if (!account) throw new ConfigurationError('STS did not say which account these credentials belong to');

  let store: DynamoRecordStore | undefined;
  if (options.needStore) {
    if (!settings.table) throw new ConfigurationError('set REMEDIATION_TABLE to apply changes (records are kept there)');
    const dynamo = new DynamoDBClient({ region, ...(endpoint ? { endpoint } : {}) });
    if (endpoint) await ensureTable(dynamo, settings.table);
    store = new DynamoRecordStore(dynamo, settings.table);
  }
  const identity = { account, region };
  return {
    settings,
    identity,
    deps: {
      rules: RULES,
      clients: createResourceClients({ region, endpoint }),
      store,
      settings,
      identity,
      log: options.log ?? quietLog,
      notifier: createNotifier(slackConfigFromEnv(env), new SecretsManagerClient({ region, ...(endpoint ? { endpoint } : {}) })),
    },
  };
}

/** The rule functions whose EventBridge patterns match the event, exactly as serverless.yml routes them. */
export function routeEvent(event: unknown, acceptReplay: boolean, rules: readonly AnyRule[] = RULES): AnyRule[] {
  return rules.filter((rule) => eventPatternsFor(rule, { acceptReplay }).some((pattern) => matchesPattern(event, pattern)));
}

/** Every function the event goes to: rule functions and the unhandled-findings function. */
export function functionsFor(event: unknown, acceptReplay: boolean, rules: readonly AnyRule[] = RULES): string[] {
  const targets = routeEvent(event, acceptReplay, rules).map((rule) => rule.id);
  if (unhandledFindingPatterns(rules, { acceptReplay }).some((pattern) => matchesPattern(event, pattern))) targets.push(UNHANDLED_FUNCTION);
  return targets;
}

/**
 * Runs one event the way the cloud would: to the function its pattern routes it to, or, when no
 * pattern matches, explains why no function would have received it.
 */
export async function dispatchEvent(event: unknown, runtime: LocalRuntime, options: { dryRun: boolean }): Promise<EventResult> {
  const [target, ...others] = functionsFor(event, runtime.settings.acceptReplay, runtime.deps.rules);
  if (others.length > 0) throw new Error(`event matches the patterns of several functions: ${[target, ...others].join(', ')}`);
  if (target === UNHANDLED_FUNCTION) return handleUnhandledFinding(event, runtime.deps, options);
  const rule = runtime.deps.rules.find((candidate) => candidate.id === target);
  if (rule) return processEvent(event, rule, { ...runtime.deps, rules: [rule] }, options);

  const intake = intakeEvent(event, { ...runtime.identity, acceptReplay: runtime.settings.acceptReplay, now: Date.now });
  if (intake.kind === 'approved') return { outcome: 'rejected', reason: `no driftfix rule ${intake.approved.ruleId}`, calls: [], writes: 0 };
  if (intake.kind !== 'finding') return { outcome: intake.kind, reason: intake.reason, calls: [], writes: 0 };
  const choice = chooseRule(intake.finding, runtime.deps.rules);
  const reason = choice.kind === 'rule' ? `no EventBridge rule routes this event to ${choice.rule.id}` : choice.reason;
  return { outcome: choice.kind === 'rejected' ? 'rejected' : 'skipped', reason, calls: [], writes: 0 };
}
