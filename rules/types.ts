import type { AccessAnalyzerClient } from '@aws-sdk/client-accessanalyzer';
import type { ConfigServiceClient } from '@aws-sdk/client-config-service';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3ControlClient } from '@aws-sdk/client-s3-control';
import type { z } from 'zod';
import type { Mode } from '../functions/commons/constants.ts';
import type { Finding } from '../functions/commons/finding.ts';
import type { WriteOperation } from '../functions/commons/write-operations.ts';

/** The AWS services whose clients a rule uses; its function loads only those. */
export type Service = 's3' | 's3control' | 'iam' | 'accessAnalyzer' | 'config';

/** The AWS clients a rule may read with. Writes never go through a rule: see apply-steps.ts. */
export interface ReadClients {
  s3: S3Client;
  s3control: S3ControlClient;
  iam: IAMClient;
  /** A separate IAM client for last-accessed reports (access advisor), so tests can fake it alone. */
  iamAccessAdvisor: IAMClient;
  accessAnalyzer: AccessAnalyzerClient;
  config: ConfigServiceClient;
}

/** One write the bot would make, as data: shown in dry runs and approvals, stored for rollback. */
export interface Step {
  operation: WriteOperation;
  input: Record<string, unknown>;
  /** One line a person understands: what this step changes. */
  description: string;
  before: unknown;
  after: unknown;
  /** The write that restores `before`; null when a rollback leaves it be (the record keeps `before`). */
  undo: { operation: WriteOperation; input: Record<string, unknown> } | null;
}

export type Plan =
  | { status: 'compliant'; summary: string }
  | { status: 'change'; summary: string; steps: Step[]; approvalReason?: string }
  | { status: 'unfixable'; summary: string };

export interface RuleTarget {
  account: string;
  region: string;
  resourceId: string;
}

export interface ReadContext<Params> {
  clients: ReadClients;
  target: RuleTarget;
  params: Params;
}

/** What a rule answers; the EventBridge patterns and the local router are both built from this. */
export interface RuleAnswers {
  configRules: readonly string[];
  accessAnalyzer?: { resourceType: string; isPublic: boolean };
}

export interface Rule<State = unknown, Params = unknown> {
  /** Kebab-case, equal to the file name; used in RULE_MODES, records and function names. */
  id: string;
  title: string;
  resourceType: string;
  /** The services its reads, writes and follow-ups call. */
  services: readonly Service[];
  answers: RuleAnswers;
  defaultMode: Mode;
  risk: 'low' | 'medium' | 'high';
  /** Rejects unknown keys, so a typo in RULE_PARAMS fails at start. */
  params: z.ZodType<Params>;
  permissions: {
    read: readonly string[];
    write: readonly string[];
    /** The resources the read and write actions are scoped to in the function's role. */
    resource: 'bucket' | 'iam-policy' | 'iam-role' | 'none';
    /** Further actions on other resources, such as asking Access Analyzer to re-scan. */
    alsoOn?: ReadonlyArray<{ actions: readonly string[]; resource: 'analyzer' | 'config-rule' }>;
    /**
     * Actions IAM grants only on Resource "*" (no resource types); a test checks each against the
     * IAM action catalog. Everything else is scoped to `resource`.
     */
    wildcardOnly: readonly string[];
  };
  /** Concurrent invocations at most, where the API the rule calls has low rate limits (IAM). */
  reservedConcurrency?: number;
  /** Tags of the live resource, for the exclusion tag; absent where the resource has none. */
  readTags?: (context: ReadContext<Params>) => Promise<Record<string, string>>;
  readState: (context: ReadContext<Params>) => Promise<State>;
  /** Pure: live state (and what reported it) to the steps that make it compliant. */
  plan: (state: State, params: Params, finding: Finding) => Plan;
  /** One-line description of a state, for records and messages. */
  describe: (state: State) => string;
  /**
   * Called after a verified change; returns a note for the record. For example: ask Access
   * Analyzer to re-scan, so the finding resolves without waiting. A failure here fails nothing.
   */
  afterChange?: (clients: ReadClients, finding: Finding) => Promise<string>;
  /**
   * The part of the state a rollback compares: the resource is "as the bot left it" when this is
   * unchanged. Defaults to the whole state.
   */
  fingerprint?: (state: State) => unknown;
}

export type AnyRule = Rule<any, any>;
