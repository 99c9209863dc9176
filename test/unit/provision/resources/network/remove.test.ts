import {
  DeleteSecurityGroupCommand,
  DeleteVpcCommand,
  DescribeNetworkInterfacesCommand,
  type NetworkInterface,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import {
  ensureNetwork,
  NetworkRemovalTimeoutError,
  removeNetwork,
  waitForNetworkInterfacesReleased,
} from '../../../../../provision/resources/network/index.js';
import { awsError, callInputs, mutatingOperations, testContext } from '../../../support/context.js';
import { fakeNetworkContext } from '../../../support/network-fake-ec2.js';

const settings = { containerPort: 8080, https: false };

/** Canned EC2 answers only, no fake: for the interface wait. */
function ec2TestContext() {
  const { ctx, mocks, report } = testContext();
  return { ctx, ec2: mocks.ec2, report };
}

describe('waitForNetworkInterfacesReleased', () => {
  it('polls until the load balancer interfaces are gone and says what it waits for', async () => {
    const { ctx, ec2, report } = ec2TestContext();
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
    const { ctx, ec2, report } = ec2TestContext();
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
    const { ctx, ec2 } = ec2TestContext();
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
    const { ctx, ec2, fake } = fakeNetworkContext();
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
    expect(result.changes).toHaveLength(7);
    expect(result.changes).toContainEqual({ action: 'delete', kind: 'VPC', name: value.vpcId });
    expect(fake.vpcs.filter((v) => v.IsDefault !== true)).toEqual([]);
    expect(fake.gateways).toEqual([]);
    expect(fake.subnets).toEqual([]);
  });

  it('retries DependencyViolation with a visible message, then succeeds', async () => {
    const { ctx, ec2, fake, report, clock } = fakeNetworkContext();
    await ensureNetwork(ctx, settings);
    let refusals = 2;
    const original = fake.group('iclinic-tasks').GroupId;
    const alb = fake.group('iclinic-alb').GroupId;
    ec2.on(DeleteSecurityGroupCommand).callsFake((input: { GroupId?: string }) => {
      if (input.GroupId === original && refusals > 0) {
        refusals -= 1;
        return Promise.reject(
          awsError('DependencyViolation', `resource ${original} has a dependent object`),
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
    expect(result.changes.map((c) => c.kind)).toContain('VPC');
  });

  it('gives up after the bound with an error that says what to do', async () => {
    const { ctx, ec2, fake } = fakeNetworkContext();
    await ensureNetwork(ctx, settings);
    ec2.on(DeleteVpcCommand).rejects(awsError('DependencyViolation', 'The vpc has dependencies'));

    const error = await removeNetwork(ctx, { timeoutMs: 120_000 }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NetworkRemovalTimeoutError);
    expect(String(error)).toMatch(/deleting VPC vpc-.* within 2 min: DependencyViolation/);
    expect(String(error)).toMatch(/Run "npx iclinic-deploy down" again/);
    expect(fake.vpcs.some((v) => v.IsDefault !== true)).toBe(true);
  });

  it('is a no-op when nothing exists', async () => {
    const { ctx, ec2 } = fakeNetworkContext();
    const result = await removeNetwork(ctx);
    expect(result.changes).toEqual([]);
    expect(mutatingOperations(ec2)).toEqual([]);
  });

  it('is safe to run twice', async () => {
    const { ctx, ec2 } = fakeNetworkContext();
    await ensureNetwork(ctx, settings);
    await removeNetwork(ctx);
    ec2.resetHistory();
    expect((await removeNetwork(ctx)).changes).toEqual([]);
    expect(mutatingOperations(ec2)).toEqual([]);
  });
});
