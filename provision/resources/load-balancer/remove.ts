/** `down`'s part: listeners, then the load balancer (waiting until AWS stops listing it), then the target group. */
import {
  DeleteListenerCommand,
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Removal, StackContext } from '../../context.js';
import { ChangeSet } from '../../plan.js';
import { hasErrorCode, isNotFound, pollUntil, retry } from '../../retry.js';
import { findLoadBalancers, type AlbInfo } from './alb.js';
import { findListeners, listenerName } from './listeners.js';
import { findTargetGroup } from './target-group.js';
import { KIND } from './types.js';

/** Sends a delete; false when the resource was already gone. */
async function deleted(send: () => Promise<unknown>): Promise<boolean> {
  try {
    await send();
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

async function removeOne(ctx: StackContext, lb: AlbInfo, changes: ChangeSet): Promise<void> {
  const elbv2 = ctx.clients.elbv2;
  for (const listener of await findListeners(ctx, lb.arn)) {
    const arn = listener.ListenerArn;
    if (arn === undefined) continue;
    const name = listenerName(listener.Protocol, listener.Port);
    if (ctx.dryRun) changes.delete(KIND.listener, name);
    else if (await deleted(() => elbv2.send(new DeleteListenerCommand({ ListenerArn: arn })))) {
      changes.delete(KIND.listener, name);
    }
  }
  if (ctx.dryRun) changes.delete(KIND.loadBalancer, lb.name);
  else if (
    await deleted(() => elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lb.arn })))
  ) {
    changes.delete(KIND.loadBalancer, lb.name);
  }
}

export async function removeLoadBalancer(
  ctx: StackContext,
  options: { timeoutMs?: number } = {},
): Promise<Removal> {
  const changes = new ChangeSet();
  const found = await findLoadBalancers(ctx);
  for (const lb of found) await removeOne(ctx, lb, changes);
  if (found.length === 0 || ctx.dryRun) return { changes: changes.list };

  // DeleteLoadBalancer returns at once; the security groups and subnets are
  // only free once AWS stops listing it
  // (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#delete-load-balancer).
  const arns = new Set(found.map((lb) => lb.arn));
  await pollUntil(
    ctx.clock,
    {
      what: `waiting for load balancer ${ctx.names.loadBalancer} to be deleted`,
      timeoutMs: options.timeoutMs ?? 10 * 60_000,
      intervalMs: 5_000,
    },
    async () => {
      const left = (await findLoadBalancers(ctx)).filter((lb) => arns.has(lb.arn));
      if (left.length > 0) {
        ctx.report.progress(
          `waiting for AWS to finish deleting load balancer ${ctx.names.loadBalancer}`,
        );
      }
      return { done: left.length === 0, state: left.map((lb) => lb.state ?? 'listed').join(', ') };
    },
  );
  return { changes: changes.list };
}

export async function removeTargetGroup(
  ctx: StackContext,
  options: { timeoutMs?: number } = {},
): Promise<Removal> {
  const arn = (await findTargetGroup(ctx))?.TargetGroupArn;
  if (arn === undefined) return { changes: [] };
  const changes = new ChangeSet().delete(KIND.targetGroup, ctx.names.targetGroup).list;
  if (ctx.dryRun) return { changes };
  // Refused with ResourceInUse while a listener or a draining service still
  // uses it; both go away on their own shortly after removal started.
  const gone = await deleted(() =>
    retry(
      ctx.clock,
      {
        what: `deleting target group ${ctx.names.targetGroup}`,
        isRetryable: (error) => hasErrorCode(error, 'ResourceInUse', 'ResourceInUseException'),
        timeoutMs: options.timeoutMs ?? 5 * 60_000,
        initialDelayMs: 5_000,
        onRetry: () =>
          ctx.report.progress(
            `waiting for target group ${ctx.names.targetGroup} to be released by its load balancer`,
          ),
      },
      () => ctx.clients.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn })),
    ),
  );
  return { changes: gone ? changes : [] };
}
