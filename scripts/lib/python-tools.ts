import { existsSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

/** A Python tool from the project's .venv (scripts/ensure-python-tools.sh), else from PATH. */
export function findPythonTool(name: string, root = process.cwd()): string | undefined {
  const local = resolve(root, '.venv/bin', name);
  if (existsSync(local)) return local;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}
