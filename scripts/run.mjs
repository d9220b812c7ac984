// Runs a driftfix CLI (scripts/<name>.ts) from a bundle: starting it through tsx takes about a
// second, a bundle a fraction of that. The bundle is built on first use and rebuilt whenever a
// source file is newer than it, so what runs is always the code in the working tree.
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const name = process.argv[2] ?? '';
if (!/^[a-z-]+$/.test(name)) {
  console.error('usage: node scripts/run.mjs <cli> [args…]');
  process.exit(2);
}
const entry = join(root, 'scripts', `${name}.ts`);
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

const sources = Math.max(newest(join(root, 'core')), newest(join(root, 'rules')), newest(join(root, 'scripts')), statSync(join(root, 'package.json')).mtimeMs);
if (builtAt() < sources) {
  const { build } = await import('esbuild');
  await build({
    absWorkingDir: root,
    entryPoints: [entry],
    outdir,
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
}
process.argv.splice(2, 1);
await import(pathToFileURL(bundle).href);
