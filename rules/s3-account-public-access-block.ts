import { GetPublicAccessBlockCommand } from '@aws-sdk/client-s3-control';
import { z } from 'zod';
import {
  ALL_BLOCKED,
  allBlocked,
  describeFlags,
  flagsFrom,
  type PublicAccessBlockFlags,
} from './public-access-block-flags.ts';
import type { Plan, Rule, Step } from './types.ts';

const params = z.strictObject({});
export type S3AccountPublicAccessBlockParams = z.infer<typeof params>;

export interface S3AccountPublicAccessBlockState {
  /** The account's configuration; null when it has none (every flag off). */
  flags: PublicAccessBlockFlags | null;
}

export const s3AccountPublicAccessBlock: Rule<S3AccountPublicAccessBlockState, S3AccountPublicAccessBlockParams> = {
  id: 's3-account-public-access-block',
  title: 'S3 account-level Block Public Access',
  resourceType: 'AWS::::Account',
  services: ['s3control', 'config'],
  answers: {
    configRules: ['s3-account-level-public-access-blocks', 's3-account-level-public-access-blocks-periodic'],
  },
  // Every bucket in the account is affected at once: a person decides.
  defaultMode: 'approve',
  risk: 'high',
  params,
  permissions: {
    read: ['s3:GetAccountPublicAccessBlock'],
    write: ['s3:PutAccountPublicAccessBlock'],
    resource: 'none',
    // Account-level Block Public Access has no resource type: IAM requires Resource "*".
    wildcardOnly: ['s3:GetAccountPublicAccessBlock', 's3:PutAccountPublicAccessBlock'],
    alsoOn: [{ actions: ['config:StartConfigRulesEvaluation'], resource: 'config-rule' }],
  },

  async readState({ clients, target }) {
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
    return { status: 'change', summary: step.description, steps: [step] };
  },

  describe: (state) => describeFlags(state.flags),
};
