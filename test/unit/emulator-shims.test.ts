import { GetEbsDefaultKmsKeyIdCommand, EC2Client, ModifyEbsDefaultKmsKeyIdCommand } from '@aws-sdk/client-ec2';
import { GenerateServiceLastAccessedDetailsCommand, IAMClient } from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { emulatorShims } from '../../scripts/lib/emulator-shims.ts';

/** A client whose every request is answered by `answer` (what the emulator would send back). */
function clientAnswering<T extends { middlewareStack: { add: (...args: never[]) => void } }>(client: T, answer: () => Promise<unknown>): T {
  client.middlewareStack.add((() => () => answer()) as never, { step: 'finalizeRequest', name: 'fake-emulator' } as never);
  return client;
}

const local = { region: 'us-east-1', endpoint: 'http://127.0.0.1:1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };

describe('emulator shims (local runs only)', () => {
  it('a call the emulator answers with a web page fails naming the call it lacks', async () => {
    const iam = clientAnswering(new IAMClient(local), async () => {
      throw Object.assign(new Error('@aws-sdk XML parse error: mismatched tags <html> and </title>'), { name: 'Error' });
    });
    emulatorShims('IAM', iam);
    await expect(iam.send(new GenerateServiceLastAccessedDetailsCommand({ Arn: 'arn:aws:iam::111122223333:role/r' }))).rejects.toThrow(
      'the local emulator does not implement IAM.GenerateServiceLastAccessedDetails (it answered with a web page); this needs AWS itself',
    );
  });

  it('other errors pass as they are', async () => {
    const iam = clientAnswering(new IAMClient(local), async () => {
      throw Object.assign(new Error('User is not authorized'), { name: 'AccessDenied' });
    });
    emulatorShims('IAM', iam);
    await expect(iam.send(new GenerateServiceLastAccessedDetailsCommand({ Arn: 'arn:aws:iam::111122223333:role/r' }))).rejects.toMatchObject({ name: 'AccessDenied' });
  });

  it('answers the EBS default key itself: AWS’s own key until one is set', async () => {
    const ec2 = clientAnswering(new EC2Client(local), async () => {
      throw new Error('reached the emulator');
    });
    emulatorShims('EC2', ec2);
    expect((await ec2.send(new GetEbsDefaultKmsKeyIdCommand({}))).KmsKeyId).toBe('alias/aws/ebs');
    await ec2.send(new ModifyEbsDefaultKmsKeyIdCommand({ KmsKeyId: 'alias/data' }));
    expect((await ec2.send(new GetEbsDefaultKmsKeyIdCommand({}))).KmsKeyId).toBe('alias/data');
  });
});
