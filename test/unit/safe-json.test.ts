import { describe, expect, it } from 'vitest';
import { InvalidEventError } from '../../core/model/errors.ts';
import { assertSafeShape, parseStrictJson } from '../../core/intake/safe-json.ts';

const reasonOf = (work: () => unknown): string => {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidEventError);
    return (error as Error).message;
  }
  throw new Error('expected a rejection');
};

describe('parseStrictJson', () => {
  it('parses ordinary JSON, nested keys with the same name at different levels included', () => {
    expect(parseStrictJson('{"a":{"a":1},"b":[{"a":2},{"a":3}]}')).toEqual({ a: { a: 1 }, b: [{ a: 2 }, { a: 3 }] });
  });

  it('refuses duplicate keys, also when one is written with escapes', () => {
    expect(reasonOf(() => parseStrictJson('{"source":"aws.config","source":"evil"}'))).toContain('duplicate key "source"');
    expect(reasonOf(() => parseStrictJson('{"detail":{"id":1,"\\u0069d":2}}'))).toContain('duplicate key "id"');
  });

  it('does not mistake strings that look like keys for keys', () => {
    expect(parseStrictJson('{"a":"\\"a\\":1,","b":["a","a"]}')).toEqual({ a: '"a":1,', b: ['a', 'a'] });
  });

  it.each(['__proto__', 'constructor', 'prototype'])('refuses the prototype-polluting key %s', (key) => {
    expect(reasonOf(() => parseStrictJson(`{"detail":{"${key}":{"x":1}}}`))).toContain(`forbidden key "${key}"`);
  });

  it('refuses nesting deeper than the limit', () => {
    expect(reasonOf(() => parseStrictJson(`${'['.repeat(40)}${']'.repeat(40)}`))).toContain('nests deeper');
  });

  it('refuses text over the size limit before parsing it', () => {
    expect(reasonOf(() => parseStrictJson(`"${'x'.repeat(300 * 1024)}"`))).toContain('over the');
  });

  it('refuses invalid JSON with the parser message', () => {
    expect(reasonOf(() => parseStrictJson('{"a":'))).toMatch(/invalid JSON|unterminated/);
    expect(reasonOf(() => parseStrictJson('{"a":1,}'))).toContain('invalid JSON');
  });
});

describe('assertSafeShape (events Lambda has already parsed)', () => {
  it('accepts a plain event', () => {
    expect(() => assertSafeShape({ a: [1, { b: 'c' }] })).not.toThrow();
  });

  it('refuses an own __proto__ key, as JSON.parse creates it', () => {
    expect(reasonOf(() => assertSafeShape(JSON.parse('{"detail":{"__proto__":{"polluted":true}}}')))).toContain('forbidden key');
  });

  it('refuses deep nesting and oversized values', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 40; i += 1) deep = { d: deep };
    expect(reasonOf(() => assertSafeShape(deep))).toContain('nests deeper');
    expect(reasonOf(() => assertSafeShape({ big: 'x'.repeat(300 * 1024) }))).toContain('over the');
  });

  it('refuses values that are not JSON data', () => {
    expect(reasonOf(() => assertSafeShape(undefined))).toContain('not a JSON value');
    expect(reasonOf(() => assertSafeShape({ when: new Map() }))).toContain('non-plain object');
  });
});
