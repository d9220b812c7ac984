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
      console.error(`${name}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
      process.exitCode = 2;
    },
  );
}
