import type { EC2Client } from '@aws-sdk/client-ec2';
import type { KMSClient } from '@aws-sdk/client-kms';
import { z } from 'zod';
import { parseArn, type Plan, type ReadContext, type Rule, type Step } from '../core/model/index.ts';
import { EC2, KMS } from './lib/clients.ts';
import { ACCOUNT_IN_REGION } from './lib/resources.ts';

/**
 * EBS encryption by default, a setting of the account in each Region.
 *
 * AWS Config ec2-ebs-encryption-by-default (EC2_EBS_ENCRYPTION_BY_DEFAULT, periodic): "Checks if
 * Amazon Elastic Block Store (EBS) encryption is enabled by default. The rule is NON_COMPLIANT if
 * the encryption is not enabled" (https://docs.aws.amazon.com/config/latest/developerguide/ec2-ebs-encryption-by-default.html).
 * Security Hub EC2.7 "EBS default encryption should be enabled" runs that rule.
 *
 * Mode `approve`, because the setting is account-wide and can stop workloads that work today:
 * - "After you enable encryption by default, you can no longer launch instances using instance
 *   types that do not support encryption" (EC2 API Reference, EnableEbsEncryptionByDefault).
 * - Pipelines that build and share snapshots and AMIs: with AWS's key (aws/ebs) new snapshots and
 *   AMIs cannot be shared with other accounts ("You can't share AMIs that are backed by snapshots
 *   that are encrypted with the default AWS managed key", EC2 User Guide, sharing AMIs).
 * - EBS direct API workflows: "If Amazon EBS encryption by default is enabled on your AWS account,
 *   you can't create unencrypted snapshots" and "you cannot start a new snapshot using an
 *   unencrypted parent snapshot" (EBS User Guide, Encryption outcomes for EBS direct APIs).
 * What does not change: "Enabling encryption by default has no effect on the encryption status of
 * your existing volumes" (EnableEbsEncryptionByDefault).
 *
 * The key every new volume would use is read every time (GetEbsDefaultKmsKeyId: the account's
 * default may already be a customer managed key, `kmsKeyArn` set or not) and described with KMS
 * DescribeKey unless it is AWS's own (`alias/aws/ebs`). A customer managed key means a person
 * decides even in auto mode: "If you delete or disable the customer managed KMS key that you
 * specified for use with encryption by default, your instances will fail to launch"
 * (EC2 API Reference, ModifyEbsDefaultKmsKeyId), and launches by Auto Scaling, Spot and other
 * services' roles fail unless the key policy lets those roles use it. A key that is not Enabled
 * (disabled, pending deletion, gone) is never made the one every launch needs: skipped, the reason
 * said.
 */

const params = z.strictObject({
  /**
   * A customer managed symmetric KMS key (its key ARN, of this account and Region) to make the
   * Region's default EBS key; unset, the Region's current default key stays (AWS's own, aws/ebs,
   * unless someone changed it).
   */
  kmsKeyArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/, 'expected a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>)')
    .optional(),
});
type Params = z.infer<typeof params>;
type Clients = { ec2: EC2Client; kms: KMSClient };

/** The default key as KMS describes it; `unknown` where it cannot be read (another account's key, no access). */
export interface DefaultKey {
  manager: 'AWS' | 'CUSTOMER' | 'unknown';
  /** DescribeKey KeyState (`Enabled`, `Disabled`, `PendingDeletion`, …), `NotFound` for a deleted key; absent when unread. */
  state?: string;
}

export interface EbsEncryptionByDefaultState {
  /** GetEbsEncryptionByDefault, for the account in this Region. */
  enabled: boolean;
  /** GetEbsDefaultKmsKeyId: the default key's ARN, or `alias/aws/ebs` for AWS's own key. */
  defaultKmsKeyId: string;
  /**
   * The key a fix leaves as the default (`kmsKeyArn`, else the current default), described; absent
   * when nothing is to be done (already compliant) or the key is AWS's own by its alias.
   */
  key?: DefaultKey;
}

/** What GetEbsDefaultKmsKeyId answers while AWS's own key is the default (AWS CLI reference, get-ebs-default-kms-key-id example). */
const AWS_MANAGED_KEY = 'alias/aws/ebs';
const isAwsManagedAlias = (key: string | undefined) => key === AWS_MANAGED_KEY || Boolean(key?.endsWith(`:${AWS_MANAGED_KEY}`));

/** A key named by id or ARN; compare the part both forms share. */
function sameKey(configured: string, actual: string | undefined): boolean {
  if (!actual) return false;
  return actual === configured || configured.endsWith(`/${actual}`);
}

function keyText(state: EbsEncryptionByDefaultState): string {
  const id = state.defaultKmsKeyId;
  if (isAwsManagedAlias(id)) return 'default key aws/ebs (AWS managed)';
  return `default key ${id}`;
}

function describe(state: EbsEncryptionByDefaultState): string {
  return `EBS encryption by default ${state.enabled ? 'on' : 'off'}, ${keyText(state)}`;
}

/** Whether the plan will change anything: encryption off, or a configured key not yet the default. */
const needsChange = (state: Pick<EbsEncryptionByDefaultState, 'enabled' | 'defaultKmsKeyId'>, kmsKeyArn: string | undefined) =>
  !state.enabled || (kmsKeyArn !== undefined && !sameKey(kmsKeyArn, state.defaultKmsKeyId));

/**
 * The key a fix would leave as the default, described with KMS: AWS's own by its alias needs no
 * call; another account's key cannot be described with this function's permissions (and AWS
 * managed keys are never another account's); a key of this account is read with DescribeKey.
 */
async function describeKey(kms: KMSClient, keyId: string, where: { account: string }): Promise<DefaultKey | undefined> {
  if (isAwsManagedAlias(keyId)) return undefined;
  const arn = parseArn(keyId);
  if (arn && arn.account !== where.account) return { manager: 'CUSTOMER' };
  const { DescribeKeyCommand } = await import('@aws-sdk/client-kms');
  try {
    const output = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
    const manager = output.KeyMetadata?.KeyManager;
    return { manager: manager === 'AWS' || manager === 'CUSTOMER' ? manager : 'unknown', ...(output.KeyMetadata?.KeyState ? { state: output.KeyMetadata.KeyState } : {}) };
  } catch (error) {
    const name = (error as Error).name;
    // A default key that was deleted: every launch with new volumes would fail on it.
    if (name === 'NotFoundException') return { manager: 'CUSTOMER', state: 'NotFound' };
    if (name === 'AccessDeniedException') return { manager: 'unknown' };
    throw error;
  }
}

/** Read once per invocation when no key is configured: the fix does not touch the default key, so the check after it reads the flag only. */
const defaultKeys = new WeakMap<object, Promise<string>>();

/** Sent at once (the SDK module already loaded), in the same turn as the flag's read. */
function readDefaultKey(context: ReadContext<Params, Clients>, sdk: Pick<typeof import('@aws-sdk/client-ec2'), 'GetEbsDefaultKmsKeyIdCommand'>): Promise<string> {
  const read = () => context.clients.ec2.send(new sdk.GetEbsDefaultKmsKeyIdCommand({})).then((output) => output.KmsKeyId ?? AWS_MANAGED_KEY);
  // With a configured key the fix changes the default, and the check after it must read it again.
  if (context.params.kmsKeyArn) return read();
  let found = defaultKeys.get(context);
  if (!found) {
    found = read();
    defaultKeys.set(context, found);
    // A failed read is not kept: the next look asks again.
    found.catch(() => defaultKeys.delete(context));
  }
  return found;
}

const customerText = (key: DefaultKey | undefined) => (key?.manager === 'CUSTOMER' ? 'customer managed key' : key?.manager === 'unknown' ? 'key' : 'AWS managed key');

const rule: Rule<EbsEncryptionByDefaultState, Params, Clients> = {
  id: 'ec2-ebs-encryption-by-default',
  title: 'EBS encryption by default',
  resource: ACCOUNT_IN_REGION,
  clients: { ec2: EC2, kms: KMS },
  answers: {
    config: [
      {
        identifier: 'EC2_EBS_ENCRYPTION_BY_DEFAULT',
        // The rule's page lists no resource type. The setting belongs to the account (in one
        // Region), which Config names by its id under AWS::::Account and Security Hub as AwsAccount
        // `AWS::::Account:<id>`; the resource id is the account id either way.
        resourceTypes: ['AWS::::Account'],
        defaultName: 'ec2-ebs-encryption-by-default',
        periodic: true,
      },
    ],
    // EC2.7 "EBS default encryption should be enabled" (Security Hub controls reference).
    securityHub: ['EC2.7'],
  },
  // An account-wide setting that can stop launches and snapshot pipelines: a person decides (header).
  defaultMode: 'approve',
  risk: 'medium',
  params,
  // Account settings of EC2 have no resource type in IAM: granted on Resource "*" (Service Authorization Reference).
  permissions: {
    read: ['ec2:GetEbsEncryptionByDefault', 'ec2:GetEbsDefaultKmsKeyId'],
    wildcardOnly: ['ec2:GetEbsEncryptionByDefault', 'ec2:GetEbsDefaultKmsKeyId', 'ec2:EnableEbsEncryptionByDefault', 'ec2:ModifyEbsDefaultKmsKeyId'],
    // The default key, described: the account's own keys in this Region.
    alsoOn: [{ actions: ['kms:DescribeKey'], resource: 'kms-key' }],
  },
  operations: {
    'EC2.ModifyEbsDefaultKmsKeyId': {
      client: 'ec2',
      iamAction: 'ec2:ModifyEbsDefaultKmsKeyId',
      command: async () => (await import('@aws-sdk/client-ec2')).ModifyEbsDefaultKmsKeyIdCommand,
    },
    'EC2.EnableEbsEncryptionByDefault': {
      client: 'ec2',
      iamAction: 'ec2:EnableEbsEncryptionByDefault',
      command: async () => (await import('@aws-sdk/client-ec2')).EnableEbsEncryptionByDefaultCommand,
    },
    'EC2.DisableEbsEncryptionByDefault': {
      client: 'ec2',
      iamAction: 'ec2:DisableEbsEncryptionByDefault',
      command: async () => (await import('@aws-sdk/client-ec2')).DisableEbsEncryptionByDefaultCommand,
      undoOnly: true,
    },
    'EC2.ResetEbsDefaultKmsKeyId': {
      client: 'ec2',
      iamAction: 'ec2:ResetEbsDefaultKmsKeyId',
      command: async () => (await import('@aws-sdk/client-ec2')).ResetEbsDefaultKmsKeyIdCommand,
      undoOnly: true,
    },
  },

  async readState(context) {
    const { clients, params, target } = context;
    const sdk = await import('@aws-sdk/client-ec2');
    const [encryption, defaultKmsKeyId] = await Promise.all([clients.ec2.send(new sdk.GetEbsEncryptionByDefaultCommand({})), readDefaultKey(context, sdk)]);
    const state: EbsEncryptionByDefaultState = { enabled: encryption.EbsEncryptionByDefault === true, defaultKmsKeyId };
    // The key is described only when there is something to decide: a compliant read (the check after a fix) makes no KMS call.
    if (!needsChange(state, params.kmsKeyArn)) return state;
    const key = await describeKey(clients.kms, params.kmsKeyArn ?? defaultKmsKeyId, target);
    return key ? { ...state, key } : state;
  },

  plan(state, { kmsKeyArn }, finding): Plan {
    const region = finding.region;
    if (!needsChange(state, kmsKeyArn)) return { status: 'compliant', summary: `${describe(state)} in ${region}` };
    if (kmsKeyArn) {
      const configured = parseArn(kmsKeyArn);
      if (configured?.account !== finding.account || configured.region !== region) {
        return {
          status: 'unfixable',
          summary: `kmsKeyArn ${kmsKeyArn} is not a key of ${finding.account} in ${region}; configure this Region's key for rule ec2-ebs-encryption-by-default (RULE_PARAMS)`,
        };
      }
    }
    // The key every new volume uses once the fix is done.
    const used = kmsKeyArn ?? state.defaultKmsKeyId;
    const usedText = isAwsManagedAlias(used) ? 'aws/ebs (AWS managed)' : `${customerText(state.key)} ${used}`;
    const { key } = state;
    if (key?.state && key.state !== 'Enabled') {
      const how = key.state === 'NotFound' ? 'gone (KMS has no such key)' : `${key.state} in KMS`;
      return {
        status: 'unfixable',
        summary: `new EBS volumes in ${region} would be encrypted with ${usedText}, which is ${how}: every launch with new volumes would fail; ${
          kmsKeyArn ? 'configure an Enabled key as kmsKeyArn' : 'enable it, or make another key the default (ModifyEbsDefaultKmsKeyId, ResetEbsDefaultKmsKeyId)'
        }, then turn encryption by default on`,
      };
    }

    const steps: Step[] = [];
    let current = state;
    // The key first: from the moment encryption is on, new volumes use the configured key.
    if (kmsKeyArn && !sameKey(kmsKeyArn, state.defaultKmsKeyId)) {
      const after: EbsEncryptionByDefaultState = { ...current, defaultKmsKeyId: kmsKeyArn };
      const previous = state.defaultKmsKeyId;
      steps.push({
        operation: 'EC2.ModifyEbsDefaultKmsKeyId',
        input: { KmsKeyId: kmsKeyArn },
        description: `make ${kmsKeyArn} the default EBS key in ${region} (was ${isAwsManagedAlias(previous) ? 'aws/ebs, AWS managed' : previous})`,
        before: current,
        after,
        undo: isAwsManagedAlias(previous)
          ? { operation: 'EC2.ResetEbsDefaultKmsKeyId', input: {} }
          : { operation: 'EC2.ModifyEbsDefaultKmsKeyId', input: { KmsKeyId: previous } },
      });
      current = after;
    }
    if (!state.enabled) {
      const after: EbsEncryptionByDefaultState = { ...current, enabled: true };
      steps.push({
        operation: 'EC2.EnableEbsEncryptionByDefault',
        input: {},
        description: `turn on EBS encryption by default in ${region}: new volumes are encrypted with ${usedText}`,
        before: current,
        after,
        undo: { operation: 'EC2.DisableEbsEncryptionByDefault', input: {} },
      });
    }

    const risks: string[] = [];
    if (!state.enabled) {
      risks.push(
        `instance types that do not support EBS encryption can no longer be launched in ${region}`,
        `EBS direct API workflows can no longer create unencrypted snapshots, nor start a snapshot from an unencrypted parent snapshot, in ${region}`,
      );
    }
    const awsKey = !kmsKeyArn && (isAwsManagedAlias(used) || key?.manager === 'AWS');
    let approvalReason: string | undefined;
    if (awsKey) {
      // EC2 User Guide, sharing AMIs: "You can't share AMIs that are backed by snapshots that are encrypted with the default AWS managed key".
      risks.push('snapshots and AMIs of new volumes, encrypted with the AWS managed key aws/ebs, cannot be shared with other accounts');
    } else {
      risks.push(
        `launches by Auto Scaling, Spot, EC2 Fleet and other services' roles fail unless the policy of ${used} lets those roles use the key`,
        `if ${used} is disabled or deleted, no instance with new EBS volumes can launch in ${region}`,
      );
      if (key && key.state === undefined) risks.push(`${used} could not be described (another account's key, or no access to it): whether it is enabled is not known`);
      approvalReason = kmsKeyArn
        ? `every new EBS volume in ${region} would need customer managed key ${kmsKeyArn}; a key policy that misses a launching role stops launches`
        : `the default EBS key in ${region} is ${usedText}: every new volume would need it, and a key policy that misses a launching role, or a disabled or deleted key, stops launches`;
    }
    return { status: 'change', summary: steps.map((step) => step.description).join('; '), steps, risks, ...(approvalReason ? { approvalReason } : {}) };
  },

  describe,

  /** What a rollback compares: the flag and the default key, not how the key was described. */
  fingerprint: (state) => ({ enabled: state.enabled, defaultKmsKeyId: state.defaultKmsKeyId }),
};

export default rule;
