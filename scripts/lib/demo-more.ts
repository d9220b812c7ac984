import { AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, CreateTagsCommand, DisableEbsEncryptionByDefaultCommand, type EC2Client, type IpPermission } from '@aws-sdk/client-ec2';
import { CreateKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { CreateDBInstanceCommand, DescribeDBInstancesCommand, type RDSClient } from '@aws-sdk/client-rds';
import { CreateBucketCommand, PutBucketPolicyCommand, PutBucketVersioningCommand, type S3Client } from '@aws-sdk/client-s3';
import { DEFAULT_EXCLUSION_TAG } from '../../core/model/index.ts';

/**
 * The drifted resources of the newer samples: buckets with and without HTTPS-only policies and
 * versioning, security groups open to the world, a public database, a key without rotation, and
 * EBS encryption by default off. moto chooses security group and key ids itself: the returned map
 * turns each sample's id into the one moto gave, and the demo and the tests apply it to the events.
 */
export const MORE_DEMO_RESOURCES = {
  'driftfix-demo-http-allowed': 'bucket policy allows access over plain HTTP',
  'driftfix-demo-https-only': 'bucket policy already denies plain HTTP',
  'driftfix-demo-unversioned': 'versioning never enabled',
  'driftfix-demo-sh-http': 'no bucket policy (reported by Security Hub)',
  'driftfix-demo-versioning-suspended': 'versioning suspended (reported by Security Hub)',
} as const;

const SAMPLE_GROUPS: Array<{ sampleId: string; name: string; tags?: Record<string, string>; ingress: IpPermission[] }> = [
  {
    sampleId: 'sg-0d5e7a1b2c3f40a11',
    name: 'driftfix-demo-ssh-open',
    ingress: [
      { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'ssh from anywhere' }] },
      { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8', Description: 'office' }] },
      { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
    ],
  },
  {
    sampleId: 'sg-0e6f8b2c3d4a51b22',
    name: 'driftfix-demo-mysql-open',
    ingress: [
      { IpProtocol: 'tcp', FromPort: 3306, ToPort: 3306, IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'mysql' }] },
      { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
    ],
  },
  {
    sampleId: 'sg-0f7a9c3d4e5b62c33',
    name: 'driftfix-demo-ssh-excluded',
    tags: { [DEFAULT_EXCLUSION_TAG]: 'true' },
    ingress: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
  },
  {
    sampleId: 'sg-0a8b0d4e5f6c73d44',
    name: 'driftfix-demo-ssh-ipv6',
    ingress: [
      { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, Ipv6Ranges: [{ CidrIpv6: '::/0', Description: 'ssh over ipv6' }] },
      { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
    ],
  },
  { sampleId: 'sg-0b9c1e5f6a7d84e55', name: 'driftfix-demo-all-traffic', ingress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'all traffic' }] }] },
];
const SAMPLE_KEY = '62f746b4-84e6-4ceb-95bd-447e7184d454';
export const DEMO_DATABASE = 'driftfix-demo-public-db';

export async function seedMoreDemoResources(clients: { s3: S3Client; ec2: EC2Client; kms: KMSClient; rds: RDSClient }, account: string): Promise<Record<string, string>> {
  const { s3, ec2, kms, rds } = clients;
  for (const bucket of Object.keys(MORE_DEMO_RESOURCES)) {
    try {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    } catch (error) {
      if ((error as Error).name !== 'BucketAlreadyOwnedByYou') throw error;
    }
  }
  const policy = (statements: unknown[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
  await s3.send(
    new PutBucketPolicyCommand({
      Bucket: 'driftfix-demo-http-allowed',
      Policy: policy([
        { Sid: 'Reporting', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:role/reporting` }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::driftfix-demo-http-allowed/*' },
      ]),
    }),
  );
  await s3.send(
    new PutBucketPolicyCommand({
      Bucket: 'driftfix-demo-https-only',
      Policy: policy([
        {
          Sid: 'AllowSSLRequestsOnly',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:*',
          Resource: ['arn:aws:s3:::driftfix-demo-https-only', 'arn:aws:s3:::driftfix-demo-https-only/*'],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ]),
    }),
  );
  await s3.send(new PutBucketVersioningCommand({ Bucket: 'driftfix-demo-versioning-suspended', VersioningConfiguration: { Status: 'Enabled' } }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: 'driftfix-demo-versioning-suspended', VersioningConfiguration: { Status: 'Suspended' } }));

  const ids: Record<string, string> = {};
  for (const group of SAMPLE_GROUPS) {
    const { GroupId } = await ec2.send(new CreateSecurityGroupCommand({ GroupName: `${group.name}-${Date.now()}`, Description: `driftfix demo: ${group.name}` }));
    if (!GroupId) throw new Error('moto created no security group');
    for (const permission of group.ingress) await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId, IpPermissions: [permission] }));
    if (group.tags) await ec2.send(new CreateTagsCommand({ Resources: [GroupId], Tags: Object.entries(group.tags).map(([Key, Value]) => ({ Key, Value })) }));
    ids[group.sampleId] = GroupId;
  }
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({ KeyUsage: 'ENCRYPT_DECRYPT', Description: 'driftfix demo: rotation off' }));
  if (!KeyMetadata?.KeyId) throw new Error('moto created no key');
  ids[SAMPLE_KEY] = KeyMetadata.KeyId;

  const existing = await rds.send(new DescribeDBInstancesCommand({})).then((output) => output.DBInstances ?? []);
  if (!existing.some((instance) => instance.DBInstanceIdentifier === DEMO_DATABASE)) {
    await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: DEMO_DATABASE,
        DBInstanceClass: 'db.t3.micro',
        Engine: 'postgres',
        MasterUsername: 'demo',
        MasterUserPassword: ['demo', 'password', 'only'].join('-'),
        AllocatedStorage: 20,
        PubliclyAccessible: true,
      }),
    );
  }
  await ec2.send(new DisableEbsEncryptionByDefaultCommand({}));
  return ids;
}

/** An event's text with each sample id replaced by the id moto gave the resource. */
export function rewriteIds(ids: Record<string, string>): (text: string) => string {
  return (text) => Object.entries(ids).reduce((result, [sample, real]) => result.replaceAll(sample, real), text);
}
