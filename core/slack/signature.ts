import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack refuses to accept requests older than this, and so do we, in both directions. */
export const MAX_SIGNATURE_AGE_SECONDS = 5 * 60;

export type SignatureCheck = { valid: true } | { valid: false; reason: string };

/** What can be refused without the signing secret: missing or malformed headers, a stale or future timestamp. */
export function checkSignatureHeaders(options: { timestamp: string | undefined; signature: string | undefined; nowSeconds: number }): SignatureCheck {
  const { timestamp, signature } = options;
  if (!timestamp || !/^\d{1,12}$/.test(timestamp)) return { valid: false, reason: 'missing or malformed X-Slack-Request-Timestamp' };
  if (!signature || !/^v0=[0-9a-f]{64}$/.test(signature)) return { valid: false, reason: 'missing or malformed X-Slack-Signature' };
  const age = options.nowSeconds - Number(timestamp);
  if (Math.abs(age) > MAX_SIGNATURE_AGE_SECONDS) {
    return { valid: false, reason: `request timestamp is ${age > 0 ? `${age} s old` : `${-age} s in the future`}` };
  }
  return { valid: true };
}

/**
 * Verifies a Slack request signature: v0=HMAC-SHA256(signing secret, "v0:{timestamp}:{raw body}"),
 * compared in constant time, with the timestamp within five minutes of now either way.
 */
export function verifySlackSignature(options: {
  signingSecret: string;
  timestamp: string | undefined;
  signature: string | undefined;
  rawBody: string;
  nowSeconds: number;
}): SignatureCheck {
  const { timestamp, signature } = options;
  const headers = checkSignatureHeaders(options);
  if (!headers.valid) return headers;
  const expected = `v0=${createHmac('sha256', options.signingSecret).update(`v0:${timestamp}:${options.rawBody}`).digest('hex')}`;
  const matches = timingSafeEqual(Buffer.from(expected, 'utf8'), Buffer.from(signature ?? '', 'utf8'));
  return matches ? { valid: true } : { valid: false, reason: 'signature does not match' };
}
