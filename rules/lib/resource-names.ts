import { parseArn } from '../../core/model/index.ts';

/**
 * Validation of the resource names an event may carry, following the AWS naming rules, so that a
 * malformed or look-alike name never reaches an API call.
 */

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IP_ADDRESS = /^\d{1,3}(\.\d{1,3}){3}$/;
const RESERVED_BUCKET_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const RESERVED_BUCKET_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];

/** Returns why `name` is not a valid general purpose S3 bucket name, or null when it is. */
export function bucketNameProblem(name: string): string | null {
  if (!BUCKET_NAME.test(name)) {
    return 'bucket names are 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit';
  }
  if (name.includes('..')) return 'bucket names cannot contain two adjacent dots';
  if (name.includes('.-') || name.includes('-.')) return 'bucket names cannot put a dot next to a hyphen';
  if (IP_ADDRESS.test(name)) return 'bucket names cannot be formatted as an IP address';
  if (RESERVED_BUCKET_PREFIXES.some((prefix) => name.startsWith(prefix))) return 'bucket name uses a reserved prefix';
  if (RESERVED_BUCKET_SUFFIXES.some((suffix) => name.endsWith(suffix))) return 'bucket name uses a reserved suffix';
  return null;
}

/** The bucket an ARN names, or why it does not name exactly one bucket. */
export function bucketFromArn(arn: string): { bucket: string } | { problem: string } {
  const parsed = parseArn(arn);
  if (parsed?.service !== 's3') return { problem: `${arn} is not an S3 ARN` };
  if (parsed.region !== '' || parsed.account !== '') {
    return { problem: `${arn} is not a bucket ARN (bucket ARNs carry no region or account)` };
  }
  if (parsed.resource.includes('/') || parsed.resource.includes('*') || parsed.resource.includes('?')) {
    return { problem: `${arn} does not name exactly one bucket` };
  }
  const problem = bucketNameProblem(parsed.resource);
  return problem ? { problem: `${arn}: ${problem}` } : { bucket: parsed.resource };
}

/**
 * Policy ids as AWS Config reports them: IAM unique ids, ANPA… for managed policies (emulators use
 * other A… prefixes). Only a lookup among this account's customer-managed policies uses them.
 */
const POLICY_ID = /^A[A-Z0-9]{15,127}$/;

export function policyIdProblem(id: string): string | null {
  return POLICY_ID.test(id) ? null : `${JSON.stringify(id.slice(0, 80))} is not an IAM policy id (ANPA…)`;
}

/** The path and name of a customer-managed policy ARN, or why it is not one of this account. */
export function policyFromArn(arn: string, account: string): { path: string; name: string } | { problem: string } {
  const parsed = parseArn(arn);
  if (parsed?.service !== 'iam' || !parsed.resource.startsWith('policy/')) {
    return { problem: `${arn} is not an IAM policy ARN` };
  }
  if (parsed.account === 'aws') return { problem: `${arn} is an AWS-managed policy; driftfix never changes those` };
  if (parsed.account !== account) return { problem: `${arn} belongs to account ${parsed.account}, not ${account}` };
  const segments = parsed.resource.slice('policy/'.length).split('/');
  const name = segments.pop() ?? '';
  if (!/^[\w+=,.@-]{1,128}$/.test(name) || parsed.resource.includes('*')) {
    return { problem: `${arn} does not name exactly one policy` };
  }
  return { path: `/${segments.map((segment) => `${segment}/`).join('')}`, name };
}

/** The path and name of a role ARN of this account, or why it is not one. */
export function roleFromArn(arn: string, account: string): { path: string; name: string } | { problem: string } {
  const parsed = parseArn(arn);
  if (parsed?.service !== 'iam' || !parsed.resource.startsWith('role/')) return { problem: `${arn} is not an IAM role ARN` };
  if (parsed.account !== account) return { problem: `${arn} belongs to account ${parsed.account}, not ${account}` };
  const segments = parsed.resource.slice('role/'.length).split('/');
  const name = segments.pop() ?? '';
  if (!/^[\w+=,.@-]{1,64}$/.test(name) || parsed.resource.includes('*')) return { problem: `${arn} does not name exactly one role` };
  return { path: `/${segments.map((segment) => `${segment}/`).join('')}`, name };
}

/** IAM paths AWS reserves for roles it manages: service-linked roles and IAM Identity Center roles. */
export function reservedIamPath(path: string): string | null {
  if (path.startsWith('/aws-service-role/')) return 'it is an AWS service-linked role (path /aws-service-role/), which AWS manages';
  if (path.startsWith('/aws-reserved/')) return 'it sits under /aws-reserved/, which AWS manages (IAM Identity Center)';
  return null;
}

/** The bot's own resources (its stack's roles, bucket, functions) carry the stack name first. */
export function ownResource(name: string, stackPrefix: string): string | null {
  return stackPrefix && name.toLowerCase().startsWith(stackPrefix.toLowerCase())
    ? `it belongs to driftfix's own stack (${stackPrefix}…); the bot never changes itself`
    : null;
}
