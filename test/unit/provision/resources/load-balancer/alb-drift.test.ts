// The load balancer's own drift: subnets and security groups changed by hand
// are put back with SetSubnets / SetSecurityGroups, and a dry run only names
// them. These are the two calls whose verb ("Set") a read-only classifier
// could take for a read.
import {
  DescribeLoadBalancersCommand,
  SetSecurityGroupsCommand,
  SetSubnetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import { ensureLoadBalancer } from '../../../../../provision/resources/load-balancer/index.js';
import { mutatingOperations } from '../../../support/context.js';
import { existingLoadBalancer, LB_ARN, network, settings, withExistingStack } from './fixtures.js';

/** The stack's load balancer, moved by hand to one other subnet and one other group. */
function drifted(options: { dryRun?: boolean } = {}) {
  const t = withExistingStack(options);
  t.elbv2.on(DescribeLoadBalancersCommand).resolves({
    LoadBalancers: [
      {
        ...existingLoadBalancer,
        AvailabilityZones: [{ ZoneName: 'us-east-1a', SubnetId: 'subnet-a' }],
        SecurityGroups: ['sg-by-hand'],
      },
    ],
  });
  t.elbv2.on(SetSubnetsCommand).resolves({});
  t.elbv2.on(SetSecurityGroupsCommand).resolves({});
  return t;
}

const DRIFT_CHANGES = [
  {
    action: 'update',
    kind: 'load balancer',
    name: 'iclinic-alb',
    detail: 'subnets',
    from: 'subnet-a',
    to: 'subnet-a, subnet-b',
  },
  {
    action: 'update',
    kind: 'load balancer',
    name: 'iclinic-alb',
    detail: 'security groups',
    from: 'sg-by-hand',
    to: 'sg-alb',
  },
];

describe('ensureLoadBalancer when the subnets and groups drifted', () => {
  it('puts back the stack subnets and the stack group, and nothing else', async () => {
    const { ctx, elbv2 } = drifted();

    const result = await ensureLoadBalancer(ctx, network, settings);

    expect(result.changes).toEqual(DRIFT_CHANGES);
    expect(mutatingOperations(elbv2)).toEqual(['SetSubnets', 'SetSecurityGroups']);
    expect(elbv2.commandCalls(SetSubnetsCommand)[0]?.args[0].input).toEqual({
      LoadBalancerArn: LB_ARN,
      Subnets: ['subnet-a', 'subnet-b'],
    });
    expect(elbv2.commandCalls(SetSecurityGroupsCommand)[0]?.args[0].input).toEqual({
      LoadBalancerArn: LB_ARN,
      SecurityGroups: ['sg-alb'],
    });
  });

  it('names both changes in a dry run and makes neither call', async () => {
    const { ctx, elbv2 } = drifted({ dryRun: true });

    const result = await ensureLoadBalancer(ctx, network, settings);

    expect(result.changes).toEqual(DRIFT_CHANGES);
    expect(mutatingOperations(elbv2)).toEqual([]);
  });
});
