import type { KeyMetadata, KMSClient } from '@aws-sdk/client-kms';
import { z } from 'zod';
import type { Plan, ReadContext, Rule, Step } from '../core/model/index.ts';
import { KMS } from './lib/clients.ts';
import { KMS_KEY } from './lib/resources.ts';

/**
 * Automatic rotation of customer managed KMS keys.
 *
 * AWS Config cmk-backing-key-rotation-enabled (CMK_BACKING_KEY_ROTATION_ENABLED, AWS::KMS::Key,
 * periodic): "Checks if automatic key rotation is enabled for each key and matches to the key ID
 * of the customer created AWS KMS key" (https://docs.aws.amazon.com/config/latest/developerguide/cmk-backing-key-rotation-enabled.html).
 * Security Hub KMS.4 "AWS KMS key rotation should be enabled" runs that rule.
 *
 * Which keys can rotate automatically (KMS API Reference, EnableKeyRotation; KMS Developer Guide,
 * "Rotating AWS KMS keys"): symmetric encryption keys whose key material KMS generated
 * (Origin AWS_KMS), customer managed, Enabled; a multi-Region key only through its primary.
 * KMS itself rotates AWS managed keys every year. Every other key is skipped with the reason.
 */

const params = z.strictObject({
  /**
   * The rotation period when the bot turns rotation on (EnableKeyRotation RotationPeriodInDays,
   * 90–2560); unset, AWS's default of 365 days. Keys already rotating keep their period.
   */
  rotationPeriodInDays: z.number().int().min(90).max(2560).optional(),
});
type Params = z.infer<typeof params>;

export interface KmsKeyRotationState {
  keyId: string;
  arn: string;
  /** DescribeKey KeyMetadata: `AWS` or `CUSTOMER`. */
  keyManager: string;
  /** `SYMMETRIC_DEFAULT`, `RSA_2048`, `HMAC_256`, … */
  keySpec: string;
  /** `AWS_KMS`, `EXTERNAL` (imported key material), `AWS_CLOUDHSM` or `EXTERNAL_KEY_STORE` (custom key stores). */
  origin: string;
  /** `Enabled`, `Disabled`, `PendingDeletion`, … */
  keyState: string;
  /** When a key pending deletion is deleted. */
  deletionDate?: string;
  /** `PRIMARY` or `REPLICA` for multi-Region keys. */
  multiRegionKeyType?: string;
  /** A replica's primary key, where its rotation is set. */
  primaryKeyArn?: string;
  /** GetKeyRotationStatus; null when not read, for a key that cannot rotate automatically. */
  rotationEnabled: boolean | null;
  rotationPeriodInDays?: number;
}

type Clients = { kms: KMSClient };
type Metadata = Omit<KmsKeyRotationState, 'rotationEnabled' | 'rotationPeriodInDays'>;

/** AWS's rotation period when EnableKeyRotation names none (KMS API Reference, EnableKeyRotation). */
const DEFAULT_PERIOD_DAYS = 365;

function metadataOf(key: KeyMetadata | undefined, keyId: string): Metadata {
  if (!key) throw new Error(`DescribeKey returned no metadata for key ${keyId}`);
  const multiRegion = key.MultiRegion ? key.MultiRegionConfiguration : undefined;
  return {
    keyId: key.KeyId ?? keyId,
    arn: key.Arn ?? '',
    keyManager: key.KeyManager ?? 'CUSTOMER',
    keySpec: key.KeySpec ?? key.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT',
    origin: key.Origin ?? 'AWS_KMS',
    keyState: key.KeyState ?? (key.Enabled ? 'Enabled' : 'Disabled'),
    ...(key.DeletionDate ? { deletionDate: new Date(key.DeletionDate).toISOString() } : {}),
    ...(multiRegion?.MultiRegionKeyType ? { multiRegionKeyType: multiRegion.MultiRegionKeyType } : {}),
    ...(multiRegion?.MultiRegionKeyType === 'REPLICA' && multiRegion.PrimaryKey?.Arn ? { primaryKeyArn: multiRegion.PrimaryKey.Arn } : {}),
  };
}

/** Keys whose rotation status means something: AWS-generated symmetric key material, managed by the customer. */
const mayRotate = (key: Metadata) => key.keyManager === 'CUSTOMER' && key.keySpec === 'SYMMETRIC_DEFAULT' && key.origin === 'AWS_KMS';

/**
 * The key's metadata, read once per invocation: what decides whether a key can rotate (manager,
 * spec, origin, Region role) does not change when its rotation does, so the check after the fix
 * (and after a rollback) reads only the rotation status again. The first look starts it beside the
 * tags (readTags), so tags and metadata come back in one round trip.
 */
const described = new WeakMap<object, Promise<Metadata>>();

type KmsSdk = typeof import('@aws-sdk/client-kms');

/** Sent at once (the SDK module already loaded), so that a read beside it goes out in the same turn. */
function metadataFor(context: ReadContext<Params, Clients>, sdk: Pick<KmsSdk, 'DescribeKeyCommand'>): Promise<Metadata> {
  let metadata = described.get(context);
  if (!metadata) {
    const { clients, target } = context;
    metadata = clients.kms.send(new sdk.DescribeKeyCommand({ KeyId: target.resourceId })).then((output) => metadataOf(output.KeyMetadata, target.resourceId));
    described.set(context, metadata);
    // A failed read is not kept: the next look asks again (and an excluded key's is never awaited).
    metadata.catch(() => described.delete(context));
  }
  return metadata;
}

function rotationText(state: KmsKeyRotationState): string {
  if (state.rotationEnabled === null) return 'automatic rotation not available';
  if (!state.rotationEnabled) return 'automatic rotation off';
  return `automatic rotation on${state.rotationPeriodInDays ? ` (every ${state.rotationPeriodInDays} days)` : ''}`;
}

function describe(state: KmsKeyRotationState): string {
  const manager = state.keyManager === 'AWS' ? 'AWS managed' : 'customer managed';
  const origin = state.origin === 'AWS_KMS' ? '' : `, origin ${state.origin}`;
  const region = state.multiRegionKeyType ? `, multi-Region ${state.multiRegionKeyType.toLowerCase()}` : '';
  return `${rotationText(state)}; ${manager} ${state.keySpec} key, ${state.keyState}${origin}${region}`;
}

/** Why automatic rotation cannot be turned on for this key, or null when it can. */
function cannotRotate(state: KmsKeyRotationState): string | null {
  const key = `key ${state.keyId}`;
  if (state.keyManager === 'AWS') return `${key} is an AWS managed key: AWS rotates them every year, and their rotation cannot be changed`;
  if (state.keySpec !== 'SYMMETRIC_DEFAULT') {
    const kind = state.keySpec.startsWith('HMAC_') ? 'an HMAC' : 'an asymmetric';
    return `${key} is ${kind} key (${state.keySpec}): automatic rotation is supported only on symmetric encryption keys; rotate it manually (a new key, then move its alias)`;
  }
  if (state.origin === 'EXTERNAL') return `${key} has imported key material (origin EXTERNAL): automatic rotation is not supported; rotate it manually`;
  if (state.origin !== 'AWS_KMS') {
    return `${key} is in a custom key store (origin ${state.origin}): automatic rotation is not supported; rotate it manually`;
  }
  return null;
}

/** Why the key's rotation cannot be changed now, or null when it can. */
function cannotChangeNow(state: KmsKeyRotationState): string | null {
  const key = `key ${state.keyId}`;
  if (state.multiRegionKeyType === 'REPLICA') {
    const primary = state.primaryKeyArn ? ` ${state.primaryKeyArn}` : '';
    return `${key} is a multi-Region replica: rotation is set on its primary key${primary}, and KMS copies it to every replica`;
  }
  if (state.keyState === 'PendingDeletion') {
    const when = state.deletionDate ? ` (deletion scheduled for ${state.deletionDate})` : '';
    return `${key} is pending deletion${when}: KMS keeps its rotation off until the deletion is cancelled`;
  }
  if (state.keyState === 'Disabled') return `${key} is disabled: its rotation cannot be changed until the key is enabled again`;
  if (state.keyState !== 'Enabled') return `${key} is ${state.keyState}: rotation can be turned on only for an Enabled key`;
  return null;
}

const rule: Rule<KmsKeyRotationState, Params, Clients> = {
  id: 'kms-key-rotation',
  title: 'KMS key automatic rotation',
  resource: KMS_KEY,
  clients: { kms: KMS },
  answers: {
    config: [
      {
        identifier: 'CMK_BACKING_KEY_ROTATION_ENABLED',
        resourceTypes: ['AWS::KMS::Key'],
        defaultName: 'cmk-backing-key-rotation-enabled',
        periodic: true,
      },
    ],
    // KMS.4 "AWS KMS key rotation should be enabled" (Security Hub controls reference).
    securityHub: ['KMS.4'],
  },
  // Rotation keeps every earlier key material for decryption: nothing that uses the key notices.
  defaultMode: 'auto',
  risk: 'low',
  params,
  permissions: { read: ['kms:DescribeKey', 'kms:GetKeyRotationStatus', 'kms:ListResourceTags'] },
  operations: {
    'KMS.EnableKeyRotation': {
      client: 'kms',
      iamAction: 'kms:EnableKeyRotation',
      command: async () => (await import('@aws-sdk/client-kms')).EnableKeyRotationCommand,
    },
    'KMS.DisableKeyRotation': {
      client: 'kms',
      iamAction: 'kms:DisableKeyRotation',
      command: async () => (await import('@aws-sdk/client-kms')).DisableKeyRotationCommand,
      undoOnly: true,
    },
  },

  /**
   * KMS names tags TagKey/TagValue; a key has at most 50, one page (KMS API Reference, ListResourceTags).
   * DescribeKey is sent beside it: both are reads, and readState needs the metadata next.
   */
  async readTags(context) {
    const sdk = await import('@aws-sdk/client-kms');
    const tags = context.clients.kms.send(new sdk.ListResourceTagsCommand({ KeyId: context.target.resourceId }));
    void metadataFor(context, sdk);
    const output = await tags;
    return Object.fromEntries((output.Tags ?? []).map((tag) => [tag.TagKey ?? '', tag.TagValue ?? '']));
  },

  async readState(context) {
    const sdk = await import('@aws-sdk/client-kms');
    const key = await metadataFor(context, sdk);
    if (!mayRotate(key)) return { ...key, rotationEnabled: null };
    const status = await context.clients.kms.send(new sdk.GetKeyRotationStatusCommand({ KeyId: context.target.resourceId }));
    return {
      ...key,
      rotationEnabled: status.KeyRotationEnabled === true,
      ...(status.KeyRotationEnabled && status.RotationPeriodInDays ? { rotationPeriodInDays: status.RotationPeriodInDays } : {}),
    };
  },

  plan(state, { rotationPeriodInDays }, finding): Plan {
    const unsupported = cannotRotate(state);
    if (unsupported) return { status: 'unfixable', summary: unsupported };
    if (state.rotationEnabled) return { status: 'compliant', summary: `${rotationText(state)} for key ${state.keyId}` };
    const blocked = cannotChangeNow(state);
    if (blocked) return { status: 'unfixable', summary: blocked };

    const period = rotationPeriodInDays ?? DEFAULT_PERIOD_DAYS;
    const after: KmsKeyRotationState = { ...state, rotationEnabled: true, rotationPeriodInDays: period };
    const key = { KeyId: finding.resourceId };
    const step: Step = {
      operation: 'KMS.EnableKeyRotation',
      input: { ...key, ...(rotationPeriodInDays ? { RotationPeriodInDays: rotationPeriodInDays } : {}) },
      description: `turn on automatic rotation of key ${state.keyId} every ${period} days${rotationPeriodInDays ? '' : " (AWS's default)"}`,
      before: state,
      after,
      undo: { operation: 'KMS.DisableKeyRotation', input: key },
    };
    return {
      status: 'change',
      summary: step.description,
      steps: [step],
      // AWS KMS pricing (since April 2024): the first and second rotations each add to the key's monthly charge.
      risks: ['the key costs more each month after its first and second rotations (AWS KMS pricing)'],
    };
  },

  describe,

  /** What a rollback compares: rotation on or off, and whether the key can still change it. */
  fingerprint: (state) => ({ rotationEnabled: state.rotationEnabled, keyState: state.keyState }),
};

export default rule;
