import type { Finding } from '../../core/model/index.ts';

/**
 * The partition of the account a finding is about, for ARNs a rule builds (a bucket policy's
 * Resource). "Each AWS account is scoped to one partition" (AWS General Reference, Amazon
 * Resource Names): every ARN the finding carries names it, so those are read first. A finding
 * that carries none (a Config event without its rule ARN) falls back to the Region's partition
 * by the Region patterns AWS publishes in its SDKs' endpoint data (partitions.json:
 * `regionRegex` of aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, aws-iso-e, aws-iso-f and
 * aws-eusc); a Region none of them matches is an error, not a guess.
 */

const ARN_PARTITION = /^arn:(aws(?:-[a-z]+)*):/;

/** regionRegex of each partition in AWS's endpoint data (@aws-sdk/core util-endpoints partitions.js). */
const REGION_PARTITIONS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^cn-\w+-\d+$/, 'aws-cn'],
  [/^us-gov-\w+-\d+$/, 'aws-us-gov'],
  [/^us-iso-\w+-\d+$/, 'aws-iso'],
  [/^us-isob-\w+-\d+$/, 'aws-iso-b'],
  [/^eu-isoe-\w+-\d+$/, 'aws-iso-e'],
  [/^us-isof-\w+-\d+$/, 'aws-iso-f'],
  [/^eusc-de-\w+-\d+$/, 'aws-eusc'],
  [/^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$/, 'aws'],
];

/** The ARNs a finding carries: the resource's, the Config rule's, Security Hub's product, the analyzer's. */
function arnsOf(finding: Finding): string[] {
  const { trigger } = finding;
  const fromTrigger =
    trigger.kind === 'config-rule' ? trigger.configRuleArn : trigger.kind === 'security-hub' ? trigger.productArn : trigger.analyzerArn;
  return [finding.resourceArn, finding.resourceId, fromTrigger].filter((value): value is string => typeof value === 'string');
}

export function partitionOfRegion(region: string): string {
  const found = REGION_PARTITIONS.find(([pattern]) => pattern.test(region));
  if (!found) throw new Error(`cannot tell the partition of Region ${JSON.stringify(region)}: it matches no partition AWS publishes`);
  return found[1];
}

/** The partition from the finding's own ARNs, or else from its Region. */
export function partitionOf(finding: Pick<Finding, 'resourceArn' | 'resourceId' | 'trigger' | 'region'>): string {
  for (const arn of arnsOf(finding as Finding)) {
    const match = ARN_PARTITION.exec(arn);
    if (match?.[1]) return match[1];
  }
  return partitionOfRegion(finding.region);
}
