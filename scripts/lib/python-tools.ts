import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

/** The two Python tools the demo and the tests use: the local AWS emulator and the template linter. */
export const PYTHON_TOOLS = ['moto_server', 'cfn-lint'] as const;
/** Exact versions for ./.venv installs, the ones the tests were written against. */
export const PYTHON_PACKAGES = ['moto[server]==5.2.1', 'cfn-lint==1.51.0'] as const;

const ROOT = resolve(import.meta.dirname, '..', '..');

/** A Python tool from the project's .venv, else from PATH. */
export function findPythonTool(name: string, root = ROOT): string | undefined {
  const local = resolve(root, '.venv/bin', name);
  return existsSync(local) ? local : onPath(name);
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

export class PythonToolsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PythonToolsError';
  }
}

const NO_PYTHON =
  'python3 not found. Install Python 3.9 or later, then run the command again: ' +
  'Debian/Ubuntu: sudo apt-get install -y python3 python3-venv; Fedora: sudo dnf install -y python3; macOS: brew install python';
const NO_VENV =
  "python3 cannot create a virtual environment (its venv module is missing). Debian/Ubuntu: sudo apt-get install -y python3-venv; " +
  'then run the command again';

/**
 * Makes moto server and cfn-lint available: from PATH or ./.venv when present, otherwise installed
 * into ./.venv from PyPI (once, about a minute). Says in one line what it installs and why.
 */
export function ensurePythonTools(options: { root?: string; log?: (line: string) => void } = {}): void {
  const root = options.root ?? ROOT;
  const log = options.log ?? ((line: string) => console.error(line));
  if (PYTHON_TOOLS.every((tool) => findPythonTool(tool, root))) return;

  const python = onPath('python3');
  if (!python) throw new PythonToolsError(NO_PYTHON);
  log(
    `driftfix: installing ${PYTHON_PACKAGES.join(' and ')} into ./.venv: the local AWS emulator and the template linter ` +
      'the demo and the tests use (once, about a minute)',
  );
  const venv = resolve(root, '.venv');
  if (!existsSync(join(venv, 'bin', 'pip'))) {
    const made = spawnSync(python, ['-m', 'venv', venv], { encoding: 'utf8' });
    if (made.status !== 0) throw new PythonToolsError(`${NO_VENV}\n${(made.stderr || made.stdout || '').trim().slice(-1_000)}`);
  }
  const pip = spawnSync(join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', ...PYTHON_PACKAGES], {
    encoding: 'utf8',
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  if (pip.status !== 0) {
    throw new PythonToolsError(`pip could not install ${PYTHON_PACKAGES.join(', ')} into ./.venv:\n${(pip.stderr ?? '').trim().slice(-2_000)}`);
  }
  const missing = PYTHON_TOOLS.filter((tool) => !existsSync(join(venv, 'bin', tool)));
  if (missing.length > 0) throw new PythonToolsError(`./.venv has no ${missing.join(', ')} after installing; delete ./.venv and try again`);
}
