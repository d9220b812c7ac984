/** Base class of every error driftfix raises on purpose. */
export class DriftfixError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DriftfixError';
  }
}

/** The input event is not one driftfix accepts; nothing was read or written. */
export class InvalidEventError extends DriftfixError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidEventError';
  }
}

/** Deployment settings (environment) are wrong: fail at start, not at 3 a.m. */
export class ConfigurationError extends DriftfixError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigurationError';
  }
}

/**
 * Another invocation holds a live claim on the resource. Nothing was changed; the event is
 * delivered again later (Lambda and SQS retry), when the claim has been released or has run out.
 */
export class ResourceBusyError extends DriftfixError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ResourceBusyError';
  }
}

/** The handler failed after recording what it did; thrown so Lambda retries and dead-letters. */
export class RemediationFailedError extends DriftfixError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RemediationFailedError';
  }
}

/** The change is done and recorded, but Slack did not get the record: thrown so Lambda retries the post. */
export class NotificationFailedError extends DriftfixError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'NotificationFailedError';
  }
}

/**
 * What the plan needs is still being prepared elsewhere (IAM Access Analyzer generating a policy
 * from CloudTrail): nothing is recorded or posted, and the event is delivered again later.
 */
export class NotReadyError extends DriftfixError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'NotReadyError';
  }
}

/** The resource no longer exists (deleted after the finding): nothing to fix, and retrying cannot help. */
export class ResourceGoneError extends DriftfixError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ResourceGoneError';
  }
}

/** Reads the name and message of anything thrown, AWS SDK errors included. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { Code?: string }).Code;
    const name = code && code !== error.name ? `${error.name} (${code})` : error.name;
    return `${name}: ${error.message}`;
  }
  return String(error);
}

/** Error names AWS APIs use for a resource that no longer exists. */
const GONE = new Set([
  'ResourceGoneError',
  'NoSuchBucket',
  'NoSuchEntity',
  'NoSuchEntityException',
  'NotFoundException',
  'InvalidGroup.NotFound',
  'DBInstanceNotFound',
  'DBInstanceNotFoundFault',
]);

export function isResourceGone(error: unknown): boolean {
  return error instanceof Error && GONE.has(error.name);
}
