import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RULES } from '../../rules/index.ts';

const README = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
/** The rows of the README's rules table, by rule id. */
const rows = new Map(
  README.split('\n')
    .filter((line) => /^\| `[a-z0-9-]+` \|/.test(line))
    .map((line) => [/^\| `([a-z0-9-]+)`/.exec(line)?.[1] ?? '', line] as const),
);

describe('the README’s rules table says what the registry declares', () => {
  it('has one row per registered rule and no other', () => {
    expect([...rows.keys()].sort()).toEqual(RULES.map((rule) => rule.id).sort());
  });

  it.each(RULES.map((rule) => [rule.id, rule] as const))('%s: its default mode, its AWS Config rules and Security Hub controls', (id, rule) => {
    const row = rows.get(id) ?? '';
    expect(row.trimEnd().endsWith(`| \`${rule.defaultMode}\` |`), `${id} default mode`).toBe(true);
    for (const answer of rule.answers.config ?? []) expect(row, answer.identifier).toContain(`\`${answer.defaultName}\``);
    for (const control of rule.answers.securityHub ?? []) expect(row, control).toMatch(new RegExp(`\\b${control.replace('.', '\\.')}\\b`));
    if (rule.answers.accessAnalyzer) expect(row).toContain('Access Analyzer');
  });

  it('names every rule parameter a rule accepts', () => {
    for (const rule of RULES) {
      const shape = (rule.params as unknown as { shape?: Record<string, unknown> }).shape ?? {};
      for (const key of Object.keys(shape)) expect(README, `${rule.id}.${key}`).toContain(`\`${key}\``);
    }
  });
});
