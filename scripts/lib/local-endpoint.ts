import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { describeError } from '../../core/model/index.ts';

/** API Gateway's own payload limit is larger; Slack's requests are small. Bigger bodies are refused unread. */
export const MAX_BODY = 1024 * 1024;

/**
 * The Slack interactivity endpoint on this machine: POST /slack/actions turned into the API
 * Gateway (payload 2.0) event the Lambda function receives, and its answer sent back.
 */
export async function startLocalEndpoint(
  handle: (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>,
  options: { port?: number; log?: (message: string) => void } = {},
): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  const log = options.log ?? ((message: string) => console.error(message));
  const server = createServer(async (req, res) => {
    try {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== '/slack/actions') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: POST /slack/actions');
        return;
      }
      const event = await toApiGatewayEvent(req);
      if (!event) {
        // Over the limit: refused without reading the rest, as API Gateway refuses payloads over its own.
        res.writeHead(413, { 'content-type': 'text/plain', connection: 'close' }).end('request too large');
        req.destroy();
        return;
      }
      const result = await handle(event);
      res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>).end(result.body ?? '');
    } catch (error) {
      log(`serve: ${describeError(error)}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/slack/actions`,
    server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

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
