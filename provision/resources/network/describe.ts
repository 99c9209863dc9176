/** Read-only lookups of the stack's network, every list read through the SDK paginators. */
import {
  paginateDescribeInternetGateways,
  paginateDescribeNetworkInterfaces,
  paginateDescribeRouteTables,
  paginateDescribeSecurityGroups,
  paginateDescribeSubnets,
  paginateDescribeVpcs,
  type Filter,
  type InternetGateway,
  type NetworkInterface,
  type RouteTable,
  type SecurityGroup,
  type Subnet,
  type Vpc,
} from '@aws-sdk/client-ec2';
import type { StackContext } from '../../context.js';
import { STACK_TAG_KEY } from '../../names.js';
import { byString, SUBNET_CIDRS, stackFilter, vpcFilter, type NetworkStatus } from './shared.js';

async function collect<P, T>(pages: AsyncIterable<P>, items: (page: P) => T[] | undefined) {
  const all: T[] = [];
  for await (const page of pages) all.push(...(items(page) ?? []));
  return all;
}

/** The stack's VPCs, sorted by id so the choice among several is stable across runs. */
export async function findStackVpcs(ctx: StackContext): Promise<Vpc[]> {
  const vpcs = await collect(
    paginateDescribeVpcs({ client: ctx.clients.ec2 }, { Filters: [stackFilter(ctx)] }),
    (page) => page.Vpcs,
  );
  // EC2 gives no creation time, so oldest-first is not possible.
  return vpcs.filter((v) => v.VpcId !== undefined).sort(byString((v) => v.VpcId));
}

export function findSubnets(ctx: StackContext, vpcId: string): Promise<Subnet[]> {
  return collect(
    paginateDescribeSubnets({ client: ctx.clients.ec2 }, { Filters: [vpcFilter(vpcId)] }),
    (page) => page.Subnets,
  );
}

export function findSecurityGroups(ctx: StackContext, vpcId: string): Promise<SecurityGroup[]> {
  return collect(
    paginateDescribeSecurityGroups({ client: ctx.clients.ec2 }, { Filters: [vpcFilter(vpcId)] }),
    (page) => page.SecurityGroups,
  );
}

function findGateways(ctx: StackContext, filter: Filter): Promise<InternetGateway[]> {
  return collect(
    paginateDescribeInternetGateways({ client: ctx.clients.ec2 }, { Filters: [filter] }),
    (page) => page.InternetGateways,
  );
}

export function findAttachedGateways(ctx: StackContext, vpcId: string) {
  return findGateways(ctx, { Name: 'attachment.vpc-id', Values: [vpcId] });
}

/** Gateways tagged for the stack, attached or not. */
export function findStackGateways(ctx: StackContext) {
  return findGateways(ctx, stackFilter(ctx));
}

export function findRouteTables(ctx: StackContext, vpcId: string): Promise<RouteTable[]> {
  return collect(
    paginateDescribeRouteTables({ client: ctx.clients.ec2 }, { Filters: [vpcFilter(vpcId)] }),
    (page) => page.RouteTables,
  );
}

export function findNetworkInterfaces(
  ctx: StackContext,
  vpcId: string,
): Promise<NetworkInterface[]> {
  return collect(
    paginateDescribeNetworkInterfaces({ client: ctx.clients.ec2 }, { Filters: [vpcFilter(vpcId)] }),
    (page) => page.NetworkInterfaces,
  );
}

export function hasStackTag(
  ctx: StackContext,
  tags: { Key?: string; Value?: string }[] | undefined,
): boolean {
  return (tags ?? []).some((t) => t.Key === STACK_TAG_KEY && t.Value === ctx.names.stack);
}

export function isMainRouteTable(table: RouteTable): boolean {
  return (table.Associations ?? []).some((a) => a.Main === true);
}

/** The stack's own route table: tagged, and not the VPC's main one. */
export function stackRouteTable(ctx: StackContext, tables: RouteTable[]): RouteTable | undefined {
  return tables.find((t) => !isMainRouteTable(t) && hasStackTag(ctx, t.Tags));
}

/** What `status` shows of the network. */
export async function describeNetwork(ctx: StackContext): Promise<NetworkStatus> {
  const vpcId = (await findStackVpcs(ctx))[0]?.VpcId;
  if (vpcId === undefined) return {};
  const [subnets, groups, gateways, tables] = await Promise.all([
    findSubnets(ctx, vpcId),
    findSecurityGroups(ctx, vpcId),
    findAttachedGateways(ctx, vpcId),
    findRouteTables(ctx, vpcId),
  ]);
  const ours = subnets
    .filter((s) => (SUBNET_CIDRS as readonly (string | undefined)[]).includes(s.CidrBlock))
    .sort(byString((s) => s.CidrBlock));
  const status: NetworkStatus = {
    vpcId,
    subnetIds: ours.map((s) => s.SubnetId).filter((id): id is string => id !== undefined),
    availabilityZones: ours
      .map((s) => s.AvailabilityZone)
      .filter((z): z is string => z !== undefined),
  };
  const alb = groups.find((g) => g.GroupName === ctx.names.loadBalancerSecurityGroup)?.GroupId;
  const tasks = groups.find((g) => g.GroupName === ctx.names.taskSecurityGroup)?.GroupId;
  const gateway = gateways[0]?.InternetGatewayId;
  const table = stackRouteTable(ctx, tables)?.RouteTableId;
  if (alb !== undefined) status.loadBalancerSecurityGroupId = alb;
  if (tasks !== undefined) status.taskSecurityGroupId = tasks;
  if (gateway !== undefined) status.internetGatewayId = gateway;
  if (table !== undefined) status.routeTableId = table;
  return status;
}
