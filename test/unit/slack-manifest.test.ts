import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const manifest = JSON.parse(readFileSync(join(ROOT, 'slack/manifest.json'), 'utf8'));

/** The bot scope each Web API method driftfix calls needs (api.slack.com/methods). */
const SCOPE_OF: Record<string, string> = {
  'chat.postMessage': 'chat:write',
  'chat.update': 'chat:write',
  'chat.postEphemeral': 'chat:write',
  'usergroups.users.list': 'usergroups:read',
};

function slackSources(dir: string): string {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => readFileSync(join(entry.parentPath, entry.name), 'utf8'))
    .join('\n');
}

describe('the Slack app manifest', () => {
  it('asks for exactly the bot scopes of the Web API methods the code calls', () => {
    const source = slackSources(join(ROOT, 'functions'));
    const called = [...source.matchAll(/client\.(chat\.\w+|usergroups\.users\.list)\(/g)].map((match) => match[1] ?? '');
    expect(called.length).toBeGreaterThan(0);
    const needed = [...new Set(called.map((method) => SCOPE_OF[method]))].sort();
    expect(needed).not.toContain(undefined);
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual(needed);
  });

  it('turns interactivity on, with the request URL to replace after deploying', () => {
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.settings.interactivity.request_url).toMatch(/^https:\/\/REPLACE-.*\/slack\/actions$/);
  });
});
