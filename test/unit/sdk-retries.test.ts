import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { RULES } from '../../rules/index.ts';
import { s3DefaultEncryption } from '../../rules/s3-default-encryption.ts';
import { createResourceClients } from '../../core/aws/all-clients.ts';
import { processEvent } from '../../core/engine/engine.ts';
import { loadSettings } from '../../core/aws/settings.ts';
import { ACCOUNT, configEvent, REGION } from '../support/events.ts';
import { silentLog } from '../support/local-aws.ts';

/** A stand-in S3 endpoint that throttles: the real SDK retry logic runs against it. */
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

const dryRun = (endpoint: string) =>
  processEvent(
    configEvent({ rule: 's3-bucket-server-side-encryption-enabled', resourceId: 'throttled-bucket' }),
    s3DefaultEncryption,
    {
      rules: RULES,
      clients: createResourceClients({ region: REGION, endpoint }),
      settings: loadSettings(RULES, {}),
      identity: { account: ACCOUNT, region: REGION },
      log: silentLog,
    },
    { dryRun: true },
  );

describe('throttling with the real SDK retry strategy', () => {
  it('is retried within the budget and then succeeds; the call log counts the call once', async () => {
    const fake = await throttlingS3(2);
    server = fake.server;
    const result = await dryRun(fake.url);
    expect(result.outcome).toBe('planned');
    expect(fake.encryptionRequests()).toBe(3);
    expect(result.calls).toEqual(['S3.GetBucketTagging', 'S3.GetBucketEncryption']);
  });

  it('gives up after four attempts with a clean failure', async () => {
    const fake = await throttlingS3(100);
    server = fake.server;
    const started = Date.now();
    const result = await dryRun(fake.url);
    expect(result.outcome).toBe('failed');
    expect(result.reason).toContain('SlowDown');
    expect(fake.encryptionRequests()).toBe(4);
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
