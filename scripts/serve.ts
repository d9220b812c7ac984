import { describeError } from '../core/model/index.ts';
import { handleSlackAction } from '../core/slack/interactivity.ts';
import { prepareCliEnvironment } from './lib/cli-env.ts';
import { localInteractivity } from './lib/local-interactivity.ts';
import { startLocalEndpoint } from './lib/local-endpoint.ts';
import { createLocalRuntime } from './lib/local-runtime.ts';

/**
 * The Slack interactivity endpoint on this machine (loopback only): POST /slack/actions is turned
 * into the API Gateway (payload 2.0) event the Lambda function receives; approvals it emits are
 * applied at once by the local handlers, routed by the same patterns as serverless.yml.
 */
async function main(): Promise<void> {
  prepareCliEnvironment();
  const log = {
    info: (message: string) => console.log(message),
    warn: (message: string) => console.warn(message),
    error: (message: string) => console.error(message),
  };
  const runtime = await createLocalRuntime({ needStore: true, log });
  const deps = localInteractivity(runtime);
  const endpoint = await startLocalEndpoint(
    async (event) => {
      const delivered = deps.bus.delivered.length;
      const result = await handleSlackAction(event, deps);
      for (const applied of deps.bus.delivered.slice(delivered)) {
        console.log(`${applied.outcome}: ${applied.rule ?? ''} ${applied.resource ?? ''}: ${applied.reason}`);
      }
      return result;
    },
    { port: Number(process.env.PORT || 3000) },
  );
  console.log(`driftfix interactivity endpoint: ${endpoint.url}`);
}

main().catch((error: unknown) => {
  console.error(`serve: ${describeError(error)}`);
  process.exitCode = 1;
});
