import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseStrictJson } from '../../functions/commons/safe-json.ts';

/** Expands files and folders (a folder means its `*.json`, subfolders included) in a stable order. */
export async function expandEventPaths(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path);
    if (!info.isDirectory()) {
      files.push(path);
      continue;
    }
    const entries = await readdir(path, { recursive: true });
    files.push(...entries.filter((entry) => entry.endsWith('.json')).sort().map((entry) => join(path, entry)));
  }
  return files;
}

export type LoadedEvent = { ok: true; event: unknown } | { ok: false; reason: string };

export async function loadEventFile(file: string): Promise<LoadedEvent> {
  try {
    return { ok: true, event: parseStrictJson(await readFile(file, 'utf8')) };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}
