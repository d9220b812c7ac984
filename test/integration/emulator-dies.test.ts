import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { startMotoServer } from '../../scripts/lib/moto-server.ts';
import { loadSample, REGION } from '../support/events.ts';
import { ROOT } from '../support/packaged.ts';

describe('the emulator dies in the middle of a replay', () => {
  it('every file still gets a line (fixed before, failed after), the CLI exits 1 without crashing', async () => {
    const moto = await startMotoServer();
    const s3 = new S3Client({ region: REGION, endpoint: moto.endpoint, forcePathStyle: true });
    const dir = mkdtempSync(join(tmpdir(), 'driftfix-dies-'));
    const sample = loadSample('config/s3-bucket-server-side-encryption-enabled.remediated.json');
    const count = 60;
    for (let i = 0; i < count; i += 1) {
      const bucket = `dies-${i}`;
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const event = structuredClone(sample);
      event.id = randomUUID();
      event.detail.resourceId = bucket;
      event.detail.newEvaluationResult.evaluationResultIdentifier.evaluationResultQualifier.resourceId = bucket;
      event.detail.oldEvaluationResult.evaluationResultIdentifier.evaluationResultQualifier.resourceId = bucket;
      writeFileSync(join(dir, `${String(i).padStart(3, '0')}.json`), JSON.stringify(event));
    }
    const child = spawn(process.execPath, ['scripts/run.mjs', 'replay', '--apply', '--json', dir], {
      cwd: ROOT,
      env: { ...process.env, AWS_ENDPOINT_URL: moto.endpoint, AWS_REGION: REGION, REMEDIATION_TABLE: 'dies' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!killed && stdout.split('\n').length > 10) {
        killed = true;
        void moto.stop();
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const lines = stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(killed).toBe(true);
    expect(status, stderr).toBe(1);
    expect(lines).toHaveLength(count);
    expect(lines.slice(0, 5).every((line) => line.outcome === 'remediated')).toBe(true);
    const failed = lines.filter((line) => line.outcome === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((line) => typeof line.reason === 'string' && line.reason.length > 0)).toBe(true);
    expect(stderr).not.toMatch(/UnhandledPromiseRejection|TypeError/);
  }, 120_000);
});
