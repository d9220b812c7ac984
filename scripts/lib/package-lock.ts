import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const LOCK = join(ROOT, '.build', 'package.lock');

/**
 * osls keeps state in .serverless/ even when it packages elsewhere: one `serverless package` per
 * checkout at a time (the tests, the deploy script's test and the bench all take this lock). A lock
 * left by a process that died is taken over after 3 minutes.
 */
export async function withPackageLock<T>(work: () => Promise<T>): Promise<T> {
  mkdirSync(join(ROOT, '.build'), { recursive: true });
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      const age = Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 180_000) rmSync(LOCK, { recursive: true, force: true });
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    return await work();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}
