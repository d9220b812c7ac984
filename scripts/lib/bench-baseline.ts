import { GetBucketEncryptionCommand, PutBucketEncryptionCommand, S3Client } from '@aws-sdk/client-s3';

/**
 * The throughput baseline of `npm run bench`: the least a script can do to fix N buckets without
 * default encryption, one GetBucketEncryption (is it needed?) and one PutBucketEncryption per
 * bucket, `concurrency` at a time, with the same SDK. The bench bundles it as run.mjs bundles a
 * CLI and runs it in a fresh process, so both sides pay a Node start.
 *
 * usage: node baseline.mjs <bucket-prefix> <n> <concurrency>   (AWS_ENDPOINT_URL, AWS_REGION set)
 * Prints {"loopMs":…,"fixed":…} on stdout.
 */
async function main(): Promise<void> {
  const [prefix, count, width] = process.argv.slice(2);
  const n = Number(count);
  const concurrency = Number(width);
  const endpoint = process.env.AWS_ENDPOINT_URL;
  if (!prefix || !Number.isInteger(n) || !Number.isInteger(concurrency) || !endpoint) throw new Error('usage: baseline <bucket-prefix> <n> <concurrency>, AWS_ENDPOINT_URL set');
  const s3 = new S3Client({ region: process.env.AWS_REGION ?? 'us-east-1', endpoint, forcePathStyle: true });
  const started = performance.now();
  let next = 0;
  let fixed = 0;
  const worker = async () => {
    while (next < n) {
      const Bucket = `${prefix}-${next++}`;
      try {
        await s3.send(new GetBucketEncryptionCommand({ Bucket }));
        continue; // already encrypted: nothing to do
      } catch (error) {
        if ((error as Error).name !== 'ServerSideEncryptionConfigurationNotFoundError') throw error;
      }
      await s3.send(new PutBucketEncryptionCommand({ Bucket, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } }));
      fixed += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  console.log(JSON.stringify({ loopMs: performance.now() - started, fixed }));
}

main().catch((error: unknown) => {
  console.error(`baseline: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  process.exitCode = 1;
});
