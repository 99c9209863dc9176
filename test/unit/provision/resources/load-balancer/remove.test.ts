import {
  DeleteListenerCommand,
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import {
  removeLoadBalancer,
  removeTargetGroup,
} from '../../../../../provision/resources/load-balancer/index.js';
import { awsError, mutatingOperations, operations } from '../../../support/context.js';
import {
  convergedTargetGroup,
  elbv2Context,
  emptyAccount,
  existingLoadBalancer,
  forwardListener,
  lbNotFound,
  withExistingStack,
} from './fixtures.js';

describe('removeLoadBalancer', () => {
  it('deletes listeners, then the load balancer, then waits until AWS stops listing it', async () => {
    const { ctx, elbv2 } = elbv2Context();
    elbv2
      .on(DescribeLoadBalancersCommand)
      .resolvesOnce({ LoadBalancers: [existingLoadBalancer] })
      .resolvesOnce({ LoadBalancers: [existingLoadBalancer] })
      .rejects(lbNotFound());
    elbv2.on(DescribeListenersCommand).resolves({ Listeners: [forwardListener] });
    elbv2.on(DeleteListenerCommand).resolves({});
    elbv2.on(DeleteLoadBalancerCommand).resolves({});

    const result = await removeLoadBalancer(ctx);

    expect(operations(elbv2)).toEqual([
      'DescribeLoadBalancers',
      'DescribeListeners',
      'DeleteListener',
      'DeleteLoadBalancer',
      'DescribeLoadBalancers',
      'DescribeLoadBalancers',
    ]);
    expect(result.changes).toEqual([
      { action: 'delete', kind: 'listener', name: 'HTTP 80' },
      { action: 'delete', kind: 'load balancer', name: 'iclinic-alb' },
    ]);
  });

  it('in a dry run returns the deletes it would make and deletes nothing', async () => {
    const { ctx, elbv2 } = withExistingStack({ dryRun: true });

    const result = await removeLoadBalancer(ctx);

    expect(result.changes).toEqual([
      { action: 'delete', kind: 'listener', name: 'HTTP 80' },
      { action: 'delete', kind: 'load balancer', name: 'iclinic-alb' },
    ]);
    expect(mutatingOperations(elbv2)).toEqual([]);
    expect(operations(elbv2)).toEqual(['DescribeLoadBalancers', 'DescribeListeners']);
  });

  it('is a no-op when the load balancer does not exist', async () => {
    const { ctx, elbv2 } = emptyAccount();
    expect((await removeLoadBalancer(ctx)).changes).toEqual([]);
    expect(mutatingOperations(elbv2)).toEqual([]);
  });
});

describe('removeTargetGroup', () => {
  it('retries ResourceInUse until the listener is gone', async () => {
    const { ctx, elbv2, clock } = elbv2Context();
    elbv2.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [convergedTargetGroup] });
    elbv2
      .on(DeleteTargetGroupCommand)
      .rejectsOnce(awsError('ResourceInUse', 'Target group is currently in use by a listener'))
      .resolves({});

    const result = await removeTargetGroup(ctx);

    expect(elbv2.commandCalls(DeleteTargetGroupCommand)).toHaveLength(2);
    expect(clock.slept).toHaveLength(1);
    expect(result.changes).toEqual([
      { action: 'delete', kind: 'target group', name: 'iclinic-tg' },
    ]);
  });

  it('in a dry run returns the delete and deletes nothing', async () => {
    const { ctx, elbv2 } = withExistingStack({ dryRun: true });
    expect((await removeTargetGroup(ctx)).changes).toEqual([
      { action: 'delete', kind: 'target group', name: 'iclinic-tg' },
    ]);
    expect(mutatingOperations(elbv2)).toEqual([]);
  });

  it('is a no-op when the target group does not exist', async () => {
    const { ctx, elbv2 } = emptyAccount();
    expect((await removeTargetGroup(ctx)).changes).toEqual([]);
    expect(mutatingOperations(elbv2)).toEqual([]);
  });
});
