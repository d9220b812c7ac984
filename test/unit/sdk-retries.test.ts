import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientFactory } from '../../core/aws/clients.ts';
import { loadSettings } from '../../core/aws/settings.ts';
import { handleRuleEvent } from '../../core/engine/handle-event.ts';
import { ACCOUNT, configEvent, REGION } from '../support/events.ts';
import { silentLog } from '../support/local-aws.ts';
import { configAnswer, ruleAnswering } from '../support/rules.ts';

const IDENTIFIER = 'S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED';
const rule = ruleAnswering(IDENTIFIER);

/** A stand-in S3 endpoint that answers SlowDown (503) a number of times: the real SDK retry strategy runs against it. */
async function throttlingS3(throttledAnswers: number): Promise<{ url: string; encryptionRequests: () => number; server: Server }> {
  let encryptionRequests = 0;
  const xmlError = (res: ServerResponse, status: number, code: string) => {
    res.writeHead(status, { 'content-type': 'application/xml' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message><RequestId>1</RequestId></Error>`);
  };
  const server = createServer((req: IncomingMessage, res) => {
    if (req.url?.includes('tagging')) return xmlError(res, 404, 'NoSuchTagSet');
    encryptionRequests += 1;
    if (encryptionRequests <= throttledAnswers) return xmlError(res, 503, 'SlowDown');
    return xmlError(res, 404, 'ServerSideEncryptionConfigurationNotFoundError');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, encryptionRequests: () => encryptionRequests, server };
}

let server: Server | undefined;
afterEach(() => server?.close());

/** A dry run of the encryption rule with the clients the Lambda functions get (ClientFactory: four attempts). */
async function dryRun(endpoint: string) {
  const factory = new ClientFactory({ region: REGION, endpoint });
  await factory.forRule(rule);
  const event = configEvent({ configRuleName: configAnswer(IDENTIFIER).defaultName, resourceId: 'throttled-bucket' });
  return handleRuleEvent(
    event,
    rule,
    { rules: [rule], clientsFor: (candidate) => factory.loadedFor(candidate), settings: loadSettings([rule], {}), identity: { account: ACCOUNT, region: REGION }, log: silentLog },
    { dryRun: true },
  );
}

describe('throttling with the real SDK retry strategy', () => {
  it('is retried within the budget and then succeeds; the call log counts the call once', async () => {
    const fake = await throttlingS3(2);
    server = fake.server;
    const result = await dryRun(fake.url);
    expect(result.outcome, result.reason).toBe('planned');
    expect(fake.encryptionRequests()).toBe(3);
    expect(result.calls.filter((call) => call === 'S3.GetBucketEncryption')).toHaveLength(1);
  });

  it('gives up after four attempts with a clean failure that names the error', async () => {
    const fake = await throttlingS3(100);
    server = fake.server;
    const result = await dryRun(fake.url);
    expect(result.outcome).toBe('failed');
    expect(result.reason).toContain('SlowDown');
    expect(fake.encryptionRequests()).toBe(4);
  });
});
