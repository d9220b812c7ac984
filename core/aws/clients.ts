import type { AnyRule, ClientSpec } from '../model/index.ts';
import { currentCallLog } from '../engine/call-log.ts';

/**
 * The one client factory. Every client it makes: the region, a local endpoint when one is set
 * (moto), short timeouts and few attempts (a Lambda never waits past its budget), and each call
 * named in the invocation's call log.
 */
export interface ClientOptions {
  region: string;
  /** AWS_ENDPOINT_URL: a local emulator such as moto. */
  endpoint?: string | undefined;
  /** Attempts per call, throttling included. */
  maxAttempts?: number;
  /** Local runs against an emulator: answers for calls the emulator lacks, added to each new client. */
  shim?: ((service: string, client: unknown) => void) | undefined;
  /** Credentials other than the default chain's (a local run acting as another account). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
}

type Sendable = { send: (command: object, ...rest: unknown[]) => Promise<unknown> };

const TIMEOUTS = { connectionTimeout: 2_000, requestTimeout: 5_000 };

/**
 * Adds every call the client makes (once per command, however often the SDK retries it) to the
 * current call log. Wraps `send` rather than the middleware stack so that calls are counted the
 * same way when tests replace the prototype's `send` with aws-sdk-client-mock.
 */
export function recordCalls<T>(client: T, service: string): T {
  const sendable = client as unknown as Sendable;
  sendable.send = async (command: object, ...rest: unknown[]) => {
    const call = `${service}.${command.constructor.name.replace(/Command$/, '')}`;
    const send = (Object.getPrototypeOf(client) as Sendable).send;
    currentCallLog()?.record(call);
    return send.call(sendable, command, ...rest);
  };
  return client;
}

export class ClientFactory {
  private readonly made = new Map<ClientSpec<unknown>, Promise<unknown>>();
  private readonly ruleClients = new Map<string, Record<string, unknown>>();

  constructor(readonly options: ClientOptions) {}

  /** A new client of a spec; `record: false` for the bot's own table, bus and queues, which are not the account's resources. */
  async make<C>(spec: ClientSpec<C>, options: { record?: boolean } = {}): Promise<C> {
    const Client = await spec.load();
    const { endpoint } = this.options;
    const client = new Client({
      region: this.options.region,
      maxAttempts: this.options.maxAttempts ?? 4,
      requestHandler: TIMEOUTS,
      ...(this.options.credentials ? { credentials: this.options.credentials } : {}),
      ...(endpoint ? { endpoint, ...(spec.local?.(endpoint) ?? {}) } : {}),
    });
    this.options.shim?.(spec.service, client);
    return options.record === false ? client : recordCalls(client, spec.service);
  }

  /** The client of a spec, made once per factory (per Lambda container). */
  async shared<C>(spec: ClientSpec<C>, options: { record?: boolean } = {}): Promise<C> {
    if (!this.made.has(spec)) this.made.set(spec, this.make(spec, options));
    return (await this.made.get(spec)) as C;
  }

  /** A rule's clients, by the names it declares; each name gets its own instance. */
  async forRule(rule: AnyRule): Promise<Record<string, unknown>> {
    const cached = this.ruleClients.get(rule.id);
    if (cached) return cached;
    const clients: Record<string, unknown> = {};
    for (const [name, spec] of Object.entries(rule.clients as Record<string, ClientSpec<unknown>>)) {
      clients[name] = await this.make(spec);
    }
    this.ruleClients.set(rule.id, clients);
    return clients;
  }

  /** The clients of rules loaded already, synchronously, for the engine. */
  loadedFor(rule: AnyRule): Record<string, unknown> {
    const clients = this.ruleClients.get(rule.id);
    if (!clients) throw new Error(`the clients of rule ${rule.id} were not loaded`);
    return clients;
  }
}
