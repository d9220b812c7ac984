import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClientFactory } from '../../core/aws/clients.ts';
import { loadSettings } from '../../core/aws/settings.ts';
import type { ConfigRuleDirectory, ConfigRuleInfo, EngineDeps } from '../../core/engine/ports.ts';
import { parseStrictJson } from '../../core/intake/safe-json.ts';
import { type AnyRule, DETAIL_TYPE, OUTCOME } from '../../core/model/index.ts';
import { RULES } from '../../rules/index.ts';
import { dispatchEvent, functionsFor, type LocalRuntime } from '../../scripts/lib/local-runtime.ts';
import sampleConfigRules from '../../scripts/lib/sample-config-rules.json' with { type: 'json' };
import { ACCOUNT, EVENTS_DIR, OTHER_ACCOUNT, REGION } from '../support/events.ts';
import { ruleAnswering, ruleForAnalyzer, ruleForControl } from '../support/rules.ts';

/**
 * Every sample event in events/: valid strict JSON, routed to at most one function, and ending in
 * the outcome its folder and name promise wherever that is decided before AWS is asked anything.
 * AWS is not there: every client throws, and AWS Config's answers come from
 * scripts/lib/sample-config-rules.json, the rules the samples were evaluated by.
 */

type Json = Record<string, any>;
const NOW = Date.parse('2026-11-26T00:00:00Z');

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => (entry.isDirectory() ? listFiles(join(dir, entry.name)) : [join(dir, entry.name)]));
}

// Every file but the folder's one document (events/SOURCES.md, where each sample comes from) is a sample.
const FILES = listFiles(EVENTS_DIR)
  .map((file) => relative(EVENTS_DIR, file))
  .filter((file) => file !== 'SOURCES.md');
const load = (file: string): Json => parseStrictJson(readFileSync(join(EVENTS_DIR, file), 'utf8')) as Json;

interface SampleRule {
  name: string;
  arn: string;
  owner: string;
  identifier: string;
}
const SAMPLE_RULES = sampleConfigRules as SampleRule[];

/** AWS Config as the samples saw it: DescribeConfigRules answered from the sample file. */
class SampleConfigRules implements ConfigRuleDirectory {
  readonly asked: string[] = [];
  async describe(name: string): Promise<ConfigRuleInfo | null> {
    this.asked.push(name);
    const rule = SAMPLE_RULES.find((candidate) => candidate.name === name);
    if (!rule) return null;
    return { name, owner: rule.owner, ...(rule.owner === 'AWS' ? { identifier: rule.identifier } : {}) };
  }
}

class NoAwsInUnitTests extends Error {
  override name = 'NoAwsInUnitTests';
}

/** A runtime like `npm run replay`'s, with no AWS behind it: every rule client throws, and says so. */
function offlineRuntime(env: Record<string, string> = {}) {
  const awsCalls: string[] = [];
  const throwing = (rule: string, client: string) => ({
    send: async (command: object) => {
      awsCalls.push(`${rule}.${client}.${command.constructor.name}`);
      throw new NoAwsInUnitTests(`${command.constructor.name} was sent`);
    },
  });
  const settings = loadSettings(RULES, env);
  const configRules = new SampleConfigRules();
  const deps: EngineDeps = {
    rules: RULES,
    clientsFor: (rule) => Object.fromEntries(Object.keys(rule.clients).map((name) => [name, throwing(rule.id, name)])),
    settings,
    identity: { account: ACCOUNT, region: REGION },
    log: { info() {}, warn() {}, error() {} },
    configRules,
    now: () => NOW,
  };
  const runtime: LocalRuntime = { settings, identity: deps.identity, deps, factory: new ClientFactory({ region: REGION }) };
  return { runtime, awsCalls, configRules };
}

/** The outcome a sample's name promises: `<what>.<outcome>.json`. */
function promisedOutcome(file: string): string {
  const match = /\.([a-z-]+)\.json$/.exec(file);
  if (!match?.[1]) throw new Error(`${file} does not name its outcome (<what>.<outcome>.json)`);
  return match[1];
}

/** Outcomes decided from the event alone (and AWS Config's answer about a rule name), never by reading the resource. */
const DECIDED_BEFORE_READING = new Set(['ignored', 'rejected']);

/** Skipped samples that are skipped before any read: by intake, or because no rule answers them. */
const SKIPPED_BEFORE_READING = [
  'access-analyzer/error-finding.skipped.json',
  'access-analyzer/internal-access-finding.skipped.json',
  'access-analyzer/kms-key-cross-account.skipped.json',
  'access-analyzer/unused-access-finding.skipped.json',
  'config/custom-lambda-rule.skipped.json',
  'config/unanswered-managed-rule.skipped.json',
  'security-hub/unanswered-control.skipped.json',
];

const decidedOffline = (file: string) => DECIDED_BEFORE_READING.has(promisedOutcome(file)) || SKIPPED_BEFORE_READING.includes(file);

/**
 * The rule a sample reaches, from what it reports: for AWS Config, the managed rule AWS Config says
 * the named rule runs (scripts/lib/sample-config-rules.json; a name Config does not know is taken
 * as the documented default name of a managed rule), whatever the rule is named (Security Hub,
 * conformance packs, Control Tower, Landing Zone Accelerator, people); for Security Hub, the
 * control; for Access Analyzer, the resource type and exposure.
 */
function ruleReachedBy(event: Json): AnyRule {
  if (event.source === 'aws.config') {
    const name: string = event.detail.configRuleName;
    const known = SAMPLE_RULES.find((rule) => rule.name === name);
    if (known) return ruleAnswering(known.identifier);
    const byDefaultName = RULES.flatMap((rule) => rule.answers.config ?? []).find((answer) => answer.defaultName === name);
    if (!byDefaultName) throw new Error(`AWS Config rule ${name} is neither in sample-config-rules.json nor a managed rule's default name`);
    return ruleAnswering(byDefaultName.identifier);
  }
  if (event.source === 'aws.securityhub') return ruleForControl(event.detail.findings[0].Compliance.SecurityControlId);
  if (event.source === 'aws.access-analyzer') return ruleForAnalyzer(event.detail.resourceType, event.detail.isPublic);
  throw new Error(`no rule answers events of ${event.source}`);
}

describe('the sample events', () => {
  it('there are samples of every service and of invalid input', () => {
    for (const folder of ['config/', 'access-analyzer/', 'security-hub/', 'invalid/']) {
      expect(FILES.some((file) => file.startsWith(folder))).toBe(true);
    }
    expect(FILES.every((file) => file.endsWith('.json'))).toBe(true);
  });

  it('events/SOURCES.md says where every sample comes from', () => {
    const sources = readFileSync(join(EVENTS_DIR, 'SOURCES.md'), 'utf8');
    // Under its folder's heading (`## config/`), each sample by its file name.
    const section = (folder: string) => sources.split(/^## /m).find((part) => part.startsWith(`${folder}/`)) ?? '';
    expect(FILES.filter((file) => !section(dirname(file)).includes(`\`${basename(file)}\``))).toEqual([]);
  });

  it('every sample names an outcome (<what>.<outcome>.json); every invalid one promises rejected', () => {
    const outcomes = new Set<string>(Object.values(OUTCOME));
    for (const file of FILES) expect(outcomes.has(promisedOutcome(file)), file).toBe(true);
    for (const file of SKIPPED_BEFORE_READING) expect(FILES).toContain(file);
    for (const file of SKIPPED_BEFORE_READING) expect(promisedOutcome(file)).toBe('skipped');
    expect(FILES.filter((file) => file.startsWith('invalid/')).every((file) => promisedOutcome(file) === 'rejected')).toBe(true);
  });

  it.each(FILES)('%s is strict JSON (no duplicate keys, within the limits) in the EventBridge envelope', (file) => {
    const event = load(file);
    expect(Object.keys(event).sort()).toEqual(['account', 'detail', 'detail-type', 'id', 'region', 'resources', 'source', 'time', 'version']);
    expect([ACCOUNT, OTHER_ACCOUNT]).toContain(event.account);
  });

  it.each(FILES)('%s goes to at most one function, replayed or not, with or without a hub', (file) => {
    const event = load(file);
    const replayed = { ...event, source: 'driftfix.replay' };
    for (const options of [{ acceptReplay: true }, { acceptReplay: false }, { acceptReplay: true, hubAccount: OTHER_ACCOUNT }]) {
      expect(functionsFor(event, options).length).toBeLessThanOrEqual(1);
      expect(functionsFor(replayed, options).length).toBeLessThanOrEqual(1);
    }
  });

  it.each(FILES.filter(decidedOffline))('%s ends as its name promises, without a call to AWS', async (file) => {
    const { runtime, awsCalls } = offlineRuntime();
    const result = await dispatchEvent(load(file), runtime, { dryRun: true });
    expect(result, JSON.stringify(result)).toMatchObject({ outcome: promisedOutcome(file) });
    expect(result.calls).toEqual([]);
    expect(result.writes).toBe(0);
    expect(awsCalls).toEqual([]);
  });

  it.each(FILES.filter((file) => !decidedOffline(file)))('%s is answered by the live resource: it reaches the reads of one rule', async (file) => {
    const { runtime, awsCalls } = offlineRuntime();
    const result = await dispatchEvent(load(file), runtime, { dryRun: true });
    expect(result, JSON.stringify(result)).toMatchObject({ outcome: 'failed', rule: expect.any(String), reason: expect.stringContaining('NoAwsInUnitTests') });
    expect(awsCalls.length).toBeGreaterThan(0);
    expect(awsCalls.every((call) => call.startsWith(`${result.rule}.`))).toBe(true);
    expect(result.rule).toBe(ruleReachedBy(load(file)).id);
  });

  it.each(FILES.filter((file) => !file.startsWith('invalid/')))('%s replayed (source driftfix.replay) ends the same way as from AWS', async (file) => {
    const direct = offlineRuntime();
    const replay = offlineRuntime();
    const event = load(file);
    const fromAws = await dispatchEvent(event, direct.runtime, { dryRun: true });
    const replayed = await dispatchEvent({ ...event, source: 'driftfix.replay' }, replay.runtime, { dryRun: true });
    expect(replayed.outcome).toBe(fromAws.outcome);
    expect(replayed.rule).toBe(fromAws.rule);
    expect(replay.awsCalls).toEqual(direct.awsCalls);
  });

  it.each(FILES.filter((file) => !file.startsWith('invalid/')))('%s replayed is refused where replay is off', async (file) => {
    const { runtime, awsCalls } = offlineRuntime({ ACCEPT_REPLAY: 'false' });
    const result = await dispatchEvent({ ...load(file), source: 'driftfix.replay' }, runtime, { dryRun: true });
    expect(result).toMatchObject({ outcome: 'rejected', reason: expect.stringContaining('turned off') });
    expect(awsCalls).toEqual([]);
  });
});

describe('the AWS Config rules the samples were evaluated by (scripts/lib/sample-config-rules.json)', () => {
  const configSamples = FILES.filter((file) => load(file).source === 'aws.config');

  it.each(configSamples)('%s names a rule of the file, or is a configuration-item change', (file) => {
    const event = load(file);
    if (event['detail-type'] === DETAIL_TYPE.configItemChange) {
      expect(event.detail.configRuleName).toBeUndefined();
      return;
    }
    expect(event['detail-type']).toBe(DETAIL_TYPE.configComplianceChange);
    const names = SAMPLE_RULES.map((rule) => rule.name);
    expect(names).toContain(event.detail.configRuleName);
    if (file.startsWith('config/')) {
      expect(event.detail.configRuleARN).toBe(SAMPLE_RULES.find((rule) => rule.name === event.detail.configRuleName)?.arn);
    }
  });

  it('each rule of the file is used by a sample, is named once, and lives in this account and region', () => {
    const used = new Set(FILES.map((file) => load(file).detail.configRuleName));
    for (const rule of SAMPLE_RULES) {
      expect(used.has(rule.name), rule.name).toBe(true);
      expect(rule.arn.startsWith(`arn:aws:config:${REGION}:${ACCOUNT}:config-rule/`)).toBe(true);
    }
    expect(new Set(SAMPLE_RULES.map((rule) => rule.name)).size).toBe(SAMPLE_RULES.length);
  });

  it('a rule of the file that no driftfix rule answers (custom, or an unanswered managed rule) is used by skipped samples only', () => {
    const answered = new Set(RULES.flatMap((rule) => (rule.answers.config ?? []).map((answer) => answer.identifier)));
    const unanswered = SAMPLE_RULES.filter((rule) => rule.owner !== 'AWS' || !answered.has(rule.identifier)).map((rule) => rule.name);
    expect(unanswered.length).toBeGreaterThan(0);
    for (const file of FILES.filter((file) => file.startsWith('config/') && unanswered.includes(load(file).detail.configRuleName))) {
      expect(promisedOutcome(file), file).toBe('skipped');
    }
  });

  it('the router asks AWS Config about the rule by its name, and the custom rule is skipped', async () => {
    const { runtime, configRules, awsCalls } = offlineRuntime();
    const result = await dispatchEvent(load('config/custom-lambda-rule.skipped.json'), runtime, { dryRun: true });
    expect(result).toMatchObject({ outcome: 'skipped', reason: expect.stringContaining('custom rule (CUSTOM_LAMBDA)') });
    expect(configRules.asked).toEqual(['team-buckets-must-have-owner-tag']);
    expect(awsCalls).toEqual([]);
  });
});
