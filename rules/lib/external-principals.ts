import type { Json, Statement } from './iam-policy-document.ts';

/**
 * Removing the external access an Access Analyzer finding names from a resource policy: exactly
 * the principals of the external accounts, or the statements left with no principal, and nothing
 * else. Deny statements are never touched.
 */

/**
 * The 12-digit accounts a finding's principal map names (`{"AWS": "444455556666"}` or ARNs), other
 * than the resource's own account: access from its own account is never removed as external.
 */
export function externalAccounts(principal: Record<string, string> | undefined, ownAccount: string): string[] {
  const accounts = new Set<string>();
  for (const value of Object.values(principal ?? {})) {
    const account = accountOf(value);
    if (account && account !== ownAccount) accounts.add(account);
  }
  return [...accounts];
}

/**
 * Allow statements whose principal is anyone (`"*"` or `{"AWS": "*"}`) narrowed by a condition
 * (aws:PrincipalAccount, aws:SourceVpc…): Access Analyzer may find another account's access
 * there, and removing named accounts cannot end it, so a person changes the policy. (Without a
 * condition such a statement is public, a finding of its own.)
 */
export function wildcardGrants(statements: Statement[]): string[] {
  const names: string[] = [];
  statements.forEach((statement, index) => {
    if (statement.Effect !== 'Allow' || !statement.Condition) return;
    const principal = statement.Principal;
    const aws = principal && typeof principal === 'object' && !Array.isArray(principal) ? principal.AWS : undefined;
    const anyone = principal === '*' || aws === '*' || (Array.isArray(aws) && aws.includes('*'));
    if (anyone) names.push(typeof statement.Sid === 'string' ? `statement "${statement.Sid}"` : `statement #${index + 1}`);
  });
  return names;
}

function accountOf(principal: string): string | undefined {
  if (/^\d{12}$/.test(principal)) return principal;
  const parts = principal.split(':');
  return parts[0] === 'arn' && /^\d{12}$/.test(parts[4] ?? '') ? parts[4] : undefined;
}

export interface PrincipalRemoval {
  statements: Statement[];
  /** One line per statement changed, for records and approval requests. */
  changes: string[];
}

export function removeAccounts(statements: Statement[], accounts: string[]): PrincipalRemoval {
  const changes: string[] = [];
  const result: Statement[] = [];
  statements.forEach((statement, index) => {
    const name = typeof statement.Sid === 'string' ? `statement "${statement.Sid}"` : `statement #${index + 1}`;
    const principal = statement.Principal;
    if (statement.Effect !== 'Allow' || !principal || typeof principal !== 'object' || Array.isArray(principal)) {
      result.push(statement);
      return;
    }
    const aws = principal.AWS;
    const list = typeof aws === 'string' ? [aws] : Array.isArray(aws) ? aws.filter((item): item is string => typeof item === 'string') : [];
    const removed = list.filter((entry) => accounts.includes(accountOf(entry) ?? ''));
    if (removed.length === 0) {
      result.push(statement);
      return;
    }
    const kept = list.filter((entry) => !removed.includes(entry));
    const otherPrincipals = Object.keys(principal).filter((key) => key !== 'AWS');
    if (kept.length === 0 && otherPrincipals.length === 0) {
      changes.push(`${name}: remove the statement; it grants only ${removed.join(', ')}`);
      return;
    }
    const newPrincipal: { [key: string]: Json } = {};
    for (const [key, value] of Object.entries(principal)) {
      if (key !== 'AWS') newPrincipal[key] = value;
      else if (kept.length > 0) newPrincipal[key] = typeof aws === 'string' || kept.length === 1 ? (kept[0] as string) : kept;
    }
    changes.push(`${name}: remove principal ${removed.join(', ')}; keep ${[...kept, ...otherPrincipals].join(', ')}`);
    result.push({ ...statement, Principal: newPrincipal });
  });
  return { statements: result, changes };
}
