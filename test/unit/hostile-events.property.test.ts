import { IAMClient } from '@aws-sdk/client-iam';
import {
  GetBucketEncryptionCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketWebsiteCommand,
  GetPublicAccessBlockCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { GetPublicAccessBlockCommand as GetAccountPublicAccessBlockCommand, S3ControlClient } from '@aws-sdk/client-s3-control';
import { AccessAnalyzerClient } from '@aws-sdk/client-accessanalyzer';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RULES } from '../../rules/index.ts';
import { createResourceClients } from '../../core/aws/all-clients.ts';
import { OUTCOME } from '../../core/model/constants.ts';
import { type EngineDeps, processEvent } from '../../core/engine/engine.ts';
import { DriftfixError } from '../../core/model/errors.ts';
import { loadSettings } from '../../core/aws/settings.ts';
import { isWriteOperation } from '../../core/model/write-operations.ts';
import { ACCOUNT, loadSample, REGION } from '../support/events.ts';
import { silentLog } from '../support/local-aws.ts';
import { MemoryRecordStore } from '../support/memory-store.ts';

/**
 * Property: whatever a valid event is mutated into, the bot handles it or rejects it; a rejected
 * event makes no AWS call at all; and nothing but driftfix's own errors is ever thrown.
 * AWS is faked (every read says "not configured", every write succeeds, verification then fails)
 * so that any event the bot accepts could lead to a write.
 */
const notFound = (name: string) => new S3ServiceException({ name, message: name, $fault: 'client', $metadata: { httpStatusCode: 404 } });
const s3 = mockClient(S3Client);
const control = mockClient(S3ControlClient);
const iam = mockClient(IAMClient);
const analyzer = mockClient(AccessAnalyzerClient);
const mocks = [s3, control, iam, analyzer] as Array<{ calls: () => Array<{ args: Array<{ input: unknown }> }>; restore: () => void }>;

beforeAll(() => {
  s3.onAnyCommand().resolves({});
  s3.on(GetBucketTaggingCommand).rejects(notFound('NoSuchTagSet'));
  s3.on(GetBucketEncryptionCommand).rejects(notFound('ServerSideEncryptionConfigurationNotFoundError'));
  s3.on(GetPublicAccessBlockCommand).rejects(notFound('NoSuchPublicAccessBlockConfiguration'));
  s3.on(GetBucketWebsiteCommand).rejects(notFound('NoSuchWebsiteConfiguration'));
  s3.on(GetBucketPolicyCommand).resolves({
    Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: '444455556666' }, Action: 's3:GetObject', Resource: '*' }] }),
  });
  control.onAnyCommand().resolves({});
  control.on(GetAccountPublicAccessBlockCommand).rejects(notFound('NoSuchPublicAccessBlockConfiguration'));
  iam.onAnyCommand().rejects(Object.assign(new Error('no such entity'), { name: 'NoSuchEntity' }));
  analyzer.onAnyCommand().resolves({});
});
afterAll(() => {
  for (const mock of mocks) mock.restore();
});

const SAMPLES = [
  'config/s3-bucket-server-side-encryption-enabled.json',
  'config/s3-bucket-level-public-access-prohibited.json',
  'config/s3-account-level-public-access-blocks.json',
  'config/iam-policy-no-statements-with-admin-access.json',
  'access-analyzer/s3-bucket-public.json',
  'access-analyzer/s3-bucket-cross-account.json',
  'access-analyzer/iam-role-cross-account.json',
].map((file) => loadSample(file));

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

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
  const next = setAt(copy[head] as Json, rest, change);
  if (rest.length === 0 && next === undefined) delete copy[head];
  else copy[head] = rest.length === 0 ? change(copy[head]) : next;
  if (rest.length === 0 && copy[head] === undefined) delete copy[head];
  return copy;
}

const lookAlikes = ['а', 'е', 'о', '\u200b', ' ', 'Ａ', '\u0000', '..', '/', '*', '%2F', '\\'];

const mutation = fc.oneof(
  fc.constant((_: Json): Json | undefined => undefined), // delete
  fc.jsonValue().map((replacement) => (_: Json): Json | undefined => replacement as Json),
  fc.constantFrom(...lookAlikes).map((insert) => (value: Json): Json | undefined => (typeof value === 'string' ? `${value.slice(0, 3)}${insert}${value.slice(3)}` : value)),
  fc.constant((value: Json): Json | undefined => (typeof value === 'string' ? value.toUpperCase() : value)),
  fc.constant((value: Json): Json | undefined => (typeof value === 'string' ? value.repeat(2) : value)),
  fc.constantFrom('111122223333', '444455556666', '2099-01-01T00:00:00Z', 'eu-west-1', 'aws.config', 'driftfix.replay', 'COMPLIANT', 'ARCHIVED', '*').map(
    (swap) => (_: Json): Json | undefined => swap,
  ),
  // Object spread defines "__proto__" as an own key, as JSON.parse does: the prototype is not changed.
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'extra').map((key) => (value: Json): Json | undefined =>
    value && typeof value === 'object' && !Array.isArray(value) ? ({ ...JSON.parse(`{"${key}":{"x":1}}`), ...value } as Json) : value,
  ),
);

const mutatedEvent = fc
  .tuple(fc.constantFrom(...SAMPLES), fc.array(fc.tuple(fc.nat(), mutation), { minLength: 1, maxLength: 3 }))
  .map(([sample, changes]) => {
    let event = sample as Json;
    for (const [pick, change] of changes) {
      const all = paths(event);
      event = setAt(event, all[pick % all.length] ?? [], change);
    }
    return event;
  });

describe('hostile events, property-based', () => {
  it('are handled or rejected; a rejected one makes no AWS call; only driftfix errors are thrown', async () => {
    const store = new MemoryRecordStore();
    const deps: EngineDeps = {
      rules: RULES,
      clients: createResourceClients({ region: REGION }),
      store,
      settings: loadSettings(RULES, { RULE_MODES: RULES.map((rule) => `${rule.id}=auto`).join(',') }),
      identity: { account: ACCOUNT, region: REGION },
      log: silentLog,
      sleep: async () => {},
    };
    const outcomes = new Set<string>(Object.values(OUTCOME));
    const seen = new Set<string>();
    let wrote = false;
    await fc.assert(
      fc.asyncProperty(mutatedEvent, fc.constantFrom(...RULES), async (event, rule) => {
        const before = mocks.map((mock) => mock.calls().length);
        let result: Awaited<ReturnType<typeof processEvent>>;
        try {
          result = await processEvent(event, rule, deps, { dryRun: false });
        } catch (error) {
          expect(error).toBeInstanceOf(DriftfixError);
          return;
        }
        expect(outcomes.has(result.outcome)).toBe(true);
        seen.add(result.outcome);
        expect(typeof result.reason).toBe('string');
        const made = mocks.reduce((sum, mock, index) => sum + mock.calls().length - (before[index] ?? 0), 0);
        if (result.outcome === 'rejected' || result.outcome === 'ignored') {
          expect(made).toBe(0);
          expect(result.calls).toEqual([]);
        }
        for (const call of result.calls) expect(call).toMatch(/^(S3|S3Control|IAM|AccessAnalyzer)\.[A-Z]\w+$/);
        if (result.writes > 0) {
          wrote = true;
          expect(result.calls.some((call) => isWriteOperation(call))).toBe(true);
        }
        // Whatever was accepted names this account and region only.
        for (const mock of mocks) {
          for (const call of mock.calls().slice(before[mocks.indexOf(mock)] ?? 0)) {
            const input = JSON.stringify(call.args[0]?.input);
            expect(input).not.toContain('444455556666"');
          }
        }
      }),
      { numRuns: 400, seed: 20261126 },
    );
    // Not vacuous: mutations both break events and leave some that the bot acts on.
    expect([...seen]).toEqual(expect.arrayContaining(['rejected', 'ignored', 'skipped', 'pending-approval']));
    expect(wrote).toBe(true);
  }, 60_000);
});
