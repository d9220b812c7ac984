import { createServer, type IncomingMessage, type Server } from 'node:http';

/** One Web API call as the stand-in received it. */
export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
  authorization: string | undefined;
}

type Fault = { kind: 'status'; status: number } | { kind: 'rate-limited'; retryAfter: number } | { kind: 'hang' };

/**
 * A local stand-in for the Slack Web API (chat.postMessage, chat.update, chat.postEphemeral,
 * usergroups.users.list), for tests and local runs: Slack itself cannot be reached from here.
 * Faults can be queued: HTTP errors, 429 with Retry-After, requests that never answer.
 */
export class FakeSlack {
  readonly calls: SlackCall[] = [];
  readonly groups = new Map<string, string[]>();
  private readonly faults: Fault[] = [];
  private server: Server | undefined;
  private nextTs = 1_700_000_000;
  url = '';

  failNext(count: number, status = 500): void {
    for (let i = 0; i < count; i += 1) this.faults.push({ kind: 'status', status });
  }
  rateLimitNext(count: number, retryAfter: number): void {
    for (let i = 0; i < count; i += 1) this.faults.push({ kind: 'rate-limited', retryAfter });
  }
  hangNext(count: number): void {
    for (let i = 0; i < count; i += 1) this.faults.push({ kind: 'hang' });
  }
  clearFaults(): void {
    this.faults.length = 0;
  }

  callsTo(method: string): SlackCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  async start(port = 0): Promise<string> {
    this.server = createServer(async (req, res) => {
      const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
      const args = await readArgs(req);
      const fault = this.faults.shift();
      if (fault?.kind === 'hang') return; // never answers: the client must time out
      this.calls.push({ method, args, authorization: req.headers.authorization });
      if (fault?.kind === 'status') {
        res.writeHead(fault.status, { 'content-type': 'text/plain' });
        res.end('injected failure');
        return;
      }
      if (fault?.kind === 'rate-limited') {
        res.writeHead(429, { 'retry-after': String(fault.retryAfter), 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: false, error: 'ratelimited' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(this.answer(method, args)));
    });
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}/api/`;
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private answer(method: string, args: Record<string, unknown>): Record<string, unknown> {
    switch (method) {
      case 'chat.postMessage':
        this.nextTs += 1;
        return { ok: true, channel: args.channel, ts: `${this.nextTs}.000100`, message: { text: args.text } };
      case 'chat.update':
        return { ok: true, channel: args.channel, ts: args.ts };
      case 'chat.postEphemeral':
        return { ok: true, message_ts: `${this.nextTs}.000200` };
      case 'usergroups.users.list':
        return { ok: true, users: this.groups.get(String(args.usergroup)) ?? [] };
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }
}

async function readArgs(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks).toString('utf8');
  if ((req.headers['content-type'] ?? '').includes('application/json')) return body ? (JSON.parse(body) as Record<string, unknown>) : {};
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    args[key] = /^[[{]/.test(value) ? JSON.parse(value) : value;
  }
  return args;
}
