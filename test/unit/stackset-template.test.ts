import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const BundlePlugin = createRequire(import.meta.url)('../../serverless/bundle-plugin.cjs') as new (serverless: unknown) => { codeFromRegionalBuckets(): void };

/** What osls hands the plugin at package:finalize: a compiled template with the framework's deployment bucket. */
function compiled(prefix: string | undefined) {
  const template = {
    Resources: {
      ServerlessDeploymentBucket: { Type: 'AWS::S3::Bucket', Properties: {} },
      ServerlessDeploymentBucketPolicy: { Type: 'AWS::S3::BucketPolicy', Properties: { Bucket: { Ref: 'ServerlessDeploymentBucket' } } },
      OneLambdaFunction: {
        Type: 'AWS::Lambda::Function',
        Properties: { Code: { S3Bucket: { Ref: 'ServerlessDeploymentBucket' }, S3Key: 'serverless/driftfix/prod/1700000000000-2026-11-29T00:00:00.000Z/one.zip' } },
      },
      TwoLambdaFunction: {
        Type: 'AWS::Lambda::Function',
        Properties: { Code: { S3Bucket: { Ref: 'ServerlessDeploymentBucket' }, S3Key: 'serverless/driftfix/prod/1700000000000-2026-11-29T00:00:00.000Z/two.zip' } },
      },
    },
    Outputs: { ServerlessDeploymentBucketName: { Value: { Ref: 'ServerlessDeploymentBucket' } } },
  };
  const logs: string[] = [];
  const plugin = new BundlePlugin({
    service: { custom: { driftfix: { artifactBucketPrefix: prefix } }, provider: { compiledCloudFormationTemplate: template } },
    cli: { log: (line: string) => logs.push(line) },
  });
  return { template, logs, run: () => plugin.codeFromRegionalBuckets() };
}

describe('a template for CloudFormation StackSets (artifactBucketPrefix)', () => {
  it('reads each function’s code from <prefix>-<region> and drops the framework’s deployment bucket', () => {
    const { template, logs, run } = compiled('acme-driftfix');
    run();
    expect(template.Resources.OneLambdaFunction.Properties.Code).toEqual({ S3Bucket: { 'Fn::Sub': `acme-driftfix-\${AWS::Region}` }, S3Key: expect.stringMatching(/one\.zip$/) });
    expect(template.Resources.TwoLambdaFunction.Properties.Code.S3Bucket).toEqual({ 'Fn::Sub': `acme-driftfix-\${AWS::Region}` });
    expect(JSON.stringify(template)).not.toContain('ServerlessDeploymentBucket');
    expect(logs).toEqual(["StackSets: each region's code is read from s3://acme-driftfix-<region>/serverless/driftfix/prod/1700000000000-2026-11-29T00:00:00.000Z/<function>.zip"]);
  });

  it('leaves the template as the framework made it when no prefix is set', () => {
    const { template, run } = compiled('');
    run();
    expect(template.Resources.OneLambdaFunction.Properties.Code.S3Bucket).toEqual({ Ref: 'ServerlessDeploymentBucket' });
    expect(template.Resources).toHaveProperty('ServerlessDeploymentBucket');
  });

  it.each(['Acme', 'acme_driftfix', 'acme-', 'a'.repeat(48), 'acme..driftfix', '-acme'])('refuses a prefix that makes no S3 bucket name: %s', (prefix) => {
    const { template, run } = compiled(prefix);
    expect(run).toThrow(/does not make S3 bucket names/);
    expect(template.Resources).toHaveProperty('ServerlessDeploymentBucket');
  });
});
