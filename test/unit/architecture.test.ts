import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RULES } from '../../rules/index.ts';

/**
 * The layering the restructure promises, read from the source itself: which folder may import
 * which, no cycles, small files, and rule ids named only where a rule lives.
 */

const ROOT = resolve(import.meta.dirname, '..', '..');
const MAX_LINES = 400;

/** Repository-relative paths (forward slashes) of the files under `dir` whose names pass `keep`. */
function filesUnder(dir: string, keep: (name: string) => boolean = () => true): string[] {
  const absolute = join(ROOT, dir);
  if (!existsSync(absolute)) return [];
  const found: string[] = [];
  for (const entry of readdirSync(absolute, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) found.push(...filesUnder(path, keep));
    else if (entry.isFile() && keep(entry.name)) found.push(path);
  }
  return found.sort();
}

const isTs = (name: string) => name.endsWith('.ts');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** Module specifiers of static imports, re-exports, side-effect imports and dynamic imports of string literals. */
function specifiersOf(source: string): string[] {
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...source.matchAll(pattern)].map((match) => match[1] ?? ''));
}

/** The repository file a relative specifier names, or undefined for packages and node: modules. */
function resolveSpecifier(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  return relative(ROOT, resolve(ROOT, dirname(from), specifier)).split(sep).join('/');
}

const SOURCE_DIRS = ['core', 'rules', 'functions', 'serverless', 'scripts'];
const sources = SOURCE_DIRS.flatMap((dir) => filesUnder(dir, isTs));
const imports = new Map(sources.map((file) => [file, specifiersOf(read(file)).flatMap((specifier) => resolveSpecifier(file, specifier) ?? [])]));

/** Each import of a file under `from` that `allowed` refuses, as "file → imported". */
function violations(from: (file: string) => boolean, allowed: (target: string) => boolean, graph: ReadonlyMap<string, readonly string[]> = imports): string[] {
  return [...graph].filter(([file]) => from(file)).flatMap(([file, targets]) => targets.filter((target) => !allowed(target)).map((target) => `${file} → ${target}`));
}

const under = (prefix: string) => (file: string) => file.startsWith(`${prefix}/`);
const ruleFile = (file: string) => /^rules\/[^/]+\.ts$/.test(file) && file !== 'rules/index.ts';

describe('the import parser', () => {
  it('finds static, type-only, re-exported, side-effect and dynamic imports, over several lines', () => {
    const source = [
      "import { a,\n  b } from '../x.ts';",
      "import type { C } from './c.ts';",
      "export { d } from './d.ts';",
      "export * from './e.ts';",
      "import './f.ts';",
      "const g = await import('./g.ts');",
      "import { readFileSync } from 'node:fs';",
    ].join('\n');
    expect(specifiersOf(source)).toEqual(expect.arrayContaining(['../x.ts', './c.ts', './d.ts', './e.ts', './f.ts', './g.ts', 'node:fs']));
    expect(specifiersOf(source)).toHaveLength(7);
  });

  it('reads every source folder, and each relative import names a file that exists', () => {
    for (const dir of SOURCE_DIRS) expect(sources.some(under(dir)), dir).toBe(true);
    const missing = [...imports].flatMap(([file, targets]) => targets.filter((target) => !existsSync(join(ROOT, target))).map((target) => `${file} → ${target}`));
    expect(missing).toEqual([]);
  });
});

describe('layers', () => {
  it('core/model imports nothing of driftfix outside core/model', () => {
    expect(violations(under('core/model'), under('core/model'))).toEqual([]);
  });

  it('a rule file imports only core/model/index.ts and rules/lib', () => {
    expect(violations(ruleFile, (target) => target === 'core/model/index.ts' || under('rules/lib')(target))).toEqual([]);
  });

  it('the registry imports only core/model/index.ts and the rule files', () => {
    expect(violations((file) => file === 'rules/index.ts', (target) => target === 'core/model/index.ts' || ruleFile(target))).toEqual([]);
  });

  it('rules/lib imports only core/model and rules/lib', () => {
    expect(violations(under('rules/lib'), (target) => under('core/model')(target) || under('rules/lib')(target))).toEqual([]);
  });

  it('nothing under core/ imports rules/', () => {
    expect(violations(under('core'), (target) => !under('rules')(target))).toEqual([]);
  });

  it('functions/ are entry points: they import only core/aws/wiring.ts, core/model and rules/index.ts, and nothing imports them', () => {
    const allowed = (target: string) => target === 'core/aws/wiring.ts' || under('core/model')(target) || target === 'rules/index.ts';
    expect(violations(under('functions'), allowed)).toEqual([]);
    expect(violations(() => true, (target) => !under('functions')(target))).toEqual([]);
  });

  it('serverless/ imports only rules/index.ts, core/intake routing and event-pattern, core/model and core/aws/settings.ts', () => {
    const allowed = new Set(['rules/index.ts', 'core/intake/routing.ts', 'core/intake/event-pattern.ts', 'core/aws/settings.ts']);
    expect(violations(under('serverless'), (target) => allowed.has(target) || under('core/model')(target) || under('serverless')(target))).toEqual([]);
  });

  it('the layer checks catch a forbidden import', () => {
    const graph = new Map([...imports, ['rules/lib/probe.ts', ['core/model/index.ts', 'core/engine/run.ts']]]);
    expect(violations(under('rules/lib'), (target) => under('core/model')(target) || under('rules/lib')(target), graph)).toEqual(['rules/lib/probe.ts → core/engine/run.ts']);
  });
});

/** Every import cycle reachable in `graph`, each as the files around it (depth-first search). */
function cyclesOf(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return cycles;
}

describe('import cycles', () => {
  it('the search finds a cycle, and none in a tree', () => {
    expect(cyclesOf(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']]]))).toEqual([['a', 'b', 'c', 'a']]);
    expect(cyclesOf(new Map([['a', ['b', 'c']], ['b', ['c']], ['c', []]]))).toEqual([]);
  });

  it('no file of core, rules, functions, serverless or scripts imports itself through others', () => {
    expect(cyclesOf(imports).map((cycle) => cycle.join(' → '))).toEqual([]);
  });
});

describe('file size', () => {
  it(`no source file is over ${MAX_LINES} lines`, () => {
    const files = [...SOURCE_DIRS, 'test/support'].flatMap((dir) => filesUnder(dir, (name) => /\.(ts|cjs|mjs|js)$/.test(name)));
    expect(files.length).toBeGreaterThan(sources.length);
    const long = files.map((file) => ({ file, lines: read(file).split('\n').length })).filter(({ lines }) => lines > MAX_LINES);
    expect(long.map(({ file, lines }) => `${file}: ${lines} lines`)).toEqual([]);
  });
});

describe('rule ids are named only where the rule lives', () => {
  const SCANNED = ['core', 'functions', 'serverless', 'scripts', 'rules', 'test', '.ci'];
  const textFile = (path: string) => statSync(join(ROOT, path)).size < 2_000_000 && !read(path).includes('\u0000');
  // Code only: JSON data holds AWS Config rule names, and AWS's default name may be spelled like a rule id.
  const scanned = [...SCANNED.flatMap((dir) => filesUnder(dir, (name) => !name.endsWith('.json'))), 'serverless.yml'].filter(textFile);

  /** A mention of the id as a whole name: not part of a longer kebab-case name such as an AWS Config rule's. */
  const mentions = (text: string, id: string) => new RegExp(`(?<![a-z0-9-])${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![a-z0-9-])`).test(text);

  it('the scan reads every folder it names, and spots a mention', () => {
    for (const dir of SCANNED) expect(scanned.some(under(dir)), dir).toBe(true);
    const [rule] = RULES;
    expect(rule).toBeDefined();
    expect(mentions(`ruleId: '${rule?.id}'`, rule?.id ?? '')).toBe(true);
    expect(mentions(`${rule?.id}-kms`, rule?.id ?? '')).toBe(false);
  });

  it.each(RULES.map((rule) => [rule.id] as const))('%s appears only in its rule file, the registry and its own test', (id) => {
    const allowed = new Set([`rules/${id}.ts`, 'rules/index.ts', `test/rules/${id}.test.ts`]);
    expect(scanned.filter((file) => !allowed.has(file) && mentions(read(file), id))).toEqual([]);
  });
});
