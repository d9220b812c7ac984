import type { ConfigServiceClient } from '@aws-sdk/client-config-service';
import type { SecurityHubClient } from '@aws-sdk/client-securityhub';
import type { FollowUps } from '../engine/ports.ts';

/** Security Hub's limit on a note (BatchUpdateFindings, Note.Text). */
const NOTE_MAX = 512;

/**
 * Asking AWS Config to evaluate a rule again (StartConfigRulesEvaluation) and setting a Security
 * Hub finding's workflow (BatchUpdateFindings). Each reports failure by throwing; the engine notes
 * it and the change stands.
 */
export function awsFollowUps(clients: { config?: () => Promise<ConfigServiceClient>; securityHub?: () => Promise<SecurityHubClient> }): FollowUps {
  const followUps: FollowUps = {};
  const { config, securityHub } = clients;
  if (config) {
    followUps.reevaluateConfigRule = async (name) => {
      const { StartConfigRulesEvaluationCommand } = await import('@aws-sdk/client-config-service');
      await (await config()).send(new StartConfigRulesEvaluationCommand({ ConfigRuleNames: [name] }));
    };
  }
  if (securityHub) {
    followUps.updateSecurityHubFinding = async (trigger, status, note) => {
      const { BatchUpdateFindingsCommand } = await import('@aws-sdk/client-securityhub');
      const output = await (await securityHub()).send(
        new BatchUpdateFindingsCommand({
          FindingIdentifiers: [{ Id: trigger.findingId, ProductArn: trigger.productArn }],
          Workflow: { Status: status },
          Note: { Text: note.slice(0, NOTE_MAX), UpdatedBy: 'driftfix' },
        }),
      );
      // A 200 can still leave findings unprocessed (BatchUpdateFindings API reference).
      const unprocessed = output.UnprocessedFindings?.[0];
      if (unprocessed) throw new Error(`Security Hub did not update the finding: ${unprocessed.ErrorCode ?? ''} ${unprocessed.ErrorMessage ?? ''}`.trim());
    };
  }
  return followUps;
}
