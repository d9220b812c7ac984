import type { ConfigServiceClient } from '@aws-sdk/client-config-service';
import type { ConfigRuleDirectory, ConfigRuleInfo } from '../engine/ports.ts';
import { CONFIG_RULE_CACHE_MS } from '../model/index.ts';

/**
 * What AWS Config says each rule is (DescribeConfigRules: Source.Owner and SourceIdentifier), read
 * once per name and container and trusted for a bounded time, so that a rule under any name is
 * recognized by the managed rule it runs.
 */
export class ConfigRules implements ConfigRuleDirectory {
  private readonly cache = new Map<string, { at: number; info: Promise<ConfigRuleInfo | null> }>();

  constructor(
    private readonly client: () => Promise<ConfigServiceClient>,
    private readonly now: () => number = Date.now,
    private readonly ttlMs = CONFIG_RULE_CACHE_MS,
  ) {}

  describe(name: string): Promise<ConfigRuleInfo | null> {
    const cached = this.cache.get(name);
    if (cached && this.now() - cached.at < this.ttlMs) return cached.info;
    const info = this.read(name);
    this.cache.set(name, { at: this.now(), info });
    // A failed read is not remembered: the next event asks again.
    info.catch(() => this.cache.delete(name));
    return info;
  }

  private async read(name: string): Promise<ConfigRuleInfo | null> {
    const { DescribeConfigRulesCommand } = await import('@aws-sdk/client-config-service');
    const client = await this.client();
    try {
      // One name per request: a missing name fails the whole request (NoSuchConfigRuleException).
      const output = await client.send(new DescribeConfigRulesCommand({ ConfigRuleNames: [name] }));
      const rule = output.ConfigRules?.find((candidate) => candidate.ConfigRuleName === name);
      if (!rule?.Source?.Owner) return null;
      return {
        name,
        owner: rule.Source.Owner,
        ...(rule.Source.Owner === 'AWS' && rule.Source.SourceIdentifier ? { identifier: rule.Source.SourceIdentifier } : {}),
        ...(rule.InputParameters ? { parameters: parseParameters(rule.InputParameters) } : {}),
      };
    } catch (error) {
      if ((error as Error).name === 'NoSuchConfigRuleException') return null;
      throw error;
    }
  }
}

/** InputParameters is JSON text of string values (each managed rule's page lists its parameters). */
function parseParameters(text: string): Record<string, string> {
  try {
    const parsed = JSON.parse(text) as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
    return Object.fromEntries(Object.entries(parsed).map(([key, value]) => [key, String(value)]));
  } catch {
    return {};
  }
}
