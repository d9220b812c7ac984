/** The vocabulary every other part of driftfix shares. Imports nothing else of driftfix. */
export * from './arn.ts';
export * from './canonical-json.ts';
export * from './constants.ts';
export * from './errors.ts';
export * from './finding.ts';
export * from './record.ts';
export * from './rule.ts';
