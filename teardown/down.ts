import type { StackContext } from '../provision/context.js';
import { removeLoadBalancer, removeTargetGroup } from '../provision/load-balancer.js';
import { removeLogGroup } from '../provision/logs.js';
import { removeNetwork } from '../provision/network.js';
import { removeRepository } from '../provision/registry.js';
import { removeExecutionRole } from '../provision/roles.js';
import { removeSecret } from '../provision/secret.js';
import {
  removeCluster,
  removeService,
  removeTaskDefinitions,
} from '../provision/resources/ecs/index.js';
import { toLegacyRemoved, type PlannedStep, type StepRunner } from '../provision/steps.js';

/**
 * Deletion order is what AWS enforces, not what the emulator does: the
 * service must drain before its cluster and load balancer go, the load
 * balancer's network interfaces must be released before the security groups
 * and subnets, and the tasks' group goes before the load balancer's group
 * that it references.
 */
export function downPlan(ctx: Pick<StackContext, 'names'>): PlannedStep[] {
  const n = ctx.names;
  return [
    {
      key: 'service',
      title: 'Delete the ECS service',
      intent: [`service ${n.service} (forced, waits until drained and INACTIVE)`],
      after: [],
    },
    {
      key: 'cluster',
      title: 'Delete the cluster and task definitions',
      intent: [`cluster ${n.cluster}`, `every revision of ${n.taskFamily}`],
      after: ['service'],
    },
    {
      key: 'load-balancer',
      title: 'Delete the load balancer',
      intent: [`listeners and ALB ${n.loadBalancer} (waits until deleted)`],
      after: ['service'],
    },
    {
      key: 'target-group',
      title: 'Delete the target group',
      intent: [`target group ${n.targetGroup}`],
      after: ['load-balancer'],
    },
    {
      key: 'network',
      title: 'Delete the network',
      intent: [
        'waits until AWS releases the network interfaces in the VPC',
        `security groups ${n.taskSecurityGroup} then ${n.loadBalancerSecurityGroup}, subnets, internet gateway, route table, VPC ${n.vpc}`,
      ],
      after: ['target-group', 'cluster'],
    },
    {
      key: 'repository',
      title: 'Delete the ECR repository',
      intent: [`repository ${n.repository} with its images`],
      after: ['service'],
    },
    {
      key: 'secret',
      title: 'Delete the token secret',
      intent: [`secret ${n.secret}, without a recovery window`],
      after: ['service'],
    },
    {
      key: 'log-group',
      title: 'Delete the log group',
      intent: [`log group ${n.logGroup}`],
      after: ['service'],
    },
    {
      key: 'execution-role',
      title: 'Delete the task execution role',
      intent: [`role ${n.executionRole} and its policies`],
      after: ['service'],
    },
  ];
}

export async function runDown(
  ctx: StackContext,
  runner: StepRunner,
  timeoutMs: number,
): Promise<string[]> {
  const removed: string[] = [];
  const keep = (items: readonly string[]) => {
    removed.push(...items);
  };
  keep(
    await runner.remove('service', async () =>
      toLegacyRemoved(await removeService(ctx, { timeoutMs })),
    ),
  );
  const cluster = runner.remove('cluster', async () => {
    const definitions = toLegacyRemoved(await removeTaskDefinitions(ctx));
    const clusterRemoved = toLegacyRemoved(await removeCluster(ctx, { timeoutMs }));
    return { removed: [...clusterRemoved.removed, ...definitions.removed] };
  });
  // Awaited only after the load balancer; until then a failure must not
  // surface as an unhandled rejection (which would kill the process).
  cluster.catch(() => undefined);
  const network = (async () => {
    keep(await runner.remove('load-balancer', () => removeLoadBalancer(ctx)));
    keep(await runner.remove('target-group', () => removeTargetGroup(ctx)));
    keep(await cluster);
    keep(await runner.remove('network', () => removeNetwork(ctx, { timeoutMs })));
  })();
  // These hold no network resources, so they need not wait for the slow part.
  const others = (async () => {
    keep(await runner.remove('repository', () => removeRepository(ctx)));
    keep(await runner.remove('secret', () => removeSecret(ctx)));
    keep(await runner.remove('log-group', () => removeLogGroup(ctx)));
    keep(await runner.remove('execution-role', () => removeExecutionRole(ctx)));
  })();
  const results = await Promise.allSettled([network, cluster, others]);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return removed;
}
