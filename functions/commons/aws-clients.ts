import { AccessAnalyzerClient } from '@aws-sdk/client-accessanalyzer';
import { IAMClient } from '@aws-sdk/client-iam';
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

type Sendable = { send: (command: object, ...rest: unknown[]) => Promise<unknown> };

/**
 * Adds every call the client makes (once per command, however often the SDK retries it) to the
 * current call log. Wraps `send` rather than the middleware stack so that calls are counted the
 * same way when tests replace the prototype's `send` with aws-sdk-client-mock.
 */
function recordCalls<T>(client: T, service: string): T {
  const sendable = client as unknown as Sendable;
  const prototypeSend = (Object.getPrototypeOf(client) as Sendable).send;
  sendable.send = async (command: object, ...rest: unknown[]) => {
    const call = `${service}.${command.constructor.name.replace(/Command$/, '')}`;
    const send = (Object.getPrototypeOf(client) as Sendable).send ?? prototypeSend;
    try {
      const result = await send.call(sendable, command, ...rest);
      currentCallLog()?.record(call, true);
      return result;
    } catch (error) {
      currentCallLog()?.record(call, false);
      throw error;
    }
  };
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
  // IAM is global: its endpoint does not depend on the region.
  const iamOptions = { ...common, ...(endpoint ? { endpoint } : {}) };
  return {
    s3: recordCalls(s3, 'S3'),
    s3control: recordCalls(s3control, 'S3Control'),
    iam: recordCalls(new IAMClient(iamOptions), 'IAM'),
    iamAccessAdvisor: recordCalls(new IAMClient(iamOptions), 'IAM'),
    accessAnalyzer: recordCalls(new AccessAnalyzerClient({ ...common, ...(endpoint ? { endpoint } : {}) }), 'AccessAnalyzer'),
  };
}
