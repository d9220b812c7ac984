import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The documentation names files of this repository: each must exist. Read from README.md,
 * DEVELOPERS.md and docs/*.md: inline code, fenced blocks (the diagrams and commands) and relative
 * links. A name with a placeholder (`rules/<id>.ts`, `rules/*.ts`) is a pattern, not a file, and
 * is left alone; a trailing `:line` or `#anchor` is not part of the path.
 */

const ROOT = resolve(import.meta.dirname, '..', '..');

const DOCS = ['README.md', 'DEVELOPERS.md', ...readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];

/** The repository's folders, as a path in the docs starts. */
const FOLDERS = ['core', 'rules', 'functions', 'serverless', 'scripts', 'events', 'test', 'docs', 'slack', '.ci'];
/** A path under one of them, written with path characters (placeholder characters included, so that a pattern is seen whole). */
const FOLDER_PATH = new RegExp(`(?<![\\w./@<>*…{}$-])(?:\\./)?((?:${FOLDERS.map((folder) => folder.replace('.', '\\.')).join('|')})/[\\w./@+<>*…{}$-]*)`, 'g');
/** A bare file name that only a top-level file has: `serverless.yml`, `package.json`, `DEVELOPERS.md`. */
const TOP_LEVEL_FILE = /^(?:\.\/)?([\w.-]+\.(?:md|json|ya?ml))$/;
const PLACEHOLDER = /[<>*…{}$]|\.\.\./;

interface NamedPath {
  /** As the doc writes it, without `./`, `:line` or `#anchor`. */
  path: string;
  /** Where it counts from: the repository (code spans, fenced blocks) or the doc's folder (links). */
  from: string;
}

/** Strips what follows the path (`:42`, `:handler`, `#anchor`) and sentence punctuation after it. */
function clean(raw: string): string {
  return (raw.split(/[:#]/)[0] ?? '').replace(/[.,;)]+$/, '');
}

/** The paths in one piece of code (a code span, a fenced block). */
function pathsInCode(code: string): string[] {
  const found = [...code.matchAll(FOLDER_PATH)].map((match) => clean(match[1] ?? ''));
  const bare = TOP_LEVEL_FILE.exec(code.trim());
  if (bare?.[1]) found.push(bare[1]);
  return found;
}

/** Every repository path a Markdown text names, placeholders left out. */
function namedPaths(markdown: string, docPath: string): NamedPath[] {
  const found: NamedPath[] = [];
  const fence = /^[ \t]*(```|~~~)[^\n]*\n([\s\S]*?)^[ \t]*\1[ \t]*$/gm;
  for (const match of markdown.matchAll(fence)) for (const path of pathsInCode(match[2] ?? '')) found.push({ path, from: '.' });
  const prose = markdown.replace(fence, '');
  for (const match of prose.matchAll(/(`+)([^`]+?)\1/g)) for (const path of pathsInCode(match[2] ?? '')) found.push({ path, from: '.' });
  for (const match of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = match[1] ?? '';
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue;
    found.push({ path: target.split('#')[0] ?? '', from: dirname(docPath) });
  }
  return found.filter(({ path }) => path !== '' && !PLACEHOLDER.test(path));
}

/** The named paths that do not exist, as `path` (or `path (from folder)` for a link). */
function missingPaths(markdown: string, docPath: string, root = ROOT): string[] {
  const missing = namedPaths(markdown, docPath)
    .filter(({ path, from }) => !existsSync(join(root, posix.normalize(posix.join(from, path)))))
    .map(({ path, from }) => (from === '.' ? path : `${path} (from ${from}/)`));
  return [...new Set(missing)].sort();
}

describe('the path finder', () => {
  const doc = [
    'See `core/engine/run.ts`, `core/aws/wiring.ts:42`, `docs/ARCHITECTURE.md#crash-safety` and `serverless.yml`.',
    'Run `npm run replay -- events/config/nope.skipped.json` or `node ./scripts/run.mjs demo`.',
    'Patterns: `rules/<id>.ts`, `test/rules/*.test.ts`, `events/<source>/<what>.<outcome>.json`, `npm test`.',
    '```',
    'functions/remediate.ts ──▶ core/aws/missing.ts',
    '```',
    'A [link](DEVELOPERS.md#layout), a [missing one](docs/NOPE.md) and [a site](https://example.com/core/x.ts).',
    'Gone: `MISSING.md`, `core/engine/gone.ts`.',
  ].join('\n');

  it('finds paths in code spans, commands, fenced blocks and links; leaves placeholders, anchors and line numbers out', () => {
    expect(namedPaths(doc, 'README.md').map(({ path }) => path)).toEqual([
      'functions/remediate.ts',
      'core/aws/missing.ts',
      'core/engine/run.ts',
      'core/aws/wiring.ts',
      'docs/ARCHITECTURE.md',
      'serverless.yml',
      'events/config/nope.skipped.json',
      'scripts/run.mjs',
      'MISSING.md',
      'core/engine/gone.ts',
      'DEVELOPERS.md',
      'docs/NOPE.md',
    ]);
  });

  it('reports exactly the paths that do not exist; a link counts from the doc’s folder', () => {
    expect(missingPaths(doc, 'README.md')).toEqual(['MISSING.md', 'core/aws/missing.ts', 'core/engine/gone.ts', 'docs/NOPE.md', 'events/config/nope.skipped.json']);
    expect(missingPaths('[back](../README.md), [wrong](ARCHITECTURE.md/x)', 'docs/ARCHITECTURE.md')).toEqual(['ARCHITECTURE.md/x (from docs/)']);
  });
});

describe('paths named in the documentation', () => {
  it('reads README.md, DEVELOPERS.md and every docs/*.md, and finds paths in them', () => {
    expect(DOCS).toEqual(expect.arrayContaining(['README.md', 'DEVELOPERS.md', 'docs/ARCHITECTURE.md']));
    const named = DOCS.flatMap((doc) => namedPaths(readFileSync(join(ROOT, doc), 'utf8'), doc));
    expect(named.length).toBeGreaterThan(50);
  });

  it.each(DOCS)('%s names only files and folders that exist', (doc) => {
    expect(missingPaths(readFileSync(join(ROOT, doc), 'utf8'), doc)).toEqual([]);
  });
});
