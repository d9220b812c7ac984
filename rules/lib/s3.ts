import type { S3Client } from '@aws-sdk/client-s3';
import type { ReadContext, WriteOperation } from '../../core/model/index.ts';

type S3Clients = { s3: S3Client };

/** Bucket tags; a bucket without a tag set has none (NoSuchTagSet is state, not an error). */
export async function readBucketTags(context: ReadContext<unknown, S3Clients>): Promise<Record<string, string>> {
  const { GetBucketTaggingCommand } = await import('@aws-sdk/client-s3');
  try {
    const output = await context.clients.s3.send(
      new GetBucketTaggingCommand({ Bucket: context.target.resourceId, ExpectedBucketOwner: context.target.account }),
    );
    return Object.fromEntries((output.TagSet ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
  } catch (error) {
    if ((error as Error).name === 'NoSuchTagSet') return {};
    throw error;
  }
}

/**
 * What the bucket's website endpoint serves, in words (`index document index.html`, `redirects every
 * request to example.com`); null when the bucket hosts no website (NoSuchWebsiteConfiguration).
 */
export function readBucketWebsite(
  context: ReadContext<unknown, S3Clients>,
  sdk: Pick<typeof import('@aws-sdk/client-s3'), 'GetBucketWebsiteCommand'>,
): Promise<string | null> {
  // Sent at once (the SDK module already loaded), so that a read beside it goes out in the same turn.
  const bucket = { Bucket: context.target.resourceId, ExpectedBucketOwner: context.target.account };
  return context.clients.s3.send(new sdk.GetBucketWebsiteCommand(bucket)).then(
    (output) => {
      const redirect = output.RedirectAllRequestsTo?.HostName;
      if (redirect) return `redirects every request to ${redirect}`;
      return output.IndexDocument?.Suffix ? `index document ${output.IndexDocument.Suffix}` : 'website configuration';
    },
    (error: Error) => {
      if (error.name === 'NoSuchWebsiteConfiguration') return null;
      throw error;
    },
  );
}

/**
 * The bucket policy's text; null when the bucket has none (NoSuchBucketPolicy). Sent at once, as
 * `readBucketWebsite` is.
 */
export function readBucketPolicy(context: ReadContext<unknown, S3Clients>, sdk: Pick<typeof import('@aws-sdk/client-s3'), 'GetBucketPolicyCommand'>): Promise<string | null> {
  const bucket = { Bucket: context.target.resourceId, ExpectedBucketOwner: context.target.account };
  return context.clients.s3.send(new sdk.GetBucketPolicyCommand(bucket)).then(
    (output) => output.Policy ?? null,
    (error: Error) => {
      if (error.name === 'NoSuchBucketPolicy') return null;
      throw error;
    },
  );
}

/** Bucket writes several rules make, each declared once: operation → IAM action → SDK command. */
export const S3_WRITES = {
  'S3.PutBucketPolicy': {
    client: 's3',
    iamAction: 's3:PutBucketPolicy',
    command: async () => (await import('@aws-sdk/client-s3')).PutBucketPolicyCommand,
  },
  'S3.DeleteBucketPolicy': {
    client: 's3',
    iamAction: 's3:DeleteBucketPolicy',
    command: async () => (await import('@aws-sdk/client-s3')).DeleteBucketPolicyCommand,
  },
} as const satisfies Record<string, WriteOperation<S3Clients>>;
