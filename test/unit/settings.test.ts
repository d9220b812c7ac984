import { describe, expect, it } from 'vitest';
import { RULES } from '../../rules/index.ts';
import { ConfigurationError } from '../../core/model/errors.ts';
import { loadSettings } from '../../core/aws/settings.ts';

describe('deployment settings', () => {
  it('defaults: each rule in its declared mode, the remediation:skip tag, replay accepted, 24 h approvals', () => {
    const settings = loadSettings(RULES, {});
    expect(settings.modes).toEqual({
      's3-default-encryption': 'auto',
      's3-bucket-public-access-block': 'auto',
      's3-account-public-access-block': 'approve',
      'iam-policy-wildcards': 'approve',
      's3-bucket-policy-external-access': 'approve',
      'iam-role-trust-external-access': 'approve',
    });
    expect(settings.exclusionTag).toEqual({ key: 'remediation:skip', value: 'true' });
    expect(settings.acceptReplay).toBe(true);
    expect(settings.approvalTtlHours).toBe(24);
  });

  it('RULE_MODES overrides modes per rule', () => {
    const settings = loadSettings(RULES, { RULE_MODES: ' s3-default-encryption=approve , s3-account-public-access-block=off' });
    expect(settings.modes['s3-default-encryption']).toBe('approve');
    expect(settings.modes['s3-account-public-access-block']).toBe('off');
    expect(settings.modes['s3-bucket-public-access-block']).toBe('auto');
  });

  it.each([
    ['RULE_MODES', 's3-encryption=auto', /unknown rule s3-encryption/],
    ['RULE_MODES', 's3-default-encryption=yolo', /not one of auto, approve, notify, off/],
    ['RULE_MODES', 's3-default-encryption', /not rule=mode/],
    ['RULE_PARAMS', '{not json', /not valid JSON/],
    ['RULE_PARAMS', '[]', /JSON object/],
    ['RULE_PARAMS', '{"s3-default-encryption":{"kmsKey":"x"}}', /s3-default-encryption/],
    ['RULE_PARAMS', '{"s3-default-encryption":{"kmsKeyArn":"not-an-arn"}}', /KMS key/],
    ['RULE_PARAMS', '{"nope":{}}', /unknown rule nope/],
    ['ACCEPT_REPLAY', 'yes', /true or false/],
    ['APPROVAL_TTL_HOURS', '-1', /positive number/],
  ])('%s=%s fails at start with a clear error', (name, value, message) => {
    expect(() => loadSettings(RULES, { [name]: value })).toThrow(ConfigurationError);
    expect(() => loadSettings(RULES, { [name]: value })).toThrow(message);
  });

  it('accepts a KMS key ARN for s3-default-encryption', () => {
    const kmsKeyArn = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const settings = loadSettings(RULES, { RULE_PARAMS: JSON.stringify({ 's3-default-encryption': { kmsKeyArn } }) });
    expect(settings.params['s3-default-encryption']).toEqual({ kmsKeyArn });
  });

  it('EXCLUSION_TAG takes a key or key=value', () => {
    expect(loadSettings(RULES, { EXCLUSION_TAG: 'driftfix:ignore' }).exclusionTag).toEqual({ key: 'driftfix:ignore', value: 'true' });
    expect(loadSettings(RULES, { EXCLUSION_TAG: 'owner=platform' }).exclusionTag).toEqual({ key: 'owner', value: 'platform' });
  });
});
