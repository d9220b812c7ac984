import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { GetBucketEncryptionCommand, GetBucketTaggingCommand, PutBucketEncryptionCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { s3DefaultEncryption } from '../../rules/s3-default-encryption.ts';
import { RemediationFailedError } from '../../core/model/errors.ts';
import { createRuleHandler } from '../../core/aws/rule-handler.ts';
import { configEvent } from '../support/events.ts';

const s3 = mockClient(S3Client);
const dynamo = mockClient(DynamoDBDocumentClient);
const failure = (name: string, status: number) =>
  new S3ServiceException({ name, message: name, $fault: 'client', $metadata: { httpStatusCode: status } });

const context = (account: string) => ({ invokedFunctionArn: `arn:aws:lambda:us-east-1:${account}:function:driftfix-dev-s3-default-encryption`, awsRequestId: 'r-1' });
const event = () => configEvent({ rule: 's3-bucket-server-side-encryption-enabled', resourceId: 'handler-bucket' });

beforeEach(() => {
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('REMEDIATION_TABLE', 'driftfix-records');
  vi.stubEnv('AWS_ENDPOINT_URL', '');
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  s3.reset();
  dynamo.reset();
  dynamo.on(GetCommand).resolves({});
  dynamo.on(PutCommand).resolves({});
  dynamo.on(DeleteCommand).resolves({});
  s3.on(GetBucketTaggingCommand).rejects(failure('NoSuchTagSet', 404));
});

describe('the Lambda entry point of a rule', () => {
  it('remediates and returns the result; the account comes from the invoking function ARN', async () => {
    s3.on(GetBucketEncryptionCommand)
      .rejectsOnce(failure('ServerSideEncryptionConfigurationNotFoundError', 404))
      .resolves({ ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } });
    s3.on(PutBucketEncryptionCommand).resolves({});
    const handler = createRuleHandler(s3DefaultEncryption);
    const result = await handler(event(), context('111122223333'));
    expect(result).toMatchObject({ outcome: 'remediated', writes: 1 });
    expect(dynamo.commandCalls(PutCommand).some((call) => call.args[0].input.TableName === 'driftfix-records')).toBe(true);
  });

  it('returns (does not throw) for a rejected event, so Lambda does not retry it', async () => {
    const handler = createRuleHandler(s3DefaultEncryption);
    const result = await handler(event(), context('444455556666'));
    expect(result.outcome).toBe('rejected');
    expect(s3.calls()).toHaveLength(0);
    expect(dynamo.calls()).toHaveLength(0);
  });

  it('throws for a failed outcome, after recording it, so Lambda retries and dead-letters it', async () => {
    s3.on(GetBucketEncryptionCommand).rejects(failure('AccessDenied', 403));
    const handler = createRuleHandler(s3DefaultEncryption);
    await expect(handler(event(), context('111122223333'))).rejects.toBeInstanceOf(RemediationFailedError);
    const recorded = dynamo.commandCalls(PutCommand).map((call) => call.args[0].input.Item?.outcome);
    expect(recorded).toContain('failed');
  });

  it('refuses to start without its table or with a mistyped mode', () => {
    vi.stubEnv('REMEDIATION_TABLE', '');
    expect(() => createRuleHandler(s3DefaultEncryption)).toThrow('REMEDIATION_TABLE');
    vi.stubEnv('REMEDIATION_TABLE', 't');
    vi.stubEnv('RULE_MODES', 's3-default-encryption=sometimes');
    expect(() => createRuleHandler(s3DefaultEncryption)).toThrow('RULE_MODES');
  });
});
