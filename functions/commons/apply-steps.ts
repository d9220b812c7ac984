import type { ReadClients, Step } from '../../rules/types.ts';
import type { WriteOperation } from './write-operations.ts';

type Input = Record<string, unknown>;
type AnyInput = any;

/**
 * The only module that sends write commands. Each operation is a fixed command: a step can choose
 * which of these to send and with what input, never an arbitrary API call. Command modules are
 * loaded when a write happens, so a function only loads the SDK parts it uses.
 */
const SENDERS: Record<WriteOperation, (clients: ReadClients, input: Input) => Promise<unknown>> = {
  'S3.PutBucketEncryption': async (c, input) => c.s3.send(new (await import('@aws-sdk/client-s3')).PutBucketEncryptionCommand(input as AnyInput)),
  'S3.DeleteBucketEncryption': async (c, input) => c.s3.send(new (await import('@aws-sdk/client-s3')).DeleteBucketEncryptionCommand(input as AnyInput)),
  'S3.PutPublicAccessBlock': async (c, input) => c.s3.send(new (await import('@aws-sdk/client-s3')).PutPublicAccessBlockCommand(input as AnyInput)),
  'S3.DeletePublicAccessBlock': async (c, input) => c.s3.send(new (await import('@aws-sdk/client-s3')).DeletePublicAccessBlockCommand(input as AnyInput)),
  'S3.PutBucketPolicy': async (c, input) => c.s3.send(new (await import('@aws-sdk/client-s3')).PutBucketPolicyCommand(input as AnyInput)),
  'S3.DeleteBucketPolicy': async (c, input) => c.s3.send(new (await import('@aws-sdk/client-s3')).DeleteBucketPolicyCommand(input as AnyInput)),
  'S3Control.PutPublicAccessBlock': async (c, input) =>
    c.s3control.send(new (await import('@aws-sdk/client-s3-control')).PutPublicAccessBlockCommand(input as AnyInput)),
  'S3Control.DeletePublicAccessBlock': async (c, input) =>
    c.s3control.send(new (await import('@aws-sdk/client-s3-control')).DeletePublicAccessBlockCommand({ AccountId: String(input.AccountId) })),
  'IAM.CreatePolicyVersion': async (c, input) => c.iam.send(new (await import('@aws-sdk/client-iam')).CreatePolicyVersionCommand(input as AnyInput)),
  'IAM.DeletePolicyVersion': async (c, input) => c.iam.send(new (await import('@aws-sdk/client-iam')).DeletePolicyVersionCommand(input as AnyInput)),
  'IAM.SetDefaultPolicyVersion': async (c, input) => c.iam.send(new (await import('@aws-sdk/client-iam')).SetDefaultPolicyVersionCommand(input as AnyInput)),
  'IAM.UpdateAssumeRolePolicy': async (c, input) => c.iam.send(new (await import('@aws-sdk/client-iam')).UpdateAssumeRolePolicyCommand(input as AnyInput)),
};

export async function applyStep(clients: ReadClients, step: Pick<Step, 'operation' | 'input'>): Promise<void> {
  const send = SENDERS[step.operation];
  if (!send) throw new Error(`unknown write operation ${String(step.operation)}`);
  await send(clients, step.input);
}
