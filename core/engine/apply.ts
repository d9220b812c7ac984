import type { AnyRule, Step } from '../model/index.ts';
import type { CallLog } from './call-log.ts';

type Sendable = { send(command: object, options?: { abortSignal?: AbortSignal }): Promise<unknown> };

/** A write that was never sent: nothing can have changed. */
export class NotSentError extends Error {
  override readonly name = 'NotSentError';
  readonly notSent = true;
}

/**
 * The only code that sends write commands. A step names one of the operations its rule declares
 * (each with its IAM action and SDK command); nothing else can be written. `signal` aborts the
 * request (and the SDK's retries of it) when the claim it is sent under runs out.
 */
export async function applyStep(
  rule: AnyRule,
  clients: Record<string, unknown>,
  step: Pick<Step, 'operation' | 'input'>,
  callLog?: CallLog,
  signal?: AbortSignal,
): Promise<void> {
  const operation = Object.hasOwn(rule.operations, step.operation) ? rule.operations[step.operation] : undefined;
  if (!operation) throw new NotSentError(`rule ${rule.id} declares no write operation ${step.operation}`);
  const client = clients[operation.client] as Sendable | undefined;
  if (!client) throw new NotSentError(`rule ${rule.id} has no ${operation.client} client for ${step.operation}`);
  const Command = await operation.command();
  if (signal?.aborted) throw new NotSentError(`the claim on the resource ran out before ${step.operation} was sent`);
  // A copy: the SDK's middleware adds fields (a checksum algorithm) to the input it is given, and the
  // record must keep the step exactly as planned.
  const command = new Command(structuredClone(step.input));
  await (signal ? client.send(command, { abortSignal: signal }) : client.send(command));
  if (callLog) callLog.writes += 1;
}

/** Sends the steps in order; says which succeeded before one failed. */
export async function applySteps(
  rule: AnyRule,
  clients: Record<string, unknown>,
  steps: ReadonlyArray<Pick<Step, 'operation' | 'input'>>,
  callLog: CallLog,
  options: { beforeEach?: () => void; signal?: AbortSignal } = {},
): Promise<{ ok: true } | { ok: false; applied: string[]; error: unknown }> {
  const applied: string[] = [];
  for (const step of steps) {
    try {
      options.beforeEach?.();
      await applyStep(rule, clients, step, callLog, options.signal);
    } catch (error) {
      return { ok: false, applied, error };
    }
    applied.push(step.operation);
  }
  return { ok: true };
}

/** Names of errors a service answers with when it refused a request outright (for errors without SDK metadata). */
const REFUSED = /AccessDenied|Unauthori[sz]ed|Forbidden|Validation|InvalidParameter|InvalidRequest|InvalidArgument|Malformed|NoSuch|NotFound|Throttl|TooManyRequests|RequestLimitExceeded|LimitExceeded|CredentialsProviderError/;

/**
 * Whether a failed write certainly changed nothing: it was never sent, or the service refused it
 * (a client error, 4xx) on the only attempt. Anything else — a timeout, a reset connection, a
 * server error, an aborted request, or a refusal after the SDK retried (an earlier attempt may
 * have landed) — leaves the outcome unknown: only the live resource can tell.
 */
export function writeRefused(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if ((error as { notSent?: boolean }).notSent === true) return true;
  if (error.name === 'AbortError' || /Timeout|ECONNRESET|EPIPE|ETIMEDOUT|socket hang up/i.test(`${error.name} ${(error as { code?: string }).code ?? ''}`)) return false;
  const { $fault, $metadata } = error as { $fault?: string; $metadata?: { httpStatusCode?: number; attempts?: number } };
  if (($metadata?.attempts ?? 1) > 1) return false;
  const status = $metadata?.httpStatusCode;
  if (status !== undefined) return status >= 400 && status < 500 && status !== 408;
  if ($fault !== undefined) return $fault === 'client';
  return REFUSED.test(error.name);
}
