import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  GenerateServiceLastAccessedDetailsCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetServiceLastAccessedDetailsCommand,
  IAMClient,
  ListPolicyVersionsCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { REGION } from './events.ts';
import { motoEndpoint, uniqueName } from './local-aws.ts';

/** A plain IAM client for arranging and checking state, outside the bot's call log. */
export function testIam(): IAMClient {
  return new IAMClient({ region: REGION, endpoint: motoEndpoint() });
}

/** IAM returns policy documents URL-encoded; moto returns some plain. */
function decode(text: string | undefined): string {
  const value = text ?? '';
  return value.trimStart().startsWith('{') ? value : decodeURIComponent(value);
}

export interface PolicySetup {
  /** Earlier versions, oldest first; the document given is created last, as the default. */
  versions?: string[];
  /** Attached to a new role, so that IAM last-accessed data is asked for. */
  attached?: boolean;
  tags?: Record<string, string>;
  /** The name's prefix (a unique suffix is added); `policy` unless given. */
  prefix?: string;
}

/** A customer-managed policy in moto; the last document is the default version. */
export async function createPolicy(document: unknown, setup: PolicySetup = {}): Promise<{ arn: string; id: string; name: string }> {
  const iam = testIam();
  const name = uniqueName(setup.prefix ?? 'policy');
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

/** A new default version, as a person editing the policy in the console makes one. */
export async function editPolicy(arn: string, document: unknown): Promise<void> {
  await testIam().send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: JSON.stringify(document), SetAsDefault: true }));
}

export async function defaultDocument(arn: string): Promise<{ versionId: string; document: string }> {
  const iam = testIam();
  const { Policy } = await iam.send(new GetPolicyCommand({ PolicyArn: arn }));
  const versionId = Policy?.DefaultVersionId ?? '';
  const { PolicyVersion } = await iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: versionId }));
  return { versionId, document: decode(PolicyVersion?.Document) };
}

/** The default version's statements, parsed. */
export async function defaultStatements(arn: string): Promise<any[]> {
  const statement = JSON.parse((await defaultDocument(arn)).document).Statement;
  return Array.isArray(statement) ? statement : [statement];
}

export async function versionIds(arn: string): Promise<string[]> {
  const { Versions } = await testIam().send(new ListPolicyVersionsCommand({ PolicyArn: arn }));
  return (Versions ?? []).map((version) => version.VersionId ?? '').sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
}

/** A role in moto with the given trust policy; its name starts with `prefix` (`role` unless given). */
export async function createRole(
  trustPolicy: unknown,
  options: { prefix?: string; path?: string; tags?: Record<string, string> } = {},
): Promise<{ name: string; arn: string }> {
  const name = uniqueName(options.prefix ?? 'role');
  const { Role } = await testIam().send(
    new CreateRoleCommand({
      RoleName: name,
      AssumeRolePolicyDocument: JSON.stringify(trustPolicy),
      ...(options.path ? { Path: options.path } : {}),
      ...(options.tags ? { Tags: Object.entries(options.tags).map(([Key, Value]) => ({ Key, Value })) } : {}),
    }),
  );
  return { name, arn: Role?.Arn ?? '' };
}

export async function trustPolicy(role: string): Promise<any> {
  const { Role } = await testIam().send(new GetRoleCommand({ RoleName: role }));
  return JSON.parse(decode(Role?.AssumeRolePolicyDocument));
}

export async function setTrustPolicy(role: string, document: unknown): Promise<void> {
  await testIam().send(new UpdateAssumeRolePolicyCommand({ RoleName: role, PolicyDocument: JSON.stringify(document) }));
}

/** When the fake last-accessed report says the actions were used. */
export const LAST_USED = new Date('2026-10-01T00:00:00Z');

/**
 * moto has no IAM last-accessed data (access advisor): the given client instance alone is faked.
 * `used` maps a service namespace to the actions its report shows used (action-level tracking);
 * `serviceLevelOnly` lists services used without action-level tracking. Every tracked service
 * also reports `DeleteBucket` as tracked and never used, which must never be granted. The first
 * status read is IN_PROGRESS, as IAM's is while it prepares the report.
 */
export function fakeAccessAdvisor(client: IAMClient, used: Record<string, string[]>, serviceLevelOnly: string[] = []) {
  const advisor = mockClient(client);
  advisor.on(GenerateServiceLastAccessedDetailsCommand).resolves({ JobId: 'job-00000001' });
  advisor
    .on(GetServiceLastAccessedDetailsCommand)
    .resolvesOnce({ JobStatus: 'IN_PROGRESS', JobCreationDate: new Date(), ServicesLastAccessed: [] })
    .resolves({
      JobStatus: 'COMPLETED',
      JobCreationDate: new Date(),
      JobCompletionDate: new Date(),
      ServicesLastAccessed: [
        ...Object.entries(used).map(([service, actions]) => ({
          ServiceName: service,
          ServiceNamespace: service,
          LastAuthenticated: LAST_USED,
          TrackedActionsLastAccessed: [
            ...actions.map((ActionName) => ({ ActionName, LastAccessedTime: LAST_USED })),
            { ActionName: 'DeleteBucket' },
          ],
        })),
        ...serviceLevelOnly.map((service) => ({ ServiceName: service, ServiceNamespace: service, LastAuthenticated: LAST_USED })),
      ],
    });
  return advisor;
}
