import {
  DescribeLoadBalancersCommand,
  DescribeTargetHealthCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import { NOT_CREATED_YET } from '../../../../../provision/plan.js';
import {
  describeLoadBalancer,
  describeTargetHealth,
  loadBalancerUrl,
  waitForLoadBalancerActive,
} from '../../../../../provision/resources/load-balancer/index.js';
import { elbv2Context, emptyAccount, existingLoadBalancer, LB_ARN, TG_ARN } from './fixtures.js';

describe('waitForLoadBalancerActive', () => {
  it('polls until active and says it is waiting', async () => {
    const { ctx, elbv2, report } = elbv2Context();
    const provisioning = { ...existingLoadBalancer, State: { Code: 'provisioning' as const } };
    elbv2
      .on(DescribeLoadBalancersCommand)
      .resolvesOnce({ LoadBalancers: [provisioning] })
      .resolvesOnce({ LoadBalancers: [provisioning] })
      .resolves({ LoadBalancers: [existingLoadBalancer] });

    await waitForLoadBalancerActive(ctx, LB_ARN, 60_000);

    expect(elbv2.commandCalls(DescribeLoadBalancersCommand)).toHaveLength(3);
    expect(report.progressLines).toEqual([
      'waiting for load balancer iclinic-alb to become active (now provisioning)',
    ]);
  });
});

describe('describeLoadBalancer and describeTargetHealth', () => {
  it('reports an absent load balancer without failing', async () => {
    const { ctx } = emptyAccount();
    expect(await describeLoadBalancer(ctx)).toEqual({ listeners: [] });
  });

  it('lists targets with state and reason', async () => {
    const { ctx, elbv2 } = elbv2Context();
    elbv2.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [
        { Target: { Id: '10.0.0.5', Port: 8080 }, TargetHealth: { State: 'healthy' } },
        {
          Target: { Id: '10.0.1.7', Port: 8080 },
          TargetHealth: {
            State: 'unhealthy',
            Reason: 'Target.ResponseCodeMismatch',
            Description: 'Health checks failed with these codes: [401]',
          },
        },
      ],
    });
    expect(await describeTargetHealth(ctx, TG_ARN)).toEqual([
      { id: '10.0.0.5', port: 8080, state: 'healthy' },
      {
        id: '10.0.1.7',
        port: 8080,
        state: 'unhealthy',
        reason: 'Target.ResponseCodeMismatch',
        description: 'Health checks failed with these codes: [401]',
      },
    ]);
  });
});

describe('loadBalancerUrl', () => {
  it('is https when a listener serves HTTPS', () => {
    const listeners = [{ protocol: 'HTTPS' }, { protocol: 'HTTP' }];
    expect(loadBalancerUrl({ dnsName: 'a.elb.amazonaws.com', listeners })).toBe(
      'https://a.elb.amazonaws.com',
    );
  });

  it('is http with only an HTTP listener', () => {
    const listeners = [{ protocol: 'HTTP' }];
    expect(loadBalancerUrl({ dnsName: 'a.elb.amazonaws.com', listeners })).toBe(
      'http://a.elb.amazonaws.com',
    );
  });

  it('stays NOT_CREATED_YET for a load balancer a dry run would create', () => {
    expect(loadBalancerUrl({ dnsName: NOT_CREATED_YET, listeners: [] })).toBe(NOT_CREATED_YET);
  });
});
