import type { EC2Client } from '@aws-sdk/client-ec2';
import { z } from 'zod';
import { parseArn, type Plan, type Rule, type Step } from '../core/model/index.ts';
import { EC2 } from './lib/clients.ts';
import { ACCOUNT_IN_REGION } from './lib/resources.ts';

/**
 * EBS encryption by default, a setting of the account in each Region.
 *
 * AWS Config ec2-ebs-encryption-by-default (EC2_EBS_ENCRYPTION_BY_DEFAULT, periodic): "Checks if
 * Amazon Elastic Block Store (EBS) encryption is enabled by default. The rule is NON_COMPLIANT if
 * the encryption is not enabled" (https://docs.aws.amazon.com/config/latest/developerguide/ec2-ebs-encryption-by-default.html).
 * Security Hub EC2.7 "EBS default encryption should be enabled" runs that rule.
 *
 * Mode `auto`, with a person deciding when a customer managed key is configured:
 * - With AWS's own key (aws/ebs) nothing running changes: "Enabling encryption by default has no
 *   effect on the encryption status of your existing volumes" (EC2 API Reference,
 *   EnableEbsEncryptionByDefault). What stops: launching instance types without EBS encryption
 *   support, and sharing new snapshots and AMIs with other accounts (an AWS managed key cannot be
 *   shared). Both are listed as risks on the record.
 * - With a customer managed key (`kmsKeyArn`), every new volume in the Region needs that key:
 *   launches by Auto Scaling, Spot and other services' roles fail unless the key policy lets those
 *   roles use it, and "If you delete or disable the customer managed KMS key … your instances will
 *   fail to launch" (EC2 API Reference, ModifyEbsDefaultKmsKeyId). That can stop production, so the
 *   plan asks a person (approvalReason) even in auto mode.
 */

const params = z.strictObject({
  /**
   * A customer managed symmetric KMS key (its key ARN, of this account and Region) to make the
   * Region's default EBS key; unset, EBS uses AWS's own key (aws/ebs) and the key is not read.
   */
  kmsKeyArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/, 'expected a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>)')
    .optional(),
});
type Params = z.infer<typeof params>;

export interface EbsEncryptionByDefaultState {
  /** GetEbsEncryptionByDefault, for the account in this Region. */
  enabled: boolean;
  /**
   * GetEbsDefaultKmsKeyId: the default key's ARN, or `alias/aws/ebs` for AWS's own key. Read only
   * when `kmsKeyArn` is configured; absent otherwise.
   */
  defaultKmsKeyId?: string;
}

/** What GetEbsDefaultKmsKeyId answers while AWS's own key is the default (AWS CLI reference, get-ebs-default-kms-key-id example). */
const AWS_MANAGED_KEY = 'alias/aws/ebs';
const isAwsManagedKey = (key: string | undefined) => key === AWS_MANAGED_KEY || Boolean(key?.endsWith(`:${AWS_MANAGED_KEY}`));

/** A key named by id or ARN; compare the part both forms share. */
function sameKey(configured: string, actual: string | undefined): boolean {
  if (!actual) return false;
  return actual === configured || configured.endsWith(`/${actual}`);
}

function keyText(key: string | undefined): string {
  if (key === undefined) return '';
  return isAwsManagedKey(key) ? ', default key aws/ebs (AWS managed)' : `, default key ${key}`;
}

function describe(state: EbsEncryptionByDefaultState): string {
  return `EBS encryption by default ${state.enabled ? 'on' : 'off'}${keyText(state.defaultKmsKeyId)}`;
}

const rule: Rule<EbsEncryptionByDefaultState, Params, { ec2: EC2Client }> = {
  id: 'ec2-ebs-encryption-by-default',
  title: 'EBS encryption by default',
  resource: ACCOUNT_IN_REGION,
  clients: { ec2: EC2 },
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
  defaultMode: 'auto',
  risk: 'medium',
  params,
  // Account settings of EC2 have no resource type in IAM: granted on Resource "*" (Service Authorization Reference).
  permissions: {
    read: ['ec2:GetEbsEncryptionByDefault', 'ec2:GetEbsDefaultKmsKeyId'],
    wildcardOnly: ['ec2:GetEbsEncryptionByDefault', 'ec2:GetEbsDefaultKmsKeyId', 'ec2:EnableEbsEncryptionByDefault', 'ec2:ModifyEbsDefaultKmsKeyId'],
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

  async readState({ clients, params }) {
    const { GetEbsDefaultKmsKeyIdCommand, GetEbsEncryptionByDefaultCommand } = await import('@aws-sdk/client-ec2');
    const [encryption, key] = await Promise.all([
      clients.ec2.send(new GetEbsEncryptionByDefaultCommand({})),
      params.kmsKeyArn ? clients.ec2.send(new GetEbsDefaultKmsKeyIdCommand({})) : Promise.resolve(undefined),
    ]);
    return {
      enabled: encryption.EbsEncryptionByDefault === true,
      ...(key ? { defaultKmsKeyId: key.KmsKeyId ?? AWS_MANAGED_KEY } : {}),
    };
  },

  plan(state, { kmsKeyArn }, finding): Plan {
    const keyMatches = !kmsKeyArn || sameKey(kmsKeyArn, state.defaultKmsKeyId);
    if (state.enabled && keyMatches) return { status: 'compliant', summary: `${describe(state)} in ${finding.region}` };
    if (kmsKeyArn) {
      const key = parseArn(kmsKeyArn);
      if (key?.account !== finding.account || key.region !== finding.region) {
        return {
          status: 'unfixable',
          summary: `kmsKeyArn ${kmsKeyArn} is not a key of ${finding.account} in ${finding.region}; configure this Region's key for rule ec2-ebs-encryption-by-default (RULE_PARAMS)`,
        };
      }
    }

    const steps: Step[] = [];
    let current = state;
    // The key first: from the moment encryption is on, new volumes use the configured key.
    if (kmsKeyArn && !keyMatches) {
      const after: EbsEncryptionByDefaultState = { ...current, defaultKmsKeyId: kmsKeyArn };
      const previous = state.defaultKmsKeyId;
      steps.push({
        operation: 'EC2.ModifyEbsDefaultKmsKeyId',
        input: { KmsKeyId: kmsKeyArn },
        description: `make ${kmsKeyArn} the default EBS key in ${finding.region} (was ${isAwsManagedKey(previous) || !previous ? 'aws/ebs, AWS managed' : previous})`,
        before: current,
        after,
        undo:
          previous && !isAwsManagedKey(previous)
            ? { operation: 'EC2.ModifyEbsDefaultKmsKeyId', input: { KmsKeyId: previous } }
            : { operation: 'EC2.ResetEbsDefaultKmsKeyId', input: {} },
      });
      current = after;
    }
    if (!state.enabled) {
      const after: EbsEncryptionByDefaultState = { ...current, enabled: true };
      steps.push({
        operation: 'EC2.EnableEbsEncryptionByDefault',
        input: {},
        description: `turn on EBS encryption by default in ${finding.region}: new volumes are encrypted with ${kmsKeyArn ?? 'aws/ebs (AWS managed)'}`,
        before: current,
        after,
        undo: { operation: 'EC2.DisableEbsEncryptionByDefault', input: {} },
      });
    }

    const risks: string[] = [];
    if (!state.enabled) risks.push(`instance types that do not support EBS encryption can no longer be launched in ${finding.region}`);
    if (kmsKeyArn) {
      risks.push(
        `launches by Auto Scaling, Spot, EC2 Fleet and other services' roles fail unless the policy of ${kmsKeyArn} lets those roles use the key`,
        `if ${kmsKeyArn} is disabled or deleted, no instance with new EBS volumes can launch in ${finding.region}`,
      );
    } else {
      // EC2 User Guide, sharing AMIs: "You can't share AMIs that are backed by snapshots that are encrypted with the default AWS managed key".
      risks.push('snapshots and AMIs of new volumes, encrypted with the AWS managed key aws/ebs, cannot be shared with other accounts');
    }
    return {
      status: 'change',
      summary: steps.map((step) => step.description).join('; '),
      steps,
      risks,
      ...(kmsKeyArn
        ? { approvalReason: `every new EBS volume in ${finding.region} would need customer managed key ${kmsKeyArn}; a key policy that misses a launching role stops launches` }
        : {}),
    };
  },

  describe,
};

export default rule;
