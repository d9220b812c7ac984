import type { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import type { Plan, Rule, Step } from '../core/model/index.ts';
import { S3 } from './lib/clients.ts';
import { type Json, type ParsedPolicy, parsePolicy, type Statement, serializePolicy } from './lib/iam-policy-document.ts';
import { S3_BUCKET } from './lib/resources.ts';
import { readBucketTags, S3_WRITES } from './lib/s3.ts';

/**
 * AWS Config s3-bucket-ssl-requests-only (S3_BUCKET_SSL_REQUESTS_ONLY): "Checks if S3 buckets have
 * policies that require requests to use SSL/TLS. The rule is NON_COMPLIANT if any S3 bucket has
 * policies allowing HTTP requests." (https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-ssl-requests-only.html)
 * Security Hub S3.5 runs the same rule.
 *
 * The page does not say which statements the rule accepts. The fix adds the one statement AWS
 * documents as compliant: Security Hub's S3.5 remediation and the Knowledge Center article
 * https://repost.aws/knowledge-center/s3-bucket-policy-for-config-rule (Deny, Principal "*",
 * Action "s3:*", the bucket and its objects, Bool aws:SecureTransport "false"). Only a statement
 * at least that wide counts as compliant; anything narrower gets the statement added.
 *
 * Auto: the statement denies nothing a client sends over HTTPS (the bot's own SDK calls use HTTPS),
 * so no access anyone has over HTTPS is removed. Clients that still use plain HTTP lose access to
 * the bucket: that is the point of the rule, and it is the risk a person reads in `risks`.
 */

const params = z.strictObject({});

export interface S3BucketSslRequestsOnlyState {
  /** The bucket's ARN, which the statements' Resource must name. */
  bucketArn: string;
  /** The bucket policy as S3 returns it; null when the bucket has none. */
  policy: string | null;
}

/** "Bucket policies are limited to 20 KB in size." (S3 User Guide, Bucket policies and user policies.) */
const MAX_POLICY_BYTES = 20 * 1024;
const SID = 'DenyInsecureTransport';
const RISK = 'clients that still reach the bucket over plain HTTP (http:// endpoints, tools configured without TLS) are refused from now on';

function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

const asList = (value: Json | undefined): Json[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);
const isObject = (value: Json | undefined): value is { [key: string]: Json } => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Principal "*", {"AWS": "*"} or {"AWS": ["*"]}: everyone, and nothing else. */
function isEveryone(principal: Json | undefined): boolean {
  if (principal === '*') return true;
  if (!isObject(principal) || Object.keys(principal).length !== 1) return false;
  const aws = asList(principal.AWS);
  return aws.length === 1 && aws[0] === '*';
}

/** Exactly {"Bool": {"aws:SecureTransport": "false"}} (or false): no further condition narrowing the Deny. */
function onlyInsecureTransport(condition: Json | undefined): boolean {
  if (!isObject(condition) || Object.keys(condition).length !== 1 || !isObject(condition.Bool)) return false;
  const entries = Object.entries(condition.Bool);
  if (entries.length !== 1) return false;
  const [key, value] = entries[0] as [string, Json];
  const values = asList(value);
  return key.toLowerCase() === 'aws:securetransport' && values.length === 1 && (values[0] === false || String(values[0]).toLowerCase() === 'false');
}

/**
 * True when the statement denies every S3 action on the bucket and on its objects to everyone
 * whenever the request is not sent over TLS; anything narrower (some actions, some principals,
 * the objects only, a further condition, NotAction …) is not counted.
 */
function deniesInsecureTransport(statement: Statement, bucketArn: string): boolean {
  if (statement.Effect !== 'Deny') return false;
  if ('NotPrincipal' in statement || 'NotAction' in statement || 'NotResource' in statement) return false;
  if (!isEveryone(statement.Principal)) return false;
  const actions = asList(statement.Action).filter((action): action is string => typeof action === 'string');
  if (!actions.some((action) => action === '*' || action.toLowerCase() === 's3:*')) return false;
  const resources = asList(statement.Resource);
  if (!resources.includes(bucketArn) || !resources.includes(`${bucketArn}/*`)) return false;
  return onlyInsecureTransport(statement.Condition);
}

/** The statement AWS documents for this rule, under a Sid no other statement has. */
function secureTransportStatement(bucketArn: string, taken: readonly Statement[]): Statement {
  const sids = new Set(taken.map((statement) => statement.Sid).filter((sid) => typeof sid === 'string'));
  let sid = SID;
  for (let n = 2; sids.has(sid); n += 1) sid = `${SID}${n}`;
  return {
    Sid: sid,
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:*',
    Resource: [bucketArn, `${bucketArn}/*`],
    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  };
}

type Reading = { parsed: ParsedPolicy; denying?: Statement } | { problem: string };

function read(state: S3BucketSslRequestsOnlyState): Reading | null {
  if (!state.policy) return null;
  let parsed: ParsedPolicy;
  try {
    parsed = parsePolicy(state.policy);
  } catch (error) {
    return { problem: `the bucket policy is not a JSON document the bot can edit (${(error as Error).message})` };
  }
  const denying = parsed.statements.find((statement) => deniesInsecureTransport(statement, state.bucketArn));
  return denying ? { parsed, denying } : { parsed };
}

function describe(state: S3BucketSslRequestsOnlyState): string {
  const reading = read(state);
  if (!reading) return 'no bucket policy: HTTP requests allowed';
  if ('problem' in reading) return 'bucket policy that is not valid JSON';
  const count = `bucket policy with ${reading.parsed.statements.length} statement(s)`;
  if (!reading.denying) return `${count}, none denying HTTP requests`;
  const name = typeof reading.denying.Sid === 'string' ? `statement "${reading.denying.Sid}"` : 'a statement';
  return `${count}; ${name} denies HTTP requests`;
}

const rule: Rule<S3BucketSslRequestsOnlyState, z.infer<typeof params>, { s3: S3Client }> = {
  id: 's3-bucket-ssl-requests-only',
  title: 'S3 bucket requires HTTPS',
  resource: S3_BUCKET,
  clients: { s3: S3 },
  answers: {
    config: [{ identifier: 'S3_BUCKET_SSL_REQUESTS_ONLY', resourceTypes: ['AWS::S3::Bucket'], defaultName: 's3-bucket-ssl-requests-only' }],
    // S3.5 "S3 buckets should require requests to use Secure Socket Layer" (Security Hub controls reference; rule s3-bucket-ssl-requests-only).
    securityHub: ['S3.5'],
  },
  defaultMode: 'auto',
  risk: 'medium',
  params,
  permissions: { read: ['s3:GetBucketPolicy', 's3:GetBucketTagging'] },
  operations: {
    'S3.PutBucketPolicy': S3_WRITES['S3.PutBucketPolicy'],
    // Only to undo a fix that created the policy.
    'S3.DeleteBucketPolicy': { ...S3_WRITES['S3.DeleteBucketPolicy'], undoOnly: true },
  },
  readTags: readBucketTags,

  async readState({ clients, target }) {
    const { GetBucketPolicyCommand } = await import('@aws-sdk/client-s3');
    const bucketArn = `arn:${partitionOf(target.region)}:s3:::${target.resourceId}`;
    try {
      const output = await clients.s3.send(new GetBucketPolicyCommand({ Bucket: target.resourceId, ExpectedBucketOwner: target.account }));
      return { bucketArn, policy: output.Policy ?? null };
    } catch (error) {
      if ((error as Error).name === 'NoSuchBucketPolicy') return { bucketArn, policy: null };
      throw error;
    }
  },

  plan(state, _params, finding): Plan {
    const reading = read(state);
    if (reading && 'problem' in reading) return { status: 'unfixable', summary: reading.problem };
    if (reading?.denying) {
      const name = typeof reading.denying.Sid === 'string' ? `statement "${reading.denying.Sid}"` : 'a statement';
      return { status: 'compliant', summary: `${name} of the bucket policy already denies every request not sent over HTTPS` };
    }
    const bucket = { Bucket: finding.resourceId, ExpectedBucketOwner: finding.account };
    const existing = reading?.parsed.statements ?? [];
    const added = secureTransportStatement(state.bucketArn, existing);
    let policy: string;
    if (reading) {
      // Every existing statement stays as it is, in order, with the document's keys and layout.
      const parsed = 'Statement' in reading.parsed.document
        ? reading.parsed
        : { ...reading.parsed, singleStatement: false, document: { ...reading.parsed.document, Statement: [] } };
      policy = serializePolicy(parsed, [...existing, added]);
    } else {
      policy = JSON.stringify({ Version: '2012-10-17', Statement: [added] }, null, 2);
    }
    const bytes = Buffer.byteLength(policy, 'utf8');
    if (bytes > MAX_POLICY_BYTES) {
      return {
        status: 'unfixable',
        summary: `adding the statement denying HTTP requests would make the bucket policy ${bytes} bytes, over S3's 20 KB limit for bucket policies; shorten the policy and add it by hand`,
      };
    }
    const step: Step = {
      operation: 'S3.PutBucketPolicy',
      input: { ...bucket, Policy: policy },
      description: state.policy
        ? `add statement "${added.Sid}" denying requests not sent over HTTPS to the bucket policy (its ${existing.length} statement(s) kept as they are)`
        : `create a bucket policy with one statement "${added.Sid}" denying requests not sent over HTTPS`,
      before: state,
      after: { ...state, policy },
      undo: state.policy
        ? { operation: 'S3.PutBucketPolicy', input: { ...bucket, Policy: state.policy } }
        : { operation: 'S3.DeleteBucketPolicy', input: bucket },
    };
    return { status: 'change', summary: step.description, steps: [step], risks: [RISK] };
  },

  describe,

  /** The policy as a document: S3 may hand back the same policy with other whitespace. */
  fingerprint(state) {
    if (!state.policy) return null;
    try {
      return JSON.parse(state.policy) as unknown;
    } catch {
      return state.policy;
    }
  },
};

export default rule;
