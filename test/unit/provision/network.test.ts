import {
  AttachInternetGatewayCommand,
  CreateSubnetCommand,
  DeleteSecurityGroupCommand,
  DeleteVpcCommand,
  DescribeNetworkInterfacesCommand,
  type NetworkInterface,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { STACK_TAG_KEY } from '../../../provision/names.js';
import {
  describeNetwork,
  ensureNetwork,
  NetworkError,
  NetworkRemovalTimeoutError,
  planNetwork,
  removeNetwork,
  waitForNetworkInterfacesReleased,
} from '../../../provision/network.js';
import { FakeEc2 } from '../support/network-fake-ec2.js';
import {
  callInputs,
  mutatingOperations,
  networkAwsError,
  networkTestContext,
  operations,
} from '../support/network-context.js';

const settings = { containerPort: 8080, https: false };

function setup() {
  const t = networkTestContext();
  const fake = new FakeEc2();
  fake.install(t.ec2);
  return { ...t, fake };
}

function stackTagged(input: unknown): boolean {
  const specs = (input as { TagSpecifications?: { Tags?: { Key?: string; Value?: string }[] }[] })
    .TagSpecifications;
  return (specs ?? []).some((s) =>
    (s.Tags ?? []).some((t) => t.Key === STACK_TAG_KEY && t.Value === 'iclinic'),
  );
}

describe('ensureNetwork', () => {
  it('creates every resource, tagged in the creating call', async () => {
    const { ctx, ec2, fake } = setup();

    const result = await ensureNetwork(ctx, settings);

    expect(result.outcome).toBe('created');
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
    const { ctx, fake } = setup();
    await ensureNetwork(ctx, { containerPort: 8080, https: true });
    expect((fake.group('iclinic-alb').IpPermissions ?? []).map((p) => p.FromPort).sort()).toEqual([
      443, 80,
    ]);
  });

  it('makes no mutating call when run a second time', async () => {
    const { ctx, ec2 } = setup();
    const first = await ensureNetwork(ctx, settings);
    ec2.resetHistory();

    const second = await ensureNetwork(ctx, settings);

    expect(mutatingOperations(ec2)).toEqual([]);
    expect(second.outcome).toBe('unchanged');
    expect(second.changes).toEqual([]);
    expect(second.value).toEqual(first.value);
  });

  it('re-adds a deleted ingress rule and revokes an extra one', async () => {
    const { ctx, ec2, fake } = setup();
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

    expect(result.outcome).toBe('updated');
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
    expect(result.changes.join('\n')).toMatch(/added missing ingress tcp 8080 from sg-/);
    expect(result.changes.join('\n')).toMatch(/revoked unexpected ingress tcp 22/);
  });

  it('re-creates a missing default route and subnet association', async () => {
    const { ctx, ec2, fake } = setup();
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
    expect(result.outcome).toBe('updated');
  });

  it('resumes after a crash that left a detached, tagged internet gateway', async () => {
    const { ctx, ec2, fake } = setup();
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
    const { ctx, ec2 } = setup();
    await expect(ensureNetwork(ctx, { containerPort: 70000, https: false })).rejects.toThrow(
      /Invalid container port 70000/,
    );
    expect(operations(ec2)).toEqual([]);
  });
});

// Every call ensureNetwork makes with an id it has just created.
const USES_OF_NEW_IDS = [
  'DescribeVpcs',
  'DescribeVpcAttribute',
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
      const { ctx, fake } = setup();
      fake.lagFirstUse([operation]);

      const result = await ensureNetwork(ctx, settings);

      expect(fake.lagged.some((l) => l.startsWith(`${operation} `))).toBe(true);
      expect(result.outcome).toBe('created');
      expect(result.value.subnetIds).toHaveLength(2);
    },
  );

  it('succeeds when every first use of every new id answers NotFound, and builds the same network', async () => {
    const { ctx, ec2, fake, report } = setup();
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
    const { ctx, ec2, clock } = setup();
    ec2
      .on(AttachInternetGatewayCommand)
      .rejects(
        networkAwsError(
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

function zones(region: string, pairs: [string, string][]) {
  return pairs.map(([ZoneName, ZoneId]) => ({
    ZoneName,
    ZoneId,
    RegionName: region,
    State: 'available' as const,
    ZoneType: 'availability-zone',
  }));
}

function subnetZones(fake: FakeEc2): string[] {
  return fake.subnets.map((s) => s.AvailabilityZone ?? '').sort();
}

describe('ensureNetwork zone choice', () => {
  it('moves off a zone that refuses subnets, also on the second run', async () => {
    const { ctx, fake } = setup();
    fake.zones = zones('ap-northeast-1', [
      ['ap-northeast-1a', 'apne1-az4'],
      ['ap-northeast-1b', 'apne1-az3'],
      ['ap-northeast-1c', 'apne1-az1'],
    ]);
    fake.subnetRefusedZones.add('ap-northeast-1b');

    const first = await ensureNetwork(ctx, settings);
    const second = await ensureNetwork(ctx, settings);

    expect([...first.value.availabilityZones].sort()).toEqual([
      'ap-northeast-1a',
      'ap-northeast-1c',
    ]);
    expect(second.value).toEqual(first.value);
    expect(subnetZones(fake)).toEqual(['ap-northeast-1a', 'ap-northeast-1c']);
  });

  it('takes a zone the refusal message names when the refused zone runs Fargate', async () => {
    const { ctx, ec2, fake } = setup();
    fake.zones = zones('us-east-1', [
      ['us-east-1a', 'use1-az6'],
      ['us-east-1b', 'use1-az1'],
      ['us-east-1c', 'use1-az2'],
    ]);
    fake.subnetRefusedZones.add('us-east-1b');

    const result = await ensureNetwork(ctx, settings);

    expect([...result.value.availabilityZones].sort()).toEqual(['us-east-1a', 'us-east-1c']);
    const tried = ec2
      .commandCalls(CreateSubnetCommand)
      .map((c) => c.args[0].input.AvailabilityZone);
    expect(tried.filter((z) => z === 'us-east-1b')).toHaveLength(1);
  });

  it('adds the missing subnet in a zone that accepts it when the other subnet already exists', async () => {
    const { ctx, fake } = setup();
    fake.zones = zones('us-east-1', [
      ['us-east-1a', 'use1-az6'],
      ['us-east-1b', 'use1-az1'],
      ['us-east-1c', 'use1-az2'],
    ]);
    await ensureNetwork(ctx, settings);
    // As if the run had stopped at the second subnet, whose zone now refuses subnets.
    const lost = fake.subnets.findIndex((s) => s.CidrBlock === '10.0.1.0/24');
    const [removed] = fake.subnets.splice(lost, 1);
    fake.subnetRefusedZones.add(removed?.AvailabilityZone ?? '');
    const kept = fake.subnets[0]?.AvailabilityZone;

    const second = await ensureNetwork(ctx, settings);
    const third = await ensureNetwork(ctx, settings);

    const good = ['us-east-1a', 'us-east-1b', 'us-east-1c'].filter(
      (z) => z !== kept && !fake.subnetRefusedZones.has(z),
    );
    expect(second.value.availabilityZones).toEqual([kept, ...good]);
    expect(third.value).toEqual(second.value);
    expect(third.outcome).toBe('unchanged');
  });

  it('never chooses a zone id where Fargate does not run', async () => {
    const { ctx, ec2, fake } = setup();
    fake.zones = zones('us-west-1', [
      ['us-west-1a', 'usw1-az2'],
      ['us-west-1b', 'usw1-az1'],
      ['us-west-1c', 'usw1-az3'],
    ]);

    const result = await ensureNetwork(ctx, settings);

    expect([...result.value.availabilityZones].sort()).toEqual(['us-west-1b', 'us-west-1c']);
    const tried = ec2
      .commandCalls(CreateSubnetCommand)
      .map((c) => c.args[0].input.AvailabilityZone);
    expect(tried).not.toContain('us-west-1a');
  });

  it('stops before creating a subnet with fewer than two usable zones, naming the zones seen', async () => {
    const { ctx, ec2, fake } = setup();
    fake.zones = zones('ap-northeast-1', [
      ['ap-northeast-1a', 'apne1-az3'],
      ['ap-northeast-1c', 'apne1-az1'],
    ]);

    const error = await ensureNetwork(ctx, settings).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NetworkError);
    expect(String(error)).toMatch(/ap-northeast-1a \(apne1-az3/);
    expect(String(error)).toMatch(/ap-northeast-1c \(apne1-az1/);
    expect(String(error)).toMatch(/--region/);
    expect(mutatingOperations(ec2).filter((o) => o === 'CreateSubnet')).toEqual([]);
  });

  it('stops with a clear error when every zone refuses subnets', async () => {
    const { ctx, fake } = setup();
    for (const z of fake.zones) fake.subnetRefusedZones.add(z.ZoneName ?? '');

    const error = await ensureNetwork(ctx, settings).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NetworkError);
    expect(String(error)).toMatch(/refused/);
    expect(String(error)).toMatch(/--region/);
  });
});

describe('planNetwork', () => {
  it('describes what would be created without calling AWS', () => {
    const { ctx, ec2 } = setup();
    const plan = planNetwork(ctx, { containerPort: 8080, https: true });
    expect(plan.join('\n')).toMatch(/VPC iclinic-vpc \(10\.0\.0\.0\/16/);
    expect(plan.join('\n')).toMatch(/tcp 80 and 443 from anywhere/);
    expect(operations(ec2)).toEqual([]);
  });
});

describe('describeNetwork', () => {
  it('returns nothing when the VPC does not exist', async () => {
    const { ctx } = setup();
    expect(await describeNetwork(ctx)).toEqual({});
  });

  it('finds what ensureNetwork built', async () => {
    const { ctx } = setup();
    const { value } = await ensureNetwork(ctx, settings);
    expect(await describeNetwork(ctx)).toMatchObject(value);
  });
});

describe('waitForNetworkInterfacesReleased', () => {
  it('polls until the load balancer interfaces are gone and says what it waits for', async () => {
    const { ctx, ec2, report } = networkTestContext();
    const eni: NetworkInterface = {
      NetworkInterfaceId: 'eni-1',
      Description: 'ELB app/iclinic-alb/abc',
      RequesterManaged: true,
    };
    ec2
      .on(DescribeNetworkInterfacesCommand)
      .resolvesOnce({ NetworkInterfaces: [eni] })
      .resolvesOnce({ NetworkInterfaces: [eni] })
      .resolves({ NetworkInterfaces: [] });

    await waitForNetworkInterfacesReleased(ctx, 'vpc-1', 60_000);

    expect(ec2.commandCalls(DescribeNetworkInterfacesCommand)).toHaveLength(3);
    expect(ec2.commandCalls(DescribeNetworkInterfacesCommand)[0]?.args[0].input.Filters).toEqual([
      { Name: 'vpc-id', Values: ['vpc-1'] },
    ]);
    expect(report.progressLines).toEqual([
      'waiting for AWS to release 1 network interface(s) (ELB app/iclinic-alb/abc)',
    ]);
  });

  it('does not wait for interfaces nobody but their owner will delete', async () => {
    const { ctx, ec2, report } = networkTestContext();
    ec2.on(DescribeNetworkInterfacesCommand).resolves({
      NetworkInterfaces: [
        { NetworkInterfaceId: 'eni-9', Description: 'my instance', RequesterManaged: false },
      ],
    });
    await waitForNetworkInterfacesReleased(ctx, 'vpc-1', 60_000);
    expect(ec2.commandCalls(DescribeNetworkInterfacesCommand)).toHaveLength(1);
    expect(report.warnings.join('\n')).toMatch(/eni-9/);
  });

  it('gives up after the bound with a clear error', async () => {
    const { ctx, ec2 } = networkTestContext();
    ec2.on(DescribeNetworkInterfacesCommand).resolves({
      NetworkInterfaces: [
        { NetworkInterfaceId: 'eni-1', Description: 'ELB app/x/y', RequesterManaged: true },
      ],
    });
    await expect(waitForNetworkInterfacesReleased(ctx, 'vpc-1', 60_000)).rejects.toThrow(
      NetworkRemovalTimeoutError,
    );
  });
});

describe('removeNetwork', () => {
  it('deletes in dependency order: tasks group, load balancer group, subnets, gateway, route table, VPC', async () => {
    const { ctx, ec2, fake } = setup();
    const { value } = await ensureNetwork(ctx, settings);
    ec2.resetHistory();

    const result = await removeNetwork(ctx);

    const mutations = callInputs(ec2).filter((c) => !/^Describe/.test(c.operation));
    expect(mutations.map((c) => c.operation)).toEqual([
      'RevokeSecurityGroupIngress',
      'DeleteSecurityGroup',
      'DeleteSecurityGroup',
      'DeleteSubnet',
      'DeleteSubnet',
      'DetachInternetGateway',
      'DeleteInternetGateway',
      'DeleteRouteTable',
      'DeleteVpc',
    ]);
    expect(mutations[0]?.input).toMatchObject({ GroupId: value.taskSecurityGroupId });
    expect(mutations[1]?.input).toEqual({ GroupId: value.taskSecurityGroupId });
    expect(mutations[2]?.input).toEqual({ GroupId: value.loadBalancerSecurityGroupId });
    expect(result.removed).toHaveLength(7);
    expect(result.removed.join('\n')).toContain(value.vpcId);
    expect(fake.vpcs.filter((v) => v.IsDefault !== true)).toEqual([]);
    expect(fake.gateways).toEqual([]);
    expect(fake.subnets).toEqual([]);
  });

  it('retries DependencyViolation with a visible message, then succeeds', async () => {
    const { ctx, ec2, fake, report, clock } = setup();
    await ensureNetwork(ctx, settings);
    let refusals = 2;
    const original = fake.group('iclinic-tasks').GroupId;
    const alb = fake.group('iclinic-alb').GroupId;
    ec2.on(DeleteSecurityGroupCommand).callsFake((input: { GroupId?: string }) => {
      if (input.GroupId === original && refusals > 0) {
        refusals -= 1;
        return Promise.reject(
          networkAwsError('DependencyViolation', `resource ${original} has a dependent object`),
        );
      }
      fake.groups.splice(
        fake.groups.findIndex((g) => g.GroupId === input.GroupId),
        1,
      );
      return Promise.resolve({});
    });

    const result = await removeNetwork(ctx);

    expect(
      ec2.commandCalls(DeleteSecurityGroupCommand).map((c) => c.args[0].input.GroupId),
    ).toEqual([original, original, original, alb]);
    expect(clock.slept.length).toBeGreaterThanOrEqual(2);
    expect(report.progressLines.some((l) => l.includes('waiting for AWS to release'))).toBe(true);
    expect(result.removed.join('\n')).toContain('VPC');
  });

  it('gives up after the bound with an error that says what to do', async () => {
    const { ctx, ec2, fake } = setup();
    await ensureNetwork(ctx, settings);
    ec2
      .on(DeleteVpcCommand)
      .rejects(networkAwsError('DependencyViolation', 'The vpc has dependencies'));

    const error = await removeNetwork(ctx, { timeoutMs: 120_000 }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NetworkRemovalTimeoutError);
    expect(String(error)).toMatch(/deleting VPC vpc-.* within 2 min: DependencyViolation/);
    expect(String(error)).toMatch(/Run "iclinic-deploy down" again/);
    expect(fake.vpcs.some((v) => v.IsDefault !== true)).toBe(true);
  });

  it('is a no-op when nothing exists', async () => {
    const { ctx, ec2 } = setup();
    const result = await removeNetwork(ctx);
    expect(result.removed).toEqual([]);
    expect(mutatingOperations(ec2)).toEqual([]);
  });

  it('is safe to run twice', async () => {
    const { ctx, ec2 } = setup();
    await ensureNetwork(ctx, settings);
    await removeNetwork(ctx);
    ec2.resetHistory();
    expect((await removeNetwork(ctx)).removed).toEqual([]);
    expect(mutatingOperations(ec2)).toEqual([]);
  });
});
