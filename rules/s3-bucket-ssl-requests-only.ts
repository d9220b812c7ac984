import type { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import type { Plan, ReadContext, Rule, Step } from '../core/model/index.ts';
import { S3 } from './lib/clients.ts';
import { type ParsedPolicy, parsePolicy, type Statement, serializePolicy } from './lib/iam-policy-document.ts';
import { partitionOf } from './lib/partition.ts';
import { S3_BUCKET } from './lib/resources.ts';
import { readBucketPolicy, readBucketTags, readBucketWebsite, S3_WRITES } from './lib/s3.ts';
import { deniesEveryHttpRequest, type HttpException, httpExceptions } from './lib/secure-transport.ts';

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
 * A person decides instead when HTTP is evidently in use:
 * - the bucket hosts a static website: "Amazon S3 website endpoints do not support HTTPS" (S3 User
 *   Guide, Website endpoints), and with a website endpoint as origin CloudFront reaches S3 over HTTP
 *   only (Knowledge Center, cloudfront-https-requests-s3): the added Deny would refuse every visitor
 *   of the website endpoint and every CloudFront distribution that uses it as origin;
 * - the policy already denies HTTP with an exception (a NotPrincipal, a further condition such as
 *   StringNotEquals aws:SourceVpce, some principals, actions or prefixes only) or allows HTTP
 *   outright: someone lets some HTTP requests through on purpose, and the added Deny would not.
 */

const params = z.strictObject({});

export interface S3BucketSslRequestsOnlyState {
  /** The bucket's ARN, which the statements' Resource must name. */
  bucketArn: string;
  /** The bucket policy as S3 returns it; null when the bucket has none. */
  policy: string | null;
  /** GetBucketWebsite, in words (`index document index.html`); null when the bucket hosts no website. */
  website: string | null;
}

/** "Bucket policies are limited to 20 KB in size." (S3 User Guide, Bucket policies and user policies.) */
const MAX_POLICY_BYTES = 20 * 1024;
const SID = 'DenyInsecureTransport';
const RISK = 'clients that still reach the bucket over plain HTTP (http:// endpoints, tools configured without TLS) are refused from now on';

const WEBSITE_RISK =
  'visitors of the static website (S3 website endpoints serve HTTP only) and CloudFront distributions that use the website endpoint as origin (HTTP only) lose access';

/**
 * The bucket's website configuration, read once per invocation (in parallel with the policy): the
 * fix does not change it, so the check after the fix reads the policy only.
 */
const websites = new WeakMap<object, Promise<string | null>>();

function websiteOf(context: ReadContext<unknown, Clients>, sdk: Parameters<typeof readBucketWebsite>[1]): Promise<string | null> {
  let website = websites.get(context);
  if (!website) {
    website = readBucketWebsite(context, sdk);
    websites.set(context, website);
    // A failed read is not kept: the next look asks again.
    website.catch(() => websites.delete(context));
  }
  return website;
}

/** Why a person decides: the website, the exceptions the policy makes for HTTP requests. */
function askReasons(state: S3BucketSslRequestsOnlyState, exceptions: readonly HttpException[]): { approvalReason?: string; risks: string[] } {
  const reasons: string[] = [];
  const risks = [RISK];
  if (state.website) {
    reasons.push(`the bucket hosts a static website (${state.website}), which S3 serves over HTTP only`);
    risks.push(WEBSITE_RISK);
  }
  if (exceptions.length > 0) {
    const named = exceptions.map((found) => `${found.statement}: ${found.exceptions.join('; ')}`);
    reasons.push(`the bucket policy already lets some HTTP requests through (${named.join(' | ')}), which looks deliberate`);
    for (const found of exceptions) {
      risks.push(`${found.statement} lets HTTP requests through (${found.exceptions.join('; ')}); the added statement refuses those too`);
    }
  }
  return reasons.length > 0 ? { approvalReason: `${reasons.join('; and ')}: a person decides`, risks } : { risks };
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

type Clients = { s3: S3Client };

function read(state: S3BucketSslRequestsOnlyState): Reading | null {
  if (!state.policy) return null;
  let parsed: ParsedPolicy;
  try {
    parsed = parsePolicy(state.policy);
  } catch (error) {
    return { problem: `the bucket policy is not a JSON document the bot can edit (${(error as Error).message})` };
  }
  const denying = parsed.statements.find((statement) => deniesEveryHttpRequest(statement, state.bucketArn));
  return denying ? { parsed, denying } : { parsed };
}

function describePolicy(state: S3BucketSslRequestsOnlyState): string {
  const reading = read(state);
  if (!reading) return 'no bucket policy: HTTP requests allowed';
  if ('problem' in reading) return 'bucket policy that is not valid JSON';
  const count = `bucket policy with ${reading.parsed.statements.length} statement(s)`;
  if (!reading.denying) return `${count}, none denying HTTP requests`;
  const name = typeof reading.denying.Sid === 'string' ? `statement "${reading.denying.Sid}"` : 'a statement';
  return `${count}; ${name} denies HTTP requests`;
}

function describe(state: S3BucketSslRequestsOnlyState): string {
  return `${describePolicy(state)}${state.website ? `; static website hosting on (${state.website})` : ''}`;
}

const rule: Rule<S3BucketSslRequestsOnlyState, z.infer<typeof params>, Clients> = {
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
  permissions: { read: ['s3:GetBucketPolicy', 's3:GetBucketWebsite', 's3:GetBucketTagging'] },
  operations: {
    'S3.PutBucketPolicy': S3_WRITES['S3.PutBucketPolicy'],
    // Only to undo a fix that created the policy.
    'S3.DeleteBucketPolicy': { ...S3_WRITES['S3.DeleteBucketPolicy'], undoOnly: true },
  },
  readTags: readBucketTags,

  async readState(context) {
    const sdk = await import('@aws-sdk/client-s3');
    const bucketArn = `arn:${partitionOf(context.finding)}:s3:::${context.target.resourceId}`;
    const [text, website] = await Promise.all([readBucketPolicy(context, sdk), websiteOf(context, sdk)]);
    return { bucketArn, policy: text, website };
  },

  /** The write changes the policy only: the website read before it stands. */
  readAfter: async (context, before) => ({ ...before, policy: await readBucketPolicy(context, await import('@aws-sdk/client-s3')) }),

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
    return { status: 'change', summary: step.description, steps: [step], ...askReasons(state, httpExceptions(existing, state.bucketArn)) };
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
