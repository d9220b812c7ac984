import { GetBucketTaggingCommand } from '@aws-sdk/client-s3';
import type { ReadContext } from './types.ts';

/** Bucket tags; a bucket without a tag set has none (NoSuchTagSet is state, not an error). */
export async function readBucketTags(context: ReadContext<unknown>): Promise<Record<string, string>> {
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
