
import { ConfigServiceClient, DeleteConfigRuleCommand } from '@aws-sdk/client-config-service';
import { GetBucketPolicyCommand, PutBucketPolicyCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STALE_READ_MARGIN_MS } from '../../core/engine/change.ts';
import { decideApproval } from '../../core/engine/decide.ts';
import { rollbackRecord } from '../../core/engine/rollback.ts';
import type { Finding } from '../../core/model/index.ts';
import { RULES } from '../../rules/index.ts';
import rule from '../../rules/s3-bucket-ssl-requests-only.ts';
import { replayEvent } from '../../scripts/lib/replay-files.ts';
import { ACCOUNT, approvedEvent, configEvent, freshId, loadSample, REGION, securityHubEvent } from '../support/events.ts';
import { createBucket, createConfigRule, localRuntime, motoEndpoint, testS3, uniqueName } from '../support/local-aws.ts';

type Runtime = Awaited<ReturnType<typeof localRuntime>>;
type State = Parameters<typeof rule.plan>[0];

const IDENTIFIER = 'S3_BUCKET_SSL_REQUESTS_ONLY';
const BUCKET = 'ssl-plan-bucket';
const ARN = `arn:aws:s3:::${BUCKET}`;
const bucketInput = { Bucket: BUCKET, ExpectedBucketOwner: ACCOUNT };
const RISK = 'clients that still reach the bucket over plain HTTP (http:// endpoints, tools configured without TLS) are refused from now on';

/** The statement AWS documents for this rule (Security Hub S3.5 remediation; Knowledge Center), as the bot adds it. */
const documented = (bucketArn = ARN, Sid = 'DenyInsecureTransport') => ({
  Sid,
  Effect: 'Deny',
  Principal: '*',
  Action: 's3:*',
  Resource: [bucketArn, `${bucketArn}/*`],
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
});
const grant = (Sid: string, bucketArn = ARN) => ({ Sid, Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/reporting` }, Action: 's3:GetObject', Resource: `${bucketArn}/*` });
const policyText = (statements: unknown[], indent?: number) => JSON.stringify({ Version: '2012-10-17', Statement: statements }, null, indent);

function configFinding(resourceId = BUCKET): Finding {
  return {
    eventId: 'e-1',
    reporter: 'config',
    replayed: false,
    account: ACCOUNT,
    region: REGION,
    time: '2026-11-20T09:14:03Z',
    resourceType: 'AWS::S3::Bucket',
    resourceId,
    trigger: { kind: 'config-rule', configRuleName: 'team-https-only', identifier: IDENTIFIER, complianceType: 'NON_COMPLIANT' },
  };
}
const finding = configFinding();
const state = (policy: string | null, website: string | null = null): State => ({ bucketArn: ARN, policy, website });

function changeOf(plan: ReturnType<typeof rule.plan>) {
  if (plan.status !== 'change') throw new Error(`expected a change, got ${plan.status}: ${plan.summary}`);
  return plan;
}
const statementsOf = (policy: unknown) => JSON.parse(String(policy)).Statement as unknown[];

describe('plan (pure)', () => {
  it('no policy → a policy with only the documented statement, undone by deleting the policy; auto, with the HTTP risk named', () => {
    const plan = changeOf(rule.plan(state(null), {}, finding));
    const created = JSON.stringify({ Version: '2012-10-17', Statement: [documented()] }, null, 2);
    expect(plan.steps).toEqual([
      {
        operation: 'S3.PutBucketPolicy',
        input: { ...bucketInput, Policy: created },
        description: 'create a bucket policy with one statement "DenyInsecureTransport" denying requests not sent over HTTPS',
        before: state(null),
        after: state(created),
        undo: { operation: 'S3.DeleteBucketPolicy', input: bucketInput },
      },
    ]);
    expect(plan.summary).toBe(plan.steps[0]?.description);
    expect(plan.approvalReason).toBeUndefined();
    expect(plan.risks).toEqual([RISK]);
    // The policy the fix leaves is one the rule calls compliant.
    expect(rule.plan(state(created), {}, finding).status).toBe('compliant');
  });

  it('adds exactly one statement after the others, keeping their order, Sids, keys and the 4-space layout; undone by putting the old text back', () => {
    const original = JSON.stringify(
      { Id: 'TeamPolicy', Version: '2012-10-17', Statement: [grant('Reporting'), { Sid: 'NoDeletes', Effect: 'Deny', Principal: '*', Action: 's3:DeleteObject', Resource: `${ARN}/*` }] },
      null,
      4,
    );
    const plan = changeOf(rule.plan(state(original), {}, finding));
    const expected = JSON.stringify(
      {
        Id: 'TeamPolicy',
        Version: '2012-10-17',
        Statement: [grant('Reporting'), { Sid: 'NoDeletes', Effect: 'Deny', Principal: '*', Action: 's3:DeleteObject', Resource: `${ARN}/*` }, documented()],
      },
      null,
      4,
    );
    expect(plan.steps).toEqual([
      {
        operation: 'S3.PutBucketPolicy',
        input: { ...bucketInput, Policy: expected },
        description: 'add statement "DenyInsecureTransport" denying requests not sent over HTTPS to the bucket policy (its 2 statement(s) kept as they are)',
        before: state(original),
        after: state(expected),
        undo: { operation: 'S3.PutBucketPolicy', input: { ...bucketInput, Policy: original } },
      },
    ]);
    expect(plan.risks).toEqual([RISK]);
  });

  it('keeps a compact policy compact, and turns a single Statement object into a list of two', () => {
    const single = JSON.stringify({ Version: '2012-10-17', Statement: grant('Only') });
    const plan = changeOf(rule.plan(state(single), {}, finding));
    expect(plan.steps[0]?.input.Policy).toBe(JSON.stringify({ Version: '2012-10-17', Statement: [grant('Only'), documented()] }));
  });

  it('a document with no Statement at all gets one holding the statement', () => {
    const plan = changeOf(rule.plan(state('{"Version":"2012-10-17"}'), {}, finding));
    expect(plan.steps[0]?.input.Policy).toBe(JSON.stringify({ Version: '2012-10-17', Statement: [documented()] }));
  });

  it('picks a Sid no statement has', () => {
    const taken = policyText([grant('DenyInsecureTransport'), grant('DenyInsecureTransport2')]);
    expect(statementsOf(changeOf(rule.plan(state(taken), {}, finding)).steps[0]?.input.Policy).at(-1)).toEqual(documented(ARN, 'DenyInsecureTransport3'));
    const once = policyText([grant('DenyInsecureTransport')]);
    expect(statementsOf(changeOf(rule.plan(state(once), {}, finding)).steps[0]?.input.Policy).at(-1)).toEqual(documented(ARN, 'DenyInsecureTransport2'));
  });

  const insecure = (changes: Record<string, unknown>, without: string[] = []) => {
    const statement: Record<string, unknown> = { ...documented(ARN, 'Existing'), ...changes };
    for (const key of without) delete statement[key];
    return statement;
  };

  it.each([
    ['the statement AWS documents, keys in its order and Sid', { Sid: 'AllowSSLRequestsOnly', Action: 's3:*', Effect: 'Deny', Resource: [ARN, `${ARN}/*`], Condition: { Bool: { 'aws:SecureTransport': 'false' } }, Principal: '*' }],
    ['a boolean false', insecure({ Condition: { Bool: { 'aws:SecureTransport': false } } })],
    ['a one-element list ["false"], key in other case', insecure({ Condition: { Bool: { 'aws:securetransport': ['false'] } } })],
    ['Principal {"AWS": "*"}', insecure({ Principal: { AWS: '*' } })],
    ['Principal {"AWS": ["*"]}', insecure({ Principal: { AWS: ['*'] } })],
    ['Action "*"', insecure({ Action: '*' })],
    ['Action list holding S3:* among others', insecure({ Action: ['s3:GetObject', 'S3:*'] })],
    ['objects before the bucket', insecure({ Resource: [`${ARN}/*`, ARN] })],
    ['no Sid', insecure({}, ['Sid'])],
  ])('compliant: %s', (_name, statement) => {
    const plan = rule.plan(state(policyText([grant('Reporting'), statement])), {}, finding);
    expect(plan.status).toBe('compliant');
    expect(plan.summary).toMatch(/already denies every request not sent over HTTPS$/);
  });

  it.each([
    ['an Allow for HTTPS only, with no Deny (the Knowledge Center says this does not comply)', insecure({ Effect: 'Allow', Condition: { Bool: { 'aws:SecureTransport': 'true' } } })],
    ['a Deny for everyone and a service (not the plain "*")', insecure({ Principal: { AWS: '*', Service: 's3.amazonaws.com' } })],
    ['BoolIfExists', insecure({ Condition: { BoolIfExists: { 'aws:SecureTransport': 'false' } } })],
    ['a Deny of HTTPS requests ("true")', insecure({ Condition: { Bool: { 'aws:SecureTransport': 'true' } } })],
    ['a value list of "false" and "true" (not the documented shape)', insecure({ Condition: { Bool: { 'aws:SecureTransport': ['false', 'true'] } } })],
    ['no condition at all', insecure({}, ['Condition'])],
  ])('not compliant, the statement is added in auto and the existing one kept: %s', (_name, statement) => {
    const plan = changeOf(rule.plan(state(policyText([statement])), {}, finding));
    expect(statementsOf(plan.steps[0]?.input.Policy)).toEqual([statement, documented()]);
    expect(plan.approvalReason).toBeUndefined();
    expect(plan.risks).toEqual([RISK]);
  });

  it.each([
    ['a Deny of some actions only', insecure({ Action: ['s3:GetObject', 's3:PutObject'] }), 'only Action ["s3:GetObject","s3:PutObject"]'],
    ['a Deny on the objects only', insecure({ Resource: `${ARN}/*` }), `only Resource "${ARN}/*"`],
    ['a Deny on one prefix only', insecure({ Resource: [ARN, `${ARN}/private/*`] }), `only Resource ["${ARN}","${ARN}/private/*"]`],
    ['a Deny on the bucket only', insecure({ Resource: ARN }), `only Resource "${ARN}"`],
    ['a Deny on another bucket', insecure({ Resource: ['arn:aws:s3:::other-bucket', 'arn:aws:s3:::other-bucket/*'] }), 'only Resource ["arn:aws:s3:::other-bucket","arn:aws:s3:::other-bucket/*"]'],
    ['a Deny for one account only', insecure({ Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` } }), `only Principal {"AWS":"arn:aws:iam::${ACCOUNT}:root"}`],
    [
      'a Deny except through one VPC endpoint (StringNotEquals aws:SourceVpce)',
      insecure({ Condition: { Bool: { 'aws:SecureTransport': 'false' }, StringNotEquals: { 'aws:SourceVpce': 'vpce-1a2b3c4d' } } }),
      'only when StringNotEquals aws:SourceVpce "vpce-1a2b3c4d"',
    ],
    ['a Deny narrowed by a source IP', insecure({ Condition: { Bool: { 'aws:SecureTransport': 'false' }, IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } } }), 'only when IpAddress aws:SourceIp "203.0.113.0/24"'],
    ['a second key under Bool', insecure({ Condition: { Bool: { 'aws:SecureTransport': 'false', 'aws:ViaAWSService': 'false' } } }), 'only when Bool aws:ViaAWSService "false"'],
    [
      'a Deny with NotPrincipal (everyone but a role)',
      insecure({ NotPrincipal: { AWS: `arn:aws:iam::${ACCOUNT}:role/legacy` } }, ['Principal']),
      `everyone except NotPrincipal {"AWS":"arn:aws:iam::${ACCOUNT}:role/legacy"}`,
    ],
    ['a Deny with NotAction', insecure({ NotAction: 's3:GetObject' }, ['Action']), 'not NotAction "s3:GetObject"'],
    ['an Allow of HTTP requests', insecure({ Effect: 'Allow', Action: 's3:GetObject' }), 'allows "s3:GetObject" over HTTP (aws:SecureTransport false)'],
  ])('an exception for HTTP requests looks deliberate, so a person decides, the exception named: %s', (_name, statement, exception) => {
    const plan = changeOf(rule.plan(state(policyText([grant('Reporting'), statement])), {}, finding));
    expect(statementsOf(plan.steps[0]?.input.Policy)).toEqual([grant('Reporting'), statement, documented()]);
    expect(plan.approvalReason).toBe(`the bucket policy already lets some HTTP requests through (statement "Existing": ${exception}), which looks deliberate: a person decides`);
    expect(plan.risks).toEqual([RISK, `statement "Existing" lets HTTP requests through (${exception}); the added statement refuses those too`]);
  });

  it('names a statement without Sid by its position, and every exception of every statement', () => {
    const { Sid: _sid, ...noSid } = insecure({ Resource: `${ARN}/*`, Condition: { Bool: { 'aws:SecureTransport': 'false' }, StringNotEquals: { 'aws:SourceVpce': ['vpce-1', 'vpce-2'] } } });
    const plan = changeOf(rule.plan(state(policyText([grant('Reporting'), noSid])), {}, finding));
    expect(plan.approvalReason).toBe(
      `the bucket policy already lets some HTTP requests through (statement 2: only Resource "${ARN}/*"; only when StringNotEquals aws:SourceVpce ["vpce-1","vpce-2"]), which looks deliberate: a person decides`,
    );
  });

  it('a bucket hosting a static website: the statement is planned, but a person decides, the website visitors and CloudFront named', () => {
    const plan = changeOf(rule.plan(state(null, 'index document index.html'), {}, finding));
    expect(plan.steps[0]?.input.Policy).toBe(JSON.stringify({ Version: '2012-10-17', Statement: [documented()] }, null, 2));
    expect(plan.approvalReason).toBe('the bucket hosts a static website (index document index.html), which S3 serves over HTTP only: a person decides');
    expect(plan.risks).toEqual([
      RISK,
      'visitors of the static website (S3 website endpoints serve HTTP only) and CloudFront distributions that use the website endpoint as origin (HTTP only) lose access',
    ]);
    const both = changeOf(rule.plan(state(policyText([insecure({ Resource: ARN })]), 'redirects every request to example.com'), {}, finding));
    expect(both.approvalReason).toBe(
      `the bucket hosts a static website (redirects every request to example.com), which S3 serves over HTTP only; and the bucket policy already lets some HTTP requests through (statement "Existing": only Resource "${ARN}"), which looks deliberate: a person decides`,
    );
    expect(both.risks).toHaveLength(3);
    // A website bucket whose policy already denies HTTP is compliant: nothing to ask.
    expect(rule.plan(state(policyText([documented()]), 'index document index.html'), {}, finding).status).toBe('compliant');
  });

  it('refuses to grow the policy past S3’s 20 KB limit, and adds the statement while it fits', () => {
    const padded = (length: number) => policyText([{ ...grant('Padding'), Resource: `${ARN}/${'p'.repeat(length)}` }]);
    const growth = Buffer.byteLength(String(changeOf(rule.plan(state(padded(1)), {}, finding)).steps[0]?.input.Policy)) - Buffer.byteLength(padded(1));
    const fits = padded(1 + 20 * 1024 - growth - Buffer.byteLength(padded(1)));
    expect(Buffer.byteLength(fits) + growth).toBe(20 * 1024);
    expect(Buffer.byteLength(String(changeOf(rule.plan(state(fits), {}, finding)).steps[0]?.input.Policy))).toBe(20 * 1024);

    const over = padded(2 + 20 * 1024 - growth - Buffer.byteLength(padded(1)));
    expect(rule.plan(state(over), {}, finding)).toEqual({
      status: 'unfixable',
      summary: `adding the statement denying HTTP requests would make the bucket policy ${20 * 1024 + 1} bytes, over S3's 20 KB limit for bucket policies; shorten the policy and add it by hand`,
    });
  });

  it('a policy that is not JSON is left to a person', () => {
    expect(rule.plan(state('{"Version": "2012-10-17", "Statement": ['), {}, finding)).toMatchObject({ status: 'unfixable', summary: expect.stringContaining('not a JSON document the bot can edit') });
  });

  it('a Security Hub S3.5 finding is answered the same way', () => {
    const hub: Finding = {
      ...finding,
      reporter: 'security-hub',
      trigger: { kind: 'security-hub', findingId: 'f-1', productArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub', controlId: 'S3.5', complianceStatus: 'FAILED', workflowStatus: 'NEW' },
    };
    expect(changeOf(rule.plan(state(null), {}, hub)).steps[0]?.input.Policy).toBe(JSON.stringify({ Version: '2012-10-17', Statement: [documented()] }, null, 2));
  });

  it('describes each state in words', () => {
    expect(rule.describe(state(null))).toBe('no bucket policy: HTTP requests allowed');
    expect(rule.describe(state(policyText([grant('A')])))).toBe('bucket policy with 1 statement(s), none denying HTTP requests');
    expect(rule.describe(state(policyText([grant('A'), documented()])))).toBe('bucket policy with 2 statement(s); statement "DenyInsecureTransport" denies HTTP requests');
    expect(rule.describe(state('not json'))).toBe('bucket policy that is not valid JSON');
    expect(rule.describe(state(null, 'index document index.html'))).toBe('no bucket policy: HTTP requests allowed; static website hosting on (index document index.html)');
  });

  it('a rollback compares the policy as a document, not its whitespace', () => {
    const fingerprint = rule.fingerprint ?? ((value: unknown) => value);
    expect(fingerprint(state(policyText([grant('A')], 2)))).toEqual(fingerprint(state(policyText([grant('A')]))));
    expect(fingerprint(state(policyText([grant('A')])))).not.toEqual(fingerprint(state(policyText([grant('B')]))));
    expect(fingerprint(state(null))).toBeNull();
    // The website is read for the plan, not compared by a rollback.
    expect(fingerprint(state(policyText([grant('A')]), 'index document index.html'))).toEqual(fingerprint(state(policyText([grant('A')]))));
  });

  it('declares what it answers, reads and writes; the delete is only an undo', () => {
    expect(rule.answers).toEqual({
      config: [{ identifier: IDENTIFIER, resourceTypes: ['AWS::S3::Bucket'], defaultName: 's3-bucket-ssl-requests-only' }],
      securityHub: ['S3.5'],
    });
    expect(rule.defaultMode).toBe('auto');
    expect(rule.permissions.read).toEqual(['s3:GetBucketPolicy', 's3:GetBucketWebsite', 's3:GetBucketTagging']);
    expect(Object.entries(rule.operations).map(([name, op]) => [name, op.iamAction, op.undoOnly ?? false])).toEqual([
      ['S3.PutBucketPolicy', 's3:PutBucketPolicy', false],
      ['S3.DeleteBucketPolicy', 's3:DeleteBucketPolicy', true],
    ]);
    expect(rule.params.safeParse({}).success).toBe(true);
    expect(rule.params.safeParse({ sid: 'X' }).success).toBe(false);
  });
});

describe('readState (a fake client)', () => {
  const target = (region: string) => ({ account: ACCOUNT, region, resourceId: BUCKET });
  const at = (region: string, resourceArn?: string): Finding => ({ ...finding, region, ...(resourceArn ? { resourceArn } : {}) });
  const noWebsite = () => Promise.reject(Object.assign(new Error('The specified bucket does not have a website configuration'), { name: 'NoSuchWebsiteConfiguration' }));
  /** An S3 client answering GetBucketPolicy and GetBucketWebsite, recording what it was sent. */
  const fake = (policy: () => Promise<unknown>, website: () => Promise<unknown> = noWebsite) => {
    const sent: Array<[string, unknown]> = [];
    const send = async (command: { input: unknown }) => {
      const name = command.constructor.name;
      sent.push([name, command.input]);
      return name === 'GetBucketWebsiteCommand' ? website() : policy();
    };
    const s3 = { send } as unknown as S3Client;
    return { s3, sent };
  };
  const read = (s3: S3Client, on: Finding = finding) => rule.readState({ clients: { s3 }, target: target(on.region), params: {}, finding: on });

  it('reads the policy and the website configuration in parallel, for the bucket owner; no policy and no website are state', async () => {
    const { s3, sent } = fake(async () => ({ Policy: '{"Statement":[]}' }));
    expect(await read(s3)).toEqual({ bucketArn: ARN, policy: '{"Statement":[]}', website: null });
    expect(sent).toEqual([
      ['GetBucketPolicyCommand', bucketInput],
      ['GetBucketWebsiteCommand', bucketInput],
    ]);
    const none = fake(async () => Promise.reject(Object.assign(new Error('The bucket policy does not exist'), { name: 'NoSuchBucketPolicy' })));
    expect(await read(none.s3)).toEqual({ bucketArn: ARN, policy: null, website: null });
  });

  it('says what the website endpoint serves: an index document, or a redirect of every request', async () => {
    const index = fake(async () => ({}), async () => ({ IndexDocument: { Suffix: 'index.html' }, ErrorDocument: { Key: 'error.html' } }));
    expect((await read(index.s3)).website).toBe('index document index.html');
    const redirect = fake(async () => ({}), async () => ({ RedirectAllRequestsTo: { HostName: 'www.example.com', Protocol: 'https' } }));
    expect((await read(redirect.s3)).website).toBe('redirects every request to www.example.com');
  });

  it('the bucket ARN takes the partition of the ARNs the finding carries, else of its Region', async () => {
    const { s3 } = fake(async () => ({}));
    expect((await read(s3, at('cn-north-1', `arn:aws-cn:s3:::${BUCKET}`))).bucketArn).toBe(`arn:aws-cn:s3:::${BUCKET}`);
    const configArn: Finding = { ...at('us-gov-west-1'), trigger: { ...finding.trigger, configRuleArn: `arn:aws-us-gov:config:us-gov-west-1:${ACCOUNT}:config-rule/config-rule-1` } as Finding['trigger'] };
    expect((await read(s3, configArn)).bucketArn).toBe(`arn:aws-us-gov:s3:::${BUCKET}`);
    const regions: Array<[string, string]> = [
      ['cn-northwest-1', 'aws-cn'],
      ['us-gov-east-1', 'aws-us-gov'],
      ['us-iso-east-1', 'aws-iso'],
      ['us-isob-east-1', 'aws-iso-b'],
      ['eu-isoe-west-1', 'aws-iso-e'],
      ['us-isof-south-1', 'aws-iso-f'],
      ['eusc-de-east-1', 'aws-eusc'],
      ['il-central-1', 'aws'],
      [REGION, 'aws'],
    ];
    for (const [region, partition] of regions) {
      expect((await read(s3, at(region))).bucketArn, region).toBe(`arn:${partition}:s3:::${BUCKET}`);
    }
    await expect(read(s3, at('xx-nowhere-1'))).rejects.toThrow('cannot tell the partition of Region "xx-nowhere-1"');
  });

  it('any other error is an error', async () => {
    const { s3 } = fake(async () => Promise.reject(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' })));
    await expect(read(s3)).rejects.toThrow('Access Denied');
    const website = fake(async () => ({}), async () => Promise.reject(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' })));
    await expect(read(website.s3)).rejects.toThrow('Access Denied');
  });
});

describe('against moto, through the Config router', () => {
  let runtime: Runtime;
  const rules = [...new Set([...RULES, rule])];
  /** Named as Security Hub names the rules it creates, never the default name. */
  const configRule = uniqueName('securityhub-s3-bucket-ssl-requests-only');

  beforeAll(async () => {
    runtime = await localRuntime({ rules });
    await createConfigRule(configRule, IDENTIFIER);
  });
  afterAll(async () => {
    await new ConfigServiceClient({ region: REGION, endpoint: motoEndpoint() }).send(new DeleteConfigRuleCommand({ ConfigRuleName: configRule }));
  });

  const withEnv = (env: Record<string, string>) => localRuntime({ table: runtime.table, env, rules });
  const record = async (recordId: string | undefined, on: Runtime = runtime) => on.ledger?.getRecord(recordId ?? '');
  const rollback = async (recordId: string | undefined) => {
    await new Promise((resolve) => setTimeout(resolve, STALE_READ_MARGIN_MS + 50));
    await runtime.factory.forRule(rule);
    return rollbackRecord(recordId ?? '', runtime.deps, { force: false, by: 'cli:test' });
  };
  const event = (bucket: string) => configEvent({ configRuleName: configRule, resourceId: bucket });
  async function bucketWithPolicy(prefix: string, policy: (bucket: string) => string, tags?: Record<string, string>) {
    const bucket = await createBucket(prefix, tags ? { tags } : {});
    const text = policy(bucket);
    await testS3().send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: text }));
    return { bucket, text };
  }
  async function bucketPolicy(bucket: string): Promise<string | null> {
    try {
      return (await testS3().send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy ?? null;
    } catch (error) {
      if ((error as Error).name === 'NoSuchBucketPolicy') return null;
      throw error;
    }
  }

  /** Tags, then the policy and the website configuration in parallel. */
  const READ = ['S3.GetBucketTagging', 'S3.GetBucketPolicy', 'S3.GetBucketWebsite'];

  it('gives a bucket with no policy the documented statement (tags, policy and website, write, verify: 5 calls); a redelivery writes nothing; a later finding reads only', async () => {
    const bucket = await createBucket('ssl-none');
    const first = event(bucket);
    const result = await replayEvent(first, runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'remediated', rule: rule.id, resource: `AWS::S3::Bucket/${bucket}`, writes: 1, eventId: first.id });
    expect(result.calls).toEqual([...READ, 'S3.PutBucketPolicy', 'S3.GetBucketPolicy']);
    expect(result).toMatchObject({ before: 'no bucket policy: HTTP requests allowed', after: 'bucket policy with 1 statement(s); statement "DenyInsecureTransport" denies HTTP requests' });
    expect(JSON.parse(String(await bucketPolicy(bucket)))).toEqual({ Version: '2012-10-17', Statement: [documented(`arn:aws:s3:::${bucket}`)] });

    const stored = await record(result.recordId);
    expect(stored).toMatchObject({ outcome: 'remediated', status: 'final', mode: 'auto', writes: 1, ruleId: rule.id });
    expect(stored?.trigger).toMatchObject({ kind: 'config-rule', configRuleName: configRule, identifier: IDENTIFIER });
    expect(stored?.steps[0]?.undo).toEqual({ operation: 'S3.DeleteBucketPolicy', input: { Bucket: bucket, ExpectedBucketOwner: ACCOUNT } });

    const again = await replayEvent(structuredClone(first), runtime, { apply: true });
    expect(again).toMatchObject({ outcome: 'remediated', duplicate: true, writes: 0, recordId: result.recordId });
    expect(again.calls.filter((call) => !call.startsWith('S3.Get'))).toEqual([]);

    const later = await replayEvent(event(bucket), runtime, { apply: true });
    expect(later).toMatchObject({ outcome: 'compliant', writes: 0, calls: READ });
    expect((await record(later.recordId))?.outcome).toBe('compliant');
  });

  it('keeps every existing statement and the layout, and a rollback puts the exact old text back; a second rollback is refused', async () => {
    const { bucket, text } = await bucketWithPolicy('ssl-merge', (name) =>
      JSON.stringify(
        {
          Version: '2012-10-17',
          Statement: [grant('Reporting', `arn:aws:s3:::${name}`), { Sid: 'NoDeletes', Effect: 'Deny', Principal: '*', Action: 's3:DeleteObject', Resource: `arn:aws:s3:::${name}/*` }],
        },
        null,
        2,
      ),
    );
    const result = await replayEvent(event(bucket), runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'remediated', writes: 1 });
    const live = String(await bucketPolicy(bucket));
    const parsed = JSON.parse(text);
    expect(live).toBe(JSON.stringify({ ...parsed, Statement: [...parsed.Statement, documented(`arn:aws:s3:::${bucket}`)] }, null, 2));
    expect((await record(result.recordId))?.steps[0]?.undo).toEqual({ operation: 'S3.PutBucketPolicy', input: { Bucket: bucket, ExpectedBucketOwner: ACCOUNT, Policy: text } });

    const rolledBack = await rollback(result.recordId);
    expect(rolledBack).toMatchObject({ outcome: 'rolled-back', writes: 1, calls: ['S3.GetBucketPolicy', 'S3.GetBucketWebsite', 'S3.PutBucketPolicy', 'S3.GetBucketPolicy'] });
    expect(await bucketPolicy(bucket)).toBe(text);
    expect((await rollback(result.recordId)).outcome).toBe('refused');
  });

  it('a rollback of a policy the fix created deletes it', async () => {
    const bucket = await createBucket('ssl-undo-create');
    const result = await replayEvent(event(bucket), runtime, { apply: true });
    expect(result.outcome).toBe('remediated');
    const rolledBack = await rollback(result.recordId);
    expect(rolledBack).toMatchObject({ outcome: 'rolled-back', writes: 1, calls: ['S3.GetBucketPolicy', 'S3.GetBucketWebsite', 'S3.DeleteBucketPolicy', 'S3.GetBucketPolicy'] });
    expect(await bucketPolicy(bucket)).toBeNull();
  });

  it('refuses to roll back a policy someone changed since', async () => {
    const bucket = await createBucket('ssl-changed');
    const result = await replayEvent(event(bucket), runtime, { apply: true });
    const edited = policyText([documented(`arn:aws:s3:::${bucket}`), grant('Added', `arn:aws:s3:::${bucket}`)]);
    await testS3().send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: edited }));
    const refused = await rollback(result.recordId);
    expect(refused).toMatchObject({ outcome: 'refused', writes: 0 });
    expect(refused.reason).toContain('changed after the bot left it');
    expect(await bucketPolicy(bucket)).toBe(edited);
  });

  it('a bucket whose policy already denies HTTP ({"AWS": "*"}, boolean false) is compliant: nothing written', async () => {
    const { bucket, text } = await bucketWithPolicy('ssl-done', (name) =>
      policyText([{ ...documented(`arn:aws:s3:::${name}`, 'TlsOnly'), Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': false } } }]),
    );
    const result = await replayEvent(event(bucket), runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'compliant', writes: 0, calls: READ });
    expect(await bucketPolicy(bucket)).toBe(text);
  });

  it('a policy with no room left under 20 KB is skipped with the reason and left as it is', async () => {
    const { bucket, text } = await bucketWithPolicy('ssl-full', (name) => policyText([{ ...grant('Big', `arn:aws:s3:::${name}`), Resource: `arn:aws:s3:::${name}/${'k'.repeat(20_200)}` }]));
    expect(Buffer.byteLength(text)).toBeLessThan(20 * 1024);
    const result = await replayEvent(event(bucket), runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'skipped', writes: 0 });
    expect(result.reason).toContain("over S3's 20 KB limit for bucket policies");
    expect(await bucketPolicy(bucket)).toBe(text);
  });

  it('a bucket hosting a static website waits for a person (5 calls, nothing written); approved, the statement is added', async () => {
    const bucket = await createBucket('ssl-website', { website: true });
    const pending = await replayEvent(event(bucket), runtime, { apply: true });
    expect(pending).toMatchObject({ outcome: 'pending-approval', writes: 0, calls: READ });
    expect(pending.reason).toContain('the bucket hosts a static website (index document index.html), which S3 serves over HTTP only');
    const approval = await runtime.ledger?.getApproval(pending.approvalId ?? '');
    expect(approval?.risks).toEqual([RISK, expect.stringContaining('CloudFront distributions that use the website endpoint as origin')]);
    expect(await bucketPolicy(bucket)).toBeNull();

    const ledger = runtime.ledger;
    if (!ledger) throw new Error('no ledger');
    expect((await decideApproval(ledger, { approvalId: pending.approvalId ?? '', decision: 'approve', by: 'U0APPROVER1', now: Date.now(), suppressionDays: 30 })).kind).toBe('decided');
    const applied = await replayEvent(approvedEvent(pending.approvalId ?? '', rule.id), runtime, { apply: true });
    expect(applied).toMatchObject({ outcome: 'remediated', writes: 1, approvalId: pending.approvalId });
    expect(statementsOf(await bucketPolicy(bucket))).toEqual([documented(`arn:aws:s3:::${bucket}`)]);
  });

  it('a policy that denies HTTP except through a VPC endpoint waits for a person, who reads the exception; the policy is left as it is', async () => {
    const { bucket, text } = await bucketWithPolicy('ssl-vpce', (name) =>
      policyText([
        {
          ...documented(`arn:aws:s3:::${name}`, 'HttpsExceptFromVpc'),
          Condition: { Bool: { 'aws:SecureTransport': 'false' }, StringNotEquals: { 'aws:SourceVpce': 'vpce-0a1b2c3d4e5f60718' } },
        },
      ]),
    );
    const pending = await replayEvent(event(bucket), runtime, { apply: true });
    expect(pending).toMatchObject({ outcome: 'pending-approval', writes: 0, calls: READ });
    expect(pending.reason).toContain('statement "HttpsExceptFromVpc": only when StringNotEquals aws:SourceVpce "vpce-0a1b2c3d4e5f60718"');
    expect((await runtime.ledger?.getApproval(pending.approvalId ?? ''))?.risks).toContain(
      'statement "HttpsExceptFromVpc" lets HTTP requests through (only when StringNotEquals aws:SourceVpce "vpce-0a1b2c3d4e5f60718"); the added statement refuses those too',
    );
    expect(await bucketPolicy(bucket)).toBe(text);
  });

  it('answers a Security Hub S3.5 finding for the bucket', async () => {
    const bucket = await createBucket('ssl-hub');
    const result = await replayEvent(securityHubEvent({ controlId: 'S3.5', resourceType: 'AwsS3Bucket', resourceId: `arn:aws:s3:::${bucket}` }), runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'remediated', rule: rule.id, resource: `AWS::S3::Bucket/${bucket}`, writes: 1 });
    expect(statementsOf(await bucketPolicy(bucket))).toEqual([documented(`arn:aws:s3:::${bucket}`)]);
    expect((await record(result.recordId))?.trigger).toMatchObject({ kind: 'security-hub', controlId: 'S3.5' });
  });

  it('skips a bucket carrying the exclusion tag, reading nothing but its tags', async () => {
    const bucket = await createBucket('ssl-excluded', { tags: { 'remediation:skip': 'true' } });
    const result = await replayEvent(event(bucket), runtime, { apply: true });
    expect(result).toMatchObject({ outcome: 'skipped', writes: 0, calls: ['S3.GetBucketTagging'] });
    expect(result.reason).toContain('remediation:skip=true');
    expect(await bucketPolicy(bucket)).toBeNull();
  });

  /** A sample of events/, its demo bucket and Config rule renamed to this test's (moto is shared). */
  function sample(file: string, names: Record<string, string>) {
    let text = JSON.stringify(loadSample(file));
    for (const [from, to] of Object.entries(names)) text = text.split(from).join(to);
    return { ...JSON.parse(text), id: freshId() };
  }

  it('the samples in events/ end as their names say', async () => {
    const merged = await bucketWithPolicy('ssl-sample', (name) => policyText([grant('Reporting', `arn:aws:s3:::${name}`)], 2));
    const existing = sample('config/s3-bucket-ssl-requests-only-existing-policy.remediated.json', {
      'securityhub-s3-bucket-ssl-requests-only-5d6e7f': configRule,
      'driftfix-demo-http-allowed': merged.bucket,
    });
    expect(await replayEvent(existing, runtime, { apply: true })).toMatchObject({ outcome: 'remediated', rule: rule.id, writes: 1 });
    expect(statementsOf(await bucketPolicy(merged.bucket))).toEqual([grant('Reporting', `arn:aws:s3:::${merged.bucket}`), documented(`arn:aws:s3:::${merged.bucket}`)]);

    const denied = await bucketWithPolicy('ssl-sample', (name) => policyText([documented(`arn:aws:s3:::${name}`, 'AllowSSLRequestsOnly')], 2));
    const compliant = sample('config/s3-bucket-ssl-already-denied.compliant.json', { 'prod-buckets-https-only': configRule, 'driftfix-demo-https-only': denied.bucket });
    expect(await replayEvent(compliant, runtime, { apply: true })).toMatchObject({ outcome: 'compliant', rule: rule.id, writes: 0 });

    const bare = await createBucket('ssl-sample');
    const hub = sample('security-hub/s3.5-bucket-without-policy.remediated.json', { 'driftfix-demo-sh-http': bare });
    expect(await replayEvent(hub, runtime, { apply: true })).toMatchObject({ outcome: 'remediated', rule: rule.id, resource: `AWS::S3::Bucket/${bare}`, writes: 1 });
  });

  it('in approve mode, the approval names the risk for HTTP clients', async () => {
    const approve = await withEnv({ RULE_MODES: `${rule.id}=approve` });
    const bucket = await createBucket('ssl-approve');
    const pending = await replayEvent(event(bucket), approve, { apply: true });
    expect(pending).toMatchObject({ outcome: 'pending-approval', writes: 0 });
    expect((await approve.ledger?.getApproval(pending.approvalId ?? ''))?.risks).toEqual([RISK]);
    expect(await bucketPolicy(bucket)).toBeNull();
  });
});
