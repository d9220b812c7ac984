/**
 * What moto lacks and the rules need, answered on this machine only, never against AWS: the EBS
 * default KMS key of the region (GetEbsDefaultKmsKeyId, ModifyEbsDefaultKmsKeyId,
 * ResetEbsDefaultKmsKeyId). Every account starts with AWS's own key, alias/aws/ebs, as AWS
 * documents for an account that never set one (EC2 API Reference, GetEbsDefaultKmsKeyId).
 */
const AWS_MANAGED_EBS_KEY = 'alias/aws/ebs';

type Stack = { middlewareStack: { add: (middleware: unknown, options: { step: string; name: string }) => void } };

export function emulatorShims(service: string, client: unknown): void {
  unimplementedSaysSo(client as Stack);
  if (service !== 'EC2') return;
  let defaultKey = AWS_MANAGED_EBS_KEY;
  const answer = (output: Record<string, unknown>) => ({ output: { ...output, $metadata: {} }, response: {} });
  (client as Stack).middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: { input?: { KmsKeyId?: string } }) => {
      switch (context.commandName) {
        case 'GetEbsDefaultKmsKeyIdCommand':
          return answer({ KmsKeyId: defaultKey });
        case 'ModifyEbsDefaultKmsKeyIdCommand':
          defaultKey = args.input?.KmsKeyId ?? defaultKey;
          return answer({ KmsKeyId: defaultKey });
        case 'ResetEbsDefaultKmsKeyIdCommand':
          defaultKey = AWS_MANAGED_EBS_KEY;
          return answer({ KmsKeyId: defaultKey });
        default:
          return next(args);
      }
    },
    { step: 'initialize', name: 'driftfix-emulator-ebs-default-key' },
  );
}

/**
 * A call the emulator does not implement comes back as an HTML page, which the SDK reports as an
 * XML or JSON parse error: say which call the emulator lacks instead (moto has no
 * GenerateServiceLastAccessedDetails, for one).
 */
function unimplementedSaysSo(client: Stack): void {
  client.middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string; clientName?: string }) => async (args: unknown) => {
      try {
        return await next(args);
      } catch (error) {
        const text = `${(error as Error).name} ${(error as Error).message}`;
        if (!/<html|<!DOCTYPE|Deserialization error|XML parse error|Unexpected token '<'/i.test(text)) throw error;
        const call = `${(context.clientName ?? '').replace(/Client$/, '')}.${(context.commandName ?? '').replace(/Command$/, '')}`;
        throw Object.assign(new Error(`the local emulator does not implement ${call} (it answered with a web page); this needs AWS itself`), { name: 'NotImplementedByEmulator' });
      }
    },
    { step: 'initialize', name: 'driftfix-emulator-unimplemented' },
  );
}
