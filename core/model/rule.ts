import type { ZodType } from 'zod';
import type { Mode, Risk } from './constants.ts';
import type { Finding } from './finding.ts';

/**
 * The contract of a rule: what it answers, what it may touch, how it reads, plans and describes.
 * A rule is data plus pure functions; the engine does everything else (locking, approvals,
 * applying, verifying, recording, announcing), and the deployment derives the function, its role
 * and its routing from the declaration.
 */

/** An AWS SDK client class, loaded on a function's first use of it. */
export interface ClientSpec<Client = unknown> {
  /** How calls through it are named in the call log: `S3`, `EC2`, … */
  service: string;
  load(): Promise<new (config: Record<string, any>) => Client>;
  /** Settings a local endpoint (moto) needs, such as S3's path-style addressing. */
  local?: (endpoint: string) => Record<string, unknown>;
}
export type ClientSpecs<Clients> = { [K in keyof Clients]: ClientSpec<Clients[K]> };

/** A write the rule may make: declared once, with the IAM action it needs and the SDK command that sends it. */
export interface WriteOperation<Clients = Record<string, unknown>> {
  client: keyof Clients & string;
  iamAction: string;
  command: () => Promise<new (input: any) => object>;
  /** Used only to roll back (with the operator's credentials): not granted to the rule's function. */
  undoOnly?: boolean;
}

/** What a resource is and how events name it. */
export interface ResourceKind {
  /** The CloudFormation type records and locks use: `AWS::S3::Bucket`. */
  type: string;
  /** Other types that name the same thing in events (Config's periodic rules report `AWS::::Account`). */
  aliases?: readonly string[];
  /** Security Hub's names for it (ASFF `Resources[].Type`): `AwsS3Bucket`. */
  securityHubTypes?: readonly string[];
  /** The IAM resource ARN (a CloudFormation Fn::Sub string) the rule's actions are scoped to; none: `*`. */
  iamArn?: string;
  /**
   * The id the API wants, from what an event carries (a Config resourceId or an ARN), or why it is
   * not a valid one of this account and region.
   */
  parseId(value: string, where: { account: string; region: string }): { id: string } | { problem: string };
  /** Resources the bot must never change (its own stack, AWS service roles): the reason, or null. */
  protected?: (id: string, where: { account: string; region: string; stackPrefix: string }) => string | null;
  consoleUrl?(id: string, region: string): string | undefined;
}

/** An AWS Config managed rule the rule answers, by its identifier (whatever the rule is named). */
export interface ConfigAnswer {
  identifier: string;
  /** The resource types the managed rule reports on (its documentation page). */
  resourceTypes: readonly string[];
  /** The name AWS suggests, used when driftfix deploys the rule (`deployConfigRules`). */
  defaultName: string;
  periodic?: boolean;
}

export interface Answers {
  config?: readonly ConfigAnswer[];
  /** Access Analyzer external-access findings of this resource type and exposure. */
  accessAnalyzer?: { resourceType: string; isPublic: boolean };
  /** Security Hub controls (`Compliance.SecurityControlId`), such as `S3.8`. */
  securityHub?: readonly string[];
}

/** One write the bot would make, as data: shown in dry runs and approvals, stored for rollback. */
export interface Step {
  operation: string;
  input: Record<string, unknown>;
  /** One line a person understands: what this step changes. */
  description: string;
  before: unknown;
  after: unknown;
  /** The write that restores `before`; null when a rollback leaves it be (the record keeps `before`). */
  undo: { operation: string; input: Record<string, unknown> } | null;
}

export type Plan =
  | { status: 'compliant'; summary: string }
  | {
      status: 'change';
      summary: string;
      steps: Step[];
      /** Why a person must decide even in `auto` mode (a website bucket, a wide port range). */
      approvalReason?: string;
      /** What could break, first in the approval request. */
      risks?: string[];
    }
  | {
      status: 'unfixable';
      summary: string;
      /**
       * Nothing more can be done safely, and the resource may stay so: the state a partial fix
       * leaves (an IAM wildcard kept because a workload uses it). Recorded as `skipped` when found,
       * and counted as done when a change leads to it (verification, recovery).
       */
      settled?: boolean;
    };

export interface RuleTarget {
  account: string;
  region: string;
  resourceId: string;
}

export interface ReadContext<Params, Clients> {
  clients: Clients;
  target: RuleTarget;
  params: Params;
  finding: Finding;
}

export interface Rule<State = unknown, Params = unknown, Clients = any> {
  /** Kebab-case, equal to the file name; used in RULE_MODES, records and function names. */
  id: string;
  title: string;
  resource: ResourceKind;
  clients: ClientSpecs<Clients>;
  answers: Answers;
  defaultMode: Mode;
  risk: Risk;
  /** Rejects unknown keys, so a typo in RULE_PARAMS fails at start. */
  params: ZodType<Params>;
  /** IAM actions of its reads and follow-ups; its writes' actions come from `operations`. */
  permissions: {
    read: readonly string[];
    /** Actions IAM grants only on Resource "*"; a test checks each against the IAM action catalog. */
    wildcardOnly?: readonly string[];
    /**
     * Further actions on other resources, such as asking Access Analyzer to re-scan. With `param`
     * (a dot path into the rule's parameters), granted only where the deployment sets it: on `*`
     * (actions IAM grants only there), or on the role ARN the parameter holds (`role-param`, to be
     * passed to `passedToService` only).
     */
    alsoOn?: ReadonlyArray<
      | { actions: readonly string[]; resource: 'analyzer' | 'kms-key' }
      | { actions: readonly string[]; resource: '*' | 'role-param'; param: string; passedToService?: string }
    >;
  };
  operations: Record<string, WriteOperation<Clients>>;
  /** Concurrent invocations at most (low API rate limits, as IAM's); default 5. */
  concurrency?: number;
  /**
   * Where the plan depends on the finding as well as the resource (the ports a Config rule flags on
   * a security group): that part, as a short stable text. Approvals, rejections and exceptions then
   * hold for that part only, so rejecting one question does not silence another.
   */
  scope?: (finding: Finding, params: Params) => string | undefined;
  /** Tags of the live resource, for the exclusion tag; absent where the resource has none. */
  readTags?: (context: ReadContext<Params, Clients>) => Promise<Record<string, string>>;
  /** Reads only. A missing configuration is state, not an error. */
  readState: (context: ReadContext<Params, Clients>) => Promise<State>;
  /**
   * Verification after the rule's own write, where the state takes several reads: reads again only
   * what the write changes and keeps the rest of `before` (one request fewer per fix). Defaults to
   * `readState`. A redelivery or a rollback always reads the whole state.
   */
  readAfter?: (context: ReadContext<Params, Clients>, before: State) => Promise<State>;
  /** Pure: live state (and what reported it) to the steps that make it compliant. */
  plan: (state: State, params: Params, finding: Finding) => Plan;
  /** One-line description of a state, for records and messages. */
  describe: (state: State) => string;
  /**
   * The part of the state a rollback compares: the resource is "as the bot left it" when this is
   * unchanged. Defaults to the whole state.
   */
  fingerprint?: (state: State) => unknown;
  /**
   * The resource's canonical id, from its state, where events name it in several ways (an RDS
   * instance by DbiResourceId or ARN); locks, suppressions and approvals use it.
   */
  canonicalId?: (state: State) => string;
  /** Called after a verified change; returns a note for the record. A failure fails nothing. */
  afterChange?: (context: ReadContext<Params, Clients>) => Promise<string>;
}

export type AnyRule = Rule<any, any, any>;
