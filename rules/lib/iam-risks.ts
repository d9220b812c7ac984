import type { Rewrite } from './iam-policy-document.ts';
import { type Attachments, day, describeAttachments, REPORTING_LAG_MS, type Usage } from './iam-usage.ts';

/**
 * What could break, for the approval request: one line per kind of risk, compressed so that a few
 * lines say it all (Slack shows the first of them within its 3,000 characters, the record all):
 * used services not narrowed, access removed although used long ago, the principals, then what the
 * evidence cannot see.
 */

export interface RiskInput {
  rewrite: Pick<Rewrite, 'kept' | 'removedUsed' | 'narrowed' | 'unrecorded' | 'expanded'>;
  /** The evidence; null where none was read (a change that expands narrow wildcards only). */
  usage: Usage | null;
  attached: Attachments | null;
}

/** At most this many names per list in one line; the rest are counted. */
const MAX_LISTED = 25;

function listed(items: readonly string[]): string {
  return items.length > MAX_LISTED ? `${items.slice(0, MAX_LISTED).join(', ')} and ${items.length - MAX_LISTED} more` : items.join(', ');
}

/** The wildcards that stay because their service was used, grouped by why, in one line. */
function keptLine(kept: RiskInput['rewrite']['kept']): string | null {
  if (kept.length === 0) return null;
  const groups = new Map<string, string[]>();
  for (const grant of kept) {
    const named = grant.grant.startsWith('NotAction') ? `${grant.grant} in ${grant.statement}` : grant.grant;
    const group = groups.get(grant.short) ?? [];
    if (!group.includes(named)) group.push(named);
    groups.set(grant.short, group);
  }
  const parts = [...groups].map(([short, grants]) => `${listed(grants)} (${short})`);
  return `used, so kept as they are, not narrowed: ${parts.join('; ')}; why, service by service, is in the proposed change`;
}

export function risksOf(input: RiskInput): string[] {
  const { rewrite, usage, attached } = input;
  const risks: string[] = [];
  const kept = keptLine(rewrite.kept);
  if (kept) risks.push(kept);
  const removedUsed = Object.entries(rewrite.removedUsed).sort(([a], [b]) => a.localeCompare(b));
  if (removedUsed.length > 0 && usage) {
    const list = removedUsed.map(([service, usedOn]) => `${service} (last used ${day(usedOn)})`);
    risks.push(`access removed although used, longer ago than IAM's ${usage.trackingPeriodDays}-day tracking period: ${listed(list)}`);
  }
  if (attached && attached.roles.length + attached.users.length + attached.groups.length > 0) {
    const groups = attached.groups.length > 0 && usage?.generated ? '; policy generation cannot analyse a group: its members count as the users IAM last-accessed data names' : '';
    risks.push(`the policy is attached to ${describeAttachments(attached)}: each loses what the new version no longer allows${groups}`);
  }
  const narrowed = Object.entries(rewrite.narrowed).sort(([a], [b]) => a.localeCompare(b));
  if (narrowed.length > 0) {
    const list = narrowed.map(([service, sources]) => `${service} (${sources.join('; ')})`);
    risks.push(
      `narrowed to the actions on record: ${listed(list)}; this assumes these services have no action that IAM's last-accessed data and policy generation leave out (AWS's list of services with data events, which are never narrowed, says which have): such an action, if used, is no longer allowed`,
    );
  }
  if (rewrite.unrecorded.length > 0) {
    risks.push(
      `iam:PassRole is kept in place of the wildcard in ${listed(rewrite.unrecorded)}: IAM and CloudTrail never record it, so whether it is used cannot be told; it still allows passing any role the statement's resources cover`,
    );
  }
  for (const [start, services] of generationWindows(rewrite, usage)) {
    risks.push(`uses before ${day(start)} are not in the generated policy: ${listed(services)} narrowed by policy generation keep only what was called since`);
  }
  if (usage) {
    const since = new Date(Date.parse(usage.reportedAt) - REPORTING_LAG_MS).toISOString();
    risks.push(`uses in the last four hours are not yet in IAM's data: anything first used after ${since.slice(0, 10)} ${since.slice(11, 16)} UTC is not kept`);
  }
  if (rewrite.expanded.length > 0) {
    risks.push(`${listed(rewrite.expanded)} replaced by the actions the IAM action catalog lists today: actions AWS adds to them later are not allowed`);
  }
  return risks;
}

/** Services narrowed by policy generation, by where its window starts. */
function generationWindows(rewrite: RiskInput['rewrite'], usage: Usage | null): Map<string, string[]> {
  const windows = new Map<string, string[]>();
  for (const [service, sources] of Object.entries(rewrite.narrowed).sort(([a], [b]) => a.localeCompare(b))) {
    const generated = usage?.generated?.[service];
    if (!generated || !sources.includes(generated.evidence)) continue;
    windows.set(generated.windowStart, [...(windows.get(generated.windowStart) ?? []), service]);
  }
  return windows;
}
