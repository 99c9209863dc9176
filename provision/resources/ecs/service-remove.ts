/** Deleting the ECS service: forced, then waited for until it has drained. */
import { DeleteServiceCommand } from '@aws-sdk/client-ecs';
import type { Removal, StackContext } from '../../context.js';
import { ChangeSet } from '../../plan.js';
import { hasErrorCode, isNotFound, pollUntil } from '../../retry.js';
import { describeCluster } from './cluster.js';
import { findService } from './service.js';

const KIND = 'ECS service';

export async function removeService(
  ctx: StackContext,
  options: { timeoutMs: number },
): Promise<Removal> {
  const name = ctx.names.service;
  const current = await findService(ctx);
  if (current?.status === 'INACTIVE') return { changes: [] };
  if (current === undefined) return removeUnlistedService(ctx, options);
  const changes = new ChangeSet().delete(KIND, name).list;
  if (ctx.dryRun) return { changes };
  if (current.status === 'ACTIVE') {
    try {
      // force: DeleteService otherwise refuses while desiredCount > 0, and
      // scaling to 0 first would only add a wait
      // (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeleteService.html).
      await ctx.clients.ecs.send(
        new DeleteServiceCommand({ cluster: ctx.names.cluster, service: name, force: true }),
      );
    } catch (error) {
      if (isNotFound(error)) return { changes: [] };
      throw error;
    }
  }
  await waitUntilDrained(ctx, options.timeoutMs);
  return { changes };
}

/**
 * DescribeServices is eventually consistent: right after CreateService it
 * can answer MISSING for a service that exists
 * (https://github.com/hashicorp/terraform-provider-aws/pull/3387), e.g. when
 * `down` follows an interrupted `up` at once. While the cluster is active the
 * service may be there, so DeleteService is sent anyway: ServiceNotFound then
 * means there was really nothing to remove. Otherwise the cluster's delete
 * would wait on a service nobody deletes.
 */
async function removeUnlistedService(
  ctx: StackContext,
  options: { timeoutMs: number },
): Promise<Removal> {
  const cluster = await describeCluster(ctx);
  if (cluster?.status !== 'ACTIVE' || ctx.dryRun) return { changes: [] };
  const name = ctx.names.service;
  try {
    await ctx.clients.ecs.send(
      new DeleteServiceCommand({ cluster: ctx.names.cluster, service: name, force: true }),
    );
  } catch (error) {
    if (isNotFound(error) || hasErrorCode(error, 'ServiceNotActiveException')) {
      return { changes: [] };
    }
    throw error;
  }
  await waitUntilDrained(ctx, options.timeoutMs);
  return { changes: new ChangeSet().delete(KIND, name).list };
}

async function waitUntilDrained(ctx: StackContext, timeoutMs: number): Promise<void> {
  const name = ctx.names.service;
  const started = ctx.clock.now();
  await pollUntil(
    ctx.clock,
    { what: `waiting for ECS service ${name} to drain`, timeoutMs, intervalMs: 6_000 },
    async () => {
      const s = await findService(ctx);
      const state = s?.status ?? 'absent';
      const done = state === 'INACTIVE' || state === 'absent';
      if (!done) {
        ctx.report.progress(
          `Waiting for ECS service ${name} to drain (${state}, ${Math.round((ctx.clock.now() - started) / 1000)} s)`,
        );
      }
      return { done, state };
    },
  );
}
