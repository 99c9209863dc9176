import {
  CreateClusterCommand,
  DeleteClusterCommand,
  DescribeClustersCommand,
} from '@aws-sdk/client-ecs';
import type { Converged, Removal, StackContext } from '../../context.js';
import { ecsTags } from '../../names.js';
import { ChangeSet, NOT_CREATED_YET, type Change } from '../../plan.js';
import { errorCode, hasErrorCode, isNotFound, retry } from '../../retry.js';
import { retryWhileIamPropagates } from './propagation.js';

const KIND = 'ECS cluster';

export interface ClusterState {
  readonly clusterArn: string;
  readonly status: string;
}

export async function describeCluster(ctx: StackContext): Promise<ClusterState | undefined> {
  const out = await ctx.clients.ecs.send(
    new DescribeClustersCommand({ clusters: [ctx.names.cluster] }),
  );
  const cluster = (out.clusters ?? []).find((c) => c.clusterName === ctx.names.cluster);
  if (!cluster) return undefined;
  return { clusterArn: cluster.clusterArn ?? '', status: cluster.status ?? 'UNKNOWN' };
}

export function planCluster(
  ctx: Pick<StackContext, 'names'>,
  current: ClusterState | undefined,
): Change[] {
  const changes = new ChangeSet();
  if (!current) changes.create(KIND, ctx.names.cluster);
  else if (current.status === 'INACTIVE')
    changes.create(KIND, ctx.names.cluster, 'the cluster of that name was deleted (INACTIVE)');
  return [...changes.list];
}

export async function ensureCluster(
  ctx: StackContext,
  options: { iamPropagationTimeoutMs?: number } = {},
): Promise<Converged<{ clusterArn: string }>> {
  const current = await describeCluster(ctx);
  const changes = planCluster(ctx, current);
  if (current && changes.length === 0)
    return { changes, value: { clusterArn: current.clusterArn } };
  if (ctx.dryRun) return { changes, value: { clusterArn: NOT_CREATED_YET } };
  // CreateCluster on the name of an INACTIVE cluster makes a fresh one; on
  // an ACTIVE one it is idempotent, so a race with another run is harmless
  // (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateCluster.html).
  // In a new account it can fail until ECS's service-linked role, created
  // moments before, has propagated.
  const out = await retryWhileIamPropagates(
    ctx,
    `creating ECS cluster ${ctx.names.cluster}`,
    options.iamPropagationTimeoutMs,
    () =>
      ctx.clients.ecs.send(
        new CreateClusterCommand({
          clusterName: ctx.names.cluster,
          tags: ecsTags(ctx.names.stack),
          settings: [{ name: 'containerInsights', value: 'disabled' }],
        }),
      ),
  );
  return { changes, value: { clusterArn: out.cluster?.clusterArn ?? '' } };
}

export async function removeCluster(
  ctx: StackContext,
  options: { timeoutMs: number },
): Promise<Removal> {
  const current = await describeCluster(ctx);
  if (!current || current.status === 'INACTIVE') return { changes: [] };
  const changes = new ChangeSet().delete(KIND, ctx.names.cluster).list;
  if (ctx.dryRun) return { changes };
  try {
    // Services and tasks that are still draining keep the cluster busy for
    // a while after DeleteService returns
    // (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeleteCluster.html).
    await retry(
      ctx.clock,
      {
        what: `deleting ECS cluster ${ctx.names.cluster}`,
        timeoutMs: options.timeoutMs,
        isRetryable: (error) =>
          hasErrorCode(
            error,
            'ClusterContainsServicesException',
            'ClusterContainsTasksException',
            'UpdateInProgressException',
          ),
        onRetry: (error, _attempt, elapsed) =>
          ctx.report.progress(
            `Waiting for ECS cluster ${ctx.names.cluster} to empty (${errorCode(error)}, ${Math.round(elapsed / 1000)} s)`,
          ),
      },
      () => ctx.clients.ecs.send(new DeleteClusterCommand({ cluster: ctx.names.cluster })),
    );
  } catch (error) {
    if (isNotFound(error)) return { changes: [] };
    throw error;
  }
  return { changes };
}
