/**
 * A small in-memory EC2 behind aws-sdk-client-mock: enough of the VPC API for
 * ensureNetwork/removeNetwork to run twice against the same state. Like moto
 * it starts with a default VPC (so unfiltered lookups would find it) and
 * rejects filter names it does not know.
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
  type EC2Client,
  type Filter,
  type InternetGateway,
  type IpPermission,
  type NetworkInterface,
  type RouteTable,
  type SecurityGroup,
  type Subnet,
  type Tag,
  type TagSpecification,
  type Vpc,
} from '@aws-sdk/client-ec2';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { awsError, testContext } from './context.js';

type Ec2Mock = AwsClientStub<EC2Client>;

/** A test context whose EC2 client answers from a fresh FakeEc2. */
export function fakeNetworkContext(stack = 'iclinic') {
  const { ctx, mocks, clock, report } = testContext(stack);
  const fake = new FakeEc2();
  fake.install(mocks.ec2);
  return { ctx, ec2: mocks.ec2, elbv2: mocks.elbv2, clock, report, fake };
}

interface FakeVpc extends Vpc {
  dnsSupport: boolean;
  dnsHostnames: boolean;
}

/** The code EC2 answers by default for an id it does not (yet) know, by the id's prefix. */
export const NOT_FOUND_BY_PREFIX: Readonly<Record<string, string>> = {
  vpc: 'InvalidVpcID.NotFound',
  subnet: 'InvalidSubnetID.NotFound',
  igw: 'InvalidInternetGatewayID.NotFound',
  rtb: 'InvalidRouteTableID.NotFound',
  sg: 'InvalidGroup.NotFound',
};

export class FakeEc2 {
  /** What DescribeAvailabilityZones answers; zone ids as in a real account. */
  zones: AvailabilityZone[] = [
    ['us-east-1c', 'use1-az6'],
    ['us-east-1a', 'use1-az2'],
    ['us-east-1b', 'use1-az4'],
  ].map(([ZoneName, ZoneId]) => ({
    ZoneName,
    ZoneId,
    RegionName: 'us-east-1',
    State: 'available' as const,
    ZoneType: 'availability-zone',
  }));
  /** Zone names where CreateSubnet answers "Subnets can currently only be created in ...". */
  readonly subnetRefusedZones = new Set<string>();
  /** Each `operation id` answered NotFound because the id was too new, in order. */
  readonly lagged: string[] = [];
  /** The NotFound codes those answers used. */
  readonly laggedCodes = new Set<string>();
  private lagOperations: ReadonlySet<string> | 'all' | undefined;
  private lagCodes: Readonly<Record<string, string>> = NOT_FOUND_BY_PREFIX;
  private readonly newIds = new Set<string>();
  private readonly seen = new Set<string>();
  readonly vpcs: FakeVpc[] = [];
  readonly subnets: Subnet[] = [];
  readonly gateways: InternetGateway[] = [];
  readonly routeTables: RouteTable[] = [];
  readonly groups: SecurityGroup[] = [];
  networkInterfaces: NetworkInterface[] = [];
  private counter = 0;

  constructor() {
    const vpc = this.addVpc('172.31.0.0/16', []);
    vpc.IsDefault = true;
  }

  private id(prefix: string): string {
    this.counter += 1;
    const id = `${prefix}-${String(this.counter).padStart(8, '0')}`;
    if (this.lagOperations !== undefined) this.newIds.add(id);
    return id;
  }

  /**
   * From now on, the first call of each given operation (all by default) that
   * names an id created after this call answers that id's NotFound code, as
   * EC2 may right after a create (EC2 developer guide, "Eventual consistency").
   * `codes` replaces the code for some id prefixes: EC2 spells some of them
   * two ways ("InvalidSubnetID" and "InvalidSubnetId").
   */
  lagFirstUse(operations?: string[], codes: Readonly<Record<string, string>> = {}): void {
    this.lagOperations = operations === undefined ? 'all' : new Set(operations);
    this.lagCodes = { ...NOT_FOUND_BY_PREFIX, ...codes };
  }

  private visible(operation: string, ...ids: (string | undefined)[]): void {
    const lags = this.lagOperations;
    if (lags === undefined || (lags !== 'all' && !lags.has(operation))) return;
    for (const id of ids) {
      if (id === undefined || !this.newIds.has(id)) continue;
      const key = `${operation} ${id}`;
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      const code = this.lagCodes[id.split('-')[0] ?? ''] ?? 'InvalidID.NotFound';
      this.lagged.push(key);
      this.laggedCodes.add(code);
      throw awsError(code, `The ID '${id}' does not exist`);
    }
  }

  private addVpc(cidr: string, tags: Tag[]): FakeVpc {
    const vpc: FakeVpc = {
      VpcId: this.id('vpc'),
      CidrBlock: cidr,
      State: 'available',
      Tags: tags,
      dnsSupport: true,
      dnsHostnames: false,
    };
    this.vpcs.push(vpc);
    this.routeTables.push({
      RouteTableId: this.id('rtb'),
      VpcId: vpc.VpcId,
      Routes: [{ DestinationCidrBlock: cidr, GatewayId: 'local', State: 'active' }],
      Associations: [{ Main: true, RouteTableAssociationId: this.id('rtbassoc') }],
      Tags: [],
    });
    this.groups.push({
      GroupId: this.id('sg'),
      GroupName: 'default',
      VpcId: vpc.VpcId,
      IpPermissions: [],
      IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      Tags: [],
    });
    return vpc;
  }

  group(name: string): SecurityGroup {
    const found = this.groups.find((g) => g.GroupName === name);
    if (found === undefined) throw new Error(`no group ${name}`);
    return found;
  }

  install(mock: Ec2Mock): void {
    const on = <I, O>(command: new (input: I) => { input: I }, handler: (input: I) => O): void => {
      // The stub's generic types are too wide to name here; the handlers are typed.
      (mock as unknown as { on(c: unknown): { callsFake(f: (i: I) => Promise<O>): void } })
        .on(command)
        .callsFake((input: I) => {
          try {
            return Promise.resolve(handler(input));
          } catch (error) {
            return Promise.reject(error);
          }
        });
    };

    on(DescribeVpcsCommand, (i) => {
      this.visible('DescribeVpcs', ...(i.VpcIds ?? []));
      return {
        Vpcs: this.vpcs.filter(
          (v) =>
            (i.VpcIds === undefined || i.VpcIds.includes(v.VpcId ?? '')) && matches(v, i.Filters),
        ),
      };
    });
    on(CreateVpcCommand, (i) => ({
      Vpc: this.addVpc(i.CidrBlock ?? '', tagsOf(i.TagSpecifications)),
    }));
    on(DescribeVpcAttributeCommand, (i) => {
      this.visible('DescribeVpcAttribute', i.VpcId);
      const vpc = this.mustFind(this.vpcs, (v) => v.VpcId === i.VpcId, 'InvalidVpcID.NotFound');
      return i.Attribute === 'enableDnsSupport'
        ? { EnableDnsSupport: { Value: vpc.dnsSupport } }
        : { EnableDnsHostnames: { Value: vpc.dnsHostnames } };
    });
    on(ModifyVpcAttributeCommand, (i) => {
      this.visible('ModifyVpcAttribute', i.VpcId);
      const vpc = this.mustFind(this.vpcs, (v) => v.VpcId === i.VpcId, 'InvalidVpcID.NotFound');
      if (i.EnableDnsSupport?.Value !== undefined) vpc.dnsSupport = i.EnableDnsSupport.Value;
      if (i.EnableDnsHostnames?.Value !== undefined) vpc.dnsHostnames = i.EnableDnsHostnames.Value;
      return {};
    });
    on(DeleteVpcCommand, (i) => {
      this.remove(this.vpcs, (v) => v.VpcId === i.VpcId, 'InvalidVpcID.NotFound');
      this.routeTables.splice(
        0,
        this.routeTables.length,
        ...this.routeTables.filter((t) => t.VpcId !== i.VpcId),
      );
      this.groups.splice(0, this.groups.length, ...this.groups.filter((g) => g.VpcId !== i.VpcId));
      return {};
    });

    on(DescribeAvailabilityZonesCommand, () => ({
      AvailabilityZones: structuredClone(this.zones),
    }));
    on(DescribeSubnetsCommand, (i) => ({
      Subnets: this.subnets.filter((s) => matches(s, i.Filters)),
    }));
    on(CreateSubnetCommand, (i) => {
      this.visible('CreateSubnet', i.VpcId);
      if (this.subnetRefusedZones.has(i.AvailabilityZone ?? '')) {
        const allowed = this.zones
          .map((z) => z.ZoneName ?? '')
          .filter((name) => !this.subnetRefusedZones.has(name));
        // The message seen in older accounts, e.g. awslabs/ecs-refarch-continuous-deployment#12.
        throw awsError(
          'InvalidParameterValue',
          `Value (${i.AvailabilityZone}) for parameter availabilityZone is invalid. ` +
            `Subnets can currently only be created in the following availability zones: ${allowed.join(', ')}.`,
        );
      }
      const subnet: Subnet = {
        SubnetId: this.id('subnet'),
        VpcId: i.VpcId,
        CidrBlock: i.CidrBlock,
        AvailabilityZone: i.AvailabilityZone,
        MapPublicIpOnLaunch: false,
        Tags: tagsOf(i.TagSpecifications),
      };
      this.subnets.push(subnet);
      return { Subnet: subnet };
    });
    on(ModifySubnetAttributeCommand, (i) => {
      this.visible('ModifySubnetAttribute', i.SubnetId);
      const subnet = this.mustFind(
        this.subnets,
        (s) => s.SubnetId === i.SubnetId,
        'InvalidSubnetID.NotFound',
      );
      subnet.MapPublicIpOnLaunch = i.MapPublicIpOnLaunch?.Value;
      return {};
    });
    on(DeleteSubnetCommand, (i) => {
      this.remove(this.subnets, (s) => s.SubnetId === i.SubnetId, 'InvalidSubnetID.NotFound');
      for (const t of this.routeTables) {
        t.Associations = (t.Associations ?? []).filter((a) => a.SubnetId !== i.SubnetId);
      }
      return {};
    });

    on(DescribeInternetGatewaysCommand, (i) => ({
      InternetGateways: this.gateways.filter((g) => matches(g, i.Filters)),
    }));
    on(CreateInternetGatewayCommand, (i) => {
      const gateway: InternetGateway = {
        InternetGatewayId: this.id('igw'),
        Attachments: [],
        Tags: tagsOf(i.TagSpecifications),
      };
      this.gateways.push(gateway);
      return { InternetGateway: gateway };
    });
    on(AttachInternetGatewayCommand, (i) => {
      this.visible('AttachInternetGateway', i.InternetGatewayId, i.VpcId);
      const gateway = this.mustFind(
        this.gateways,
        (g) => g.InternetGatewayId === i.InternetGatewayId,
        'InvalidInternetGatewayID.NotFound',
      );
      gateway.Attachments = [{ VpcId: i.VpcId, State: 'attached' }];
      return {};
    });
    on(DetachInternetGatewayCommand, (i) => {
      const gateway = this.mustFind(
        this.gateways,
        (g) => g.InternetGatewayId === i.InternetGatewayId,
        'InvalidInternetGatewayID.NotFound',
      );
      gateway.Attachments = [];
      return {};
    });
    on(DeleteInternetGatewayCommand, (i) => {
      this.remove(
        this.gateways,
        (g) => g.InternetGatewayId === i.InternetGatewayId,
        'InvalidInternetGatewayID.NotFound',
      );
      return {};
    });

    on(DescribeRouteTablesCommand, (i) => ({
      RouteTables: this.routeTables.filter((t) => matches(t, i.Filters)),
    }));
    on(CreateRouteTableCommand, (i) => {
      this.visible('CreateRouteTable', i.VpcId);
      const vpc = this.mustFind(this.vpcs, (v) => v.VpcId === i.VpcId, 'InvalidVpcID.NotFound');
      const table: RouteTable = {
        RouteTableId: this.id('rtb'),
        VpcId: i.VpcId,
        Routes: [{ DestinationCidrBlock: vpc.CidrBlock, GatewayId: 'local', State: 'active' }],
        Associations: [],
        Tags: tagsOf(i.TagSpecifications),
      };
      this.routeTables.push(table);
      return { RouteTable: structuredClone(table) };
    });
    on(CreateRouteCommand, (i) => {
      this.visible('CreateRoute', i.RouteTableId, i.GatewayId);
      const table = this.table(i.RouteTableId);
      table.Routes?.push({
        DestinationCidrBlock: i.DestinationCidrBlock,
        GatewayId: i.GatewayId,
        State: 'active',
      });
      return { Return: true };
    });
    on(ReplaceRouteCommand, (i) => {
      this.visible('ReplaceRoute', i.RouteTableId, i.GatewayId);
      const table = this.table(i.RouteTableId);
      const route = (table.Routes ?? []).find(
        (r) => r.DestinationCidrBlock === i.DestinationCidrBlock,
      );
      if (route !== undefined) route.GatewayId = i.GatewayId;
      return {};
    });
    on(AssociateRouteTableCommand, (i) => {
      this.visible('AssociateRouteTable', i.RouteTableId, i.SubnetId);
      const associationId = this.id('rtbassoc');
      this.table(i.RouteTableId).Associations?.push({
        RouteTableAssociationId: associationId,
        SubnetId: i.SubnetId,
        RouteTableId: i.RouteTableId,
        Main: false,
      });
      return { AssociationId: associationId };
    });
    on(ReplaceRouteTableAssociationCommand, (i) => {
      this.visible('ReplaceRouteTableAssociation', i.RouteTableId);
      for (const t of this.routeTables) {
        const a = (t.Associations ?? []).find((x) => x.RouteTableAssociationId === i.AssociationId);
        if (a === undefined) continue;
        t.Associations = (t.Associations ?? []).filter((x) => x !== a);
        this.table(i.RouteTableId).Associations?.push({ ...a, RouteTableId: i.RouteTableId });
      }
      return { NewAssociationId: i.AssociationId };
    });
    on(DisassociateRouteTableCommand, (i) => {
      for (const t of this.routeTables) {
        t.Associations = (t.Associations ?? []).filter(
          (a) => a.RouteTableAssociationId !== i.AssociationId,
        );
      }
      return {};
    });
    on(DeleteRouteTableCommand, (i) => {
      this.remove(
        this.routeTables,
        (t) => t.RouteTableId === i.RouteTableId,
        'InvalidRouteTableID.NotFound',
      );
      return {};
    });

    on(DescribeSecurityGroupsCommand, (i) => ({
      SecurityGroups: structuredClone(this.groups.filter((g) => matches(g, i.Filters))),
    }));
    on(CreateSecurityGroupCommand, (i) => {
      this.visible('CreateSecurityGroup', i.VpcId);
      if (this.groups.some((g) => g.VpcId === i.VpcId && g.GroupName === i.GroupName)) {
        throw awsError(
          'InvalidGroup.Duplicate',
          `The security group '${i.GroupName}' already exists`,
        );
      }
      const group: SecurityGroup = {
        GroupId: this.id('sg'),
        GroupName: i.GroupName,
        Description: i.Description,
        VpcId: i.VpcId,
        IpPermissions: [],
        IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
        Tags: tagsOf(i.TagSpecifications),
      };
      this.groups.push(group);
      return { GroupId: group.GroupId };
    });
    on(AuthorizeSecurityGroupIngressCommand, (i) => {
      this.visible(
        'AuthorizeSecurityGroupIngress',
        i.GroupId,
        ...referencedGroups(i.IpPermissions),
      );
      this.sg(i.GroupId).IpPermissions?.push(...structuredClone(i.IpPermissions ?? []));
      return { Return: true };
    });
    on(AuthorizeSecurityGroupEgressCommand, (i) => {
      this.visible('AuthorizeSecurityGroupEgress', i.GroupId);
      this.sg(i.GroupId).IpPermissionsEgress?.push(...structuredClone(i.IpPermissions ?? []));
      return { Return: true };
    });
    on(RevokeSecurityGroupIngressCommand, (i) => {
      this.visible('RevokeSecurityGroupIngress', i.GroupId);
      const sg = this.sg(i.GroupId);
      const revoked = new Set((i.IpPermissions ?? []).map(permissionKey));
      sg.IpPermissions = (sg.IpPermissions ?? []).filter((p) => !revoked.has(permissionKey(p)));
      return { Return: true };
    });
    on(DeleteSecurityGroupCommand, (i) => {
      this.remove(this.groups, (g) => g.GroupId === i.GroupId, 'InvalidGroup.NotFound');
      return {};
    });

    on(DescribeNetworkInterfacesCommand, (i) => ({
      NetworkInterfaces: this.networkInterfaces.filter((n) => matches(n, i.Filters)),
    }));
  }

  private sg(groupId: string | undefined): SecurityGroup {
    return this.mustFind(this.groups, (g) => g.GroupId === groupId, 'InvalidGroup.NotFound');
  }

  private table(tableId: string | undefined): RouteTable {
    return this.mustFind(
      this.routeTables,
      (t) => t.RouteTableId === tableId,
      'InvalidRouteTableID.NotFound',
    );
  }

  private mustFind<T>(items: T[], predicate: (item: T) => boolean, code: string): T {
    const found = items.find(predicate);
    if (found === undefined) throw awsError(code, `${code}: not found`);
    return found;
  }

  private remove<T>(items: T[], predicate: (item: T) => boolean, code: string): void {
    const index = items.findIndex(predicate);
    if (index < 0) throw awsError(code, `${code}: not found`);
    items.splice(index, 1);
  }
}

function tagsOf(specs: TagSpecification[] | undefined): Tag[] {
  return (specs ?? []).flatMap((s) => s.Tags ?? []);
}

function referencedGroups(permissions: IpPermission[] | undefined): (string | undefined)[] {
  return (permissions ?? []).flatMap((p) => (p.UserIdGroupPairs ?? []).map((g) => g.GroupId));
}

function permissionKey(p: IpPermission): string {
  return JSON.stringify([
    p.IpProtocol,
    p.FromPort,
    p.ToPort,
    (p.IpRanges ?? []).map((r) => r.CidrIp),
    (p.UserIdGroupPairs ?? []).map((r) => r.GroupId),
  ]);
}

interface Filterable {
  Tags?: Tag[];
  TagSet?: Tag[];
  VpcId?: string;
  GroupName?: string;
  Attachments?: { VpcId?: string }[];
  Associations?: { SubnetId?: string }[];
}

function valuesFor(item: Filterable, name: string): (string | undefined)[] {
  if (name.startsWith('tag:')) {
    const key = name.slice(4);
    return (item.Tags ?? item.TagSet ?? []).filter((t) => t.Key === key).map((t) => t.Value);
  }
  switch (name) {
    case 'vpc-id':
      return [item.VpcId];
    case 'group-name':
      return [item.GroupName];
    case 'attachment.vpc-id':
      return (item.Attachments ?? []).map((a) => a.VpcId);
    case 'association.subnet-id':
      return (item.Associations ?? []).map((a) => a.SubnetId);
    default:
      // moto answers HTTP 500 for filters it does not implement.
      throw awsError('InternalFailure', `The filter '${name}' is not implemented`);
  }
}

function matches(item: Filterable, filters: Filter[] | undefined): boolean {
  return (filters ?? []).every((f) => {
    const have = valuesFor(item, f.Name ?? '');
    return (f.Values ?? []).some((v) => have.includes(v));
  });
}
