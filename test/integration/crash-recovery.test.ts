import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configEvent, REGION } from '../support/events.ts';
import { bucketEncryption, createBucket, motoEndpoint, uniqueName } from '../support/local-aws.ts';
import { ROOT } from '../support/packaged.ts';

/**
 * The CLI as a separate process, behind a proxy in front of moto that counts the requests each
 * service receives and can kill the process the moment a write is answered.
 */
class CountingProxy {
  counts = { table: 0, s3: 0, other: 0 };
  killOn: { match: (method: string, url: string) => boolean; child?: ChildProcess } | undefined;
  /** Requests forwarded, whose answers are then lost (the connection reset): the write took effect. */
  dropAnswers: ((method: string, url: string) => boolean) | undefined;
  /** Requests never forwarded nor answered: the client gives up on them. */
  hold: ((method: string, url: string) => boolean) | undefined;
  held = 0;
  /** How long each held request stayed open before the client gave up on it (ms). */
  heldFor: number[] = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    const target = new URL(motoEndpoint());
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const service = String(req.headers['x-amz-target'] ?? '');
        if (service.startsWith('DynamoDB_')) this.counts.table += 1;
        else if (service || body.includes('Action=')) this.counts.other += 1;
        else this.counts.s3 += 1;
        if (this.hold?.(req.method ?? '', req.url ?? '')) {
          this.held += 1;
          const at = Date.now();
          req.socket.once('close', () => this.heldFor.push(Date.now() - at));
          return;
        }
        const upstream = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
          const parts: Buffer[] = [];
          answer.on('data', (chunk) => parts.push(chunk));
          answer.on('end', () => {
            const kill = this.killOn;
            if (kill?.child && kill.match(req.method ?? '', req.url ?? '')) {
              // The write took effect; the process dies before it hears so.
              kill.child.kill('SIGKILL');
              this.killOn = undefined;
            }
            if (this.dropAnswers?.(req.method ?? '', req.url ?? '')) {
              res.socket?.destroy();
              return;
            }
            res.writeHead(answer.statusCode ?? 500, answer.headers);
            res.end(Buffer.concat(parts));
          });
        });
        upstream.on('error', () => res.destroy());
        upstream.end(body);
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** Each test its own proxy, so that the tests (each waiting out a claim) run at the same time. */
async function startProxy(onTestFinished: (cleanUp: () => Promise<void>) => void): Promise<CountingProxy> {
  const proxy = new CountingProxy();
  await proxy.start();
  onTestFinished(() => proxy.stop());
  return proxy;
}

function cli(proxy: CountingProxy, args: string[], table: string, onSpawn?: (child: ChildProcess) => void): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'scripts/run.mjs'), ...args], {
      cwd: ROOT,
      env: { ...process.env, AWS_ENDPOINT_URL: proxy.url, AWS_REGION: REGION, REMEDIATION_TABLE: table, LOCK_LEASE_SECONDS: '8' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

function eventFile(bucket: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'driftfix-crash-')), 'event.json');
  writeFileSync(file, JSON.stringify(configEvent({ configRuleName: 's3-bucket-server-side-encryption-enabled', resourceId: bucket })));
  return file;
}

describe.concurrent('a process killed the moment its write is answered', () => {
  it('leaves an intent; the redelivery records the change as remediated with the state before it, and it rolls back', async ({ onTestFinished }) => {
    const proxy = await startProxy(onTestFinished);
    const table = uniqueName('driftfix-crash');
    const bucket = await createBucket('crash');
    const file = eventFile(bucket);
    const killed = await cli(proxy, ['replay', '--apply', '--json', file], table, (child) => {
      proxy.killOn = { match: (method, url) => method === 'PUT' && url.startsWith(`/${bucket}/?encryption`), child };
    });
    expect(killed.signal).toBe('SIGKILL');
    expect((await bucketEncryption(bucket))?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('AES256');

    // Delivered again once the dead process's claim has run out (LOCK_LEASE_SECONDS=8).
    await new Promise((resolve) => setTimeout(resolve, 8_500));
    const again = await cli(proxy, ['replay', '--apply', '--json', file], table);
    const line = JSON.parse(again.stdout.trim());
    expect(line).toMatchObject({ outcome: 'remediated', writes: 0 });
    expect(line.reason).toMatch(/recovered/);

    const rollback = await cli(proxy, ['rollback', '--json', line.recordId], table);
    expect(JSON.parse(rollback.stdout.trim())).toMatchObject({ outcome: 'rolled-back', writes: 1 });
    expect(await bucketEncryption(bucket)).toBeNull();
  }, 60_000);

  it('a write whose answers are lost (every attempt) leaves the intent; after the claim the redelivery records it as recovered, and it rolls back', async ({ onTestFinished }) => {
    const proxy = await startProxy(onTestFinished);
    const table = uniqueName('driftfix-lost');
    const bucket = await createBucket('lost');
    const file = eventFile(bucket);
    proxy.dropAnswers = (method, url) => method === 'PUT' && url.startsWith(`/${bucket}/?encryption`);
    const lost = await cli(proxy, ['replay', '--apply', '--json', file], table);
    proxy.dropAnswers = undefined;
    const first = JSON.parse(lost.stdout.trim());
    expect(first.outcome).toBe('failed');
    expect(first.reason).toMatch(/outcome of S3.PutBucketEncryption is unknown.*the next delivery completes it/);
    expect((await bucketEncryption(bucket))?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('AES256');

    await new Promise((resolve) => setTimeout(resolve, 8_500));
    const again = JSON.parse((await cli(proxy, ['replay', '--apply', '--json', file], table)).stdout.trim());
    expect(again).toMatchObject({ outcome: 'remediated', writes: 0, recordId: first.recordId });
    expect(again.reason).toMatch(/recovered/);
    const rollback = await cli(proxy, ['rollback', '--json', again.recordId], table);
    expect(JSON.parse(rollback.stdout.trim())).toMatchObject({ outcome: 'rolled-back' });
  }, 60_000);

  it('a write still unanswered when the claim is about to run out is aborted, not retried past it; the redelivery applies it once', async ({ onTestFinished }) => {
    const proxy = await startProxy(onTestFinished);
    const table = uniqueName('driftfix-held');
    const bucket = await createBucket('held');
    const file = eventFile(bucket);
    proxy.held = 0;
    proxy.hold = (method, url) => method === 'PUT' && url.startsWith(`/${bucket}/?encryption`);
    const held = await cli(proxy, ['replay', '--apply', '--json', file], table);
    proxy.hold = undefined;
    // LOCK_LEASE_SECONDS=8: the write, sent after the claim, is given up a second before the claim
    // ends (not after the SDK's 4 attempts of 5 s), however long the CLI took to get there.
    for (let wait = 0; wait < 50 && proxy.heldFor.length === 0; wait++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(proxy.heldFor[0]).toBeLessThan(8_000);
    const first = JSON.parse(held.stdout.trim());
    expect(first.outcome).toBe('failed');
    expect(first.reason).toMatch(/unknown \(AbortError/);
    expect(proxy.held).toBe(1);

    await new Promise((resolve) => setTimeout(resolve, 8_500));
    const again = JSON.parse((await cli(proxy, ['replay', '--apply', '--json', file], table)).stdout.trim());
    expect(again).toMatchObject({ outcome: 'remediated', writes: 1, recordId: first.recordId });
    expect((await bucketEncryption(bucket))?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('AES256');
  }, 60_000);

  it('a fix costs at most two requests on the table and four on S3', async ({ onTestFinished }) => {
    const proxy = await startProxy(onTestFinished);
    const table = uniqueName('driftfix-count');
    // The table exists already, as in a deployment.
    await cli(proxy, ['replay', '--apply', eventFile(await createBucket('warm'))], table);
    const bucket = await createBucket('count');
    const file = eventFile(bucket);
    proxy.counts = { table: 0, s3: 0, other: 0 };
    const run = await cli(proxy, ['replay', '--apply', '--json', file], table);
    expect(JSON.parse(run.stdout.trim()).outcome).toBe('remediated');
    expect(proxy.counts.table).toBeLessThanOrEqual(2);
    expect(proxy.counts.s3).toBeLessThanOrEqual(4);
    proxy.counts = { table: 0, s3: 0, other: 0 };
    const compliant = await cli(proxy, ['replay', '--apply', '--json', eventFile(bucket)], table);
    expect(JSON.parse(compliant.stdout.trim()).outcome).toBe('compliant');
    expect(proxy.counts.table).toBe(1);
    expect(proxy.counts.s3).toBe(2);
  }, 60_000);
});
