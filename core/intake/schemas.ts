import { z } from 'zod';
import { EARLIEST_EVENT_TIME, MAX_FUTURE_SKEW_MS, REGION_NAME } from '../model/index.ts';

/**
 * The fields driftfix uses, checked strictly; everything else an event carries is accepted and
 * ignored, and the values AWS documents as null (annotation, resultToken) may be null.
 */

/** EventBridge event ids are UUIDs; archives and test events use the same alphabet. */
const eventId = z.string().regex(/^[A-Za-z0-9-]{1,128}$/, 'expected an event id (letters, digits, hyphens)');
export const accountId = z.string().regex(/^\d{12}$/, 'expected a 12-digit account id');
export { REGION_NAME };
export const regionName = z.string().regex(REGION_NAME, 'expected an AWS region name');
/** Printable ASCII only: AWS sources, detail-types and names never hold look-alike characters. */
export const PRINTABLE_ASCII = /^[\x20-\x7E]+$/;

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** A timestamp that is a real instant, not before the services existed and not in the future. */
export function instant(now: () => number) {
  return z.string().superRefine((value, ctx) => {
    const millis = ISO_INSTANT.test(value) ? Date.parse(value) : Number.NaN;
    if (Number.isNaN(millis)) {
      ctx.addIssue({ code: 'custom', message: `not an ISO 8601 timestamp: ${JSON.stringify(value.slice(0, 40))}` });
    } else if (millis < EARLIEST_EVENT_TIME) {
      ctx.addIssue({ code: 'custom', message: `timestamp ${value} predates AWS Config and Access Analyzer` });
    } else if (millis > now() + MAX_FUTURE_SKEW_MS) {
      ctx.addIssue({ code: 'custom', message: `timestamp ${value} is in the future` });
    }
  });
}

/** Schemas are built once per clock (a clock is a function), not once per event. */
function perClock<T>(make: (now: () => number) => T): (now: () => number) => T {
  const built = new WeakMap<() => number, T>();
  return (now) => {
    let schema = built.get(now);
    if (!schema) {
      schema = make(now);
      built.set(now, schema);
    }
    return schema;
  };
}

/** Optional, and documented as possibly null: null means absent. */
const nullable = <T extends z.ZodType>(schema: T) => schema.nullish().transform((value) => value ?? undefined);

export const envelopeSchema = perClock((now) =>
  z.object({
    version: z.literal('0'),
    id: eventId,
    'detail-type': z.string().min(1).max(128),
    source: z.string().min(1).max(256),
    account: accountId,
    time: instant(now),
    region: regionName,
    resources: z.array(z.string().max(2048)).max(100),
    detail: z.record(z.string(), z.unknown()),
    'replay-name': z.string().max(256).optional(),
  }),
);
export type Envelope = z.infer<ReturnType<typeof envelopeSchema>>;

export const COMPLIANCE_TYPES = ['COMPLIANT', 'NON_COMPLIANT', 'NOT_APPLICABLE', 'INSUFFICIENT_DATA'] as const;

/**
 * Config rule names are 1-128 characters (DescribeConfigRules, ConfigRuleNames); Security Hub,
 * conformance packs and people choose them, so any printable name is accepted: the rule is
 * identified by what AWS Config says it is, not by its name.
 */
const configRuleName = z
  .string()
  .min(1)
  .max(128)
  .regex(PRINTABLE_ASCII, 'expected an AWS Config rule name (printable ASCII)')
  .refine((name) => name.trim().length > 0, 'expected an AWS Config rule name');

/** Customer rules: config-rule/config-rule-x; service-linked: config-rule/aws-service-rule/<service>/config-rule-x. */
const CONFIG_RULE_ARN = /^arn:aws[a-z-]*:config:[a-z0-9-]+:\d{12}:config-rule\/(aws-service-rule\/[a-z0-9.-]+\/)?config-rule-[A-Za-z0-9]+$/;

export const configComplianceDetailSchema = perClock((now) => {
  const evaluation = z.object({
    complianceType: z.enum(COMPLIANCE_TYPES),
    annotation: nullable(z.string().max(1024)),
    resultToken: nullable(z.string().max(4096)),
    resultRecordedTime: nullable(instant(now)),
    configRuleInvokedTime: nullable(instant(now)),
    evaluationResultIdentifier: nullable(
      z.object({
        evaluationResultQualifier: nullable(
          z.object({
            configRuleName: nullable(z.string().max(128)),
            resourceType: nullable(z.string().max(256)),
            resourceId: nullable(z.string().max(768)),
          }),
        ),
        orderingTimestamp: nullable(instant(now)),
      }),
    ),
  });
  return z.object({
    configRuleName,
    configRuleARN: nullable(z.string().regex(CONFIG_RULE_ARN, 'expected an AWS Config rule ARN')),
    resourceId: z.string().min(1).max(768),
    resourceType: z.string().regex(/^AWS::[A-Za-z0-9]*::[A-Za-z0-9]+$/, 'expected a CloudFormation resource type'),
    awsAccountId: accountId,
    awsRegion: regionName,
    messageType: z.literal('ComplianceChangeNotification'),
    recordVersion: nullable(z.string().max(16)),
    notificationCreationTime: nullable(instant(now)),
    newEvaluationResult: evaluation,
    // Absent on a rule's first evaluation of a resource; not used.
    oldEvaluationResult: z.unknown().optional(),
  });
});
export type ConfigComplianceDetail = z.infer<ReturnType<typeof configComplianceDetailSchema>>;

export const FINDING_STATUSES = ['ACTIVE', 'ARCHIVED', 'RESOLVED'] as const;

export const accessAnalyzerDetailSchema = perClock((now) =>
  z.object({
    version: nullable(z.string().max(64)),
    id: z.string().regex(/^[A-Za-z0-9-]{1,128}$/, 'expected a finding id'),
    status: z.enum(FINDING_STATUSES),
    resourceType: z.string().regex(/^AWS::[A-Za-z0-9]+::[A-Za-z0-9]+$/, 'expected a CloudFormation resource type'),
    resource: z.string().min(1).max(2048),
    accountId,
    region: nullable(regionName),
    findingType: nullable(z.string().max(64)),
    isPublic: nullable(z.boolean()),
    isDeleted: nullable(z.boolean()),
    principal: nullable(z.record(z.string(), z.string())),
    action: nullable(z.array(z.string().max(256)).max(1000)),
    condition: nullable(z.record(z.string(), z.unknown())),
    error: nullable(z.string().max(256)),
    createdAt: nullable(instant(now)),
    analyzedAt: nullable(instant(now)),
    updatedAt: nullable(instant(now)),
  }),
);
export type AccessAnalyzerDetail = z.infer<ReturnType<typeof accessAnalyzerDetailSchema>>;

/** ASFF, the fields driftfix uses (Security Hub User Guide, AWS Security Finding Format). */
export const securityHubFindingSchema = perClock((now) =>
  z.object({
    SchemaVersion: nullable(z.string().max(32)),
    Id: z.string().min(1).max(512).regex(PRINTABLE_ASCII, 'expected a finding id'),
    ProductArn: z.string().regex(/^arn:aws[a-z-]*:securityhub:[a-z0-9-]+:(\d{12})?:product\/[A-Za-z0-9/._-]+$/, 'expected a Security Hub product ARN'),
    GeneratorId: nullable(z.string().max(512)),
    AwsAccountId: accountId,
    Region: nullable(regionName),
    UpdatedAt: nullable(instant(now)),
    RecordState: z.enum(['ACTIVE', 'ARCHIVED']),
    Compliance: nullable(
      z.object({
        Status: nullable(z.enum(['PASSED', 'WARNING', 'FAILED', 'NOT_AVAILABLE'])),
        SecurityControlId: nullable(z.string().max(64).regex(/^[A-Za-z0-9]+\.\d+$/, 'expected a control id such as S3.8')),
      }),
    ),
    Workflow: nullable(z.object({ Status: z.enum(['NEW', 'NOTIFIED', 'RESOLVED', 'SUPPRESSED']) })),
    ProductFields: nullable(z.record(z.string(), z.string())),
    Resources: z
      .array(
        z.object({
          Type: z.string().min(1).max(256),
          Id: z.string().min(1).max(2048),
          Partition: nullable(z.string().max(16)),
          Region: nullable(z.string().max(32)),
        }),
      )
      .min(1)
      .max(32),
  }),
);
export type SecurityHubFinding = z.infer<ReturnType<typeof securityHubFindingSchema>>;

/** Turns zod issues into one line a person can act on. */
export function describeIssues(error: z.ZodError, prefix: string): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => {
      const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
      return `${path || 'event'}: ${issue.message}`;
    })
    .join('; ');
}
