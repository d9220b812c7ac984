import { defineConfig } from 'vitest/config';

const env = {
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
  AWS_REGION: 'us-east-1',
};

/**
 * Two projects: `unit` (pure code and aws-sdk-client-mock: no emulator, no packaging; `npm run
 * test:unit`) and `integration` (the real SDK against one moto server and one packaged stack,
 * both set up once by the global setup).
 */
export default defineConfig({
  test: {
    // Most tests wait on a server, a child process or a timer more than they compute: more workers
    // than cores. Each integration worker gets its own moto server (test/support/global-setup.ts).
    maxWorkers: 4,
    projects: [
      // Unit test files share their worker's modules (no per-file re-import of the AWS SDK); none
      // of them changes a module's state for the next.
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], env, testTimeout: 30_000, isolate: false } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/rules/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          env,
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // Files share their worker's modules too (the SDK is imported once per worker, not per
          // file): each test makes its own tables, buckets and runtimes.
          isolate: false,
        },
      },
    ],
  },
});
