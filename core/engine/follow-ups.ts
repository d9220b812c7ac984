import { describeError } from '../model/index.ts';
import type { Run } from './run.ts';

async function attempt(notes: string[], work: () => Promise<string>): Promise<void> {
  try {
    const note = await work();
    if (note) notes.push(note);
  } catch (error) {
    notes.push(`follow-up failed (the change stands): ${describeError(error)}`);
  }
}

/**
 * After a verified change: the rule's own follow-up (an Access Analyzer re-scan), AWS Config asked
 * to evaluate the reporting rule again, the Security Hub finding marked RESOLVED with the record's
 * id. Each is best-effort: a failure is noted, the change stands.
 */
export async function afterChange(run: Run): Promise<string> {
  const notes: string[] = [];
  const { rule, finding, deps } = run;
  const trigger = finding.trigger;
  if (rule.afterChange && deps.settings.ruleFollowUps) await attempt(notes, () => rule.afterChange?.(run.context) ?? Promise.resolve(''));
  const reevaluate = deps.followUps?.reevaluateConfigRule;
  if (trigger.kind === 'config-rule' && deps.settings.reevaluateConfigRules && reevaluate) {
    await attempt(notes, async () => {
      await reevaluate(trigger.configRuleName);
      return `asked AWS Config to evaluate ${trigger.configRuleName} again`;
    });
  }
  const workflow = deps.followUps?.updateSecurityHubFinding;
  if (trigger.kind === 'security-hub' && deps.settings.updateSecurityHub && workflow) {
    await attempt(notes, async () => {
      await workflow(trigger, 'RESOLVED', `driftfix fixed this: record ${run.recordId}`);
      return `marked the Security Hub finding RESOLVED`;
    });
  }
  return notes.map((note) => `; ${note}`).join('');
}

/** While a person decides, the Security Hub finding says someone has been told (NOTIFIED). */
export async function afterApprovalRequest(run: Run, approvalId: string): Promise<string> {
  const notes: string[] = [];
  const trigger = run.finding.trigger;
  const workflow = run.deps.followUps?.updateSecurityHubFinding;
  if (trigger.kind === 'security-hub' && run.deps.settings.updateSecurityHub && workflow && trigger.workflowStatus === 'NEW') {
    await attempt(notes, async () => {
      await workflow(trigger, 'NOTIFIED', `driftfix asked for approval ${approvalId} (record ${run.recordId})`);
      return 'marked the Security Hub finding NOTIFIED';
    });
  }
  return notes.map((note) => `; ${note}`).join('');
}
