import { parseArn, type ResourceKind } from '../../core/model/index.ts';
import {
  bucketFromArn,
  bucketNameProblem,
  ownResource,
  policyFromArn,
  policyIdProblem,
  reservedIamPath,
  roleFromArn,
} from './resource-names.ts';

/**
 * The kinds of resource driftfix's rules fix: how events name each one, which ARNs its
 * permissions are scoped to, and which of them the bot must never touch.
 */

/* biome-ignore-start lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub strings, not JavaScript */
export const S3_BUCKET: ResourceKind = {
  type: 'AWS::S3::Bucket',
  securityHubTypes: ['AwsS3Bucket'],
  iamArn: 'arn:${AWS::Partition}:s3:::*',
  parseId(value) {
    if (value.startsWith('arn:')) {
      const parsed = bucketFromArn(value);
      return 'problem' in parsed ? parsed : { id: parsed.bucket };
    }
    const problem = bucketNameProblem(value);
    return problem ? { problem: `invalid bucket name ${JSON.stringify(value.slice(0, 80))}: ${problem}` } : { id: value };
  },
  protected: (id, { stackPrefix }) => ownResource(id, stackPrefix),
  consoleUrl: (id, region) => `https://s3.console.aws.amazon.com/s3/buckets/${encodeURIComponent(id)}?region=${encodeURIComponent(region)}&tab=permissions`,
};

/** The account itself, as Config's periodic rules and Security Hub's account-level controls name it. */
function accountId(value: string, account: string): { id: string } | { problem: string } {
  const id = value.startsWith('AWS::::Account:') ? value.slice('AWS::::Account:'.length) : value;
  return id === account ? { id } : { problem: `account resource ${JSON.stringify(value.slice(0, 80))} is not this account (${account})` };
}

/** The account's S3 Block Public Access settings (S3 Control). */
export const S3_ACCOUNT_PUBLIC_ACCESS_BLOCK: ResourceKind = {
  type: 'AWS::S3::AccountPublicAccessBlock',
  // s3-account-level-public-access-blocks-periodic reports on the account itself.
  aliases: ['AWS::::Account'],
  securityHubTypes: ['AwsAccount'],
  parseId: (value, { account }) => accountId(value, account),
  consoleUrl: (_id, region) => `https://s3.console.aws.amazon.com/s3/settings?region=${encodeURIComponent(region)}`,
};

/** Customer-managed IAM policies: Config names them by policy id (ANPA…), others by ARN. */
export const IAM_POLICY: ResourceKind = {
  type: 'AWS::IAM::Policy',
  securityHubTypes: ['AwsIamPolicy'],
  iamArn: 'arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/*',
  parseId(value, { account }) {
    if (value.startsWith('arn:')) {
      const parsed = policyFromArn(value, account);
      return 'problem' in parsed ? parsed : { id: value };
    }
    const problem = policyIdProblem(value);
    return problem ? { problem } : { id: value };
  },
  protected(id, { account, stackPrefix }) {
    if (!id.startsWith('arn:')) return null; // a policy id: checked again once its ARN is read
    const parsed = policyFromArn(id, account);
    if ('problem' in parsed) return parsed.problem;
    return reservedIamPath(parsed.path) ?? ownResource(parsed.name, stackPrefix);
  },
  consoleUrl: (id) => `https://console.aws.amazon.com/iam/home#/policies/details/${encodeURIComponent(id)}`,
};

export const IAM_ROLE: ResourceKind = {
  type: 'AWS::IAM::Role',
  securityHubTypes: ['AwsIamRole'],
  iamArn: 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*',
  parseId(value, { account }) {
    const parsed = roleFromArn(value, account);
    return 'problem' in parsed ? parsed : { id: value };
  },
  protected(id, { account, stackPrefix }) {
    const parsed = roleFromArn(id, account);
    if ('problem' in parsed) return parsed.problem;
    return reservedIamPath(parsed.path) ?? ownResource(parsed.name, stackPrefix);
  },
  consoleUrl: (id) => `https://console.aws.amazon.com/iam/home#/roles/details/${encodeURIComponent(id.split('/').pop() ?? id)}`,
};
/** KMS keys: Config names them by key id, Security Hub and Access Analyzer by key ARN. */
export const KMS_KEY: ResourceKind = {
  type: 'AWS::KMS::Key',
  securityHubTypes: ['AwsKmsKey'],
  iamArn: 'arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*',
  parseId(value, { account, region }) {
    let id = value;
    if (value.startsWith('arn:')) {
      const parsed = parseArn(value);
      if (parsed?.service !== 'kms' || !parsed.resource.startsWith('key/')) return { problem: `${value} is not a KMS key ARN` };
      if (parsed.account !== account || parsed.region !== region) return { problem: `${value} is not a key of ${account} in ${region}` };
      id = parsed.resource.slice('key/'.length);
    }
    return KEY_ID.test(id) ? { id } : { problem: `${JSON.stringify(value.slice(0, 80))} is not a KMS key id` };
  },
  consoleUrl: (id, region) => `https://console.aws.amazon.com/kms/home?region=${encodeURIComponent(region)}#/kms/keys/${encodeURIComponent(id)}`,
};
const KEY_ID = /^(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** EC2 security groups: Config names them by group id, Security Hub by ARN. */
export const SECURITY_GROUP: ResourceKind = {
  type: 'AWS::EC2::SecurityGroup',
  securityHubTypes: ['AwsEc2SecurityGroup'],
  iamArn: 'arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:security-group/*',
  parseId(value, { account, region }) {
    let id = value;
    if (value.startsWith('arn:')) {
      const parsed = parseArn(value);
      if (parsed?.service !== 'ec2' || !parsed.resource.startsWith('security-group/')) return { problem: `${value} is not a security group ARN` };
      if (parsed.account !== account || parsed.region !== region) return { problem: `${value} is not a security group of ${account} in ${region}` };
      id = parsed.resource.slice('security-group/'.length);
    }
    return /^sg-[0-9a-f]{8,17}$/.test(id) ? { id } : { problem: `${JSON.stringify(value.slice(0, 80))} is not a security group id (sg-…)` };
  },
  consoleUrl: (id, region) => `https://console.aws.amazon.com/ec2/home?region=${encodeURIComponent(region)}#SecurityGroup:groupId=${encodeURIComponent(id)}`,
};

/**
 * RDS DB instances: AWS Config names them by DbiResourceId (db-…), Security Hub by instance ARN;
 * the rule reads the instance and records it under its identifier (canonicalId).
 */
export const RDS_INSTANCE: ResourceKind = {
  type: 'AWS::RDS::DBInstance',
  securityHubTypes: ['AwsRdsDbInstance'],
  iamArn: 'arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:db:*',
  parseId(value, { account, region }) {
    if (value.startsWith('arn:')) {
      const parsed = parseArn(value);
      if (parsed?.service !== 'rds' || !parsed.resource.startsWith('db:')) return { problem: `${value} is not an RDS DB instance ARN` };
      if (parsed.account !== account || parsed.region !== region) return { problem: `${value} is not a DB instance of ${account} in ${region}` };
      const name = parsed.resource.slice('db:'.length);
      return /^[a-zA-Z][a-zA-Z0-9-]{0,62}$/.test(name) ? { id: name } : { problem: `${value} does not name a DB instance` };
    }
    if (/^db-[A-Z0-9]{10,}$/.test(value) || /^[a-zA-Z][a-zA-Z0-9-]{0,62}$/.test(value)) return { id: value };
    return { problem: `${JSON.stringify(value.slice(0, 80))} is not a DB instance identifier or resource id` };
  },
  protected: (id, { stackPrefix }) => ownResource(id, stackPrefix),
  consoleUrl: (id, region) => `https://console.aws.amazon.com/rds/home?region=${encodeURIComponent(region)}#database:id=${encodeURIComponent(id)}`,
};

/** A setting of the account in one region (EBS encryption by default), as Config's periodic rules and Security Hub name the account. */
export const ACCOUNT_IN_REGION: ResourceKind = {
  type: 'AWS::::Account',
  securityHubTypes: ['AwsAccount'],
  parseId: (value, { account }) => accountId(value, account),
  consoleUrl: (_id, region) => `https://console.aws.amazon.com/ec2/home?region=${encodeURIComponent(region)}#Settings:tab=ebsEncryption`,
};
/* biome-ignore-end lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub strings */
