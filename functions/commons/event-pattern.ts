/**
 * The part of EventBridge's event-pattern language that driftfix's patterns use: nested objects,
 * arrays of literal values (any one matches; an array field matches if any element does) and
 * `{ "prefix": "..." }`. Local replay routes with this; the cloud routes with EventBridge itself,
 * and a test checks both agree on every sample event.
 */
export type PatternValue = string | number | boolean | null | { prefix: string };
export interface EventPattern {
  [key: string]: PatternValue[] | EventPattern;
}

export function matchesPattern(event: unknown, pattern: EventPattern): boolean {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return false;
  return Object.entries(pattern).every(([key, expected]) => {
    const actual = Object.hasOwn(event, key) ? (event as Record<string, unknown>)[key] : undefined;
    if (Array.isArray(expected)) {
      const candidates = Array.isArray(actual) ? actual : [actual];
      return candidates.some((value) => expected.some((wanted) => matchesValue(value, wanted)));
    }
    return matchesPattern(actual, expected);
  });
}

function matchesValue(actual: unknown, wanted: PatternValue): boolean {
  if (wanted !== null && typeof wanted === 'object') {
    return typeof actual === 'string' && actual.startsWith(wanted.prefix);
  }
  return actual === wanted && actual !== undefined;
}
