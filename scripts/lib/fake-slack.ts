import { createServer, type IncomingMessage, type Server } from 'node:http';

/** One Web API call as the stand-in received it. */
export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
  authorization: string | undefined;
}

/** Message metadata as chat.postMessage and chat.update take it (docs.slack.dev, "Using message metadata"). */
export interface MessageMetadata {
  event_type: string;
  event_payload: Record<string, unknown>;
}

/** A message the stand-in holds, as the channel would show it. */
export interface FakeMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: unknown;
  metadata?: MessageMetadata | undefined;
}

type Fault = { kind: 'status'; status: number } | { kind: 'rate-limited'; retryAfter: number } | { kind: 'hang' };

/**
 * A local stand-in for the Slack Web API, for tests and local runs (Slack itself cannot be reached
 * from here): chat.postMessage and chat.update (keeping each message with its metadata),
 * chat.postEphemeral, conversations.history (newest first, `oldest`, `limit`, `cursor`; metadata
 * only with `include_all_metadata`), usergroups.users.list and views.open. Message timestamps are
 * epoch seconds, as Slack's are. Faults can be queued: HTTP errors, 429 with Retry-After, requests
 * that never answer.
 */
export class FakeSlack {
  readonly calls: SlackCall[] = [];
  readonly groups = new Map<string, string[]>();
  /** Every message posted, in the order posted. */
  readonly messages: FakeMessage[] = [];
  /** The modals opened with views.open. */
  readonly views: Array<{ triggerId: string; view: Record<string, unknown> }> = [];
  private readonly faults: Fault[] = [];
  private server: Server | undefined;
  private sequence = 0;
  url = '';

  constructor(private readonly now: () => number = Date.now) {}

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

  /** The message at channel/ts, as it is now. */
  message(channel: string, ts: string): FakeMessage | undefined {
    return this.messages.find((message) => message.channel === channel && message.ts === ts);
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
      // Slack answers HTTP 200 with ok: false for errors of the call itself.
      const answer = /^Bearer xox[a-z]-/.test(req.headers.authorization ?? '') ? this.answer(method, args) : { ok: false, error: 'not_authed' };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
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

  /** A new message timestamp: the current second, and a sequence number that keeps them unique and ordered. */
  private nextTs(): string {
    this.sequence += 1;
    return `${Math.floor(this.now() / 1000)}.${String(this.sequence).padStart(6, '0')}`;
  }

  private answer(method: string, args: Record<string, unknown>): Record<string, unknown> {
    switch (method) {
      case 'chat.postMessage': {
        if (typeof args.channel !== 'string' || !args.channel) return { ok: false, error: 'channel_not_found' };
        const message: FakeMessage = { channel: args.channel, ts: this.nextTs(), text: String(args.text ?? ''), blocks: args.blocks, metadata: metadataOf(args.metadata) };
        this.messages.push(message);
        return { ok: true, channel: message.channel, ts: message.ts, message: shown(message, true) };
      }
      case 'chat.update': {
        const message = this.message(String(args.channel), String(args.ts));
        if (!message) return { ok: false, error: 'message_not_found' };
        message.text = String(args.text ?? '');
        message.blocks = args.blocks;
        if (args.metadata !== undefined) message.metadata = metadataOf(args.metadata);
        return { ok: true, channel: message.channel, ts: message.ts, text: message.text };
      }
      case 'chat.postEphemeral':
        return { ok: true, message_ts: this.nextTs() };
      case 'conversations.history':
        return this.history(args);
      case 'usergroups.users.list':
        return { ok: true, users: this.groups.get(String(args.usergroup)) ?? [] };
      case 'views.open': {
        const triggerId = String(args.trigger_id ?? '');
        if (!triggerId) return { ok: false, error: 'invalid_arguments' };
        if (this.views.some((opened) => opened.triggerId === triggerId)) return { ok: false, error: 'exchanged_trigger_id' };
        const view = (args.view ?? {}) as Record<string, unknown>;
        this.views.push({ triggerId, view });
        return { ok: true, view: { id: `V${String(this.views.length).padStart(8, '0')}`, ...view } };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  /** conversations.history: newest first, after `oldest` (exclusive), `limit` at a time (default 100), paged by cursor. */
  private history(args: Record<string, unknown>): Record<string, unknown> {
    const channel = String(args.channel ?? '');
    if (!channel) return { ok: false, error: 'channel_not_found' };
    const oldest = Number(args.oldest ?? 0);
    const limit = Math.min(Math.max(Number(args.limit ?? 100) || 100, 1), 999);
    const offset = args.cursor ? Number(Buffer.from(String(args.cursor), 'base64').toString('utf8').replace(/^offset:/, '')) : 0;
    if (!Number.isInteger(offset) || offset < 0) return { ok: false, error: 'invalid_cursor' };
    const withMetadata = args.include_all_metadata === true || args.include_all_metadata === 'true' || args.include_all_metadata === '1';
    const inChannel = this.messages.filter((message) => message.channel === channel && Number(message.ts) > oldest).reverse();
    const page = inChannel.slice(offset, offset + limit);
    const more = offset + limit < inChannel.length;
    return {
      ok: true,
      messages: page.map((message) => shown(message, withMetadata)),
      has_more: more,
      response_metadata: { next_cursor: more ? Buffer.from(`offset:${offset + limit}`).toString('base64') : '' },
    };
  }
}

function metadataOf(value: unknown): MessageMetadata | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const { event_type, event_payload } = value as Record<string, unknown>;
  if (typeof event_type !== 'string' || !event_payload || typeof event_payload !== 'object') return undefined;
  return { event_type, event_payload: event_payload as Record<string, unknown> };
}

function shown(message: FakeMessage, withMetadata: boolean): Record<string, unknown> {
  return {
    type: 'message',
    ts: message.ts,
    text: message.text,
    blocks: message.blocks,
    ...(withMetadata && message.metadata ? { metadata: message.metadata } : {}),
  };
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
