const PARTITIONS = new Set(['aws', 'aws-cn', 'aws-us-gov']);

export interface ParsedArn {
  partition: string;
  service: string;
  region: string;
  account: string;
  resource: string;
}

/** The parts of an ARN in a partition AWS has, or null for anything else. */
export function parseArn(arn: string): ParsedArn | null {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return null;
  const [, partition = '', service = '', region = '', account = ''] = parts;
  if (!PARTITIONS.has(partition)) return null;
  return { partition, service, region, account, resource: parts.slice(5).join(':') };
}
