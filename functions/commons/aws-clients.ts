import { S3Client } from '@aws-sdk/client-s3';
import { S3ControlClient } from '@aws-sdk/client-s3-control';
import type { ReadClients } from '../../rules/types.ts';
import { currentCallLog } from './call-log.ts';

export interface ClientOptions {
  region: string;
  /** AWS_ENDPOINT_URL: a local emulator such as moto. */
  endpoint?: string | undefined;
  /** Attempts per call, throttling included; kept low so a Lambda never waits past its budget. */
  maxAttempts?: number;
}

/** Strips the client suffix: `S3ControlClient` → `S3Control`. */
function serviceOf(clientName: string | undefined): string {
  return (clientName ?? 'Unknown').replace(/Client$/, '');
}

type MiddlewareClient = {
  middlewareStack: {
    add: (
      middleware: (next: (args: unknown) => Promise<unknown>, context: { clientName?: string; commandName?: string }) => (args: unknown) => Promise<unknown>,
      options: { step: 'initialize'; name: string },
    ) => void;
  };
};

/** Adds every call the client makes (once per command, not per retry) to the current call log. */
function recordCalls<T>(client: T): T {
  (client as unknown as MiddlewareClient).middlewareStack.add(
    (next, context) => async (args) => {
      const call = `${serviceOf(context.clientName)}.${(context.commandName ?? 'Unknown').replace(/Command$/, '')}`;
      try {
        const result = await next(args);
        currentCallLog()?.record(call, true);
        return result;
      } catch (error) {
        currentCallLog()?.record(call, false);
        throw error;
      }
    },
    { step: 'initialize', name: 'driftfixCallLog' },
  );
  return client;
}

const TIMEOUTS = { connectionTimeout: 2_000, requestTimeout: 5_000 };

/** Clients for the account's resources. Standard AWS configuration applies (credentials chain). */
export function createResourceClients(options: ClientOptions): ReadClients {
  const common = {
    region: options.region,
    maxAttempts: options.maxAttempts ?? 4,
    requestHandler: TIMEOUTS,
  };
  const s3 = new S3Client({ ...common, ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}) });
  const endpoint = options.endpoint;
  // The S3 Control endpoint rules put the account id in front of the host name, which a local
  // endpoint such as http://127.0.0.1:5000 cannot take; send to the endpoint as given instead.
  const s3control = new S3ControlClient({
    ...common,
    ...(endpoint ? { endpoint, endpointProvider: () => ({ url: new URL(endpoint) }) } : {}),
  });
  return { s3: recordCalls(s3), s3control: recordCalls(s3control) };
}
