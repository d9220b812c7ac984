import type { ResourceKind } from '../../core/model/index.ts';
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
/* biome-ignore-end lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub strings */
