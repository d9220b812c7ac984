import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../core/aws/settings.ts';
import { ConfigurationError } from '../../core/model/errors.ts';
import { RULES } from '../../rules/index.ts';
import { ruleAnswering, ruleForAnalyzer } from '../support/rules.ts';

/** The rules these tests set, found by what they answer (rule ids are named only where the rule lives). */
const ENCRYPTION = ruleAnswering('S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED').id;
const BUCKET_BLOCK = ruleAnswering('S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED').id;
const ACCOUNT_BLOCK = ruleAnswering('S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS').id;
const POLICIES = ruleAnswering('IAM_POLICY_NO_STATEMENTS_WITH_ADMIN_ACCESS').id;
const BUCKET_SHARING = ruleForAnalyzer('AWS::S3::Bucket', false).id;
const ROLE_TRUST = ruleForAnalyzer('AWS::IAM::Role', false).id;
/** The id with its first letter upper-case: not the rule's id (ids are lower-case). */
const CAPITALIZED = `${ENCRYPTION.charAt(0).toUpperCase()}${ENCRYPTION.slice(1)}`;

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
      [ENCRYPTION]: 'auto',
      [BUCKET_BLOCK]: 'auto',
      [ACCOUNT_BLOCK]: 'approve',
      [POLICIES]: 'approve',
      [BUCKET_SHARING]: 'approve',
      [ROLE_TRUST]: 'approve',
    });
    expect(Object.keys(settings.params).sort()).toEqual(RULES.map((rule) => rule.id).sort());
    expect(settings.params).toMatchObject({
      [ENCRYPTION]: {},
      [BUCKET_BLOCK]: {},
      [ACCOUNT_BLOCK]: {},
      [POLICIES]: { expandNarrowWildcards: false },
      [BUCKET_SHARING]: {},
      [ROLE_TRUST]: {},
    });
    expect(settings.params[ENCRYPTION]).toEqual({});
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
      RULE_MODES: `${ENCRYPTION}=notify`,
      RULE_PARAMS: JSON.stringify({ [ENCRYPTION]: { kmsKeyArn: KMS_KEY }, [POLICIES]: { expandNarrowWildcards: true } }),
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
    expect(settings.modes[ENCRYPTION]).toBe('notify');
    expect(settings.params[ENCRYPTION]).toEqual({ kmsKeyArn: KMS_KEY });
    expect(settings.params[POLICIES]).toEqual({ expandNarrowWildcards: true });
  });

  it('RULE_MODES overrides modes per rule, spaces allowed', () => {
    const settings = loadSettings(RULES, { RULE_MODES: ` ${ENCRYPTION}=approve , ${ACCOUNT_BLOCK} = off,` });
    expect(settings.modes[ENCRYPTION]).toBe('approve');
    expect(settings.modes[ACCOUNT_BLOCK]).toBe('off');
    expect(settings.modes[BUCKET_BLOCK]).toBe('auto');
  });

  it.each(['auto', 'approve', 'notify', 'off'])('mode %s', (mode) => {
    expect(loadSettings(RULES, { RULE_MODES: `${POLICIES}=${mode}` }).modes[POLICIES]).toBe(mode);
  });

  it('accepts a KMS key or alias ARN for the S3 default encryption rule', () => {
    for (const kmsKeyArn of [KMS_KEY, 'arn:aws:kms:us-east-1:111122223333:alias/driftfix']) {
      const settings = loadSettings(RULES, { RULE_PARAMS: JSON.stringify({ [ENCRYPTION]: { kmsKeyArn } }) });
      expect(settings.params[ENCRYPTION]).toEqual({ kmsKeyArn });
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
    ['RULE_MODES', `${CAPITALIZED}=auto`, new RegExp(`unknown rule ${CAPITALIZED}`)],
    ['RULE_MODES', `${ENCRYPTION}=yolo`, /not one of auto, approve, notify, off/],
    ['RULE_MODES', `${ENCRYPTION}=Auto`, /not one of auto, approve, notify, off/],
    ['RULE_MODES', ENCRYPTION, /not rule=mode/],
    ['RULE_MODES', `${ENCRYPTION}=auto=approve`, /not rule=mode/],
    ['RULE_MODES', '=auto', /not rule=mode/],
    ['RULE_MODES', `${ENCRYPTION}:auto`, /not rule=mode/],
    ['RULE_PARAMS', '{not json', /not valid JSON/],
    ['RULE_PARAMS', '[]', /JSON object/],
    ['RULE_PARAMS', JSON.stringify(ENCRYPTION), /JSON object/],
    ['RULE_PARAMS', 'null', /JSON object/],
    ['RULE_PARAMS', `{"${ENCRYPTION}":{"kmsKey":"x"}}`, new RegExp(ENCRYPTION)],
    ['RULE_PARAMS', `{"${ENCRYPTION}":{"kmsKeyArn":"not-an-arn"}}`, /KMS key/],
    ['RULE_PARAMS', `{"${ENCRYPTION}":"kms"}`, new RegExp(ENCRYPTION)],
    ['RULE_PARAMS', `{"${POLICIES}":{"expandNarrowWildcards":"yes"}}`, new RegExp(POLICIES)],
    ['RULE_PARAMS', `{"${BUCKET_BLOCK}":{"allowWebsites":true}}`, new RegExp(BUCKET_BLOCK)],
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
    expect(first.id).not.toBe(POLICIES);
    expect(loadSettings([first], { RULE_MODES: `${first.id}=off` }).modes).toEqual({ [first.id]: 'off' });
    expect(loadSettings(RULES, { RULE_MODES: `${POLICIES}=off` }).modes[POLICIES]).toBe('off');
    expect(() => loadSettings([first], { RULE_MODES: `${POLICIES}=off` })).toThrow(ConfigurationError);
    expect(() => loadSettings([first], { RULE_PARAMS: `{"${POLICIES}":{}}` })).toThrow(new RegExp(`unknown rule ${POLICIES}`));
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
