import type { EC2Client, NetworkInterface } from '@aws-sdk/client-ec2';

/**
 * What uses a security group: its network interfaces (DescribeNetworkInterfaces, filter
 * `group-id`), and among them those an AWS service created and manages, which may serve a port to
 * the internet on purpose (an AWS Transfer Family server's SFTP on 22, a load balancer's listener).
 *
 * - "A requester-managed network interface is a network interface that an AWS service creates in
 *   your VPC on your behalf … such as a DB instance from Amazon RDS, a NAT gateway, or an interface
 *   VPC endpoint from AWS PrivateLink" (EC2 User Guide, Requester-managed network interfaces);
 *   RequesterManaged says whether AWS manages the interface, RequesterId which principal or
 *   service created it (same page; EC2 API Reference, NetworkInterface).
 * - InterfaceType, "The type of network interface" (EC2 API Reference, NetworkInterface), one of
 *   interface | natGateway | efa | efa-only | trunk | load_balancer | network_load_balancer |
 *   vpc_endpoint | branch | transit_gateway | lambda | quicksight | global_accelerator_managed |
 *   api_gateway_managed | gateway_load_balancer | gateway_load_balancer_endpoint |
 *   iot_rules_managed | aws_codestar_connections_managed. Only `interface` and the Elastic Fabric
 *   Adapter types of an instance (`efa`, `efa-only`) are a plain instance's; the page's own example
 *   shows an interface VPC endpoint reported as `interface`, so RequesterManaged is read as well.
 */

/** An interface of the group that something other than a plain instance of the account uses. */
export interface ManagedInterface {
  id: string;
  type: string;
  requesterManaged: boolean;
  requesterId?: string;
  description?: string;
}

const PLAIN_TYPES = new Set(['interface', 'efa', 'efa-only']);

/** Elastic Load Balancing's interfaces: created by `amazon-elb`, described `ELB <type>/<name>/<id>`. */
const isLoadBalancer = (eni: NetworkInterface) => eni.RequesterId === 'amazon-elb' || (eni.Description ?? '').startsWith('ELB ');

function managedOf(eni: NetworkInterface): ManagedInterface | null {
  const type = eni.InterfaceType ?? 'interface';
  const requesterManaged = eni.RequesterManaged === true;
  if (!requesterManaged && PLAIN_TYPES.has(type) && !isLoadBalancer(eni)) return null;
  return {
    id: eni.NetworkInterfaceId ?? '',
    type,
    requesterManaged,
    ...(eni.RequesterId ? { requesterId: eni.RequesterId } : {}),
    ...(eni.Description ? { description: eni.Description } : {}),
  };
}

/** The interfaces of the group that an AWS service manages or that are not a plain instance's; every page. */
export async function managedInterfacesOf(ec2: EC2Client, groupId: string): Promise<ManagedInterface[]> {
  const { DescribeNetworkInterfacesCommand } = await import('@aws-sdk/client-ec2');
  const found: ManagedInterface[] = [];
  let NextToken: string | undefined;
  do {
    const output = await ec2.send(
      new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }], MaxResults: 1000, ...(NextToken ? { NextToken } : {}) }),
    );
    for (const eni of output.NetworkInterfaces ?? []) {
      const managed = managedOf(eni);
      if (managed) found.push(managed);
    }
    NextToken = output.NextToken;
  } while (NextToken);
  return found;
}

/** `eni-0a1 (vpc_endpoint, requester-managed by 123456789012: "VPC Endpoint Interface vpce-0b2")` */
export function describeInterface(eni: ManagedInterface): string {
  const by = eni.requesterManaged ? `requester-managed${eni.requesterId ? ` by ${eni.requesterId}` : ''}` : eni.requesterId ? `created by ${eni.requesterId}` : '';
  const details = [eni.type, by, eni.description ? JSON.stringify(eni.description) : ''].filter(Boolean).join(', ');
  return `${eni.id} (${details})`;
}
