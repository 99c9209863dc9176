import { AttachInternetGatewayCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { STACK_TAG_KEY } from '../../../../../provision/names.js';
import { outcomeOf } from '../../../../../provision/plan.js';
import {
  describeNetwork,
  ensureNetwork,
  NetworkError,
} from '../../../../../provision/resources/network/index.js';
import { awsError, callInputs, mutatingOperations, operations } from '../../../support/context.js';
import { fakeNetworkContext } from '../../../support/network-fake-ec2.js';

const settings = { containerPort: 8080, https: false };

function stackTagged(input: unknown): boolean {
  const specs = (input as { TagSpecifications?: { Tags?: { Key?: string; Value?: string }[] }[] })
    .TagSpecifications;
  return (specs ?? []).some((s) =>
    (s.Tags ?? []).some((t) => t.Key === STACK_TAG_KEY && t.Value === 'iclinic'),
  );
}

describe('ensureNetwork', () => {
  it('creates every resource, tagged in the creating call', async () => {
    const { ctx, ec2, fake } = fakeNetworkContext();

    const result = await ensureNetwork(ctx, settings);

    expect(outcomeOf(result.changes)).toBe('created');
    const creates = callInputs(ec2).filter(
      (c) => c.operation.startsWith('Create') && c.operation !== 'CreateRoute',
    );
    expect(creates.map((c) => c.operation).sort()).toEqual([
      'CreateInternetGateway',
      'CreateRouteTable',
      'CreateSecurityGroup',
      'CreateSecurityGroup',
      'CreateSubnet',
      'CreateSubnet',
      'CreateVpc',
    ]);
    for (const c of creates) expect(stackTagged(c.input), c.operation).toBe(true);

    const vpc = fake.vpcs.find((v) => v.VpcId === result.value.vpcId);
    expect(vpc).toMatchObject({ CidrBlock: '10.0.0.0/16', dnsSupport: true, dnsHostnames: true });
    expect(result.value.availabilityZones).toEqual(['us-east-1a', 'us-east-1b']);
    const subnets = fake.subnets.filter((s) => s.VpcId === vpc?.VpcId);
    expect(subnets.map((s) => [s.CidrBlock, s.MapPublicIpOnLaunch])).toEqual([
      ['10.0.0.0/24', true],
      ['10.0.1.0/24', true],
    ]);
    const gateway = fake.gateways[0];
    expect(gateway?.Attachments).toEqual([{ VpcId: vpc?.VpcId, State: 'attached' }]);
    const table = fake.routeTables.find((t) => t.VpcId === vpc?.VpcId && (t.Tags ?? []).length > 0);
    expect(table?.Routes).toContainEqual(
      expect.objectContaining({
        DestinationCidrBlock: '0.0.0.0/0',
        GatewayId: gateway?.InternetGatewayId,
      }),
    );
    expect((table?.Associations ?? []).map((a) => a.SubnetId).sort()).toEqual(
      [...result.value.subnetIds].sort(),
    );
    const alb = fake.group('iclinic-alb');
    const tasks = fake.group('iclinic-tasks');
    expect(alb.IpPermissions).toEqual([
      { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
    ]);
    expect(tasks.IpPermissions).toEqual([
      {
        IpProtocol: 'tcp',
        FromPort: 8080,
        ToPort: 8080,
        UserIdGroupPairs: [{ GroupId: alb.GroupId }],
      },
    ]);
    expect(tasks.IpPermissionsEgress).toEqual([
      { IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
    ]);
    expect(result.value).toMatchObject({
      loadBalancerSecurityGroupId: alb.GroupId,
      taskSecurityGroupId: tasks.GroupId,
    });
  });

  it('opens 443 on the load balancer group when https is on', async () => {
    const { ctx, fake } = fakeNetworkContext();
    await ensureNetwork(ctx, { containerPort: 8080, https: true });
    expect((fake.group('iclinic-alb').IpPermissions ?? []).map((p) => p.FromPort).sort()).toEqual([
      443, 80,
    ]);
  });

  it('makes no mutating call when run a second time', async () => {
    const { ctx, ec2 } = fakeNetworkContext();
    const first = await ensureNetwork(ctx, settings);
    ec2.resetHistory();

    const second = await ensureNetwork(ctx, settings);

    expect(mutatingOperations(ec2)).toEqual([]);
    expect(outcomeOf(second.changes)).toBe('unchanged');
    expect(second.changes).toEqual([]);
    expect(second.value).toEqual(first.value);
  });

  it('re-adds a deleted ingress rule and revokes an extra one', async () => {
    const { ctx, ec2, fake } = fakeNetworkContext();
    await ensureNetwork(ctx, settings);
    fake.group('iclinic-tasks').IpPermissions = [];
    fake.group('iclinic-alb').IpPermissions?.push({
      IpProtocol: 'tcp',
      FromPort: 22,
      ToPort: 22,
      IpRanges: [{ CidrIp: '0.0.0.0/0' }],
    });
    ec2.resetHistory();

    const result = await ensureNetwork(ctx, settings);

    expect(mutatingOperations(ec2)).toEqual([
      'RevokeSecurityGroupIngress',
      'AuthorizeSecurityGroupIngress',
    ]);
    expect(fake.group('iclinic-tasks').IpPermissions).toEqual([
      {
        IpProtocol: 'tcp',
        FromPort: 8080,
        ToPort: 8080,
        UserIdGroupPairs: [{ GroupId: fake.group('iclinic-alb').GroupId }],
      },
    ]);
    expect(fake.group('iclinic-alb').IpPermissions).toHaveLength(1);
    expect(result.changes).toEqual([
      {
        action: 'delete',
        kind: 'security group rule',
        name: 'iclinic-alb',
        detail: 'ingress tcp 22 from 0.0.0.0/0',
      },
      {
        action: 'create',
        kind: 'security group rule',
        name: 'iclinic-tasks',
        detail: 'ingress tcp 8080 from iclinic-alb',
      },
    ]);
  });

  it('re-creates a missing default route and subnet association', async () => {
    const { ctx, ec2, fake } = fakeNetworkContext();
    const { value } = await ensureNetwork(ctx, settings);
    const table = fake.routeTables.find(
      (t) => t.VpcId === value.vpcId && (t.Tags ?? []).length > 0,
    );
    if (table === undefined) throw new Error('no route table');
    table.Routes = (table.Routes ?? []).filter((r) => r.DestinationCidrBlock !== '0.0.0.0/0');
    table.Associations = (table.Associations ?? []).filter(
      (a) => a.SubnetId !== value.subnetIds[1],
    );
    ec2.resetHistory();

    const result = await ensureNetwork(ctx, settings);

    expect(mutatingOperations(ec2)).toEqual(['CreateRoute', 'AssociateRouteTable']);
    expect(result.changes.map((c) => `${c.action} ${c.kind} ${c.name}`)).toEqual([
      `create route 0.0.0.0/0 in ${ctx.names.routeTable}`,
      `create route table association ${ctx.names.publicSubnet(1)}`,
    ]);
  });

  it('resumes after a crash that left a detached, tagged internet gateway', async () => {
    const { ctx, ec2, fake } = fakeNetworkContext();
    await ensureNetwork(ctx, settings);
    const gateway = fake.gateways[0];
    if (gateway === undefined) throw new Error('no gateway');
    gateway.Attachments = [];
    ec2.resetHistory();

    await ensureNetwork(ctx, settings);

    expect(mutatingOperations(ec2)).toEqual(['AttachInternetGateway']);
    expect(fake.gateways).toHaveLength(1);
  });

  it('rejects an invalid container port before calling AWS', async () => {
    const { ctx, ec2 } = fakeNetworkContext();
    await expect(ensureNetwork(ctx, { containerPort: 70000, https: false })).rejects.toThrow(
      /Invalid container port 70000/,
    );
    expect(operations(ec2)).toEqual([]);
  });
});

// Every call ensureNetwork makes with an id it has just created. (A new VPC's
// DNS attributes are known, so DescribeVpcAttribute is sent only for an existing one.)
const USES_OF_NEW_IDS = [
  'DescribeVpcs',
  'ModifyVpcAttribute',
  'CreateSubnet',
  'ModifySubnetAttribute',
  'AttachInternetGateway',
  'CreateRouteTable',
  'CreateRoute',
  'AssociateRouteTable',
  'CreateSecurityGroup',
  'AuthorizeSecurityGroupIngress',
];

describe('ensureNetwork right after each create (EC2 eventual consistency)', () => {
  it.each(USES_OF_NEW_IDS)(
    'succeeds when the first %s of a new id answers NotFound',
    async (operation) => {
      const { ctx, fake } = fakeNetworkContext();
      fake.lagFirstUse([operation]);

      const result = await ensureNetwork(ctx, settings);

      expect(fake.lagged.some((l) => l.startsWith(`${operation} `))).toBe(true);
      expect(outcomeOf(result.changes)).toBe('created');
      expect(result.value.subnetIds).toHaveLength(2);
    },
  );

  it('succeeds when every first use of every new id answers NotFound, and builds the same network', async () => {
    const { ctx, ec2, fake, report } = fakeNetworkContext();
    fake.lagFirstUse();

    const result = await ensureNetwork(ctx, settings);

    expect(fake.lagged.length).toBeGreaterThanOrEqual(USES_OF_NEW_IDS.length);
    expect(fake.group('iclinic-tasks').IpPermissions).toEqual([
      {
        IpProtocol: 'tcp',
        FromPort: 8080,
        ToPort: 8080,
        UserIdGroupPairs: [{ GroupId: fake.group('iclinic-alb').GroupId }],
      },
    ]);
    expect(fake.gateways[0]?.Attachments).toEqual([
      { VpcId: result.value.vpcId, State: 'attached' },
    ]);
    expect(callInputs(ec2).filter((c) => c.operation === 'CreateVpc')).toHaveLength(1);
    expect(report.progressLines.join('\n')).toMatch(/not visible yet|waiting for AWS/);
  });

  it('gives up after about two minutes when the new id never shows, naming it', async () => {
    const { ctx, ec2, clock } = fakeNetworkContext();
    ec2
      .on(AttachInternetGatewayCommand)
      .rejects(
        awsError(
          'InvalidInternetGatewayID.NotFound',
          "The internetGateway ID 'igw-1' does not exist",
        ),
      );
    const started = clock.now();

    const error = await ensureNetwork(ctx, settings).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NetworkError);
    expect(String(error)).toMatch(/InvalidInternetGatewayID\.NotFound/);
    expect(String(error)).toMatch(/attaching internet gateway igw-/);
    expect(String(error)).toMatch(/iclinic-deploy up/);
    const waited = clock.now() - started;
    expect(waited).toBeGreaterThan(60_000);
    expect(waited).toBeLessThanOrEqual(120_000);
  });
});

describe('describeNetwork', () => {
  it('returns nothing when the VPC does not exist', async () => {
    const { ctx } = fakeNetworkContext();
    expect(await describeNetwork(ctx)).toEqual({});
  });

  it('finds what ensureNetwork built', async () => {
    const { ctx } = fakeNetworkContext();
    const { value } = await ensureNetwork(ctx, settings);
    expect(await describeNetwork(ctx)).toMatchObject(value);
  });
});
