import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const manifest = JSON.parse(readFileSync(join(ROOT, 'slack/manifest.json'), 'utf8'));

/**
 * The bot scopes each Web API method driftfix calls needs (docs.slack.dev/reference/methods/<method>,
 * "Scopes", bot token). conversations.history needs the history scope of the channel's kind: the
 * channel may be public (channels:history) or private (groups:history). views.open needs no scope:
 * it exchanges the trigger_id of the user's own click.
 */
const SCOPES_OF: Record<string, string[]> = {
  'chat.postMessage': ['chat:write'],
  'chat.update': ['chat:write'],
  'chat.postEphemeral': ['chat:write'],
  'usergroups.users.list': ['usergroups:read'],
  'conversations.history': ['channels:history', 'groups:history'],
  'views.open': [],
};

/** Every source file that uses the Slack Web API client (the stand-in in scripts/lib answers calls, it makes none). */
function slackClientSources(): Array<{ file: string; text: string }> {
  return ['core', 'functions', 'scripts', 'rules', 'serverless'].flatMap((dir) =>
    readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
      .map((entry) => {
        const file = join(entry.parentPath, entry.name);
        return { file: relative(ROOT, file), text: readFileSync(file, 'utf8') };
      })
      .filter((source) => source.text.includes('@slack/web-api')),
  );
}

function calledMethods(): string[] {
  const methods = slackClientSources().flatMap((source) => [...source.text.matchAll(/\bclient\.([a-z]+(?:\.[a-zA-Z]+)+)\(/g)].map((match) => match[1] ?? ''));
  return [...new Set(methods)].sort();
}

describe('the Slack app manifest', () => {
  it('finds the Web API calls where the code makes them', () => {
    expect(slackClientSources().map((source) => source.file)).toContain(join('core', 'slack', 'notifier.ts'));
    expect(calledMethods()).toEqual(['chat.postEphemeral', 'chat.postMessage', 'chat.update', 'conversations.history', 'usergroups.users.list', 'views.open']);
  });

  it('knows the scopes of every method the code calls', () => {
    const unknown = calledMethods().filter((method) => !(method in SCOPES_OF));
    expect(unknown).toEqual([]);
  });

  it('asks for exactly the bot scopes of the Web API methods the code calls', () => {
    const needed = [...new Set(calledMethods().flatMap((method) => SCOPES_OF[method] ?? []))].sort();
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual(needed);
    expect(needed).toEqual(['channels:history', 'chat:write', 'groups:history', 'usergroups:read']);
  });

  it('asks for no user scopes and no event subscriptions: the bot only posts, reads its channel and answers clicks', () => {
    expect(manifest.oauth_config.scopes.user).toBeUndefined();
    expect(manifest.settings.event_subscriptions).toBeUndefined();
  });

  it('turns interactivity on, with the request URL to replace after deploying', () => {
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.settings.interactivity.request_url).toMatch(/^https:\/\/REPLACE-.*\/slack\/actions$/);
  });
});
