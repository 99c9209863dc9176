/**
 * The stack's network: one VPC, two public subnets in two zones, an internet
 * gateway with a default route, and the two security groups (load balancer,
 * tasks). No NAT gateway: tasks get public IPs and reach ECR / Secrets
 * Manager through the internet gateway, which costs nothing extra.
 */
import {
  AssociateRouteTableCommand,
  AttachInternetGatewayCommand,
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateInternetGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteInternetGatewayCommand,
  DeleteRouteTableCommand,
  DeleteSecurityGroupCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeAvailabilityZonesCommand,
  DescribeInternetGatewaysCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcsCommand,
  DetachInternetGatewayCommand,
  DisassociateRouteTableCommand,
  ModifySubnetAttributeCommand,
  ModifyVpcAttributeCommand,
  ReplaceRouteCommand,
  ReplaceRouteTableAssociationCommand,
  RevokeSecurityGroupIngressCommand,
  type AvailabilityZone,
  type Filter,
  type InternetGateway,
  type IpPermission,
  type NetworkInterface,
  type ResourceType,
  type RouteTable,
  type SecurityGroup,
  type Subnet,
  type Vpc,
} from '@aws-sdk/client-ec2';
import {
  combineOutcomes,
  type Ensured,
  type Outcome,
  type Removed,
  type StackContext,
} from './context.js';
import { STACK_TAG_KEY, stackTags } from './names.js';
import {
  errorCode,
  errorMessage,
  hasErrorCode,
  messageMatches,
  pollUntil,
  PollTimeoutError,
  retry,
  RetryTimeoutError,
} from './retry.js';

export const VPC_CIDR = '10.0.0.0/16';
export const SUBNET_CIDRS = ['10.0.0.0/24', '10.0.1.0/24'] as const;
const ANYWHERE = '0.0.0.0/0';
const DEFAULT_REMOVE_TIMEOUT_MS = 20 * 60_000;

export interface Network {
  vpcId: string;
  subnetIds: string[];
  availabilityZones: string[];
  loadBalancerSecurityGroupId: string;
  taskSecurityGroupId: string;
}

export interface NetworkSettings {
  containerPort: number;
  https: boolean;
}

/** What exists of the network; every field is absent when that part is missing. */
export interface NetworkStatus extends Partial<Network> {
  internetGatewayId?: string;
  routeTableId?: string;
}

export class NetworkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NetworkError';
  }
}

/**
 * EC2 is eventually consistent: right after a create, a describe or modify
 * of the new id (or a call that names it, such as a route to a new gateway)
 * can answer that it does not exist (EC2 developer guide, "Eventual
 * consistency": https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html).
 * terraform-provider-aws retries these codes for its 2-minute propagation
 * timeout (AttachInternetGateway: hashicorp/terraform#7891; AssociateRouteTable:
 * RetryWhenAWSErrCodeEquals on InvalidRouteTableID.NotFound). Spellings from
 * terraform-provider-aws internal/service/ec2/errors.go, which also lists the
 * "Id" forms some operations answer.
 */
const NOT_YET_VISIBLE_CODES = [
  'InvalidVpcID.NotFound',
  'InvalidSubnetID.NotFound',
  'InvalidSubnetId.NotFound',
  'InvalidInternetGatewayID.NotFound',
  'InvalidRouteTableID.NotFound',
  'InvalidRouteTableId.NotFound',
  'InvalidGroup.NotFound',
  'InvalidSecurityGroupID.NotFound',
];
const VISIBILITY_TIMEOUT_MS = 2 * 60_000;

function isNotYetVisible(error: unknown): boolean {
  return hasErrorCode(error, ...NOT_YET_VISIBLE_CODES);
}

/**
 * Runs a call that names ids ensureNetwork may have just created, reading
 * their NotFound as "not visible yet" for a bounded time.
 */
async function onceVisible<T>(ctx: StackContext, what: string, call: () => Promise<T>): Promise<T> {
  let told = false;
  try {
    return await retry(
      ctx.clock,
      {
        what,
        isRetryable: isNotYetVisible,
        timeoutMs: VISIBILITY_TIMEOUT_MS,
        initialDelayMs: 1_000,
        maxDelayMs: 10_000,
        onRetry: (error) => {
          if (told) return;
          told = true;
          ctx.report.progress(
            `waiting for AWS to show what was just created before ${what} (${errorCode(error)})`,
          );
        },
      },
      call,
    );
  } catch (error) {
    if (!(error instanceof RetryTimeoutError)) throw error;
    throw new NetworkError(
      `AWS kept answering ${errorCode(error.lastError)} for ${Math.round(VISIBILITY_TIMEOUT_MS / 60_000)} min while ${what}: ` +
        `${errorMessage(error.lastError)}. A resource created moments ago is usually visible by then; ` +
        `if someone deleted it meanwhile, run "iclinic-deploy up" again to create it anew.`,
    );
  }
}

/** Lines for --dry-run: what ensureNetwork would create in an empty account. */
export function planNetwork(ctx: Pick<StackContext, 'names'>, settings: NetworkSettings): string[] {
  const { names } = ctx;
  const albPorts = settings.https ? '80 and 443' : '80';
  return [
    `VPC ${names.vpc} (${VPC_CIDR}, DNS support and hostnames on)`,
    ...SUBNET_CIDRS.map(
      (cidr, i) => `public subnet ${names.publicSubnet(i)} (${cidr}) in availability zone ${i + 1}`,
    ),
    `internet gateway ${names.internetGateway} attached to the VPC`,
    `route table ${names.routeTable} with 0.0.0.0/0 -> internet gateway, associated with both subnets`,
    `security group ${names.loadBalancerSecurityGroup}: tcp ${albPorts} from anywhere`,
    `security group ${names.taskSecurityGroup}: tcp ${settings.containerPort} from ${names.loadBalancerSecurityGroup} only`,
  ];
}

// ---------------------------------------------------------------------------
// Lookups (read-only). moto has a default VPC with subnets and groups, so
// every query is narrowed by the stack tag or by our VPC id.

function stackFilter(ctx: StackContext): Filter {
  return { Name: `tag:${STACK_TAG_KEY}`, Values: [ctx.names.stack] };
}

function vpcFilter(vpcId: string): Filter {
  return { Name: 'vpc-id', Values: [vpcId] };
}

function tagSpec(ctx: StackContext, type: ResourceType, name: string) {
  return [{ ResourceType: type, Tags: stackTags(ctx.names.stack, name) }];
}

async function findStackVpcs(ctx: StackContext): Promise<Vpc[]> {
  const out = await ctx.clients.ec2.send(new DescribeVpcsCommand({ Filters: [stackFilter(ctx)] }));
  // Oldest first would be ideal but EC2 gives no creation time; sorting by id
  // at least makes the choice stable across runs.
  return (out.Vpcs ?? []).filter((v) => v.VpcId !== undefined).sort(byString((v) => v.VpcId));
}

async function findSubnets(ctx: StackContext, vpcId: string): Promise<Subnet[]> {
  const out = await ctx.clients.ec2.send(
    new DescribeSubnetsCommand({ Filters: [vpcFilter(vpcId)] }),
  );
  return out.Subnets ?? [];
}

async function findSecurityGroups(ctx: StackContext, vpcId: string): Promise<SecurityGroup[]> {
  const out = await ctx.clients.ec2.send(
    new DescribeSecurityGroupsCommand({ Filters: [vpcFilter(vpcId)] }),
  );
  return out.SecurityGroups ?? [];
}

async function findAttachedGateways(ctx: StackContext, vpcId: string): Promise<InternetGateway[]> {
  const out = await ctx.clients.ec2.send(
    new DescribeInternetGatewaysCommand({
      Filters: [{ Name: 'attachment.vpc-id', Values: [vpcId] }],
    }),
  );
  return out.InternetGateways ?? [];
}

async function findRouteTables(ctx: StackContext, vpcId: string): Promise<RouteTable[]> {
  const out = await ctx.clients.ec2.send(
    new DescribeRouteTablesCommand({ Filters: [vpcFilter(vpcId)] }),
  );
  return out.RouteTables ?? [];
}

function hasStackTag(ctx: StackContext, tags: { Key?: string; Value?: string }[] | undefined) {
  return (tags ?? []).some((t) => t.Key === STACK_TAG_KEY && t.Value === ctx.names.stack);
}

function isMainRouteTable(table: RouteTable): boolean {
  return (table.Associations ?? []).some((a) => a.Main === true);
}

function byString<T>(key: (item: T) => string | undefined): (a: T, b: T) => number {
  return (a, b) => (key(a) ?? '').localeCompare(key(b) ?? '');
}

// ---------------------------------------------------------------------------
// Ensure

class Changes {
  readonly lines: string[] = [];
  readonly outcomes: Outcome[] = [];
  created(line: string): void {
    this.lines.push(line);
    this.outcomes.push('created');
  }
  updated(line: string): void {
    this.lines.push(line);
    this.outcomes.push('updated');
  }
}

export async function ensureNetwork(
  ctx: StackContext,
  settings: NetworkSettings,
): Promise<Ensured<Network>> {
  validatePort(settings.containerPort);
  const changes = new Changes();
  const vpcId = await ensureVpc(ctx, changes);
  const subnets = await ensureSubnets(ctx, vpcId, changes);
  const gatewayId = await ensureInternetGateway(ctx, vpcId, changes);
  await ensureRouteTable(
    ctx,
    vpcId,
    gatewayId,
    subnets.map((s) => s.subnetId),
    changes,
  );
  const groups = await findSecurityGroups(ctx, vpcId);
  const loadBalancerSecurityGroupId = await ensureSecurityGroup(
    ctx,
    vpcId,
    groups,
    {
      name: ctx.names.loadBalancerSecurityGroup,
      // Fixed at creation, so it must not mention settings that can change later.
      description: `Load balancer of ${ctx.names.stack}: web traffic from anywhere`,
      ingress: (settings.https ? [80, 443] : [80]).map((port) => ({
        port,
        source: cidr(ANYWHERE),
      })),
    },
    changes,
  );
  const taskSecurityGroupId = await ensureSecurityGroup(
    ctx,
    vpcId,
    groups,
    {
      name: ctx.names.taskSecurityGroup,
      description: `Tasks of ${ctx.names.stack}: container port from the load balancer only`,
      ingress: [{ port: settings.containerPort, source: group(loadBalancerSecurityGroupId) }],
    },
    changes,
  );
  return {
    outcome: combineOutcomes(changes.outcomes),
    changes: changes.lines,
    value: {
      vpcId,
      subnetIds: subnets.map((s) => s.subnetId),
      availabilityZones: subnets.map((s) => s.zone),
      loadBalancerSecurityGroupId,
      taskSecurityGroupId,
    },
  };
}

function validatePort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new NetworkError(
      `Invalid container port ${port}: use an integer from 1 to 65535 (the port the service listens on, 8080 by default).`,
    );
  }
}

async function ensureVpc(ctx: StackContext, changes: Changes): Promise<string> {
  const ec2 = ctx.clients.ec2;
  const existing = await findStackVpcs(ctx);
  let vpcId = existing[0]?.VpcId;
  if (existing.length > 1) {
    ctx.report.warn(
      `Found ${existing.length} VPCs tagged ${STACK_TAG_KEY}=${ctx.names.stack} (${existing
        .map((v) => v.VpcId)
        .join(', ')}); using ${vpcId}. "down" removes them all.`,
    );
  }
  if (vpcId === undefined) {
    const out = await ec2.send(
      new CreateVpcCommand({
        CidrBlock: VPC_CIDR,
        TagSpecifications: tagSpec(ctx, 'vpc', ctx.names.vpc),
      }),
    );
    vpcId = out.Vpc?.VpcId;
    if (vpcId === undefined) throw new NetworkError('CreateVpc returned no VPC id.');
    changes.created(`created VPC ${vpcId} (${VPC_CIDR})`);
    const created = vpcId;
    // Subnets cannot be created while the VPC is still "pending".
    await pollUntil(
      ctx.clock,
      {
        what: `waiting for VPC ${created} to become available`,
        timeoutMs: 120_000,
        intervalMs: 2_000,
      },
      async () => {
        const d = await ec2
          .send(new DescribeVpcsCommand({ VpcIds: [created] }))
          .catch((error: unknown) => {
            if (isNotYetVisible(error)) return undefined;
            throw error;
          });
        if (d === undefined)
          return { done: false, state: 'not visible yet (InvalidVpcID.NotFound)' };
        const state = d.Vpcs?.[0]?.State ?? 'unknown';
        return { done: state === 'available', state };
      },
    );
  } else if (existing[0]?.CidrBlock !== undefined && existing[0].CidrBlock !== VPC_CIDR) {
    throw new NetworkError(
      `VPC ${vpcId} tagged ${STACK_TAG_KEY}=${ctx.names.stack} has CIDR ${existing[0].CidrBlock}, expected ${VPC_CIDR}. ` +
        `Run "iclinic-deploy down" to remove it, or use --name for a separate stack.`,
    );
  }
  // Load balancers and ECR/Secrets Manager lookups need DNS; hostnames are
  // off by default in a non-default VPC.
  for (const attribute of ['enableDnsSupport', 'enableDnsHostnames'] as const) {
    const out = await onceVisible(ctx, `reading ${attribute} of VPC ${vpcId}`, () =>
      ec2.send(new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: attribute })),
    );
    const value = attribute === 'enableDnsSupport' ? out.EnableDnsSupport : out.EnableDnsHostnames;
    if (value?.Value === true) continue;
    await onceVisible(ctx, `turning on ${attribute} of VPC ${vpcId}`, () =>
      ec2.send(
        new ModifyVpcAttributeCommand({
          VpcId: vpcId,
          ...(attribute === 'enableDnsSupport'
            ? { EnableDnsSupport: { Value: true } }
            : { EnableDnsHostnames: { Value: true } }),
        }),
      ),
    );
    changes.updated(
      `enabled ${attribute === 'enableDnsSupport' ? 'DNS support' : 'DNS hostnames'} on VPC ${vpcId}`,
    );
  }
  return vpcId;
}

interface Zone {
  name: string;
  id: string;
}

/**
 * In these regions Fargate runs only in the listed zone ids (AWS Fargate
 * Regions page, https://docs.aws.amazon.com/AmazonECS/latest/developerguide/AWS_Fargate-Regions.html:
 * "us-west-1 (usw1-az1 & usw1-az3 only)", "ap-northeast-1 (apne1-az1,
 * apne1-az2, & apne1-az4 only)"). Zone ids name the same physical zone in
 * every account; zone names are shuffled per account.
 */
const FARGATE_ZONE_IDS: Readonly<Record<string, readonly string[]>> = {
  'us-west-1': ['usw1-az1', 'usw1-az3'],
  'ap-northeast-1': ['apne1-az1', 'apne1-az2', 'apne1-az4'],
};

function runsFargate(region: string, zoneId: string): boolean {
  const only = FARGATE_ZONE_IDS[region];
  return only === undefined || only.includes(zoneId);
}

function describeZone(zone: Zone): string {
  return `${zone.name} (${zone.id})`;
}

/** Available zones where Fargate runs, in zone-id order so every account picks alike. */
async function usableZones(ctx: StackContext): Promise<{ usable: Zone[]; seen: string[] }> {
  const out = await ctx.clients.ec2.send(new DescribeAvailabilityZonesCommand({}));
  const standard = (out.AvailabilityZones ?? []).filter(
    (z): z is AvailabilityZone & { ZoneName: string } =>
      z.ZoneName !== undefined &&
      z.State === 'available' &&
      (z.ZoneType ?? 'availability-zone') === 'availability-zone',
  );
  const zones = standard
    .map((z) => {
      const id = z.ZoneId ?? z.ZoneName;
      return { name: z.ZoneName, id, fargate: runsFargate(z.RegionName ?? ctx.region, id) };
    })
    .sort((a, b) => a.id.localeCompare(b.id));
  const usable = zones.filter((z) => z.fargate).map(({ name, id }) => ({ name, id }));
  const seen = zones.map((z) => `${describeZone(z)}${z.fargate ? '' : ', no Fargate'}`);
  return { usable, seen };
}

/**
 * Older accounts list a zone as available that refuses new subnets, with
 * InvalidParameterValue "Value (ap-northeast-1b) for parameter
 * availabilityZone is invalid. Subnets can currently only be created in the
 * following availability zones: ap-northeast-1a, ap-northeast-1c."
 * (awslabs/ecs-refarch-continuous-deployment#12, hashicorp/terraform#3434,
 * aws-samples/saas-reference-architecture-ecs#12). Returns the zone names
 * the message allows, or undefined when the error is something else.
 */
function zonesAllowedBySubnetRefusal(error: unknown): string[] | undefined {
  if (!hasErrorCode(error, 'InvalidParameterValue')) return undefined;
  const match =
    /Subnets can currently only be created in the following availability zones:([^]*)/i.exec(
      errorMessage(error),
    );
  if (match === null) return undefined;
  return (match[1] ?? '')
    .split(/[\s,]+/)
    .map((name) => name.replace(/\.$/, ''))
    .filter((name) => name !== '');
}

type SubnetRef = { subnetId: string; zone: string };

async function ensureSubnets(
  ctx: StackContext,
  vpcId: string,
  changes: Changes,
): Promise<SubnetRef[]> {
  const existing = await findSubnets(ctx, vpcId);
  const byCidr = new Map(existing.map((s) => [s.CidrBlock, s]));
  let chooser: ZoneChooser | undefined;
  const result: SubnetRef[] = [];
  for (const [index, subnetCidr] of SUBNET_CIDRS.entries()) {
    const found = byCidr.get(subnetCidr);
    if (found?.SubnetId !== undefined && found.AvailabilityZone !== undefined) {
      if (found.MapPublicIpOnLaunch !== true) {
        await turnOnPublicIps(ctx, found.SubnetId);
        changes.updated(`turned on public IPs for subnet ${found.SubnetId}`);
      }
      result.push({ subnetId: found.SubnetId, zone: found.AvailabilityZone });
      continue;
    }
    chooser ??= await ZoneChooser.start(ctx, existing);
    const created = await createSubnetInSomeZone(ctx, vpcId, index, subnetCidr, chooser);
    // CreateSubnet has no parameter for this; Fargate tasks in a public subnet
    // need a public IP to pull the image without a NAT gateway.
    await turnOnPublicIps(ctx, created.subnetId);
    changes.created(`created subnet ${created.subnetId} (${subnetCidr}, ${created.zone})`);
    result.push(created);
  }
  return result;
}

async function turnOnPublicIps(ctx: StackContext, subnetId: string): Promise<void> {
  await onceVisible(ctx, `turning on public IPs for subnet ${subnetId}`, () =>
    ctx.clients.ec2.send(
      new ModifySubnetAttributeCommand({
        SubnetId: subnetId,
        MapPublicIpOnLaunch: { Value: true },
      }),
    ),
  );
}

/** Hands out zones for new subnets: usable, not used by the other subnet, not refused. */
class ZoneChooser {
  private readonly refused: string[] = [];
  private constructor(
    private readonly ctx: StackContext,
    private candidates: Zone[],
    private readonly seen: string[],
  ) {}

  static async start(ctx: StackContext, existing: Subnet[]): Promise<ZoneChooser> {
    const { usable, seen } = await usableZones(ctx);
    const used = new Set(existing.map((s) => s.AvailabilityZone));
    if (usable.length < 2) {
      throw new NetworkError(
        `Region ${ctx.region} has ${usable.length} availability zone(s) where Fargate runs; a load balancer needs two. ` +
          `Zones seen: ${seen.length > 0 ? seen.join('; ') : 'none'}. Choose another region with --region (for example us-east-1).`,
      );
    }
    return new ZoneChooser(
      ctx,
      usable.filter((z) => !used.has(z.name)),
      seen,
    );
  }

  next(subnetCidr: string): Zone {
    const zone = this.candidates.shift();
    if (zone !== undefined) return zone;
    const refused =
      this.refused.length > 0 ? ` Refused new subnets: ${this.refused.join(', ')}.` : '';
    throw new NetworkError(
      `No availability zone left in ${this.ctx.region} for subnet ${subnetCidr}: each zone where Fargate runs is ` +
        `either used by the other subnet or refused a new subnet.${refused} Zones seen: ${this.seen.join('; ')}. ` +
        `Choose another region with --region (for example us-east-1).`,
    );
  }

  /** The zone refused the subnet; keep only the zones its message allows. */
  refuse(zone: Zone, allowed: string[]): void {
    this.refused.push(zone.name);
    if (allowed.length > 0)
      this.candidates = this.candidates.filter((z) => allowed.includes(z.name));
  }

  taken(zone: Zone): void {
    this.candidates = this.candidates.filter((z) => z.name !== zone.name);
  }
}

async function createSubnetInSomeZone(
  ctx: StackContext,
  vpcId: string,
  index: number,
  subnetCidr: string,
  chooser: ZoneChooser,
): Promise<SubnetRef> {
  for (;;) {
    const zone = chooser.next(subnetCidr);
    try {
      const out = await onceVisible(ctx, `creating subnet ${subnetCidr} in VPC ${vpcId}`, () =>
        ctx.clients.ec2.send(
          new CreateSubnetCommand({
            VpcId: vpcId,
            CidrBlock: subnetCidr,
            AvailabilityZone: zone.name,
            TagSpecifications: tagSpec(ctx, 'subnet', ctx.names.publicSubnet(index)),
          }),
        ),
      );
      const subnetId = out.Subnet?.SubnetId;
      if (subnetId === undefined) throw new NetworkError('CreateSubnet returned no subnet id.');
      chooser.taken(zone);
      return { subnetId, zone: zone.name };
    } catch (error) {
      const allowed = zonesAllowedBySubnetRefusal(error);
      if (allowed === undefined) throw error;
      ctx.report.progress(
        `availability zone ${describeZone(zone)} refuses new subnets in this account; trying another`,
      );
      chooser.refuse(zone, allowed);
    }
  }
}

async function ensureInternetGateway(
  ctx: StackContext,
  vpcId: string,
  changes: Changes,
): Promise<string> {
  const ec2 = ctx.clients.ec2;
  const attached = (await findAttachedGateways(ctx, vpcId))[0]?.InternetGatewayId;
  if (attached !== undefined) return attached;
  // A run interrupted between create and attach leaves a tagged, detached
  // gateway: reuse it rather than leaking one per crash.
  const tagged = await ec2.send(
    new DescribeInternetGatewaysCommand({ Filters: [stackFilter(ctx)] }),
  );
  let gatewayId = (tagged.InternetGateways ?? []).find(
    (g) => (g.Attachments ?? []).length === 0,
  )?.InternetGatewayId;
  if (gatewayId === undefined) {
    const out = await ec2.send(
      new CreateInternetGatewayCommand({
        TagSpecifications: tagSpec(ctx, 'internet-gateway', ctx.names.internetGateway),
      }),
    );
    gatewayId = out.InternetGateway?.InternetGatewayId;
    if (gatewayId === undefined) throw new NetworkError('CreateInternetGateway returned no id.');
    changes.created(`created internet gateway ${gatewayId}`);
  }
  const attaching = gatewayId;
  await onceVisible(ctx, `attaching internet gateway ${attaching} to VPC ${vpcId}`, () =>
    ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: attaching, VpcId: vpcId })),
  );
  changes.updated(`attached internet gateway ${gatewayId} to VPC ${vpcId}`);
  return gatewayId;
}

async function ensureRouteTable(
  ctx: StackContext,
  vpcId: string,
  gatewayId: string,
  subnetIds: string[],
  changes: Changes,
): Promise<string> {
  const ec2 = ctx.clients.ec2;
  const tables = await findRouteTables(ctx, vpcId);
  let table = tables.find((t) => !isMainRouteTable(t) && hasStackTag(ctx, t.Tags));
  let tableId = table?.RouteTableId;
  if (tableId === undefined) {
    const out = await onceVisible(ctx, `creating a route table in VPC ${vpcId}`, () =>
      ec2.send(
        new CreateRouteTableCommand({
          VpcId: vpcId,
          TagSpecifications: tagSpec(ctx, 'route-table', ctx.names.routeTable),
        }),
      ),
    );
    table = out.RouteTable;
    tableId = table?.RouteTableId;
    if (tableId === undefined) throw new NetworkError('CreateRouteTable returned no id.');
    changes.created(`created route table ${tableId}`);
  }
  const defaultRoute = (table?.Routes ?? []).find((r) => r.DestinationCidrBlock === ANYWHERE);
  const routeTableId = tableId;
  if (defaultRoute === undefined) {
    await onceVisible(ctx, `adding route ${ANYWHERE} -> ${gatewayId} to ${routeTableId}`, () =>
      ec2.send(
        new CreateRouteCommand({
          RouteTableId: routeTableId,
          DestinationCidrBlock: ANYWHERE,
          GatewayId: gatewayId,
        }),
      ),
    );
    changes.updated(`added route ${ANYWHERE} -> ${gatewayId} to ${tableId}`);
  } else if (defaultRoute.GatewayId !== gatewayId || defaultRoute.State === 'blackhole') {
    await onceVisible(ctx, `pointing route ${ANYWHERE} in ${routeTableId} to ${gatewayId}`, () =>
      ec2.send(
        new ReplaceRouteCommand({
          RouteTableId: routeTableId,
          DestinationCidrBlock: ANYWHERE,
          GatewayId: gatewayId,
        }),
      ),
    );
    changes.updated(`pointed route ${ANYWHERE} in ${tableId} back to ${gatewayId}`);
  }
  for (const subnetId of subnetIds) {
    if ((table?.Associations ?? []).some((a) => a.SubnetId === subnetId)) continue;
    // A subnet has at most one explicit association; if someone moved it to
    // another table, AssociateRouteTable would fail, so replace instead.
    const other = tables
      .flatMap((t) => t.Associations ?? [])
      .find((a) => a.SubnetId === subnetId && a.RouteTableAssociationId !== undefined);
    const associationId = other?.RouteTableAssociationId;
    const what = `associating subnet ${subnetId} with route table ${routeTableId}`;
    if (associationId !== undefined) {
      await onceVisible(ctx, what, () =>
        ec2.send(
          new ReplaceRouteTableAssociationCommand({
            AssociationId: associationId,
            RouteTableId: routeTableId,
          }),
        ),
      );
    } else {
      await onceVisible(ctx, what, () =>
        ec2.send(
          new AssociateRouteTableCommand({ RouteTableId: routeTableId, SubnetId: subnetId }),
        ),
      );
    }
    changes.updated(`associated subnet ${subnetId} with route table ${tableId}`);
  }
  return tableId;
}

// Security group rules are compared as flat (port, source) pairs because AWS
// groups and splits IpPermissions differently from how they were authorized.
type Source = { kind: 'cidr'; value: string } | { kind: 'group'; value: string };
interface IngressRule {
  port: number;
  source: Source;
}
interface FlatRule {
  key: string;
  permission: IpPermission;
  description: string;
}

function cidr(value: string): Source {
  return { kind: 'cidr', value };
}
function group(value: string): Source {
  return { kind: 'group', value };
}

function ruleFromDesired(rule: IngressRule): FlatRule {
  const base = { IpProtocol: 'tcp', FromPort: rule.port, ToPort: rule.port };
  const permission: IpPermission =
    rule.source.kind === 'cidr'
      ? { ...base, IpRanges: [{ CidrIp: rule.source.value }] }
      : { ...base, UserIdGroupPairs: [{ GroupId: rule.source.value }] };
  return {
    key: `tcp:${rule.port}-${rule.port}:${rule.source.kind}:${rule.source.value}`,
    permission,
    description: `tcp ${rule.port} from ${rule.source.value}`,
  };
}

function flattenPermissions(permissions: IpPermission[] | undefined): FlatRule[] {
  const rules: FlatRule[] = [];
  for (const p of permissions ?? []) {
    const base = { IpProtocol: p.IpProtocol, FromPort: p.FromPort, ToPort: p.ToPort };
    const head = `${p.IpProtocol ?? '?'}:${p.FromPort ?? ''}-${p.ToPort ?? ''}`;
    const ports = p.FromPort === p.ToPort ? `${p.FromPort}` : `${p.FromPort}-${p.ToPort}`;
    const label = `${p.IpProtocol === '-1' ? 'all traffic' : `${p.IpProtocol} ${ports}`}`;
    for (const r of p.IpRanges ?? []) {
      rules.push({
        key: `${head}:cidr:${r.CidrIp}`,
        permission: { ...base, IpRanges: [{ CidrIp: r.CidrIp }] },
        description: `${label} from ${r.CidrIp}`,
      });
    }
    for (const r of p.Ipv6Ranges ?? []) {
      rules.push({
        key: `${head}:cidr6:${r.CidrIpv6}`,
        permission: { ...base, Ipv6Ranges: [{ CidrIpv6: r.CidrIpv6 }] },
        description: `${label} from ${r.CidrIpv6}`,
      });
    }
    for (const r of p.UserIdGroupPairs ?? []) {
      rules.push({
        key: `${head}:group:${r.GroupId}`,
        permission: { ...base, UserIdGroupPairs: [{ GroupId: r.GroupId }] },
        description: `${label} from ${r.GroupId}`,
      });
    }
    for (const r of p.PrefixListIds ?? []) {
      rules.push({
        key: `${head}:prefix:${r.PrefixListId}`,
        permission: { ...base, PrefixListIds: [{ PrefixListId: r.PrefixListId }] },
        description: `${label} from ${r.PrefixListId}`,
      });
    }
  }
  return rules;
}

function hasAllowAllEgress(sg: SecurityGroup | undefined): boolean {
  return (sg?.IpPermissionsEgress ?? []).some(
    (p) => p.IpProtocol === '-1' && (p.IpRanges ?? []).some((r) => r.CidrIp === ANYWHERE),
  );
}

async function ensureSecurityGroup(
  ctx: StackContext,
  vpcId: string,
  groups: SecurityGroup[],
  desired: { name: string; description: string; ingress: IngressRule[] },
  changes: Changes,
): Promise<string> {
  const ec2 = ctx.clients.ec2;
  let sg = groups.find((g) => g.GroupName === desired.name);
  let groupId = sg?.GroupId;
  const isNew = groupId === undefined;
  if (groupId === undefined) {
    const out = await onceVisible(
      ctx,
      `creating security group ${desired.name} in VPC ${vpcId}`,
      () =>
        ec2.send(
          new CreateSecurityGroupCommand({
            GroupName: desired.name,
            Description: desired.description,
            VpcId: vpcId,
            TagSpecifications: tagSpec(ctx, 'security-group', desired.name),
          }),
        ),
    );
    groupId = out.GroupId;
    if (groupId === undefined) throw new NetworkError('CreateSecurityGroup returned no group id.');
    changes.created(`created security group ${desired.name} (${groupId})`);
    // A new group starts with the allow-all egress rule and no ingress.
    sg = {
      GroupId: groupId,
      IpPermissions: [],
      IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: ANYWHERE }] }],
    };
  }
  const want = desired.ingress.map(ruleFromDesired);
  const have = flattenPermissions(sg?.IpPermissions);
  const missing = want.filter((w) => !have.some((h) => h.key === w.key));
  const extra = have.filter((h) => !want.some((w) => w.key === h.key));
  const id = groupId;
  if (extra.length > 0) {
    await onceVisible(ctx, `revoking ingress on ${desired.name} (${id})`, () =>
      ec2.send(
        new RevokeSecurityGroupIngressCommand({
          GroupId: id,
          IpPermissions: extra.map((r) => r.permission),
        }),
      ),
    );
    for (const r of extra)
      changes.updated(`revoked unexpected ingress ${r.description} on ${desired.name}`);
  }
  if (missing.length > 0) {
    // A rule from the other new group fails while either group is not visible yet.
    await onceVisible(ctx, `allowing ingress on ${desired.name} (${id})`, () =>
      ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: id,
          IpPermissions: missing.map((r) => r.permission),
        }),
      ),
    );
    for (const r of missing) {
      changes.updated(
        `${isNew ? 'allowed' : 'added missing'} ingress ${r.description} on ${desired.name}`,
      );
    }
  }
  // Tasks pull the image and read the secret over HTTPS through the gateway.
  if (!hasAllowAllEgress(sg)) {
    await onceVisible(ctx, `restoring egress on ${desired.name} (${id})`, () =>
      ec2.send(
        new AuthorizeSecurityGroupEgressCommand({
          GroupId: id,
          IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: ANYWHERE }] }],
        }),
      ),
    );
    changes.updated(`restored allow-all egress on ${desired.name}`);
  }
  return groupId;
}

// ---------------------------------------------------------------------------
// Describe

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
  const table = tables.find((t) => !isMainRouteTable(t) && hasStackTag(ctx, t.Tags))?.RouteTableId;
  if (alb !== undefined) status.loadBalancerSecurityGroupId = alb;
  if (tasks !== undefined) status.taskSecurityGroupId = tasks;
  if (gateway !== undefined) status.internetGatewayId = gateway;
  if (table !== undefined) status.routeTableId = table;
  return status;
}

// ---------------------------------------------------------------------------
// Remove

export class NetworkRemovalTimeoutError extends Error {
  constructor(what: string, timeoutMs: number, cause: unknown) {
    super(
      `Could not finish ${what} within ${Math.round(timeoutMs / 60_000)} min: ` +
        `${errorCode(cause)}: ${errorMessage(cause)}. Something still uses it, usually network ` +
        `interfaces of a load balancer or ECS task that AWS has not released yet. ` +
        `Run "iclinic-deploy down" again in a few minutes; if it keeps failing, look for ` +
        `resources left in the VPC in the AWS console (VPC > Network interfaces).`,
    );
    this.name = 'NetworkRemovalTimeoutError';
  }
}

/**
 * Interfaces that AWS services create and release by themselves (load
 * balancer nodes, Fargate tasks). Anything else was put in the VPC by
 * someone else and will never go away if we just wait.
 */
function releasedByAws(eni: NetworkInterface): boolean {
  const description = eni.Description ?? '';
  return (
    eni.RequesterManaged === true || description.startsWith('ELB ') || description.includes(':ecs:')
  );
}

function describeEni(eni: NetworkInterface): string {
  return eni.Description !== undefined && eni.Description !== ''
    ? eni.Description
    : (eni.NetworkInterfaceId ?? 'unknown interface');
}

export async function waitForNetworkInterfacesReleased(
  ctx: StackContext,
  vpcId: string,
  timeoutMs: number,
): Promise<void> {
  let lastReported = '';
  const warned = new Set<string>();
  try {
    await pollUntil(
      ctx.clock,
      {
        what: `waiting for network interfaces in VPC ${vpcId} to be released`,
        timeoutMs,
        intervalMs: 10_000,
      },
      async () => {
        const out = await ctx.clients.ec2.send(
          new DescribeNetworkInterfacesCommand({ Filters: [vpcFilter(vpcId)] }),
        );
        const all = out.NetworkInterfaces ?? [];
        for (const eni of all.filter((e) => !releasedByAws(e))) {
          const id = eni.NetworkInterfaceId ?? '';
          if (warned.has(id)) continue;
          warned.add(id);
          ctx.report.warn(
            `Network interface ${id} (${describeEni(eni)}) in VPC ${vpcId} was not created by a load balancer or ECS task; ` +
              `iclinic-deploy does not delete it, and the VPC cannot be deleted until you remove it.`,
          );
        }
        const pending = all.filter(releasedByAws);
        const state = `${pending.length} network interface(s) (${pending.map(describeEni).join(', ')})`;
        if (pending.length > 0 && state !== lastReported) {
          ctx.report.progress(`waiting for AWS to release ${state}`);
          lastReported = state;
        }
        return { done: pending.length === 0, state };
      },
    );
  } catch (error) {
    if (error instanceof PollTimeoutError) {
      throw new NetworkRemovalTimeoutError(
        `waiting for network interfaces in VPC ${vpcId} to be released`,
        timeoutMs,
        error,
      );
    }
    throw error;
  }
}

const NOT_FOUND_CODES = [
  'InvalidGroup.NotFound',
  'InvalidGroupId.NotFound',
  'InvalidSubnetID.NotFound',
  'InvalidInternetGatewayID.NotFound',
  'InvalidRouteTableID.NotFound',
  'InvalidVpcID.NotFound',
  'InvalidAssociationID.NotFound',
  'Gateway.NotAttached',
  'InvalidPermission.NotFound',
];

function isStillInUse(error: unknown): boolean {
  return (
    hasErrorCode(error, 'DependencyViolation', 'InvalidNetworkInterface.InUse') ||
    messageMatches(error, /mapped public address/i)
  );
}

/** Deletes with retries while AWS still reports a dependency; "gone" counts as done. */
async function deleteWhenFree(
  ctx: StackContext,
  what: string,
  deadline: number,
  timeoutMs: number,
  call: () => Promise<unknown>,
): Promise<boolean> {
  let notified = false;
  try {
    await retry(
      ctx.clock,
      {
        what,
        isRetryable: isStillInUse,
        timeoutMs: Math.max(0, deadline - ctx.clock.now()),
        initialDelayMs: 5_000,
        maxDelayMs: 30_000,
        onRetry: (error, attempt, elapsed) => {
          if (!notified || attempt % 5 === 0) {
            ctx.report.progress(
              `waiting for AWS to release what still uses it before ${what} (${errorCode(error)}, ${Math.round(elapsed / 1000)} s so far)`,
            );
            notified = true;
          }
        },
      },
      call,
    );
    return true;
  } catch (error) {
    if (hasErrorCode(error, ...NOT_FOUND_CODES)) return false;
    if (error instanceof RetryTimeoutError)
      throw new NetworkRemovalTimeoutError(what, timeoutMs, error.lastError);
    throw error;
  }
}

export async function removeNetwork(
  ctx: StackContext,
  options: { timeoutMs?: number } = {},
): Promise<Removed> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_REMOVE_TIMEOUT_MS;
  const deadline = ctx.clock.now() + timeoutMs;
  const ec2 = ctx.clients.ec2;
  const removed: string[] = [];
  const remaining = () => Math.max(0, deadline - ctx.clock.now());

  for (const vpc of await findStackVpcs(ctx)) {
    const vpcId = vpc.VpcId as string;
    await waitForNetworkInterfacesReleased(ctx, vpcId, remaining());

    // The tasks group references the load balancer group, so it goes first,
    // and its rules go before it so the load balancer group is free even if
    // deleting the tasks group itself has to wait.
    const groups = (await findSecurityGroups(ctx, vpcId)).filter((g) => g.GroupName !== 'default');
    const rank = (g: SecurityGroup) =>
      g.GroupName === ctx.names.taskSecurityGroup
        ? 0
        : g.GroupName === ctx.names.loadBalancerSecurityGroup
          ? 1
          : 2;
    groups.sort((a, b) => rank(a) - rank(b));
    for (const g of groups) {
      const groupId = g.GroupId as string;
      const referencing = (g.IpPermissions ?? []).filter(
        (p) => (p.UserIdGroupPairs ?? []).length > 0,
      );
      if (referencing.length > 0) {
        try {
          await ec2.send(
            new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: referencing }),
          );
        } catch (error) {
          if (!hasErrorCode(error, ...NOT_FOUND_CODES)) throw error;
        }
      }
    }
    for (const g of groups) {
      const groupId = g.GroupId as string;
      if (
        await deleteWhenFree(
          ctx,
          `deleting security group ${g.GroupName} (${groupId})`,
          deadline,
          timeoutMs,
          () => ec2.send(new DeleteSecurityGroupCommand({ GroupId: groupId })),
        )
      ) {
        removed.push(`security group ${g.GroupName} (${groupId})`);
      }
    }

    for (const s of (await findSubnets(ctx, vpcId)).sort(byString((x) => x.CidrBlock))) {
      const subnetId = s.SubnetId as string;
      if (
        await deleteWhenFree(ctx, `deleting subnet ${subnetId}`, deadline, timeoutMs, () =>
          ec2.send(new DeleteSubnetCommand({ SubnetId: subnetId })),
        )
      ) {
        removed.push(`subnet ${subnetId} (${s.CidrBlock ?? ''})`);
      }
    }

    for (const gw of await findAttachedGateways(ctx, vpcId)) {
      const gatewayId = gw.InternetGatewayId as string;
      await deleteWhenFree(
        ctx,
        `detaching internet gateway ${gatewayId}`,
        deadline,
        timeoutMs,
        () =>
          ec2.send(
            new DetachInternetGatewayCommand({ InternetGatewayId: gatewayId, VpcId: vpcId }),
          ),
      );
      if (
        await deleteWhenFree(
          ctx,
          `deleting internet gateway ${gatewayId}`,
          deadline,
          timeoutMs,
          () => ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: gatewayId })),
        )
      ) {
        removed.push(`internet gateway ${gatewayId}`);
      }
    }

    for (const table of await findRouteTables(ctx, vpcId)) {
      if (isMainRouteTable(table)) continue; // deleted with the VPC
      const tableId = table.RouteTableId as string;
      for (const a of table.Associations ?? []) {
        if (a.RouteTableAssociationId === undefined || a.SubnetId === undefined) continue;
        // Associations of subnets deleted above are already gone.
        try {
          await ec2.send(
            new DisassociateRouteTableCommand({ AssociationId: a.RouteTableAssociationId }),
          );
        } catch (error) {
          if (!hasErrorCode(error, ...NOT_FOUND_CODES)) throw error;
        }
      }
      if (
        await deleteWhenFree(ctx, `deleting route table ${tableId}`, deadline, timeoutMs, () =>
          ec2.send(new DeleteRouteTableCommand({ RouteTableId: tableId })),
        )
      ) {
        removed.push(`route table ${tableId}`);
      }
    }

    if (
      await deleteWhenFree(ctx, `deleting VPC ${vpcId}`, deadline, timeoutMs, () =>
        ec2.send(new DeleteVpcCommand({ VpcId: vpcId })),
      )
    ) {
      removed.push(`VPC ${vpcId}`);
    }
  }

  // A gateway created by a run that stopped before attaching it.
  const leftover = await ec2.send(
    new DescribeInternetGatewaysCommand({ Filters: [stackFilter(ctx)] }),
  );
  for (const gw of leftover.InternetGateways ?? []) {
    const gatewayId = gw.InternetGatewayId as string;
    for (const a of gw.Attachments ?? []) {
      const attachedTo = a.VpcId;
      if (attachedTo === undefined) continue;
      await deleteWhenFree(
        ctx,
        `detaching internet gateway ${gatewayId}`,
        deadline,
        timeoutMs,
        () =>
          ec2.send(
            new DetachInternetGatewayCommand({ InternetGatewayId: gatewayId, VpcId: attachedTo }),
          ),
      );
    }
    if (
      await deleteWhenFree(ctx, `deleting internet gateway ${gatewayId}`, deadline, timeoutMs, () =>
        ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: gatewayId })),
      )
    ) {
      removed.push(`internet gateway ${gatewayId}`);
    }
  }
  return { removed };
}
