import { describe, expect, it } from 'vitest';
import { assertSafeShape, parseStrictJson } from '../../core/intake/safe-json.ts';
import { MAX_EVENT_BYTES, MAX_EVENT_DEPTH } from '../../core/model/constants.ts';
import { InvalidEventError } from '../../core/model/errors.ts';

const reasonOf = (work: () => unknown): string => {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidEventError);
    return (error as Error).message;
  }
  throw new Error('expected a rejection');
};

const nestedArrays = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const nestedObjects = (depth: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i += 1) value = { d: value };
  return value;
};

describe('parseStrictJson', () => {
  it('parses ordinary JSON, nested keys with the same name at different levels included', () => {
    expect(parseStrictJson('{"a":{"a":1},"b":[{"a":2},{"a":3}]}')).toEqual({ a: { a: 1 }, b: [{ a: 2 }, { a: 3 }] });
  });

  it.each(['null', 'true', '42', '"text"', '[]', '{}', ' \n\t{ "a" : [ 1 , { } ] } \n'])('parses the JSON value %j', (text) => {
    expect(parseStrictJson(text)).toEqual(JSON.parse(text));
  });

  it('parses every sample-like event: strings holding braces, brackets, commas and escaped quotes', () => {
    const text = JSON.stringify({ a: '{"a":1},[', b: 'x\\', c: '\\"', d: ['}', ']', ','], e: { a: '"' } });
    expect(parseStrictJson(text)).toEqual(JSON.parse(text));
  });

  it('refuses duplicate keys, also when one is written with escapes', () => {
    expect(reasonOf(() => parseStrictJson('{"source":"aws.config","source":"evil"}'))).toContain('duplicate key "source"');
    expect(reasonOf(() => parseStrictJson('{"detail":{"id":1,"\\u0069d":2}}'))).toContain('duplicate key "id"');
  });

  it.each([
    ['after a nested object', '{"a":{"x":1},"a":2}'],
    ['after an array', '{"a":[1,{"b":2}],"a":3}'],
    ['deep inside', '{"detail":{"findings":[{"Id":"x","Id":"y"}]}}'],
    ['with whitespace around', '{ "a" : 1 ,\n "a" : 2 }'],
    ['after a value holding a quote', '{"a":"\\"","a":1}'],
  ])('refuses a duplicate key %s', (_name, text) => {
    expect(reasonOf(() => parseStrictJson(text))).toContain('duplicate key');
  });

  it('does not mistake strings that look like keys for keys', () => {
    expect(parseStrictJson('{"a":"\\"a\\":1,","b":["a","a"]}')).toEqual({ a: '"a":1,', b: ['a', 'a'] });
  });

  it('the same key in sibling objects is no duplicate', () => {
    expect(parseStrictJson('[{"a":1},{"a":2}]')).toEqual([{ a: 1 }, { a: 2 }]);
    expect(parseStrictJson('{"x":{"a":1},"y":{"a":2}}')).toEqual({ x: { a: 1 }, y: { a: 2 } });
  });

  it.each(['__proto__', 'constructor', 'prototype'])('refuses the prototype-polluting key %s', (key) => {
    expect(reasonOf(() => parseStrictJson(`{"detail":{"${key}":{"x":1}}}`))).toContain(`forbidden key "${key}"`);
  });

  it('refuses a prototype-polluting key written with escapes', () => {
    expect(reasonOf(() => parseStrictJson('{"\\u005f\\u005fproto\\u005f\\u005f":{"polluted":true}}'))).toContain('forbidden key "__proto__"');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('allows those words as values', () => {
    expect(parseStrictJson('{"a":"__proto__","b":["constructor"]}')).toEqual({ a: '__proto__', b: ['constructor'] });
  });

  it(`allows nesting up to ${MAX_EVENT_DEPTH} levels and refuses deeper`, () => {
    expect(() => parseStrictJson(nestedArrays(MAX_EVENT_DEPTH))).not.toThrow();
    expect(reasonOf(() => parseStrictJson(nestedArrays(MAX_EVENT_DEPTH + 1)))).toContain('nests deeper');
    expect(reasonOf(() => parseStrictJson(nestedArrays(40)))).toContain('nests deeper');
    expect(reasonOf(() => parseStrictJson(JSON.stringify(nestedObjects(40))))).toContain('nests deeper');
  });

  it('refuses nesting far too deep for JSON.parse without overflowing the stack', () => {
    expect(reasonOf(() => parseStrictJson(nestedArrays(200_000).slice(0, MAX_EVENT_BYTES)))).toContain('nests deeper');
  });

  it('refuses text over the size limit before parsing it', () => {
    expect(reasonOf(() => parseStrictJson(`"${'x'.repeat(300 * 1024)}"`))).toContain('over the');
  });

  it('counts bytes, not characters (UTF-8)', () => {
    const fits = `"${'x'.repeat(MAX_EVENT_BYTES - 2)}"`;
    expect(parseStrictJson(fits)).toHaveLength(MAX_EVENT_BYTES - 2);
    expect(reasonOf(() => parseStrictJson(`"${'x'.repeat(MAX_EVENT_BYTES - 1)}"`))).toContain(`over the ${MAX_EVENT_BYTES}-byte limit`);
    const wide = `"${'é'.repeat(MAX_EVENT_BYTES / 2)}"`;
    expect(wide.length).toBeLessThan(MAX_EVENT_BYTES);
    expect(reasonOf(() => parseStrictJson(wide))).toContain('over the');
  });

  it('takes its limits as a parameter', () => {
    expect(reasonOf(() => parseStrictJson('{"a":"bcdef"}', { maxBytes: 8, maxDepth: 32 }))).toContain('13 bytes, over the 8-byte limit');
    expect(reasonOf(() => parseStrictJson('[[1]]', { maxBytes: 100, maxDepth: 1 }))).toContain('nests deeper than 1');
  });

  it.each([
    ['a truncated object', '{"a":'],
    ['a trailing comma', '{"a":1,}'],
    ['single quotes', "{'a':1}"],
    ['a comment', '{"a":1 // no\n}'],
    ['NaN', '{"a":NaN}'],
    ['two values', '{} {}'],
    ['nothing', ''],
    ['a byte-order mark', '\uFEFF{}'],
  ])('refuses invalid JSON (%s) with the parser message', (_name, text) => {
    expect(reasonOf(() => parseStrictJson(text))).toMatch(/invalid JSON|unterminated/);
  });

  it('refuses an unterminated string', () => {
    expect(reasonOf(() => parseStrictJson('{"a'))).toMatch(/unterminated string|invalid JSON/);
  });
});

describe('assertSafeShape (events Lambda has already parsed)', () => {
  it('accepts a plain event, arrays and primitives included', () => {
    expect(() => assertSafeShape({ a: [1, { b: 'c' }], n: null, t: true })).not.toThrow();
    expect(() => assertSafeShape([1, 2])).not.toThrow();
    expect(() => assertSafeShape('text')).not.toThrow();
    expect(() => assertSafeShape(null)).not.toThrow();
  });

  it('accepts an object without a prototype', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1 });
    expect(() => assertSafeShape(bare)).not.toThrow();
  });

  it('refuses an own __proto__ key, as JSON.parse creates it', () => {
    expect(reasonOf(() => assertSafeShape(JSON.parse('{"detail":{"__proto__":{"polluted":true}}}')))).toContain('forbidden key "__proto__" at $.detail');
  });

  it.each(['constructor', 'prototype'])('refuses an own %s key, with its path', (key) => {
    expect(reasonOf(() => assertSafeShape({ detail: { list: [{ [key]: 1 }] } }))).toContain(`forbidden key "${key}" at $.detail.list[0]`);
  });

  it(`allows nesting up to ${MAX_EVENT_DEPTH} levels and refuses deeper, as parseStrictJson does`, () => {
    expect(() => assertSafeShape(JSON.parse(nestedArrays(MAX_EVENT_DEPTH)))).not.toThrow();
    expect(reasonOf(() => assertSafeShape(JSON.parse(nestedArrays(MAX_EVENT_DEPTH + 1))))).toContain('nests deeper');
    expect(reasonOf(() => assertSafeShape(nestedObjects(40)))).toContain('nests deeper');
  });

  it('refuses oversized values', () => {
    expect(reasonOf(() => assertSafeShape({ big: 'x'.repeat(300 * 1024) }))).toContain('over the');
    expect(reasonOf(() => assertSafeShape({ wide: 'é'.repeat(MAX_EVENT_BYTES / 2) }))).toContain('over the');
  });

  it('refuses values that are not JSON data', () => {
    expect(reasonOf(() => assertSafeShape(undefined))).toContain('not a JSON value');
    expect(reasonOf(() => assertSafeShape(() => 1))).toContain('not a JSON value');
    expect(reasonOf(() => assertSafeShape({ when: new Map() }))).toContain('non-plain object');
    expect(reasonOf(() => assertSafeShape({ when: new Date(0) }))).toContain('non-plain object at $.when');
    expect(reasonOf(() => assertSafeShape({ id: 1n }))).toContain('cannot be serialized');
  });

  it('refuses a cycle', () => {
    const event: Record<string, unknown> = {};
    event.self = event;
    expect(reasonOf(() => assertSafeShape(event))).toContain('cannot be serialized');
  });

  it('refuses an object whose toJSON hides what it holds', () => {
    class Sneaky {
      toJSON() {
        return {};
      }
    }
    expect(reasonOf(() => assertSafeShape({ detail: new Sneaky() }))).toContain('non-plain object');
  });
});
