/**
 * The part of EventBridge's event-pattern language that driftfix's patterns use: nested objects,
 * arrays of literal values (any one matches; an array field matches if any element does),
 * `{ "prefix": "..." }`, `{ "anything-but": [...] }` (a present value that is none of them) and
 * `{ "exists": true | false }`; a nested pattern over an array of objects matches when one element does. Local replay routes with this; the cloud routes with EventBridge itself,
 * and a test checks both agree on every sample event.
 */
export type PatternValue = string | number | boolean | null | { prefix: string } | { 'anything-but': string[] } | { exists: boolean };
export interface EventPattern {
  [key: string]: PatternValue[] | EventPattern;
}

export function matchesPattern(event: unknown, pattern: EventPattern): boolean {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return false;
  return Object.entries(pattern).every(([key, expected]) => {
    const actual = Object.hasOwn(event, key) ? (event as Record<string, unknown>)[key] : undefined;
    if (Array.isArray(expected) && expected.length === 1 && isExists(expected[0])) {
      return (actual !== undefined) === expected[0].exists;
    }
    if (Array.isArray(expected)) {
      const candidates = Array.isArray(actual) ? actual : [actual];
      return candidates.some((value) => expected.some((wanted) => matchesValue(value, wanted)));
    }
    // A nested pattern over an array of objects (Security Hub's `findings`) matches if an element does.
    if (Array.isArray(actual)) return actual.some((element) => matchesPattern(element, expected));
    return matchesPattern(actual, expected);
  });
}

function isExists(value: PatternValue | undefined): value is { exists: boolean } {
  return value !== null && typeof value === 'object' && 'exists' in value;
}

function matchesValue(actual: unknown, wanted: PatternValue): boolean {
  if (isExists(wanted)) return (actual !== undefined) === wanted.exists;
  if (wanted !== null && typeof wanted === 'object') {
    if ('anything-but' in wanted) return actual !== undefined && actual !== null && !wanted['anything-but'].includes(actual as string);
    return typeof actual === 'string' && actual.startsWith(wanted.prefix);
  }
  return actual === wanted && actual !== undefined;
}
