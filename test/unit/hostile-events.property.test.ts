import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../core/aws/settings.ts';
import { handleRuleEvent } from '../../core/engine/handle-event.ts';
import type { ConfigRuleDirectory, ConfigRuleInfo, EngineDeps } from '../../core/engine/ports.ts';
import type { EventResult } from '../../core/engine/results.ts';
import { handleUnhandledFinding } from '../../core/engine/unhandled.ts';
import { intakeEvent } from '../../core/intake/intake.ts';
import { DETAIL_TYPE, DriftfixError, EVENT_SOURCE, OUTCOME } from '../../core/model/index.ts';
import { RULES } from '../../rules/index.ts';
import sampleConfigRules from '../../scripts/lib/sample-config-rules.json' with { type: 'json' };
import { ACCOUNT, EVENTS_DIR, OTHER_ACCOUNT, REGION } from '../support/events.ts';
import { MemoryLedger } from '../support/memory-ledger.ts';
import { ruleAnswering } from '../support/rules.ts';

/**
 * Property: whatever a sample event is mutated into, the bot handles it or refuses it; an event
 * intake rejects or ignores reaches nothing (no AWS call, no DynamoDB request, no Config lookup);
 * and nothing but driftfix's own errors is ever thrown. AWS is not there: every rule client
 * records the command and throws, so any event the bot accepts shows up as a call.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
const NOW = Date.parse('2026-11-26T00:00:00Z');
const HUB = OTHER_ACCOUNT;

/** The sample events (events/SOURCES.md beside them is their documentation). */
function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => (entry.isDirectory() ? listFiles(join(dir, entry.name)) : entry.name.endsWith('.json') ? [join(dir, entry.name)] : []));
}

const approved = (ruleId: string): Json => ({
  version: '0',
  id: 'a1b2c3d4-0000-4000-8000-000000000001',
  'detail-type': 'Remediation Approved',
  source: 'driftfix.approvals',
  account: ACCOUNT,
  time: '2026-11-20T10:00:00Z',
  region: REGION,
  resources: [],
  detail: { approvalId: 'apr-8c0f4c1e-1111-4a4a-9b9b-0123456789ab', ruleId },
});
const decision = (ruleId: string): Json => ({
  ...(approved(ruleId) as Record<string, Json>),
  'detail-type': 'Remediation Decision',
  source: 'driftfix.hub',
  account: HUB,
  detail: { approvalId: 'apr-8c0f4c1e-1111-4a4a-9b9b-0123456789ab', ruleId, decision: 'exempt', by: 'U012AB3CD', days: 7, reason: 'vendor' },
});

const SAMPLES: Json[] = [
  ...listFiles(EVENTS_DIR).map((file) => JSON.parse(readFileSync(file, 'utf8')) as Json),
  approved(ruleAnswering('S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED').id),
  decision(ruleAnswering('S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED').id),
];

class NoAwsInUnitTests extends Error {
  override name = 'NoAwsInUnitTests';
}

/** AWS Config's answers for the sample rules, counted (a lookup is a call to AWS). */
class SampleConfigRules implements ConfigRuleDirectory {
  asked = 0;
  async describe(name: string): Promise<ConfigRuleInfo | null> {
    this.asked += 1;
    const rule = (sampleConfigRules as Array<{ name: string; owner: string; identifier: string }>).find((candidate) => candidate.name === name);
    return rule ? { name, owner: rule.owner, ...(rule.owner === 'AWS' ? { identifier: rule.identifier } : {}) } : null;
  }
}

function paths(value: Json, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== 'object') return [prefix];
  const entries = Array.isArray(value) ? value.map((item, index) => [String(index), item] as const) : Object.entries(value);
  return [prefix, ...entries.flatMap(([key, inner]) => paths(inner as Json, [...prefix, key]))];
}

function setAt(root: Json, path: string[], change: (value: Json) => Json | undefined): Json {
  if (path.length === 0) return change(root) ?? null;
  const [head = '', ...rest] = path;
  if (root === null || typeof root !== 'object') return root;
  const copy: any = Array.isArray(root) ? [...root] : { ...root };
  const next = rest.length === 0 ? change(copy[head] as Json) : setAt(copy[head] as Json, rest, change);
  if (next === undefined) delete copy[head];
  else copy[head] = next;
  return copy;
}

const lookAlikes = ['а', 'е', 'о', 'с', '\u200b', '\u00a0', ' ', 'Ａ', '\u0000', '\n', '..', '/', '*', '?', '%2F', '\\', ':', '"'];
type Change = (value: Json) => Json | undefined;

const mutation: fc.Arbitrary<Change> = fc.oneof(
  fc.constant((_: Json): Json | undefined => undefined), // delete
  fc.constant((_: Json): Json | undefined => null),
  fc.jsonValue().map((replacement) => (_: Json): Json | undefined => replacement as Json),
  fc.constantFrom(...lookAlikes).map((insert) => (value: Json): Json | undefined => (typeof value === 'string' ? `${value.slice(0, 3)}${insert}${value.slice(3)}` : value)),
  fc.constant((value: Json): Json | undefined => (typeof value === 'string' ? value.toUpperCase() : value)),
  fc.constant((value: Json): Json | undefined => (typeof value === 'string' ? value.repeat(2) : value)),
  fc.constant((value: Json): Json | undefined => (typeof value === 'string' ? '' : value)),
  fc.constant((value: Json): Json | undefined => (Array.isArray(value) && value.length > 0 ? [...value, value[0] as Json] : value)),
  fc.constant((value: Json): Json | undefined => (Array.isArray(value) ? [] : value)),
  fc.constant((value: Json): Json | undefined => (typeof value === 'boolean' ? !value : value)),
  fc.constant((value: Json): Json | undefined => (typeof value === 'string' ? [value] : value)),
  fc
    .constantFrom(
      ACCOUNT,
      OTHER_ACCOUNT,
      `AWS::::Account:${OTHER_ACCOUNT}`,
      `arn:aws:s3:::driftfix-demo-other`,
      `arn:aws:iam::${OTHER_ACCOUNT}:role/partner`,
      `arn:aws:iam::${OTHER_ACCOUNT}:policy/ops`,
      'arn:aws:iam::aws:policy/AdministratorAccess',
      `arn:aws:iam::${ACCOUNT}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig`,
      'arn:aws:s3:::bucket/key',
      '2099-01-01T00:00:00Z',
      '1970-01-01T00:00:00Z',
      'eu-west-1',
      'COMPLIANT',
      'NON_COMPLIANT',
      'ARCHIVED',
      'RESOLVED',
      'SUPPRESSED',
      'PASSED',
      'FAILED',
      'AWS::S3::Bucket',
      'AWS::IAM::Role',
      'AWS::::Account',
      'AwsIamRole',
      'S3.8',
      'IAM.1',
      'cloudtrail-enabled',
      'team-buckets-must-have-owner-tag',
      '*',
      ...Object.values(EVENT_SOURCE),
      ...Object.values(DETAIL_TYPE),
    )
    .map((swap) => (_: Json): Json | undefined => swap),
  // Object spread defines "__proto__" as an own key, as JSON.parse does: the prototype is not changed.
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'extra').map(
    (key) =>
      (value: Json): Json | undefined =>
        value && typeof value === 'object' && !Array.isArray(value) ? ({ ...JSON.parse(`{"${key}":{"x":1}}`), ...value } as Json) : value,
  ),
);

const mutatedEvent = fc.tuple(fc.constantFrom(...SAMPLES), fc.array(fc.tuple(fc.nat(), mutation), { minLength: 1, maxLength: 3 })).map(([sample, changes]) => {
  let event = sample;
  for (const [pick, change] of changes) {
    const all = paths(event);
    event = setAt(event, all[pick % all.length] ?? [], change);
  }
  return event;
});

interface World {
  deps: EngineDeps;
  ledger: MemoryLedger;
  configRules: SampleConfigRules;
  commands: Array<{ call: string; input: unknown }>;
}

function offlineWorld(rules: EngineDeps['rules']): World {
  const commands: World['commands'] = [];
  const ledger = new MemoryLedger();
  const configRules = new SampleConfigRules();
  const throwing = (rule: string, client: string) => ({
    send: async (command: { input?: unknown }) => {
      commands.push({ call: `${rule}.${client}.${command.constructor.name}`, input: command.input });
      throw new NoAwsInUnitTests(`${command.constructor.name} was sent`);
    },
  });
  const settings = loadSettings(RULES, {
    RULE_MODES: RULES.map((rule) => `${rule.id}=auto`).join(','),
    UNHANDLED_FINDINGS: 'notify',
    HUB_ACCOUNT: HUB,
    STACK_NAME: 'driftfix-prod',
    REMEDIATION_TABLE: 'memory',
  });
  const deps: EngineDeps = {
    rules,
    clientsFor: (rule) => Object.fromEntries(Object.keys(rule.clients).map((name) => [name, throwing(rule.id, name)])),
    ledger,
    settings,
    identity: { account: ACCOUNT, region: REGION },
    log: { info() {}, warn() {}, error() {} },
    configRules,
    now: () => NOW,
  };
  return { deps, ledger, configRules, commands };
}

const OUTCOMES = new Set<string>(Object.values(OUTCOME));
const LEDGER_READS = new Set(['getRecord', 'getApproval', 'listApprovals', 'getExemption']);

/** Runs the work; a throw must be one of driftfix's own errors. */
async function settle(work: () => Promise<EventResult>): Promise<EventResult | undefined> {
  try {
    return await work();
  } catch (error) {
    expect(error, String(error)).toBeInstanceOf(DriftfixError);
    return undefined;
  }
}

function expectWellFormed(result: EventResult) {
  expect(OUTCOMES.has(result.outcome), result.outcome).toBe(true);
  expect(typeof result.reason).toBe('string');
  expect(result.reason.length).toBeGreaterThan(0);
  for (const call of result.calls) expect(call).toMatch(/^(S3|S3Control|IAM|AccessAnalyzer)\.[A-Z]\w+$/);
}

/** Whatever was read or recorded names this account and region only. */
function expectOnlyThisAccount(world: World) {
  for (const { input } of world.commands) {
    const text = JSON.stringify(input) ?? '';
    expect(text).not.toContain(`:${OTHER_ACCOUNT}:`);
    const accountId = (input as { AccountId?: string } | undefined)?.AccountId;
    if (accountId !== undefined) expect(accountId).toBe(ACCOUNT);
  }
  for (const record of world.ledger.records.values()) {
    expect(record.account).toBe(ACCOUNT);
    expect(record.region).toBe(REGION);
  }
}

const seed = 20261126;

describe('hostile events, property-based', () => {
  it('a rule function handles or refuses them; what intake refuses reaches nothing; only driftfix errors are thrown', async () => {
    const seen = new Set<string>();
    let reachedAws = 0;
    await fc.assert(
      fc.asyncProperty(mutatedEvent, fc.constantFrom(...RULES), async (event, rule) => {
        const world = offlineWorld([rule]);
        const intook = intakeEvent(event, { ...world.deps.identity, acceptReplay: true, now: () => NOW, hubAccount: HUB });
        const result = await settle(() => handleRuleEvent(event, rule, world.deps, { dryRun: false }));
        if (intook.kind === 'rejected' || intook.kind === 'ignored') {
          expect(result).toMatchObject({ outcome: intook.kind, reason: intook.reason, calls: [], writes: 0 });
        }
        if (intook.kind === 'rejected' || intook.kind === 'ignored') {
          expect(world.commands).toEqual([]);
          expect(world.ledger.requests).toEqual([]);
          expect(world.configRules.asked).toBe(0);
        }
        if (result?.outcome === 'rejected') {
          // Refused after a look at AWS Config or at its own table (an approval that does not exist): nothing read of the resource, nothing written.
          expect(world.commands).toEqual([]);
          expect(world.ledger.requests.filter((request) => !LEDGER_READS.has(request))).toEqual([]);
        }
        if (result) {
          expectWellFormed(result);
          seen.add(result.outcome);
          // A write needs a successful read first, and every read here fails.
          expect(result.writes).toBe(0);
        }
        if (world.commands.length > 0) reachedAws += 1;
        expectOnlyThisAccount(world);
      }),
      { numRuns: 400, seed },
    );
    // Not vacuous: mutations both break events and leave some that reach a rule's reads.
    expect([...seen]).toEqual(expect.arrayContaining(['rejected', 'ignored', 'skipped', 'failed']));
    expect(reachedAws).toBeGreaterThan(0);
  }, 120_000);

  it('the unhandled-findings function handles or refuses them, and never calls AWS', async () => {
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(mutatedEvent, async (event) => {
        const world = offlineWorld(RULES);
        const intook = intakeEvent(event, { ...world.deps.identity, acceptReplay: true, now: () => NOW });
        const result = await settle(() => handleUnhandledFinding(event, world.deps, { dryRun: false }));
        expect(world.commands).toEqual([]);
        expect(world.configRules.asked).toBe(0);
        if (intook.kind === 'rejected' || intook.kind === 'ignored') {
          expect(result).toMatchObject({ outcome: intook.kind });
          expect(world.ledger.requests).toEqual([]);
        }
        if (result) {
          expectWellFormed(result);
          seen.add(result.outcome);
        }
        expectOnlyThisAccount(world);
      }),
      { numRuns: 300, seed },
    );
    expect([...seen]).toEqual(expect.arrayContaining(['rejected', 'ignored', 'notified']));
  }, 120_000);

  it('intake never throws, whatever it is given', () => {
    fc.assert(
      fc.property(fc.oneof(mutatedEvent, fc.anything() as fc.Arbitrary<Json>), fc.boolean(), (event, acceptReplay) => {
        const result = intakeEvent(event, { account: ACCOUNT, region: REGION, acceptReplay, now: () => NOW, hubAccount: HUB });
        expect(['finding', 'approved', 'decision', 'ignored', 'skipped', 'rejected']).toContain(result.kind);
        if (result.kind === 'finding') {
          expect(result.finding.account).toBe(ACCOUNT);
          expect(result.finding.region).toBe(REGION);
          expect(result.finding.replayed).toBe((event as { source?: unknown }).source === 'driftfix.replay');
          if (!acceptReplay) expect(result.finding.replayed).toBe(false);
        }
      }),
      { numRuns: 1000, seed },
    );
  });
});
