import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A counting proxy in front of moto: every HTTP request is forwarded unchanged and counted by
 * service and operation, so that the bench can say how many requests an event costs, the bot's
 * own table included (the replay output lists only the calls on the account's resources). Used
 * for counting runs only, never for timed ones.
 */
export interface CountingProxy {
  endpoint: string;
  /** Requests so far, by `service operation` (DynamoDB: its X-Amz-Target; S3: method and sub-resource). */
  counts(): Map<string, number>;
  close(): Promise<void>;
}

/** `dynamodb GetItem`, `s3 PUT ?encryption`, `sts POST`: what a signed request asks for. */
export function classify(method: string, url: string, headers: Record<string, string | string[] | undefined>): string {
  const authorization = String(headers.authorization ?? '');
  const service = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(authorization)?.[1] ?? 'unsigned';
  const target = headers['x-amz-target'];
  if (typeof target === 'string') return `${service} ${target.split('.').pop() ?? target}`;
  const query = new URL(url, 'http://local').searchParams;
  const subresource = [...query.keys()].filter((key) => !key.startsWith('x-id')).sort()[0];
  return `${service} ${method}${subresource ? ` ?${subresource}` : ''}`;
}

export function startCountingProxy(upstream: string): Promise<CountingProxy> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true });
  const tally = new Map<string, number>();
  const server = createServer((incoming, outgoing) => {
    const key = classify(incoming.method ?? 'GET', incoming.url ?? '/', incoming.headers);
    tally.set(key, (tally.get(key) ?? 0) + 1);
    const forward = request(
      { host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers, agent },
      (response) => {
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(outgoing);
      },
    );
    forward.on('error', (error) => {
      if (!outgoing.headersSent) outgoing.writeHead(502);
      outgoing.end(String(error));
    });
    incoming.pipe(forward);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        endpoint: `http://127.0.0.1:${port}`,
        counts: () => new Map(tally),
        close: () =>
          new Promise<void>((done) => {
            agent.destroy();
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

/** What happened between two snapshots of the counts. */
export function difference(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  const changed = new Map<string, number>();
  for (const [key, count] of after) {
    const delta = count - (before.get(key) ?? 0);
    if (delta > 0) changed.set(key, delta);
  }
  return changed;
}

/** The bot's table: DynamoDB requests, the one-off table creation of a local run apart. */
export const TABLE_SETUP = new Set(['dynamodb CreateTable', 'dynamodb DescribeTable', 'dynamodb UpdateTimeToLive']);

/** DynamoDB requests in `counts`, divided by `per` (the number of events): the total and each operation. */
export function tableRequests(counts: Map<string, number>, per = 1): { total: number; setup: number; ops: string } {
  let total = 0;
  let setup = 0;
  const ops: string[] = [];
  for (const [key, count] of [...counts].sort(([a], [b]) => a.localeCompare(b))) {
    if (!key.startsWith('dynamodb ')) continue;
    if (TABLE_SETUP.has(key)) setup += count;
    else {
      total += count / per;
      const each = Math.round((count / per) * 100) / 100;
      ops.push(`${key.slice('dynamodb '.length)}${each !== 1 ? ` ×${each}` : ''}`);
    }
  }
  return { total, setup, ops: ops.join(', ') };
}
