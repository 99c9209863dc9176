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
import { networkAwsError } from './network-context.js';

type Ec2Mock = AwsClientStub<EC2Client>;

interface FakeVpc extends Vpc {
  dnsSupport: boolean;
  dnsHostnames: boolean;
}

export class FakeEc2 {
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
    return `${prefix}-${String(this.counter).padStart(8, '0')}`;
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

    on(DescribeVpcsCommand, (i) => ({
      Vpcs: this.vpcs.filter(
        (v) =>
          (i.VpcIds === undefined || i.VpcIds.includes(v.VpcId ?? '')) && matches(v, i.Filters),
      ),
    }));
    on(CreateVpcCommand, (i) => ({
      Vpc: this.addVpc(i.CidrBlock ?? '', tagsOf(i.TagSpecifications)),
    }));
    on(DescribeVpcAttributeCommand, (i) => {
      const vpc = this.mustFind(this.vpcs, (v) => v.VpcId === i.VpcId, 'InvalidVpcID.NotFound');
      return i.Attribute === 'enableDnsSupport'
        ? { EnableDnsSupport: { Value: vpc.dnsSupport } }
        : { EnableDnsHostnames: { Value: vpc.dnsHostnames } };
    });
    on(ModifyVpcAttributeCommand, (i) => {
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
      AvailabilityZones: ['us-east-1c', 'us-east-1a', 'us-east-1b'].map((ZoneName) => ({
        ZoneName,
        State: 'available' as const,
        ZoneType: 'availability-zone',
      })),
    }));
    on(DescribeSubnetsCommand, (i) => ({
      Subnets: this.subnets.filter((s) => matches(s, i.Filters)),
    }));
    on(CreateSubnetCommand, (i) => {
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
      const table = this.table(i.RouteTableId);
      table.Routes?.push({
        DestinationCidrBlock: i.DestinationCidrBlock,
        GatewayId: i.GatewayId,
        State: 'active',
      });
      return { Return: true };
    });
    on(ReplaceRouteCommand, (i) => {
      const table = this.table(i.RouteTableId);
      const route = (table.Routes ?? []).find(
        (r) => r.DestinationCidrBlock === i.DestinationCidrBlock,
      );
      if (route !== undefined) route.GatewayId = i.GatewayId;
      return {};
    });
    on(AssociateRouteTableCommand, (i) => {
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
      if (this.groups.some((g) => g.VpcId === i.VpcId && g.GroupName === i.GroupName)) {
        throw networkAwsError(
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
      this.sg(i.GroupId).IpPermissions?.push(...structuredClone(i.IpPermissions ?? []));
      return { Return: true };
    });
    on(AuthorizeSecurityGroupEgressCommand, (i) => {
      this.sg(i.GroupId).IpPermissionsEgress?.push(...structuredClone(i.IpPermissions ?? []));
      return { Return: true };
    });
    on(RevokeSecurityGroupIngressCommand, (i) => {
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
    if (found === undefined) throw networkAwsError(code, `${code}: not found`);
    return found;
  }

  private remove<T>(items: T[], predicate: (item: T) => boolean, code: string): void {
    const index = items.findIndex(predicate);
    if (index < 0) throw networkAwsError(code, `${code}: not found`);
    items.splice(index, 1);
  }
}

function tagsOf(specs: TagSpecification[] | undefined): Tag[] {
  return (specs ?? []).flatMap((s) => s.Tags ?? []);
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
      throw networkAwsError('InternalFailure', `The filter '${name}' is not implemented`);
  }
}

function matches(item: Filterable, filters: Filter[] | undefined): boolean {
  return (filters ?? []).every((f) => {
    const have = valuesFor(item, f.Name ?? '');
    return (f.Values ?? []).some((v) => have.includes(v));
  });
}
