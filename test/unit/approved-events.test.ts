import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { RULES } from '../../rules/index.ts';
import { s3BucketPublicAccessBlock } from '../../rules/s3-bucket-public-access-block.ts';
import { s3DefaultEncryption } from '../../rules/s3-default-encryption.ts';
import { createResourceClients } from '../../core/aws/all-clients.ts';
import type { PendingApproval } from '../../core/model/record.ts';
import { type EngineDeps, processEvent } from '../../core/engine/engine.ts';
import { intakeEvent } from '../../core/intake/intake.ts';
import { loadSettings } from '../../core/aws/settings.ts';
import { ACCOUNT, configEvent, OTHER_ACCOUNT, REGION } from '../support/events.ts';
import { silentLog } from '../support/local-aws.ts';
import { MemoryRecordStore } from '../support/memory-store.ts';

const s3 = mockClient(S3Client);
const APPROVAL_ID = 'apr-8c0f4c1e-1111-4a4a-9b9b-0123456789ab';

function approvedEvent(ruleId: string, approvalId = APPROVAL_ID) {
  return {
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': 'Remediation Approved',
    source: 'driftfix.approvals',
    account: ACCOUNT,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: REGION,
    resources: [],
    detail: { approvalId, ruleId },
  };
}

function approval(overrides: Partial<PendingApproval> = {}): PendingApproval {
  const intake = intakeEvent(configEvent({ rule: 's3-bucket-server-side-encryption-enabled', resourceId: 'approved-bucket' }), {
    account: ACCOUNT,
    region: REGION,
    acceptReplay: true,
    now: Date.now,
  });
  if (intake.kind !== 'finding') throw new Error(intake.kind);
  return {
    approvalId: APPROVAL_ID,
    status: 'approved',
    recordId: 'rec-1',
    eventId: intake.finding.eventId,
    ruleId: 's3-default-encryption',
    ruleTitle: 'S3 default encryption',
    resource: 'AWS::S3::Bucket/approved-bucket',
    finding: intake.finding,
    steps: [],
    reason: 'approve mode',
    risk: 'low',
    createdAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    ...overrides,
  };
}

let store: MemoryRecordStore;
const deps = (): EngineDeps => ({
  rules: RULES,
  clients: createResourceClients({ region: REGION }),
  store,
  settings: loadSettings(RULES, {}),
  identity: { account: ACCOUNT, region: REGION },
  log: silentLog,
});

beforeEach(() => {
  s3.reset();
  store = new MemoryRecordStore();
});

describe('an approved-change event is only a pointer: the table decides', () => {
  it('refuses an approval that does not exist', async () => {
    const result = await processEvent(approvedEvent('s3-default-encryption'), s3DefaultEncryption, deps(), { dryRun: false });
    expect(result).toMatchObject({ outcome: 'rejected', calls: [], writes: 0 });
    expect(result.reason).toContain('does not exist');
  });

  it('refuses an event naming another rule than the function’s, and an approval stored for another rule', async () => {
    await store.putApproval(approval());
    const misrouted = await processEvent(approvedEvent('s3-default-encryption'), s3BucketPublicAccessBlock, deps(), { dryRun: false });
    expect(misrouted.reason).toContain('approval is for rule s3-default-encryption, not s3-bucket-public-access-block');
    const forged = await processEvent(approvedEvent('s3-bucket-public-access-block'), s3BucketPublicAccessBlock, deps(), { dryRun: false });
    expect(forged).toMatchObject({ outcome: 'rejected', writes: 0 });
    expect(forged.reason).toContain('belongs to rule s3-default-encryption');
  });

  it('refuses an approval whose finding is in another account', async () => {
    const foreign = approval();
    foreign.finding = { ...foreign.finding, account: OTHER_ACCOUNT };
    await store.putApproval(foreign);
    const result = await processEvent(approvedEvent('s3-default-encryption'), s3DefaultEncryption, deps(), { dryRun: false });
    expect(result.outcome).toBe('rejected');
    expect(result.reason).toContain(OTHER_ACCOUNT);
  });

  it('applies nothing while the approval is still pending (no one approved it)', async () => {
    await store.putApproval(approval({ status: 'pending' }));
    const result = await processEvent(approvedEvent('s3-default-encryption'), s3DefaultEncryption, deps(), { dryRun: false });
    expect(result).toMatchObject({ outcome: 'skipped', writes: 0, calls: [] });
    expect(result.reason).toContain('is pending, not approved');
    expect(s3.calls()).toHaveLength(0);
  });

  it('is never applied in a dry run', async () => {
    await store.putApproval(approval());
    const result = await processEvent(approvedEvent('s3-default-encryption'), s3DefaultEncryption, deps(), { dryRun: true });
    expect(result).toMatchObject({ outcome: 'skipped', writes: 0 });
    expect(s3.calls()).toHaveLength(0);
  });
});

describe('a finding delivered to another rule’s function', () => {
  it('is skipped, naming the rule it belongs to, without reading anything', async () => {
    const event = configEvent({ rule: 's3-bucket-server-side-encryption-enabled', resourceId: 'elsewhere' });
    const result = await processEvent(event, s3BucketPublicAccessBlock, deps(), { dryRun: false });
    expect(result).toMatchObject({ outcome: 'skipped', calls: [], writes: 0 });
    expect(result.reason).toBe('event belongs to rule s3-default-encryption, not s3-bucket-public-access-block');
    expect(s3.calls()).toHaveLength(0);
  });
});
