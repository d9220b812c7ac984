import { z } from 'zod';
import type { Settings } from '../engine/ports.ts';
import {
  type AnyRule,
  ConfigurationError,
  DEFAULT_APPROVAL_TTL_HOURS,
  DEFAULT_EXCLUSION_TAG,
  DEFAULT_LOCK_LEASE_SECONDS,
  DEFAULT_SUPPRESSION_DAYS,
  MODES,
  type Mode,
} from '../model/index.ts';

export type { Settings };

type Env = Record<string, string | undefined>;

/**
 * Reads the deployment settings from the environment and validates them against the rules, so
 * that a typo in a rule id, mode or parameter fails when the function starts.
 */
export function loadSettings(rules: readonly AnyRule[], env: Env = process.env): Settings {
  const modes = Object.fromEntries(rules.map((rule) => [rule.id, rule.defaultMode])) as Record<string, Mode>;
  for (const [ruleId, mode] of parseModes(env.RULE_MODES ?? '')) {
    if (!(ruleId in modes)) throw new ConfigurationError(`RULE_MODES names unknown rule ${ruleId}; rules: ${Object.keys(modes).join(', ')}`);
    modes[ruleId] = mode;
  }
  return {
    table: env.REMEDIATION_TABLE || undefined,
    modes,
    params: parseParams(rules, env.RULE_PARAMS),
    exclusionTag: parseExclusionTag(env.EXCLUSION_TAG),
    acceptReplay: parseBoolean('ACCEPT_REPLAY', env.ACCEPT_REPLAY, true),
    approvalTtlHours: parsePositiveNumber('APPROVAL_TTL_HOURS', env.APPROVAL_TTL_HOURS, DEFAULT_APPROVAL_TTL_HOURS),
    suppressionDays: parsePositiveNumber('SUPPRESSION_DAYS', env.SUPPRESSION_DAYS, DEFAULT_SUPPRESSION_DAYS),
    unhandledFindings: parseUnhandled(env.UNHANDLED_FINDINGS),
    reevaluateConfigRules: parseBoolean('CONFIG_REEVALUATE', env.CONFIG_REEVALUATE, false),
    updateSecurityHub: parseBoolean('SECURITY_HUB_UPDATE', env.SECURITY_HUB_UPDATE, false),
    ruleFollowUps: parseBoolean('RULE_FOLLOW_UPS', env.RULE_FOLLOW_UPS, false),
    lockLeaseSeconds: parseLease(env.LOCK_LEASE_SECONDS),
    stackName: env.STACK_NAME?.trim() ?? '',
    hubAccount: parseAccount('HUB_ACCOUNT', env.HUB_ACCOUNT),
  };
}

function parseModes(text: string): Array<[string, Mode]> {
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const [ruleId, mode, ...rest] = entry.split('=').map((part) => part.trim());
      if (!ruleId || !mode || rest.length > 0) throw new ConfigurationError(`RULE_MODES entry "${entry}" is not rule=mode`);
      if (!(MODES as readonly string[]).includes(mode)) {
        throw new ConfigurationError(`RULE_MODES: mode "${mode}" for ${ruleId} is not one of ${MODES.join(', ')}`);
      }
      return [ruleId, mode as Mode];
    });
}

function parseParams(rules: readonly AnyRule[], text: string | undefined): Record<string, unknown> {
  let raw: unknown = {};
  if (text?.trim()) {
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new ConfigurationError(`RULE_PARAMS is not valid JSON: ${(error as Error).message}`, { cause: error });
    }
  }
  const shape = z.record(z.string(), z.unknown()).safeParse(raw);
  if (!shape.success) throw new ConfigurationError('RULE_PARAMS must be a JSON object keyed by rule id');
  const params: Record<string, unknown> = {};
  for (const ruleId of Object.keys(shape.data)) {
    if (!rules.some((rule) => rule.id === ruleId)) throw new ConfigurationError(`RULE_PARAMS names unknown rule ${ruleId}`);
  }
  for (const rule of rules) {
    const parsed = rule.params.safeParse(shape.data[rule.id] ?? {});
    if (!parsed.success) {
      const detail = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'params'}: ${issue.message}`).join('; ');
      throw new ConfigurationError(`RULE_PARAMS for ${rule.id}: ${detail}`);
    }
    params[rule.id] = parsed.data;
  }
  return params;
}

function parseExclusionTag(text: string | undefined): { key: string; value: string } {
  const spec = text?.trim() || DEFAULT_EXCLUSION_TAG;
  // Tag values may hold '=': only the first one separates the key.
  const separator = spec.indexOf('=');
  const key = separator < 0 ? spec : spec.slice(0, separator);
  const value = separator < 0 ? 'true' : spec.slice(separator + 1);
  if (!/^[\w.:/=+@ -]{1,128}$/u.test(key)) throw new ConfigurationError(`EXCLUSION_TAG key "${key}" is not a valid tag key`);
  return { key, value };
}

function parseUnhandled(text: string | undefined): 'skip' | 'notify' {
  if (text === undefined || text === '' || text === 'skip') return 'skip';
  if (text === 'notify') return 'notify';
  throw new ConfigurationError(`UNHANDLED_FINDINGS must be skip or notify, not "${text}"`);
}

function parseBoolean(name: string, text: string | undefined, fallback: boolean): boolean {
  if (text === undefined || text === '') return fallback;
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw new ConfigurationError(`${name} must be true or false, not "${text}"`);
}

export function parsePositiveNumber(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new ConfigurationError(`${name} must be a positive number, not "${text}"`);
  return value;
}

/** A claim must end before the function's timeout (60 s deployed), so that a dead holder's claim runs out before the retry. */
function parseLease(text: string | undefined): number {
  const seconds = parsePositiveNumber('LOCK_LEASE_SECONDS', text, DEFAULT_LOCK_LEASE_SECONDS);
  if (seconds < 5 || seconds > 900) throw new ConfigurationError(`LOCK_LEASE_SECONDS must be from 5 to 900 (under the function timeout), not "${text}"`);
  return seconds;
}

function parseAccount(name: string, text: string | undefined): string | undefined {
  if (text === undefined || text === '') return undefined;
  if (!/^\d{12}$/.test(text)) throw new ConfigurationError(`${name} must be a 12-digit account id, not "${text}"`);
  return text;
}
