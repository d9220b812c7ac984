import {
  GetBucketEncryptionCommand,
  GetBucketTaggingCommand,
  PutBucketEncryptionCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { S3ControlClient } from '@aws-sdk/client-s3-control';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RULES } from '../../rules/index.ts';
import { s3DefaultEncryption } from '../../rules/s3-default-encryption.ts';
import { createResourceClients } from '../../core/aws/all-clients.ts';
import { type EngineDeps, processEvent } from '../../core/engine/engine.ts';
import { ResourceBusyError } from '../../core/model/errors.ts';
import { loadSettings } from '../../core/aws/settings.ts';
import { ACCOUNT, configEvent, REGION } from '../support/events.ts';
import { silentLog } from '../support/local-aws.ts';
import { MemoryRecordStore } from '../support/memory-store.ts';

const s3 = mockClient(S3Client);
mockClient(S3ControlClient);

function awsError(name: string, status: number): S3ServiceException {
  return new S3ServiceException({ name, message: `${name} (injected)`, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status } });
}

const notEncrypted = () => awsError('ServerSideEncryptionConfigurationNotFoundError', 404);
const encrypted = { ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' as const } }] } };

function deps(store = new MemoryRecordStore(), overrides: Partial<EngineDeps> = {}): EngineDeps {
  return {
    rules: RULES,
    clients: createResourceClients({ region: REGION }),
    store,
    settings: loadSettings(RULES, {}),
    identity: { account: ACCOUNT, region: REGION },
    log: silentLog,
    ...overrides,
  };
}

const event = () => configEvent({ rule: 's3-bucket-server-side-encryption-enabled', resourceId: 'fault-bucket' });

beforeEach(() => {
  s3.reset();
  s3.on(GetBucketTaggingCommand).rejects(awsError('NoSuchTagSet', 404));
});
afterEach(() => s3.reset());

describe('faults, with aws-sdk-client-mock', () => {
  it('AccessDenied on read: a clear failed record and no write', async () => {
    s3.on(GetBucketEncryptionCommand).rejects(awsError('AccessDenied', 403));
    const store = new MemoryRecordStore();
    const result = await processEvent(event(), s3DefaultEncryption, deps(store), { dryRun: false });

    expect(result).toMatchObject({ outcome: 'failed', writes: 0 });
    expect(result.reason).toContain('could not read the resource: AccessDenied');
    expect(s3.commandCalls(PutBucketEncryptionCommand)).toHaveLength(0);
    expect(store.records.get(result.recordId ?? '')?.outcome).toBe('failed');
  });

  it('AccessDenied on write: recorded as failed with nothing changed; the in-progress record came first', async () => {
    s3.on(GetBucketEncryptionCommand).rejects(notEncrypted());
    s3.on(PutBucketEncryptionCommand).rejects(awsError('AccessDenied', 403));
    const store = new MemoryRecordStore();
    const result = await processEvent(event(), s3DefaultEncryption, deps(store), { dryRun: false });

    expect(result).toMatchObject({ outcome: 'failed', writes: 0 });
    expect(result.reason).toMatch(/write failed; nothing was changed: AccessDenied/);
    expect(store.history[0]?.status).toBe('in-progress');
    expect(store.history.at(-1)).toMatchObject({ status: 'final', outcome: 'failed' });
    expect(store.history[0]?.steps[0]?.operation).toBe('S3.PutBucketEncryption');
  });

  it('a write that succeeds but whose verification read disagrees is a failure, not a success', async () => {
    s3.on(GetBucketEncryptionCommand).rejects(notEncrypted());
    s3.on(PutBucketEncryptionCommand).resolves({});
    const result = await processEvent(event(), s3DefaultEncryption, deps(), { dryRun: false });

    expect(result.outcome).toBe('failed');
    expect(result.reason).toContain('verification failed');
    expect(result.writes).toBe(1);
  });

  it('throttling that outlasts the retries ends in a clean failure', async () => {
    s3.on(GetBucketEncryptionCommand).rejects(awsError('SlowDown', 503));
    const result = await processEvent(event(), s3DefaultEncryption, deps(), { dryRun: false });
    expect(result).toMatchObject({ outcome: 'failed', writes: 0 });
    expect(result.reason).toContain('SlowDown');
  });

  it('a retry after a failure is not treated as a duplicate and converges', async () => {
    const store = new MemoryRecordStore();
    const delivery = event();
    s3.on(GetBucketEncryptionCommand).rejects(notEncrypted());
    s3.on(PutBucketEncryptionCommand).rejects(awsError('AccessDenied', 403));
    const first = await processEvent(delivery, s3DefaultEncryption, deps(store), { dryRun: false });
    expect(first.outcome).toBe('failed');

    s3.reset();
    s3.on(GetBucketTaggingCommand).rejects(awsError('NoSuchTagSet', 404));
    s3.on(GetBucketEncryptionCommand).rejectsOnce(notEncrypted()).resolves(encrypted);
    s3.on(PutBucketEncryptionCommand).resolves({});
    const retry = await processEvent(structuredClone(delivery), s3DefaultEncryption, deps(store), { dryRun: false });
    expect(retry).toMatchObject({ outcome: 'remediated', writes: 1, recordId: first.recordId });
  });

  it('the table unavailable: the invocation throws (Lambda retries) before any write', async () => {
    s3.on(GetBucketEncryptionCommand).rejects(notEncrypted());
    const store = new MemoryRecordStore();
    store.getRecord = async () => {
      throw Object.assign(new Error('table unavailable (injected)'), { name: 'ResourceNotFoundException' });
    };
    await expect(processEvent(event(), s3DefaultEncryption, deps(store), { dryRun: false })).rejects.toThrow('table unavailable');
    expect(s3.commandCalls(PutBucketEncryptionCommand)).toHaveLength(0);
  });

  it('a resource held by another invocation for too long: ResourceBusyError, nothing read or written', async () => {
    const store = new MemoryRecordStore();
    await store.acquireLock('AWS::S3::Bucket/fault-bucket', 'someone-else', 60_000);
    let clock = Date.now();
    const result = processEvent(event(), s3DefaultEncryption, deps(store, { now: () => clock, sleep: async (ms) => { clock += ms; } }), { dryRun: false });
    await expect(result).rejects.toBeInstanceOf(ResourceBusyError);
    expect(s3.calls()).toHaveLength(0);
  });
});
