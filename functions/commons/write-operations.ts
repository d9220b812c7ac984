/**
 * Every write the bot can make, with the IAM action it needs. A step names one of these; nothing
 * else can be written (see apply-steps.ts).
 */
export const WRITE_OPERATIONS = {
  'S3.PutBucketEncryption': 's3:PutEncryptionConfiguration',
  'S3.DeleteBucketEncryption': 's3:PutEncryptionConfiguration',
  'S3.PutPublicAccessBlock': 's3:PutBucketPublicAccessBlock',
  'S3.DeletePublicAccessBlock': 's3:PutBucketPublicAccessBlock',
  'S3Control.PutPublicAccessBlock': 's3:PutAccountPublicAccessBlock',
  'S3Control.DeletePublicAccessBlock': 's3:PutAccountPublicAccessBlock',
  'IAM.CreatePolicyVersion': 'iam:CreatePolicyVersion',
  'IAM.DeletePolicyVersion': 'iam:DeletePolicyVersion',
  'IAM.SetDefaultPolicyVersion': 'iam:SetDefaultPolicyVersion',
  'IAM.UpdateAssumeRolePolicy': 'iam:UpdateAssumeRolePolicy',
  'S3.PutBucketPolicy': 's3:PutBucketPolicy',
  'S3.DeleteBucketPolicy': 's3:DeleteBucketPolicy',
} as const;

export type WriteOperation = keyof typeof WRITE_OPERATIONS;

export function isWriteOperation(name: string): name is WriteOperation {
  return Object.hasOwn(WRITE_OPERATIONS, name);
}
