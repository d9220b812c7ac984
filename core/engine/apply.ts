import type { AnyRule, Step } from '../model/index.ts';
import type { CallLog } from './call-log.ts';

type Sendable = { send(command: object): Promise<unknown> };

/**
 * The only code that sends write commands. A step names one of the operations its rule declares
 * (each with its IAM action and SDK command); nothing else can be written.
 */
export async function applyStep(
  rule: AnyRule,
  clients: Record<string, unknown>,
  step: Pick<Step, 'operation' | 'input'>,
  callLog?: CallLog,
): Promise<void> {
  const operation = Object.hasOwn(rule.operations, step.operation) ? rule.operations[step.operation] : undefined;
  if (!operation) throw new Error(`rule ${rule.id} declares no write operation ${step.operation}`);
  const client = clients[operation.client] as Sendable | undefined;
  if (!client) throw new Error(`rule ${rule.id} has no ${operation.client} client for ${step.operation}`);
  const Command = await operation.command();
  // A copy: the SDK's middleware adds fields (a checksum algorithm) to the input it is given, and the
  // record must keep the step exactly as planned.
  await client.send(new Command(structuredClone(step.input)));
  if (callLog) callLog.writes += 1;
}

/** Sends the steps in order; says which succeeded before one failed. */
export async function applySteps(
  rule: AnyRule,
  clients: Record<string, unknown>,
  steps: ReadonlyArray<Pick<Step, 'operation' | 'input'>>,
  callLog: CallLog,
  beforeEach: () => void = () => {},
): Promise<{ ok: true } | { ok: false; applied: string[]; error: unknown }> {
  const applied: string[] = [];
  for (const step of steps) {
    try {
      beforeEach();
      await applyStep(rule, clients, step, callLog);
    } catch (error) {
      return { ok: false, applied, error };
    }
    applied.push(step.operation);
  }
  return { ok: true };
}
