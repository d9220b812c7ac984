import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  IAMClient,
  ListPolicyVersionsCommand,
} from '@aws-sdk/client-iam';
import { REGION } from './events.ts';
import { motoEndpoint, uniqueName } from './local-aws.ts';

export function testIam(): IAMClient {
  return new IAMClient({ region: REGION, endpoint: motoEndpoint() });
}

export interface PolicySetup {
  versions?: string[];
  attached?: boolean;
  tags?: Record<string, string>;
}

/** A customer-managed policy in moto; the last document is the default version. */
export async function createPolicy(document: unknown, setup: PolicySetup = {}): Promise<{ arn: string; id: string; name: string }> {
  const iam = testIam();
  const name = uniqueName('policy');
  const text = typeof document === 'string' ? document : JSON.stringify(document, null, 2);
  const [first = text, ...later] = [...(setup.versions ?? []), text];
  const { Policy } = await iam.send(
    new CreatePolicyCommand({
      PolicyName: name,
      PolicyDocument: first,
      ...(setup.tags ? { Tags: Object.entries(setup.tags).map(([Key, Value]) => ({ Key, Value })) } : {}),
    }),
  );
  const arn = Policy?.Arn ?? '';
  for (const version of later) await iam.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: version, SetAsDefault: true }));
  if (setup.attached) {
    const role = uniqueName('role');
    await iam.send(new CreateRoleCommand({ RoleName: role, AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [] }) }));
    await iam.send(new AttachRolePolicyCommand({ RoleName: role, PolicyArn: arn }));
  }
  return { arn, id: Policy?.PolicyId ?? '', name };
}

export async function defaultDocument(arn: string): Promise<{ versionId: string; document: string }> {
  const iam = testIam();
  const { Policy } = await iam.send(new GetPolicyCommand({ PolicyArn: arn }));
  const versionId = Policy?.DefaultVersionId ?? '';
  const { PolicyVersion } = await iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: versionId }));
  return { versionId, document: PolicyVersion?.Document ?? '' };
}

export async function versionIds(arn: string): Promise<string[]> {
  const { Versions } = await testIam().send(new ListPolicyVersionsCommand({ PolicyArn: arn }));
  return (Versions ?? []).map((version) => version.VersionId ?? '').sort();
}
