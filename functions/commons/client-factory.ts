import type { AccessAnalyzerClient } from '@aws-sdk/client-accessanalyzer';
import type { ConfigServiceClient } from '@aws-sdk/client-config-service';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3ControlClient } from '@aws-sdk/client-s3-control';
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

/** The client classes a function loaded; a rule only gets the services it declares. */
export interface ClientClasses {
  S3Client?: typeof S3Client;
  S3ControlClient?: typeof S3ControlClient;
  IAMClient?: typeof IAMClient;
  AccessAnalyzerClient?: typeof AccessAnalyzerClient;
  ConfigServiceClient?: typeof ConfigServiceClient;
}

/**
 * Clients for the account's resources, each made on first use. Standard AWS configuration
 * applies (credentials chain); `endpoint` points every client at a local emulator.
 */
export function buildResourceClients(classes: ClientClasses, options: ClientOptions): ReadClients {
  const common = { region: options.region, maxAttempts: options.maxAttempts ?? 4, requestHandler: TIMEOUTS };
  const endpoint = options.endpoint;
  const cache = new Map<string, unknown>();
  const lazy = <T>(key: string, make: () => T): T => {
    if (!cache.has(key)) cache.set(key, make());
    return cache.get(key) as T;
  };
  const need = <T>(cls: T | undefined, service: string): T => {
    if (!cls) throw new Error(`this function did not load the ${service} client: add it to the rule's services`);
    return cls;
  };
  // IAM is global: its endpoint does not depend on the region.
  const iamOptions = { ...common, ...(endpoint ? { endpoint } : {}) };
  return {
    get s3() {
      return lazy('s3', () => {
        const Client = need(classes.S3Client, 'S3');
        return recordCalls(new Client({ ...common, ...(endpoint ? { endpoint, forcePathStyle: true } : {}) }), 'S3');
      });
    },
    get s3control() {
      return lazy('s3control', () => {
        const Client = need(classes.S3ControlClient, 'S3 Control');
        // The S3 Control endpoint rules put the account id in front of the host name, which a local
        // endpoint such as http://127.0.0.1:5000 cannot take; send to the endpoint as given instead.
        return recordCalls(new Client({ ...common, ...(endpoint ? { endpoint, endpointProvider: () => ({ url: new URL(endpoint) }) } : {}) }), 'S3Control');
      });
    },
    get iam() {
      return lazy('iam', () => recordCalls(new (need(classes.IAMClient, 'IAM'))(iamOptions), 'IAM'));
    },
    get iamAccessAdvisor() {
      return lazy('iamAccessAdvisor', () => recordCalls(new (need(classes.IAMClient, 'IAM'))(iamOptions), 'IAM'));
    },
    get config() {
      return lazy('config', () =>
        recordCalls(new (need(classes.ConfigServiceClient, 'AWS Config'))({ ...common, ...(endpoint ? { endpoint } : {}) }), 'Config'),
      );
    },
    get accessAnalyzer() {
      return lazy('accessAnalyzer', () =>
        recordCalls(new (need(classes.AccessAnalyzerClient, 'Access Analyzer'))({ ...common, ...(endpoint ? { endpoint } : {}) }), 'AccessAnalyzer'),
      );
    },
  };
}
