import { z } from 'zod';
import { EARLIEST_EVENT_TIME, MAX_FUTURE_SKEW_MS } from './constants.ts';

/** EventBridge event ids are UUIDs; archives and test events use the same alphabet. */
const eventId = z.string().regex(/^[A-Za-z0-9-]{1,128}$/, 'expected an event id (letters, digits, hyphens)');
export const accountId = z.string().regex(/^\d{12}$/, 'expected a 12-digit account id');
export const regionName = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'expected an AWS region name');

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

export function envelopeSchema(now: () => number) {
  return z.object({
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
  });
}
export type Envelope = z.infer<ReturnType<typeof envelopeSchema>>;

export const COMPLIANCE_TYPES = ['COMPLIANT', 'NON_COMPLIANT', 'NOT_APPLICABLE', 'INSUFFICIENT_DATA'] as const;

export function configComplianceDetailSchema(now: () => number) {
  return z.object({
    configRuleName: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'expected an AWS Config rule name'),
    configRuleARN: z.string().regex(/^arn:aws[a-z-]*:config:[a-z0-9-]+:\d{12}:config-rule\/[A-Za-z0-9/_-]+$/).optional(),
    resourceId: z.string().min(1).max(768),
    resourceType: z.string().regex(/^AWS::[A-Za-z0-9]*::[A-Za-z0-9]+$/, 'expected a CloudFormation resource type'),
    awsAccountId: accountId,
    awsRegion: regionName,
    messageType: z.literal('ComplianceChangeNotification'),
    recordVersion: z.string().max(16).optional(),
    notificationCreationTime: instant(now).optional(),
    newEvaluationResult: z.object({
      complianceType: z.enum(COMPLIANCE_TYPES),
      annotation: z.string().max(1024).optional(),
      resultRecordedTime: instant(now).optional(),
      configRuleInvokedTime: instant(now).optional(),
      evaluationResultIdentifier: z
        .object({
          evaluationResultQualifier: z
            .object({
              configRuleName: z.string().max(128).optional(),
              resourceType: z.string().max(256).optional(),
              resourceId: z.string().max(768).optional(),
            })
            .optional(),
          orderingTimestamp: instant(now).optional(),
        })
        .optional(),
    }),
  });
}
export type ConfigComplianceDetail = z.infer<ReturnType<typeof configComplianceDetailSchema>>;

export const FINDING_STATUSES = ['ACTIVE', 'ARCHIVED', 'RESOLVED'] as const;

export function accessAnalyzerDetailSchema(now: () => number) {
  return z.object({
    version: z.string().max(16).optional(),
    id: z.string().regex(/^[A-Za-z0-9-]{1,128}$/, 'expected a finding id'),
    status: z.enum(FINDING_STATUSES),
    resourceType: z.string().regex(/^AWS::[A-Za-z0-9]+::[A-Za-z0-9]+$/, 'expected a CloudFormation resource type'),
    resource: z.string().min(1).max(2048),
    accountId,
    region: regionName.optional(),
    findingType: z.string().max(64).optional(),
    isPublic: z.boolean().optional(),
    isDeleted: z.boolean().optional(),
    principal: z.record(z.string(), z.string()).optional(),
    action: z.array(z.string().max(256)).max(1000).optional(),
    condition: z.record(z.string(), z.string()).optional(),
    error: z.string().max(256).optional(),
    createdAt: instant(now).optional(),
    analyzedAt: instant(now).optional(),
    updatedAt: instant(now).optional(),
  });
}
export type AccessAnalyzerDetail = z.infer<ReturnType<typeof accessAnalyzerDetailSchema>>;

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
