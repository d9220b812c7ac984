import { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { S3ControlClient } from '@aws-sdk/client-s3-control';
import { seedConfigRules, seedDemoResources } from './demo-resources.ts';
import { rewriteIds, seedMoreDemoResources } from './demo-more.ts';

/**
 * The account the sample events in events/ describe, made in a local emulator: the drifted
 * resources, and the AWS Config rules under the names the samples carry. Returns how to rewrite a
 * sample's text where moto chose the resource's id itself. Never point this at a real account.
 */
export async function seedSampleWorld(endpoint: string, region: string, account: string): Promise<{ rewrite: (text: string) => string; configRules: number }> {
  const local = { region, endpoint };
  const s3 = new S3Client({ ...local, forcePathStyle: true });
  await seedDemoResources({ s3, s3control: new S3ControlClient({ ...local, endpointProvider: () => ({ url: new URL(endpoint) }) }), iam: new IAMClient(local) }, account);
  const ids = await seedMoreDemoResources({ s3, ec2: new EC2Client(local), kms: new KMSClient(local), rds: new RDSClient(local) }, account);
  const configRules = await seedConfigRules(new ConfigServiceClient(local));
  return { rewrite: rewriteIds(ids), configRules };
}
