import { type ParseArgsConfig, parseArgs } from 'node:util';

/**
 * Defaults for running driftfix from a terminal. Against a local emulator (AWS_ENDPOINT_URL set)
 * any credentials do, so placeholder ones are supplied when none are configured.
 */
export function prepareCliEnvironment(env: Record<string, string | undefined> = process.env): void {
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  if (env.AWS_ENDPOINT_URL && !env.AWS_ACCESS_KEY_ID && !env.AWS_PROFILE) {
    env.AWS_ACCESS_KEY_ID = 'testing';
    env.AWS_SECRET_ACCESS_KEY = 'testing';
  }
}

/** Runs a CLI's main function: its number is the exit status; anything thrown is printed, status 2. */
export function runCli(name: string, main: (argv: string[]) => Promise<number>): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      const hint = hintFor(error);
      if (hint) console.error(hint);
      process.exitCode = 2;
    },
  );
}

/** What to do about the errors a first run meets. */
function hintFor(error: unknown): string | undefined {
  const name = error instanceof Error ? error.name : '';
  if (name === 'CredentialsProviderError') {
    return 'No AWS credentials: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) for an account, or AWS_ENDPOINT_URL for a local emulator such as moto.';
  }
  if ((error as { code?: string }).code === 'ECONNREFUSED') return 'Nothing answers at AWS_ENDPOINT_URL: start the emulator first (README, "Replaying events").';
  return undefined;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * A CLI's flags and arguments, strictly: an unknown flag or a bad value prints the message and the
 * usage, and gives undefined (the CLI then exits 2).
 */
export function parseCliArgs<T extends Options>(argv: string[], options: T, usage: string): ReturnType<typeof parseArgs<{ options: T; allowPositionals: true; strict: true }>> | undefined {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    return undefined;
  }
}
