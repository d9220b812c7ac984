import type { S3ControlClient } from '@aws-sdk/client-s3-control';
import { z } from 'zod';
import type { Plan, Rule, Step } from '../core/model/index.ts';
import { S3_CONTROL } from './lib/clients.ts';
import { ALL_BLOCKED, allBlocked, describeFlags, flagsFrom, type PublicAccessBlockFlags } from './lib/public-access-block-flags.ts';
import { S3_ACCOUNT_PUBLIC_ACCESS_BLOCK } from './lib/resources.ts';

const params = z.strictObject({});
type Params = z.infer<typeof params>;

export interface S3AccountPublicAccessBlockState {
  /** The account's configuration; null when it has none (every flag off). */
  flags: PublicAccessBlockFlags | null;
}

const rule: Rule<S3AccountPublicAccessBlockState, Params, { s3control: S3ControlClient }> = {
  id: 's3-account-public-access-block',
  title: 'S3 account-level Block Public Access',
  resource: S3_ACCOUNT_PUBLIC_ACCESS_BLOCK,
  clients: { s3control: S3_CONTROL },
  answers: {
    // The change-triggered rule reports AWS::S3::AccountPublicAccessBlock, the periodic one
    // AWS::::Account (each managed rule's page in the AWS Config Developer Guide).
    config: [
      {
        identifier: 'S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS',
        resourceTypes: ['AWS::S3::AccountPublicAccessBlock'],
        defaultName: 's3-account-level-public-access-blocks',
      },
      {
        identifier: 'S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS_PERIODIC',
        resourceTypes: ['AWS::::Account'],
        defaultName: 's3-account-level-public-access-blocks-periodic',
        periodic: true,
      },
    ],
    // S3.1 "S3 general purpose buckets should have block public access settings enabled" (account level).
    securityHub: ['S3.1'],
  },
  // Every bucket in the account is affected at once: a person decides.
  defaultMode: 'approve',
  risk: 'high',
  params,
  // Account-level Block Public Access has no resource type: IAM grants these on Resource "*".
  permissions: { read: ['s3:GetAccountPublicAccessBlock'], wildcardOnly: ['s3:GetAccountPublicAccessBlock', 's3:PutAccountPublicAccessBlock'] },
  operations: {
    'S3Control.PutPublicAccessBlock': {
      client: 's3control',
      iamAction: 's3:PutAccountPublicAccessBlock',
      command: async () => (await import('@aws-sdk/client-s3-control')).PutPublicAccessBlockCommand,
    },
    'S3Control.DeletePublicAccessBlock': {
      client: 's3control',
      iamAction: 's3:PutAccountPublicAccessBlock',
      command: async () => (await import('@aws-sdk/client-s3-control')).DeletePublicAccessBlockCommand,
    },
  },

  async readState({ clients, target }) {
    const { GetPublicAccessBlockCommand } = await import('@aws-sdk/client-s3-control');
    try {
      const output = await clients.s3control.send(new GetPublicAccessBlockCommand({ AccountId: target.account }));
      return { flags: flagsFrom(output.PublicAccessBlockConfiguration) };
    } catch (error) {
      if ((error as Error).name === 'NoSuchPublicAccessBlockConfiguration') return { flags: null };
      throw error;
    }
  },

  plan(state, _params, finding): Plan {
    if (state.flags && allBlocked(state.flags)) {
      return { status: 'compliant', summary: 'all four account-level Block Public Access flags are already on' };
    }
    const account = finding.account;
    const step: Step = {
      operation: 'S3Control.PutPublicAccessBlock',
      input: { AccountId: account, PublicAccessBlockConfiguration: ALL_BLOCKED },
      description: `block public access for the whole account: ${describeFlags(state.flags)} → ${describeFlags(ALL_BLOCKED)}`,
      before: state,
      after: { flags: ALL_BLOCKED },
      undo: state.flags
        ? { operation: 'S3Control.PutPublicAccessBlock', input: { AccountId: account, PublicAccessBlockConfiguration: state.flags } }
        : { operation: 'S3Control.DeletePublicAccessBlock', input: { AccountId: account } },
    };
    return { status: 'change', summary: step.description, steps: [step], risks: ['every bucket in the account that is public on purpose stops being public'] };
  },

  describe: (state) => describeFlags(state.flags),
};

export default rule;
