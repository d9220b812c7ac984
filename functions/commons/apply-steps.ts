import {
  DeleteBucketEncryptionCommand,
  DeleteBucketPolicyCommand,
  type DeleteBucketPolicyCommandInput,
  PutBucketPolicyCommand,
  type PutBucketPolicyCommandInput,
  type DeleteBucketEncryptionCommandInput,
  DeletePublicAccessBlockCommand,
  type DeletePublicAccessBlockCommandInput,
  type PutBucketEncryptionCommandInput,
  PutBucketEncryptionCommand,
  type PutPublicAccessBlockCommandInput,
  PutPublicAccessBlockCommand,
} from '@aws-sdk/client-s3';
import {
  DeletePublicAccessBlockCommand as DeleteAccountPublicAccessBlockCommand,
  PutPublicAccessBlockCommand as PutAccountPublicAccessBlockCommand,
  type PutPublicAccessBlockCommandInput as PutAccountPublicAccessBlockCommandInput,
} from '@aws-sdk/client-s3-control';
import {
  CreatePolicyVersionCommand,
  type CreatePolicyVersionCommandInput,
  DeletePolicyVersionCommand,
  type DeletePolicyVersionCommandInput,
  SetDefaultPolicyVersionCommand,
  type SetDefaultPolicyVersionCommandInput,
  UpdateAssumeRolePolicyCommand,
  type UpdateAssumeRolePolicyCommandInput,
} from '@aws-sdk/client-iam';
import type { ReadClients, Step } from '../../rules/types.ts';
import type { WriteOperation } from './write-operations.ts';

/**
 * The only module that sends write commands. Each operation is a fixed command: a step can choose
 * which of these to send and with what input, never an arbitrary API call.
 */
const SENDERS: Record<WriteOperation, (clients: ReadClients, input: Record<string, unknown>) => Promise<unknown>> = {
  'S3.PutBucketEncryption': (c, input) =>
    c.s3.send(new PutBucketEncryptionCommand(input as unknown as PutBucketEncryptionCommandInput)),
  'S3.DeleteBucketEncryption': (c, input) =>
    c.s3.send(new DeleteBucketEncryptionCommand(input as unknown as DeleteBucketEncryptionCommandInput)),
  'S3.PutPublicAccessBlock': (c, input) =>
    c.s3.send(new PutPublicAccessBlockCommand(input as unknown as PutPublicAccessBlockCommandInput)),
  'S3.DeletePublicAccessBlock': (c, input) =>
    c.s3.send(new DeletePublicAccessBlockCommand(input as unknown as DeletePublicAccessBlockCommandInput)),
  'S3Control.PutPublicAccessBlock': (c, input) =>
    c.s3control.send(new PutAccountPublicAccessBlockCommand(input as unknown as PutAccountPublicAccessBlockCommandInput)),
  'S3Control.DeletePublicAccessBlock': (c, input) =>
    c.s3control.send(new DeleteAccountPublicAccessBlockCommand({ AccountId: String(input.AccountId) })),
  'IAM.CreatePolicyVersion': (c, input) => c.iam.send(new CreatePolicyVersionCommand(input as unknown as CreatePolicyVersionCommandInput)),
  'IAM.DeletePolicyVersion': (c, input) => c.iam.send(new DeletePolicyVersionCommand(input as unknown as DeletePolicyVersionCommandInput)),
  'IAM.SetDefaultPolicyVersion': (c, input) =>
    c.iam.send(new SetDefaultPolicyVersionCommand(input as unknown as SetDefaultPolicyVersionCommandInput)),
  'IAM.UpdateAssumeRolePolicy': (c, input) =>
    c.iam.send(new UpdateAssumeRolePolicyCommand(input as unknown as UpdateAssumeRolePolicyCommandInput)),
  'S3.PutBucketPolicy': (c, input) => c.s3.send(new PutBucketPolicyCommand(input as unknown as PutBucketPolicyCommandInput)),
  'S3.DeleteBucketPolicy': (c, input) => c.s3.send(new DeleteBucketPolicyCommand(input as unknown as DeleteBucketPolicyCommandInput)),
};

export async function applyStep(clients: ReadClients, step: Pick<Step, 'operation' | 'input'>): Promise<void> {
  const send = SENDERS[step.operation];
  if (!send) throw new Error(`unknown write operation ${String(step.operation)}`);
  await send(clients, step.input);
}
