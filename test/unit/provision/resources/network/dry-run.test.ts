import { describe, expect, it } from 'vitest';
import type { StackContext } from '../../../../../provision/context.js';
import { NOT_CREATED_YET } from '../../../../../provision/plan.js';
import { ensureNetwork, removeNetwork } from '../../../../../provision/resources/network/index.js';
import { mutatingOperations } from '../../../support/context.js';
import { fakeNetworkContext } from '../../../support/network-fake-ec2.js';

const settings = { containerPort: 8080, https: false };

function dryRun(ctx: StackContext): StackContext {
  return { ...ctx, dryRun: true };
}

describe('ensureNetwork in a dry run', () => {
  it('plans every resource of an empty account without a mutating call', async () => {
    const { ctx, ec2 } = fakeNetworkContext();

    const plan = await ensureNetwork(dryRun(ctx), settings);

    expect(mutatingOperations(ec2)).toEqual([]);
    expect(plan.changes.map((c) => `${c.action} ${c.kind} ${c.name}`)).toEqual([
      'create VPC iclinic-vpc',
      'create subnet iclinic-public-1',
      'create subnet iclinic-public-2',
      'create internet gateway iclinic-igw',
      'create route table iclinic-public',
      'create route 0.0.0.0/0 in iclinic-public',
      'create route table association iclinic-public-1',
      'create route table association iclinic-public-2',
      'create security group iclinic-alb',
      'create security group rule iclinic-alb',
      'create security group iclinic-tasks',
      'create security group rule iclinic-tasks',
    ]);
    expect(plan.value).toEqual({
      vpcId: NOT_CREATED_YET,
      subnetIds: [NOT_CREATED_YET, NOT_CREATED_YET],
      availabilityZones: [NOT_CREATED_YET, NOT_CREATED_YET],
      loadBalancerSecurityGroupId: NOT_CREATED_YET,
      taskSecurityGroupId: NOT_CREATED_YET,
    });
  });

  it('plans exactly the changes the run then makes', async () => {
    const { ctx } = fakeNetworkContext();
    const plan = await ensureNetwork(dryRun(ctx), settings);
    const run = await ensureNetwork(ctx, settings);
    expect(run.changes).toEqual(plan.changes);
  });

  it('plans nothing for a converged network and returns its ids', async () => {
    const { ctx, ec2 } = fakeNetworkContext();
    const built = await ensureNetwork(ctx, settings);
    ec2.resetHistory();

    const plan = await ensureNetwork(dryRun(ctx), settings);

    expect(plan.changes).toEqual([]);
    expect(plan.value).toEqual(built.value);
    expect(mutatingOperations(ec2)).toEqual([]);
  });

  it('plans a revoked ingress rule as that one rule to add', async () => {
    const { ctx, ec2, fake } = fakeNetworkContext();
    await ensureNetwork(ctx, settings);
    fake.group('iclinic-tasks').IpPermissions = [];
    ec2.resetHistory();

    const plan = await ensureNetwork(dryRun(ctx), settings);

    expect(plan.changes).toEqual([
      {
        action: 'create',
        kind: 'security group rule',
        name: 'iclinic-tasks',
        detail: 'ingress tcp 8080 from iclinic-alb',
      },
    ]);
    expect(mutatingOperations(ec2)).toEqual([]);
  });

  it('plans public IPs turned off on a subnet as that one update, off -> on', async () => {
    const { ctx, ec2, fake } = fakeNetworkContext();
    await ensureNetwork(ctx, settings);
    const subnet = fake.subnets.find((s) => s.CidrBlock === '10.0.1.0/24');
    if (subnet === undefined) throw new Error('no subnet');
    subnet.MapPublicIpOnLaunch = false;
    ec2.resetHistory();

    const plan = await ensureNetwork(dryRun(ctx), settings);

    expect(plan.changes).toEqual([
      {
        action: 'update',
        kind: 'subnet',
        name: 'iclinic-public-2',
        detail: 'public IP on launch',
        from: 'off',
        to: 'on',
      },
    ]);
    expect(mutatingOperations(ec2)).toEqual([]);
  });
});

describe('removeNetwork in a dry run', () => {
  it('lists every delete and deletes nothing, without waiting for interfaces', async () => {
    const { ctx, ec2, fake } = fakeNetworkContext();
    const { value } = await ensureNetwork(ctx, settings);
    fake.networkInterfaces = [
      {
        NetworkInterfaceId: 'eni-1',
        Description: 'ELB app/x/y',
        RequesterManaged: true,
        VpcId: value.vpcId,
      },
    ];
    ec2.resetHistory();

    const plan = await removeNetwork(dryRun(ctx));

    expect(mutatingOperations(ec2)).toEqual([]);
    expect(plan.changes.map((c) => `${c.action} ${c.kind}`)).toEqual([
      'delete security group',
      'delete security group',
      'delete subnet',
      'delete subnet',
      'delete internet gateway',
      'delete route table',
      'delete VPC',
    ]);
    expect(plan.changes.map((c) => c.name).slice(0, 2)).toEqual(['iclinic-tasks', 'iclinic-alb']);
    expect(fake.vpcs.filter((v) => v.IsDefault !== true)).toHaveLength(1);
  });
});
