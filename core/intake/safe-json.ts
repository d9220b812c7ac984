import { MAX_EVENT_BYTES, MAX_EVENT_DEPTH } from '../model/constants.ts';
import { InvalidEventError } from '../model/errors.ts';

/** Keys that can reach an object's prototype when the value is later merged or copied. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export interface ShapeLimits {
  maxBytes: number;
  maxDepth: number;
}

const DEFAULT_LIMITS: ShapeLimits = { maxBytes: MAX_EVENT_BYTES, maxDepth: MAX_EVENT_DEPTH };

/**
 * Parses JSON text the way an event file must be: within size and depth limits, with no duplicate
 * key (JSON.parse silently keeps the last one, so two readers could see two different events) and
 * no prototype-polluting key.
 */
export function parseStrictJson(text: string, limits: ShapeLimits = DEFAULT_LIMITS): unknown {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxBytes) {
    throw new InvalidEventError(`event is ${bytes} bytes, over the ${limits.maxBytes}-byte limit`);
  }
  scanForDuplicateKeys(text, limits.maxDepth);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new InvalidEventError(`invalid JSON: ${(error as Error).message}`, { cause: error });
  }
}

/** Checks an already parsed value (as Lambda hands it over) against the same limits. */
export function assertSafeShape(value: unknown, limits: ShapeLimits = DEFAULT_LIMITS): void {
  let serialized: string | undefined;
  try {
    serialized = JSON.stringify(value);
  } catch (error) {
    throw new InvalidEventError('event cannot be serialized as JSON', { cause: error });
  }
  if (serialized === undefined) throw new InvalidEventError('event is not a JSON value');
  const bytes = Buffer.byteLength(serialized, 'utf8');
  if (bytes > limits.maxBytes) {
    throw new InvalidEventError(`event is ${bytes} bytes, over the ${limits.maxBytes}-byte limit`);
  }
  walk(value, 0, '$', limits.maxDepth);
}

function walk(value: unknown, depth: number, path: string, maxDepth: number): void {
  if (value === null || typeof value !== 'object') return;
  if (depth >= maxDepth) throw new InvalidEventError(`event nests deeper than ${maxDepth} levels at ${path}`);
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) walk(item, depth + 1, `${path}[${index}]`, maxDepth);
    return;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw new InvalidEventError(`event holds a non-plain object at ${path}`);
  }
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key)) throw new InvalidEventError(`forbidden key "${key}" at ${path}`);
    walk((value as Record<string, unknown>)[key], depth + 1, `${path}.${key}`, maxDepth);
  }
}

/**
 * A single pass over the text that tracks, for each open object, the keys seen so far. Values are
 * skipped; JSON.parse validates the grammar afterwards, so this only needs to find strings and
 * brackets reliably.
 */
function scanForDuplicateKeys(text: string, maxDepth: number): void {
  const stack: Array<{ keys: Set<string> } | null> = [];
  let expectKey = false;
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '"') {
      const end = findStringEnd(text, i);
      const top = stack[stack.length - 1];
      if (expectKey && top) {
        const key = decodeJsonString(text.slice(i, end + 1));
        if (FORBIDDEN_KEYS.has(key)) throw new InvalidEventError(`forbidden key "${key}"`);
        if (top.keys.has(key)) throw new InvalidEventError(`duplicate key "${key}"`);
        top.keys.add(key);
        expectKey = false;
      }
      i = end + 1;
      continue;
    }
    if (ch === '{' || ch === '[') {
      stack.push(ch === '{' ? { keys: new Set() } : null);
      if (stack.length > maxDepth) throw new InvalidEventError(`event nests deeper than ${maxDepth} levels`);
      expectKey = ch === '{';
    } else if (ch === '}' || ch === ']') {
      stack.pop();
      expectKey = false;
    } else if (ch === ',') {
      expectKey = stack[stack.length - 1] != null;
    }
    i += 1;
  }
}

function findStringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '\\') i += 2;
    else if (ch === '"') return i;
    else i += 1;
  }
  throw new InvalidEventError('invalid JSON: unterminated string');
}

function decodeJsonString(literal: string): string {
  try {
    return JSON.parse(literal) as string;
  } catch (error) {
    throw new InvalidEventError(`invalid JSON string ${literal.slice(0, 40)}`, { cause: error });
  }
}
