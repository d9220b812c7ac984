import { describe, expect, it } from 'vitest';
import type { KeptGrant } from '../../rules/lib/iam-policy-document.ts';
import { type RiskInput, risksOf } from '../../rules/lib/iam-risks.ts';
import type { Usage } from '../../rules/lib/iam-usage.ts';

const usage: Usage = { services: {}, trackingPeriodDays: 400, reportedAt: '2026-11-20T10:30:00.000Z' };
const DATA_PLANE = "data-plane actions never in IAM's last-accessed data or in policy generation";
const kept = (grant: string, short: string, statement = 'statement "Admin"'): KeptGrant => ({ statement, grant, reason: 'long reason', short, introduced: true });
const input = (rewrite: Partial<RiskInput['rewrite']>, extra: Partial<RiskInput> = {}): RiskInput => ({
  rewrite: { kept: [], removedUsed: {}, narrowed: {}, unrecorded: [], expanded: [], ...rewrite },
  usage,
  attached: null,
  ...extra,
});
const RECENT = "uses in the last four hours are not yet in IAM's data: anything first used after 2026-11-20 06:30 UTC is not kept";

describe('what could break', () => {
  it('in order: used but not narrowed, removed though used long ago, the principals, then what the evidence cannot see', () => {
    const generated = { ecr: { actions: ['ecr:BatchGetImage'], evidence: 'G', windowStart: '2026-08-22T00:00:00.000Z' } };
    const risks = risksOf(
      input(
        {
          kept: [kept('s3:*', DATA_PLANE), kept('sqs:*', DATA_PLANE), kept('sqs:*', DATA_PLANE, 'statement #2'), kept('NotAction kms:*', 'a service wildcard would also allow what the NotAction excludes', 'statement "X"')],
          removedUsed: { lambda: '2025-01-02T00:00:00.000Z', kms: '2025-03-04T00:00:00.000Z' },
          narrowed: { ec2: ['IAM last-accessed (action level)'], ecr: ['G'] },
          unrecorded: ['statement "Admin"'],
        },
        { usage: { ...usage, generated }, attached: { roles: ['app'], users: ['deploy'], groups: ['ops'] } },
      ),
    );
    expect(risks).toEqual([
      `used, so kept as they are, not narrowed: s3:*, sqs:* (${DATA_PLANE}); NotAction kms:* in statement "X" (a service wildcard would also allow what the NotAction excludes); why, service by service, is in the proposed change`,
      "access removed although used, longer ago than IAM's 400-day tracking period: kms (last used 2025-03-04), lambda (last used 2025-01-02)",
      'the policy is attached to role app, user deploy, group ops: each loses what the new version no longer allows; policy generation cannot analyse a group: its members count as the users IAM last-accessed data names',
      "narrowed to the actions on record: ec2 (IAM last-accessed (action level)), ecr (G); this assumes these services have no action that IAM's last-accessed data and policy generation leave out (AWS's list of services with data events, which are never narrowed, says which have): such an action, if used, is no longer allowed",
      'iam:PassRole is kept in place of the wildcard in statement "Admin": IAM and CloudTrail never record it, so whether it is used cannot be told; it still allows passing any role the statement\'s resources cover',
      'uses before 2026-08-22 are not in the generated policy: ecr narrowed by policy generation keep only what was called since',
      RECENT,
    ]);
  });

  it('compresses long lists, so that every kind of risk fits in a few lines', () => {
    const many = Array.from({ length: 40 }, (_, index) => kept(`svc${index}:*`, DATA_PLANE));
    const [line] = risksOf(input({ kept: many }));
    expect(line).toContain('svc24:* and 15 more');
    expect(line?.length).toBeLessThan(600);
  });

  it('a change that only expands narrow wildcards says what it cannot foresee, and who is affected', () => {
    expect(risksOf(input({ expanded: ['ec2:Describe*'] }, { usage: null, attached: { roles: ['app'], users: [], groups: ['ops'] } }))).toEqual([
      'the policy is attached to role app, group ops: each loses what the new version no longer allows',
      'ec2:Describe* replaced by the actions the IAM action catalog lists today: actions AWS adds to them later are not allowed',
    ]);
  });

  it('with usage read, always says that the last four hours are not in it; many principals are counted after the first ten', () => {
    expect(risksOf(input({}))).toEqual([RECENT]);
    const roles = Array.from({ length: 12 }, (_, index) => `r${index}`);
    expect(risksOf(input({}, { usage: null, attached: { roles, users: [], groups: [] } }))).toEqual([
      'the policy is attached to role r0, role r1, role r2, role r3, role r4, role r5, role r6, role r7, role r8, role r9, 2 more: each loses what the new version no longer allows',
    ]);
  });
});
