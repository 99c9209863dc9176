import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeNetworkInterfacesCommand,
} from '@aws-sdk/client-ec2';
import { CreateLoadBalancerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testClients, type TestClients } from '../../support/aws.js';
import { startMoto, type Moto } from '../../support/moto.js';
import { dependencyRules } from '../../support/strict-aws/rules/dependencies.js';
import type { AwsRequest, RuleEnv, StrictRule } from '../../support/strict-aws/types.js';
import { motoEnv, ok, request } from './rules-env.js';

let moto: Moto;
let clients: TestClients;
let env: RuleEnv;

beforeAll(async () => {
  moto = await startMoto();
  clients = testClients(moto.endpoint);
  env = motoEnv(moto.endpoint);
}, 90_000);
afterAll(() => moto?.stop());

async function network() {
  const vpcId =
    (await clients.ec2.send(new CreateVpcCommand({ CidrBlock: '10.9.0.0/16' }))).Vpc?.VpcId ?? '';
  const subnet = async (cidr: string, zone: string) =>
    (
      await clients.ec2.send(
        new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr, AvailabilityZone: zone }),
      )
    ).Subnet?.SubnetId ?? '';
  const subnets = [
    await subnet('10.9.1.0/24', 'us-east-1a'),
    await subnet('10.9.2.0/24', 'us-east-1b'),
  ];
  const group = async (name: string) =>
    (
      await clients.ec2.send(
        new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: name, Description: name }),
      )
    ).GroupId ?? '';
  return { vpcId, subnets, albGroup: await group('alb'), taskGroup: await group('tasks') };
}

async function firstRefusal(rules: StrictRule[], req: AwsRequest) {
  for (const rule of rules) {
    const reply = await rule.before?.(req, env);
    if (reply !== undefined) return reply;
  }
  return undefined;
}

describe('dependency checks on delete', { timeout: 30_000 }, () => {
  it('refuses deleting a security group another group references', async () => {
    const rules = dependencyRules();
    const net = await network();
    await clients.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: net.taskGroup,
        IpPermissions: [
          {
            IpProtocol: 'tcp',
            FromPort: 8080,
            ToPort: 8080,
            UserIdGroupPairs: [{ GroupId: net.albGroup }],
          },
        ],
      }),
    );
    expect(
      await firstRefusal(rules, request('ec2', 'DeleteSecurityGroup', { GroupId: net.albGroup })),
    ).toEqual({
      status: 400,
      code: 'DependencyViolation',
      message: `resource ${net.albGroup} has a dependent object`,
    });
  });

  it('refuses deleting a VPC that still has subnets', async () => {
    const net = await network();
    const reply = await firstRefusal(
      dependencyRules(),
      request('ec2', 'DeleteVpc', { VpcId: net.vpcId }),
    );
    expect(reply?.message).toBe(`The vpc '${net.vpcId}' has dependencies and cannot be deleted.`);
  });

  it('keeps the load balancer interfaces for three waiting calls after its deletion, and blocks subnet and gateway meanwhile', async () => {
    const rules = dependencyRules();
    const net = await network();
    const lb = await clients.elbv2.send(
      new CreateLoadBalancerCommand({
        Name: 'deps-lb',
        Subnets: net.subnets,
        SecurityGroups: [net.albGroup],
      }),
    );
    const arn = lb.LoadBalancers?.[0]?.LoadBalancerArn ?? '';
    const createXml = `<LoadBalancerArn>${arn}</LoadBalancerArn><LoadBalancerName>deps-lb</LoadBalancerName>${net.subnets
      .map((s) => `<SubnetId>${s}</SubnetId>`)
      .join('')}`;
    const createReq = request('elasticloadbalancing', 'CreateLoadBalancer', {
      Name: 'deps-lb',
      'SecurityGroups.member.1': net.albGroup,
    });
    for (const rule of rules) await rule.after?.(createReq, ok(createXml), env);

    const enis = await clients.ec2.send(
      new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'vpc-id', Values: [net.vpcId] }] }),
    );
    expect(enis.NetworkInterfaces?.map((e) => e.Description)).toEqual([
      `ELB app/deps-lb/${arn.split('/').pop()}`,
      `ELB app/deps-lb/${arn.split('/').pop()}`,
    ]);
    const deleteSubnet = request('ec2', 'DeleteSubnet', { SubnetId: net.subnets[0] });
    expect((await firstRefusal(rules, deleteSubnet))?.message).toBe(
      `The subnet '${net.subnets[0]}' has dependencies and cannot be deleted.`,
    );
    expect(
      (await firstRefusal(rules, request('ec2', 'DetachInternetGateway', { VpcId: net.vpcId })))
        ?.message,
    ).toBe(
      `Network ${net.vpcId} has some mapped public address(es). Please unmap those public address(es) before detaching the gateway.`,
    );
    expect(
      (await firstRefusal(rules, request('ec2', 'DeleteSecurityGroup', { GroupId: net.albGroup })))
        ?.code,
    ).toBe('DependencyViolation');

    const deleteLb = request('elasticloadbalancing', 'DeleteLoadBalancer', {
      LoadBalancerArn: arn,
    });
    for (const rule of rules)
      await rule.after?.(deleteLb, ok('<DeleteLoadBalancerResponse/>'), env);
    const describe = request('ec2', 'DescribeNetworkInterfaces');
    expect((await firstRefusal(rules, deleteSubnet))?.code).toBe('DependencyViolation');
    for (let i = 0; i < 2; i++) expect(await firstRefusal(rules, describe)).toBeUndefined();
    expect(await firstRefusal(rules, deleteSubnet)).toBeUndefined();
  });
});
