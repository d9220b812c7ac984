import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../core/aws/settings.ts';
import { ConfigurationError } from '../../core/model/errors.ts';
import { RULES } from '../../rules/index.ts';

const KMS_KEY = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

function expectConfigurationError(env: Record<string, string>, message: RegExp | string) {
  let thrown: unknown;
  try {
    loadSettings(RULES, env);
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `${JSON.stringify(env)} was accepted`).toBeInstanceOf(ConfigurationError);
  expect((thrown as Error).message).toMatch(message);
}

describe('deployment settings', () => {
  it('defaults: each rule in its declared mode, its default params, and every switch off but replay', () => {
    const settings = loadSettings(RULES, {});
    expect(settings).toEqual({
      table: undefined,
      modes: Object.fromEntries(RULES.map((rule) => [rule.id, rule.defaultMode])),
      params: expect.any(Object),
      exclusionTag: { key: 'remediation:skip', value: 'true' },
      acceptReplay: true,
      approvalTtlHours: 24,
      suppressionDays: 30,
      unhandledFindings: 'skip',
      reevaluateConfigRules: false,
      updateSecurityHub: false,
      ruleFollowUps: false,
      lockLeaseSeconds: 50,
      stackName: '',
      hubAccount: undefined,
    });
    expect(settings.modes).toMatchObject({
      's3-default-encryption': 'auto',
      's3-bucket-public-access-block': 'auto',
      's3-account-public-access-block': 'approve',
      'iam-policy-wildcards': 'approve',
      's3-bucket-policy-external-access': 'approve',
      'iam-role-trust-external-access': 'approve',
    });
    expect(Object.keys(settings.params).sort()).toEqual(RULES.map((rule) => rule.id).sort());
    expect(settings.params).toMatchObject({
      's3-default-encryption': {},
      's3-bucket-public-access-block': {},
      's3-account-public-access-block': {},
      'iam-policy-wildcards': { expandNarrowWildcards: false },
      's3-bucket-policy-external-access': {},
      'iam-role-trust-external-access': {},
    });
    expect(settings.params['s3-default-encryption']).toEqual({});
  });

  it('an empty value means the default', () => {
    const empty = Object.fromEntries(
      [
        'REMEDIATION_TABLE',
        'RULE_MODES',
        'RULE_PARAMS',
        'EXCLUSION_TAG',
        'ACCEPT_REPLAY',
        'APPROVAL_TTL_HOURS',
        'SUPPRESSION_DAYS',
        'UNHANDLED_FINDINGS',
        'CONFIG_REEVALUATE',
        'SECURITY_HUB_UPDATE',
        'RULE_FOLLOW_UPS',
        'LOCK_LEASE_SECONDS',
        'STACK_NAME',
        'HUB_ACCOUNT',
      ].map((name) => [name, '']),
    );
    expect(loadSettings(RULES, empty)).toEqual(loadSettings(RULES, {}));
  });

  it('every setting read from its variable', () => {
    const settings = loadSettings(RULES, {
      REMEDIATION_TABLE: 'driftfix-prod-remediations',
      RULE_MODES: 's3-default-encryption=notify',
      RULE_PARAMS: JSON.stringify({ 's3-default-encryption': { kmsKeyArn: KMS_KEY }, 'iam-policy-wildcards': { expandNarrowWildcards: true } }),
      EXCLUSION_TAG: 'owner=platform',
      ACCEPT_REPLAY: 'false',
      APPROVAL_TTL_HOURS: '48',
      SUPPRESSION_DAYS: '7',
      UNHANDLED_FINDINGS: 'notify',
      CONFIG_REEVALUATE: 'true',
      SECURITY_HUB_UPDATE: 'true',
      RULE_FOLLOW_UPS: 'true',
      LOCK_LEASE_SECONDS: '30',
      STACK_NAME: 'driftfix-prod',
      HUB_ACCOUNT: '444455556666',
    });
    expect(settings).toMatchObject({
      table: 'driftfix-prod-remediations',
      exclusionTag: { key: 'owner', value: 'platform' },
      acceptReplay: false,
      approvalTtlHours: 48,
      suppressionDays: 7,
      unhandledFindings: 'notify',
      reevaluateConfigRules: true,
      updateSecurityHub: true,
      ruleFollowUps: true,
      lockLeaseSeconds: 30,
      stackName: 'driftfix-prod',
      hubAccount: '444455556666',
    });
    expect(settings.modes['s3-default-encryption']).toBe('notify');
    expect(settings.params['s3-default-encryption']).toEqual({ kmsKeyArn: KMS_KEY });
    expect(settings.params['iam-policy-wildcards']).toEqual({ expandNarrowWildcards: true });
  });

  it('RULE_MODES overrides modes per rule, spaces allowed', () => {
    const settings = loadSettings(RULES, { RULE_MODES: ' s3-default-encryption=approve , s3-account-public-access-block = off,' });
    expect(settings.modes['s3-default-encryption']).toBe('approve');
    expect(settings.modes['s3-account-public-access-block']).toBe('off');
    expect(settings.modes['s3-bucket-public-access-block']).toBe('auto');
  });

  it.each(['auto', 'approve', 'notify', 'off'])('mode %s', (mode) => {
    expect(loadSettings(RULES, { RULE_MODES: `iam-policy-wildcards=${mode}` }).modes['iam-policy-wildcards']).toBe(mode);
  });

  it('accepts a KMS key or alias ARN for s3-default-encryption', () => {
    for (const kmsKeyArn of [KMS_KEY, 'arn:aws:kms:us-east-1:111122223333:alias/driftfix']) {
      const settings = loadSettings(RULES, { RULE_PARAMS: JSON.stringify({ 's3-default-encryption': { kmsKeyArn } }) });
      expect(settings.params['s3-default-encryption']).toEqual({ kmsKeyArn });
    }
  });

  it('EXCLUSION_TAG takes a key or key=value', () => {
    expect(loadSettings(RULES, { EXCLUSION_TAG: 'driftfix:ignore' }).exclusionTag).toEqual({ key: 'driftfix:ignore', value: 'true' });
    expect(loadSettings(RULES, { EXCLUSION_TAG: 'owner=platform' }).exclusionTag).toEqual({ key: 'owner', value: 'platform' });
    expect(loadSettings(RULES, { EXCLUSION_TAG: '  aws-exempt/team@x  ' }).exclusionTag).toEqual({ key: 'aws-exempt/team@x', value: 'true' });
  });

  it('EXCLUSION_TAG: a tag value may itself hold "=" (tag values allow it)', () => {
    expect(loadSettings(RULES, { EXCLUSION_TAG: 'remediation=skip=yes' }).exclusionTag).toEqual({ key: 'remediation', value: 'skip=yes' });
  });

  it.each([
    ['5', 5],
    ['50', 50],
    ['900', 900],
    ['12.5', 12.5],
  ])('LOCK_LEASE_SECONDS=%s', (text, seconds) => {
    expect(loadSettings(RULES, { LOCK_LEASE_SECONDS: text }).lockLeaseSeconds).toBe(seconds);
  });

  it('STACK_NAME is trimmed', () => {
    expect(loadSettings(RULES, { STACK_NAME: '  driftfix-prod \n' }).stackName).toBe('driftfix-prod');
  });

  it.each(['0.5', '1', '168'])('APPROVAL_TTL_HOURS=%s', (text) => {
    expect(loadSettings(RULES, { APPROVAL_TTL_HOURS: text }).approvalTtlHours).toBe(Number(text));
  });

  it.each([
    ['RULE_MODES', 's3-encryption=auto', /unknown rule s3-encryption/],
    ['RULE_MODES', 'S3-default-encryption=auto', /unknown rule S3-default-encryption/],
    ['RULE_MODES', 's3-default-encryption=yolo', /not one of auto, approve, notify, off/],
    ['RULE_MODES', 's3-default-encryption=Auto', /not one of auto, approve, notify, off/],
    ['RULE_MODES', 's3-default-encryption', /not rule=mode/],
    ['RULE_MODES', 's3-default-encryption=auto=approve', /not rule=mode/],
    ['RULE_MODES', '=auto', /not rule=mode/],
    ['RULE_MODES', 's3-default-encryption:auto', /not rule=mode/],
    ['RULE_PARAMS', '{not json', /not valid JSON/],
    ['RULE_PARAMS', '[]', /JSON object/],
    ['RULE_PARAMS', '"s3-default-encryption"', /JSON object/],
    ['RULE_PARAMS', 'null', /JSON object/],
    ['RULE_PARAMS', '{"s3-default-encryption":{"kmsKey":"x"}}', /s3-default-encryption/],
    ['RULE_PARAMS', '{"s3-default-encryption":{"kmsKeyArn":"not-an-arn"}}', /KMS key/],
    ['RULE_PARAMS', '{"s3-default-encryption":"kms"}', /s3-default-encryption/],
    ['RULE_PARAMS', '{"iam-policy-wildcards":{"expandNarrowWildcards":"yes"}}', /iam-policy-wildcards/],
    ['RULE_PARAMS', '{"s3-bucket-public-access-block":{"allowWebsites":true}}', /s3-bucket-public-access-block/],
    ['RULE_PARAMS', '{"nope":{}}', /unknown rule nope/],
    ['EXCLUSION_TAG', 'bad key!', /not a valid tag key/],
    ['EXCLUSION_TAG', '=true', /not a valid tag key/],
    ['EXCLUSION_TAG', 'k'.repeat(129), /not a valid tag key/],
    ['ACCEPT_REPLAY', 'yes', /ACCEPT_REPLAY must be true or false/],
    ['ACCEPT_REPLAY', 'TRUE', /ACCEPT_REPLAY must be true or false/],
    ['ACCEPT_REPLAY', '1', /ACCEPT_REPLAY must be true or false/],
    ['ACCEPT_REPLAY', ' true', /ACCEPT_REPLAY must be true or false/],
    ['CONFIG_REEVALUATE', 'on', /CONFIG_REEVALUATE must be true or false/],
    ['SECURITY_HUB_UPDATE', 'True', /SECURITY_HUB_UPDATE must be true or false/],
    ['SECURITY_HUB_UPDATE', 'resolve', /SECURITY_HUB_UPDATE must be true or false/],
    ['RULE_FOLLOW_UPS', 'enabled', /RULE_FOLLOW_UPS must be true or false/],
    ['RULE_FOLLOW_UPS', 'false ', /RULE_FOLLOW_UPS must be true or false/],
    ['UNHANDLED_FINDINGS', 'notfy', /UNHANDLED_FINDINGS must be skip or notify/],
    ['UNHANDLED_FINDINGS', 'NOTIFY', /UNHANDLED_FINDINGS must be skip or notify/],
    ['APPROVAL_TTL_HOURS', '-1', /APPROVAL_TTL_HOURS must be a positive number/],
    ['APPROVAL_TTL_HOURS', '0', /APPROVAL_TTL_HOURS must be a positive number/],
    ['APPROVAL_TTL_HOURS', '24h', /APPROVAL_TTL_HOURS must be a positive number/],
    ['APPROVAL_TTL_HOURS', 'Infinity', /APPROVAL_TTL_HOURS must be a positive number/],
    ['SUPPRESSION_DAYS', 'thirty', /SUPPRESSION_DAYS must be a positive number/],
    ['SUPPRESSION_DAYS', '-30', /SUPPRESSION_DAYS must be a positive number/],
    ['LOCK_LEASE_SECONDS', '4', /LOCK_LEASE_SECONDS must be from 5 to 900/],
    ['LOCK_LEASE_SECONDS', '4.99', /LOCK_LEASE_SECONDS must be from 5 to 900/],
    ['LOCK_LEASE_SECONDS', '901', /LOCK_LEASE_SECONDS must be from 5 to 900/],
    ['LOCK_LEASE_SECONDS', '3600', /LOCK_LEASE_SECONDS must be from 5 to 900/],
    ['LOCK_LEASE_SECONDS', '0', /LOCK_LEASE_SECONDS must be a positive number/],
    ['LOCK_LEASE_SECONDS', '-50', /LOCK_LEASE_SECONDS must be a positive number/],
    ['LOCK_LEASE_SECONDS', '50s', /LOCK_LEASE_SECONDS must be a positive number/],
    ['LOCK_LEASE_SECONDS', 'NaN', /LOCK_LEASE_SECONDS must be a positive number/],
    ['HUB_ACCOUNT', '4444-5555-6666', /HUB_ACCOUNT must be a 12-digit account id/],
    ['HUB_ACCOUNT', '44445555666', /HUB_ACCOUNT must be a 12-digit account id/],
    ['HUB_ACCOUNT', '4444555566667', /HUB_ACCOUNT must be a 12-digit account id/],
    ['HUB_ACCOUNT', ' 444455556666', /HUB_ACCOUNT must be a 12-digit account id/],
    ['HUB_ACCOUNT', 'arn:aws:iam::444455556666:root', /HUB_ACCOUNT must be a 12-digit account id/],
  ])('%s=%j fails at start with a clear ConfigurationError', (name, value, message) => {
    expectConfigurationError({ [name]: value }, message);
  });

  it('a setting for another rule set is checked against the rules given', () => {
    const [first] = RULES;
    if (!first) throw new Error('no rules');
    expect(first.id).not.toBe('iam-policy-wildcards');
    expect(loadSettings([first], { RULE_MODES: `${first.id}=off` }).modes).toEqual({ [first.id]: 'off' });
    expect(loadSettings(RULES, { RULE_MODES: 'iam-policy-wildcards=off' }).modes['iam-policy-wildcards']).toBe('off');
    expect(() => loadSettings([first], { RULE_MODES: 'iam-policy-wildcards=off' })).toThrow(ConfigurationError);
    expect(() => loadSettings([first], { RULE_PARAMS: '{"iam-policy-wildcards":{}}' })).toThrow(/unknown rule iam-policy-wildcards/);
  });

  it('reads process.env when no environment is given', () => {
    const saved = process.env.LOCK_LEASE_SECONDS;
    process.env.LOCK_LEASE_SECONDS = '20';
    try {
      expect(loadSettings(RULES).lockLeaseSeconds).toBe(20);
    } finally {
      if (saved === undefined) delete process.env.LOCK_LEASE_SECONDS;
      else process.env.LOCK_LEASE_SECONDS = saved;
    }
  });
});
