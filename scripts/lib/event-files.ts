import { open, readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseStrictJson } from '../../core/intake/safe-json.ts';
import { MAX_EVENT_BYTES } from '../../core/model/index.ts';

/**
 * Expands files and folders (a folder means its `*.json`, subfolders included) in a stable order.
 * Each folder is visited once, however symbolic links loop back to it; what is not a regular file
 * is listed too, and refused when it is loaded, without being read.
 */
export async function expandEventPaths(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  const visited = new Set<string>();
  const walk = async (dir: string): Promise<void> => {
    const real = await realpath(dir);
    if (visited.has(real)) return;
    visited.add(real);
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      const info = await stat(path).catch(() => undefined);
      // Inside a directory named on the command line: hidden folders and installed packages hold no events.
      if (info?.isDirectory() && (entry.name.startsWith('.') || entry.name === 'node_modules')) continue;
      if (info?.isDirectory()) await walk(path);
      else if (entry.name.endsWith('.json')) files.push(path);
    }
  };
  for (const path of paths) {
    const info = await stat(path);
    if (info.isDirectory()) await walk(path);
    else files.push(path);
  }
  return files;
}

export type LoadedEvent = { ok: true; event: unknown } | { ok: false; reason: string };

/** Reads one event file: a regular file of at most EventBridge's event size, strict JSON. `rewrite` edits the text first (the demo's resource ids). */
export async function loadEventFile(file: string, rewrite: (text: string) => string = (text) => text): Promise<LoadedEvent> {
  try {
    const info = await stat(file);
    if (!info.isFile()) return { ok: false, reason: `${file} is not a regular file (${kindOf(info)}); not read` };
    if (info.size > MAX_EVENT_BYTES) return { ok: false, reason: `${file} is ${info.size} bytes, over EventBridge's ${MAX_EVENT_BYTES}-byte event limit; not read` };
    // Read at most one byte more than the limit: a file that grows meanwhile is still refused.
    const handle = await open(file, 'r');
    try {
      const buffer = Buffer.alloc(MAX_EVENT_BYTES + 1);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      if (bytesRead > MAX_EVENT_BYTES) return { ok: false, reason: `${file} is over EventBridge's ${MAX_EVENT_BYTES}-byte event limit` };
      return { ok: true, event: parseStrictJson(rewrite(buffer.subarray(0, bytesRead).toString('utf8'))) };
    } finally {
      await handle.close();
    }
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

function kindOf(info: Awaited<ReturnType<typeof stat>>): string {
  if (info.isFIFO()) return 'a named pipe';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  if (info.isSocket()) return 'a socket';
  if (info.isDirectory()) return 'a folder';
  return 'not a file';
}
