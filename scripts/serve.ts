import { createServer, type IncomingMessage } from 'node:http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describeError } from '../core/model/index.ts';
import { handleSlackAction } from '../core/slack/interactivity.ts';
import { prepareCliEnvironment } from './lib/cli-env.ts';
import { localInteractivity } from './lib/local-interactivity.ts';
import { createLocalRuntime } from './lib/local-runtime.ts';

/**
 * The Slack interactivity endpoint on this machine: POST /slack/actions is turned into the API
 * Gateway (payload 2.0) event the Lambda function receives; approvals it emits are applied at
 * once by the local handlers, routed by the same patterns as serverless.yml.
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
  const port = Number(process.env.PORT || 3000);

  const server = createServer(async (req, res) => {
    try {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== '/slack/actions') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: POST /slack/actions');
        return;
      }
      const delivered = deps.bus.delivered.length;
      const event = await toApiGatewayEvent(req);
      if (!event) {
        // Over the limit: refused without reading the rest, as API Gateway refuses payloads over its own.
        res.writeHead(413, { 'content-type': 'text/plain', connection: 'close' }).end('request too large');
        req.destroy();
        return;
      }
      const result = await handleSlackAction(event, deps);
      res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>).end(result.body ?? '');
      for (const applied of deps.bus.delivered.slice(delivered)) {
        console.log(`${applied.outcome}: ${applied.rule ?? ''} ${applied.resource ?? ''}: ${applied.reason}`);
      }
    } catch (error) {
      console.error(`serve: ${describeError(error)}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error');
    }
  });
  server.listen(port, () => console.log(`driftfix interactivity endpoint: http://localhost:${port}/slack/actions`));
}

const MAX_BODY = 1024 * 1024;

async function toApiGatewayEvent(req: IncomingMessage): Promise<APIGatewayProxyEventV2 | null> {
  if (Number(req.headers['content-length'] ?? 0) > MAX_BODY) return null;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return null;
    chunks.push(chunk as Buffer);
  }
  const [rawPath = '/', rawQueryString = ''] = (req.url ?? '/').split('?');
  const headers = Object.fromEntries(
    Object.entries(req.headers).map(([key, value]) => [key.toLowerCase(), Array.isArray(value) ? value.join(',') : (value ?? '')]),
  );
  const now = new Date();
  return {
    version: '2.0',
    routeKey: `${req.method ?? 'GET'} ${rawPath}`,
    rawPath,
    rawQueryString,
    headers,
    body: Buffer.concat(chunks).toString('base64'),
    isBase64Encoded: true,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      http: {
        method: req.method ?? 'GET',
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: `local-${now.getTime()}`,
      routeKey: `${req.method ?? 'GET'} ${rawPath}`,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
  };
}

main().catch((error: unknown) => {
  console.error(`serve: ${describeError(error)}`);
  process.exitCode = 1;
});
