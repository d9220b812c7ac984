// Runs a driftfix CLI (scripts/<name>.ts) from a bundle: starting it through tsx takes about a
// second, a bundle a fraction of that. The bundle is built on first use and rebuilt whenever a
// source file is newer than it, so what runs is always the code in the working tree.
// `node scripts/run.mjs --build` builds every CLI at once (the tests do, before they start any).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLIS = ['approvals', 'bench', 'demo', 'redrive', 'replay', 'rollback', 'serve'];
const name = process.argv[2] ?? '';
if (name !== '--build' && !CLIS.includes(name)) {
  console.error(`usage: node scripts/run.mjs <${CLIS.join('|')}> [args…] | --build`);
  process.exit(2);
}
const outdir = join(root, '.build', 'cli');
const bundle = join(outdir, `${name}.mjs`);

function newest(path) {
  let latest = 0;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) latest = Math.max(latest, newest(full));
    else if (/\.(ts|json)$/.test(entry.name)) latest = Math.max(latest, statSync(full).mtimeMs);
  }
  return latest;
}

function builtAt() {
  try {
    return statSync(bundle).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * Builds the bundles in a directory of their own, then moves them into place: chunks first (their
 * names are hashes of their contents, so one already there is the same file), each entry last. A
 * CLI started meanwhile, or a second build running at the same time, never sees a half-written file.
 */
async function buildBundles(names) {
  const { build } = await import('esbuild');
  mkdirSync(join(root, '.build'), { recursive: true });
  const temp = mkdtempSync(join(root, '.build', 'cli-building-'));
  try {
    await build({
      absWorkingDir: root,
      entryPoints: names.map((cli) => join(root, 'scripts', `${cli}.ts`)),
      outdir: temp,
      entryNames: '[name]',
      chunkNames: 'chunks/[name]-[hash]',
      outExtension: { '.js': '.mjs' },
      // What a run does not use (the SDK of other rules, Slack, the bus) stays in chunks it never loads.
      splitting: true,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      // Dependencies are bundled too: one file parses faster than Node resolves hundreds.
      banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
      mainFields: ['module', 'main'],
      // The Slack client (axios underneath) does not survive bundling; it loads from node_modules, when Slack is on.
      external: ['@slack/web-api'],
      minify: true,
      // Class names stay readable: the call log names each AWS call after its command class.
      keepNames: true,
      logLevel: 'warning',
    });
    mkdirSync(join(outdir, 'chunks'), { recursive: true });
    if (existsSync(join(temp, 'chunks'))) {
      for (const chunk of readdirSync(join(temp, 'chunks'))) renameSync(join(temp, 'chunks', chunk), join(outdir, 'chunks', chunk));
    }
    for (const cli of names) renameSync(join(temp, `${cli}.mjs`), join(outdir, `${cli}.mjs`));
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

const sources = Math.max(newest(join(root, 'core')), newest(join(root, 'rules')), newest(join(root, 'scripts')), statSync(join(root, 'package.json')).mtimeMs);
if (name === '--build') {
  await buildBundles(CLIS);
  process.exit(0);
}
if (builtAt() < sources) await buildBundles([name]);
process.argv.splice(2, 1);
await import(pathToFileURL(bundle).href);
