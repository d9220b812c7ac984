import { execFileSync } from 'node:child_process';
import * as realFs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_EVENT_BYTES } from '../../core/model/constants.ts';

/**
 * scripts/lib/event-files.ts reads the event files `npm run replay` is given. node:fs/promises is
 * wrapped so that the tests see every file the module opens and every read it makes.
 */
const opened: string[] = [];
const reads: number[] = [];
const statLies = new Map<string, number>();

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...actual,
    open: async (...args: Parameters<typeof actual.open>) => {
      opened.push(String(args[0]));
      const handle = await actual.open(...args);
      const read = handle.read.bind(handle) as (...readArgs: unknown[]) => Promise<{ bytesRead: number }>;
      Object.defineProperty(handle, 'read', {
        value: async (...readArgs: unknown[]) => {
          const result = await read(...readArgs);
          reads.push(result.bytesRead);
          return result;
        },
      });
      return handle;
    },
    // A file that grows between the stat and the read: the stat says it is small.
    stat: async (...args: Parameters<typeof actual.stat>) => {
      const info = await actual.stat(...args);
      const lie = statLies.get(String(args[0]));
      if (lie !== undefined) Object.defineProperty(info, 'size', { value: lie });
      return info;
    },
  };
});

const { expandEventPaths, loadEventFile } = await import('../../scripts/lib/event-files.ts');

let root = '';
const at = (...parts: string[]) => join(root, ...parts);
const event = { version: '0', id: 'x', source: 'aws.config' };

beforeAll(async () => {
  root = await realFs.mkdtemp(join(tmpdir(), 'driftfix-event-files-'));
});

afterAll(async () => {
  await realFs.rm(root, { recursive: true, force: true });
});

beforeEach(() => {
  opened.length = 0;
  reads.length = 0;
  statLies.clear();
});

/** Fails the test instead of hanging it when the work blocks (a FIFO opened for reading waits for a writer). */
async function withinSeconds<T>(seconds: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`blocked for more than ${seconds} s`)), seconds * 1000);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('loadEventFile', () => {
  it('reads a regular file of strict JSON', async () => {
    await realFs.writeFile(at('ok.json'), JSON.stringify(event));
    expect(await loadEventFile(at('ok.json'))).toEqual({ ok: true, event });
  });

  it('refuses a file with a duplicate key, with the reason', async () => {
    await realFs.writeFile(at('duplicate.json'), '{"source":"aws.config","source":"evil"}');
    expect(await loadEventFile(at('duplicate.json'))).toEqual({ ok: false, reason: expect.stringContaining('duplicate key "source"') });
  });

  it('refuses a file that is not JSON', async () => {
    await realFs.writeFile(at('broken.json'), '{"source":');
    expect(await loadEventFile(at('broken.json'))).toMatchObject({ ok: false, reason: expect.stringMatching(/invalid JSON|unterminated/) });
  });

  it('a missing file is a reason, not an exception', async () => {
    expect(await loadEventFile(at('missing.json'))).toMatchObject({ ok: false, reason: expect.stringContaining('ENOENT') });
  });

  it('refuses a folder without reading it', async () => {
    await realFs.mkdir(at('a-folder.json'), { recursive: true });
    expect(await loadEventFile(at('a-folder.json'))).toEqual({ ok: false, reason: expect.stringContaining('not a regular file (a folder); not read') });
    expect(opened).toEqual([]);
  });

  it('refuses a named pipe (FIFO) without opening it, so without blocking', async () => {
    const fifo = at('pipe.json');
    execFileSync('mkfifo', [fifo]);
    const result = await withinSeconds(5, loadEventFile(fifo));
    expect(result).toEqual({ ok: false, reason: expect.stringContaining('not a regular file (a named pipe); not read') });
    expect(opened).toEqual([]);
  });

  it('refuses /dev/zero without reading it', async () => {
    const result = await withinSeconds(5, loadEventFile('/dev/zero'));
    expect(result).toEqual({ ok: false, reason: expect.stringContaining('not a regular file (a device); not read') });
    expect(opened).toEqual([]);
    expect(reads).toEqual([]);
  });

  it(`refuses a file over ${MAX_EVENT_BYTES} bytes without opening it`, async () => {
    const big = at('big.json');
    await realFs.writeFile(big, '');
    await realFs.truncate(big, 64 * 1024 * 1024);
    const result = await loadEventFile(big);
    expect(result).toEqual({ ok: false, reason: expect.stringContaining(`${64 * 1024 * 1024} bytes, over EventBridge's ${MAX_EVENT_BYTES}-byte event limit; not read`) });
    expect(opened).toEqual([]);
  });

  it('a file of exactly the limit is read', async () => {
    const exact = at('exact.json');
    await realFs.writeFile(exact, `"${'x'.repeat(MAX_EVENT_BYTES - 2)}"`);
    const result = await loadEventFile(exact);
    expect(result.ok).toBe(true);
  });

  it('a file that grew after it was measured is read no further than one byte past the limit, and refused', async () => {
    const growing = at('growing.json');
    await realFs.writeFile(growing, '');
    await realFs.truncate(growing, 16 * 1024 * 1024);
    statLies.set(growing, 100);
    const result = await loadEventFile(growing);
    expect(result).toEqual({ ok: false, reason: expect.stringContaining(`over EventBridge's ${MAX_EVENT_BYTES}-byte event limit`) });
    expect(opened).toEqual([growing]);
    expect(reads.reduce((sum, bytes) => sum + bytes, 0)).toBeLessThanOrEqual(MAX_EVENT_BYTES + 1);
  });
});

describe('expandEventPaths', () => {
  let tree = '';
  const names = (files: string[]) => files.map((file) => relative(tree, file));

  beforeAll(async () => {
    tree = at('tree');
    await realFs.mkdir(join(tree, 'sub', 'deeper'), { recursive: true });
    await realFs.mkdir(join(tree, 'empty'), { recursive: true });
    // Written out of order: the listing must not depend on it.
    for (const file of ['z.json', 'sub/deeper/d.json', 'b.json', 'sub/c.json', 'a.json', 'notes.txt', 'sub/readme.md']) {
      await realFs.writeFile(join(tree, file), JSON.stringify(event));
    }
    // Loops: a folder that links back to the top, one that links to itself, two links to one folder.
    await realFs.symlink(tree, join(tree, 'sub', 'back-to-top'));
    await realFs.symlink(join(tree, 'sub'), join(tree, 'sub-again'));
    await realFs.symlink(join(tree, 'sub'), join(tree, 'sub', 'deeper', 'up'));
    await realFs.symlink('self.json', join(tree, 'self.json'));
  });

  it('lists the .json files of a folder, subfolders included, in name order, each folder once however links loop', async () => {
    const files = await withinSeconds(10, expandEventPaths([tree]));
    expect(names(files)).toEqual(['a.json', 'b.json', 'self.json', 'sub/c.json', 'sub/deeper/d.json', 'z.json']);
  });

  it('skips hidden folders and node_modules inside a folder it walks; a folder named on the command line is walked', async () => {
    const project = at('project');
    for (const file of ['events/a.json', 'node_modules/pkg/package.json', '.git/x.json', 'events/.cache/y.json']) {
      await realFs.mkdir(join(project, file, '..'), { recursive: true });
      await realFs.writeFile(join(project, file), JSON.stringify(event));
    }
    expect((await expandEventPaths([project])).map((file) => relative(project, file))).toEqual(['events/a.json']);
    expect((await expandEventPaths([join(project, 'node_modules')])).map((file) => relative(project, file))).toEqual(['node_modules/pkg/package.json']);
  });

  it('the same listing every time', async () => {
    const first = await expandEventPaths([tree]);
    const second = await expandEventPaths([tree]);
    expect(second).toEqual(first);
  });

  it('a folder reached through a link first is visited once, under the path it was reached by', async () => {
    const files = await expandEventPaths([join(tree, 'sub-again'), tree]);
    expect(names(files)).toEqual([
      'sub-again/back-to-top/a.json',
      'sub-again/back-to-top/b.json',
      'sub-again/back-to-top/self.json',
      'sub-again/back-to-top/z.json',
      'sub-again/c.json',
      'sub-again/deeper/d.json',
    ]);
  });

  it('a self-referencing link is listed and refused when loaded, not followed for ever', async () => {
    expect(await loadEventFile(join(tree, 'self.json'))).toMatchObject({ ok: false, reason: expect.stringContaining('ELOOP') });
  });

  it('files named on the command line are kept in the order given, whatever their extension', async () => {
    const files = await expandEventPaths([join(tree, 'z.json'), join(tree, 'notes.txt'), join(tree, 'a.json')]);
    expect(names(files)).toEqual(['z.json', 'notes.txt', 'a.json']);
  });

  it('an empty folder gives nothing', async () => {
    expect(await expandEventPaths([join(tree, 'empty')])).toEqual([]);
  });

  it('a path that does not exist fails', async () => {
    await expect(expandEventPaths([join(tree, 'missing')])).rejects.toThrow(/ENOENT/);
  });

  it('a FIFO in a folder is listed, and refused without blocking when loaded', async () => {
    const folder = at('with-pipe');
    await realFs.mkdir(folder);
    await realFs.writeFile(join(folder, 'a.json'), JSON.stringify(event));
    execFileSync('mkfifo', [join(folder, 'b.json')]);
    const files = await withinSeconds(5, expandEventPaths([folder]));
    expect(files).toEqual([join(folder, 'a.json'), join(folder, 'b.json')]);
    const loaded = await withinSeconds(5, Promise.all(files.map((file) => loadEventFile(file))));
    expect(loaded).toEqual([
      { ok: true, event },
      { ok: false, reason: expect.stringContaining('a named pipe') },
    ]);
  });

  it('listing never opens a file', async () => {
    await expandEventPaths([tree, at('with-pipe')]);
    expect(opened).toEqual([]);
  });
});
