import type { Json, Statement } from './iam-policy-document.ts';

/**
 * Reading a bucket policy's statements about `aws:SecureTransport`: which one denies every request
 * sent without TLS, and which ones deny HTTP only in part or allow it, so that someone seems to
 * let HTTP through on purpose.
 */

const asList = (value: Json | undefined): Json[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);
const isObject = (value: Json | undefined): value is { [key: string]: Json } => typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: Json | undefined) => JSON.stringify(value);
const SECURE_TRANSPORT = 'aws:securetransport';

/** Principal "*", {"AWS": "*"} or {"AWS": ["*"]}: everyone, and nothing else (the documented statement's form). */
function isEveryone(principal: Json | undefined): boolean {
  if (principal === '*') return true;
  if (!isObject(principal) || Object.keys(principal).length !== 1) return false;
  const aws = asList(principal.AWS);
  return aws.length === 1 && aws[0] === '*';
}

/** A principal that names everyone among others ({"AWS": "*", "Service": …}) leaves nobody out. */
const includesEveryone = (principal: Json | undefined) => principal === '*' || (isObject(principal) && asList(principal.AWS).includes('*'));

const isFalse = (value: Json) => value === false || String(value).toLowerCase() === 'false';

/** The Bool / BoolIfExists operator whose only value for aws:SecureTransport is false, or null. */
function insecureOperator(condition: Json | undefined): string | null {
  if (!isObject(condition)) return null;
  for (const operator of ['Bool', 'BoolIfExists']) {
    const block = condition[operator];
    if (!isObject(block)) continue;
    const entry = Object.entries(block).find(([key]) => key.toLowerCase() === SECURE_TRANSPORT);
    const values = asList(entry?.[1]);
    if (values.length === 1 && isFalse(values[0] as Json)) return operator;
  }
  return null;
}

/** Every condition of the statement other than aws:SecureTransport under `operator`, as `Operator key values`. */
function otherConditions(condition: Json | undefined, operator: string): string[] {
  if (!isObject(condition)) return [];
  return Object.entries(condition).flatMap(([name, block]) =>
    isObject(block)
      ? Object.entries(block)
          .filter(([key]) => !(name === operator && key.toLowerCase() === SECURE_TRANSPORT))
          .map(([key, value]) => `${name} ${key} ${text(value)}`)
      : [`${name} ${text(block)}`],
  );
}

export interface HttpException {
  /** `statement "Sid"` or `statement 3`. */
  statement: string;
  /** How the statement lets HTTP requests through: `except StringNotEquals aws:SourceVpce "vpce-1"`. */
  exceptions: string[];
}

/**
 * How a statement that denies HTTP requests leaves some of them out: the principals, actions and
 * resources it does not cover and the further conditions that must hold; [] when it covers every
 * HTTP request to the bucket and its objects, null when it is no Deny on aws:SecureTransport false.
 */
export function httpDenyGaps(statement: Statement, bucketArn: string): string[] | null {
  if (statement.Effect !== 'Deny') return null;
  const operator = insecureOperator(statement.Condition);
  if (!operator) return null;
  const gaps: string[] = [];
  if ('NotPrincipal' in statement) gaps.push(`everyone except NotPrincipal ${text(statement.NotPrincipal)}`);
  else if (!includesEveryone(statement.Principal)) gaps.push(`only Principal ${text(statement.Principal)}`);
  if ('NotAction' in statement) gaps.push(`not NotAction ${text(statement.NotAction)}`);
  else if (!asList(statement.Action).some((action) => action === '*' || String(action).toLowerCase() === 's3:*')) gaps.push(`only Action ${text(statement.Action)}`);
  if ('NotResource' in statement) gaps.push(`not NotResource ${text(statement.NotResource)}`);
  else {
    const resources = asList(statement.Resource);
    if (!resources.includes(bucketArn) || !resources.includes(`${bucketArn}/*`)) gaps.push(`only Resource ${text(statement.Resource)}`);
  }
  for (const condition of otherConditions(statement.Condition, operator)) gaps.push(`only when ${condition}`);
  return gaps;
}

/** The statement AWS documents for the rule, or one as wide: denies every HTTP request, with Bool. */
export function deniesEveryHttpRequest(statement: Statement, bucketArn: string): boolean {
  return insecureOperator(statement.Condition) === 'Bool' && isEveryone(statement.Principal) && httpDenyGaps(statement, bucketArn)?.length === 0;
}

/** Statements that let some HTTP requests through on purpose: an HTTP deny with gaps, or an Allow of HTTP requests. */
export function httpExceptions(statements: readonly Statement[], bucketArn: string): HttpException[] {
  return statements.flatMap((statement, index) => {
    const name = typeof statement.Sid === 'string' && statement.Sid ? `statement "${statement.Sid}"` : `statement ${index + 1}`;
    if (statement.Effect === 'Allow' && insecureOperator(statement.Condition)) {
      return [{ statement: name, exceptions: [`allows ${text(statement.Action ?? statement.NotAction)} over HTTP (aws:SecureTransport false)`] }];
    }
    const gaps = httpDenyGaps(statement, bucketArn);
    return gaps && gaps.length > 0 ? [{ statement: name, exceptions: gaps }] : [];
  });
}
