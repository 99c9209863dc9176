import {
  DescribeTasksCommand,
  ListTasksCommand,
  UpdateServiceCommand,
  type Deployment,
  type Service,
  type ServiceEvent,
} from '@aws-sdk/client-ecs';
import type { StackContext } from '../../context.js';
import { errorCode } from '../../retry.js';
import { findService, primaryDeployment } from './service.js';

export { primaryDeployment } from './service.js';

export function primaryDeploymentId(service: Service | undefined): string | undefined {
  return primaryDeployment(service)?.id;
}

export interface StartedDeployment {
  /** Undefined when ECS answered without a PRIMARY deployment (nothing to follow). */
  readonly deploymentId: string | undefined;
  readonly createdAt: Date | undefined;
}

/**
 * Starts a rolling deployment of the service onto `taskDefinitionArn`,
 * changing nothing else. forceNewDeployment makes ECS start one even when
 * the revision is the one already running (and makes emulators issue a new
 * id): https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateService.html
 */
export async function rollService(
  ctx: StackContext,
  taskDefinitionArn: string,
): Promise<StartedDeployment> {
  const updated = await ctx.clients.ecs.send(
    new UpdateServiceCommand({
      cluster: ctx.names.cluster,
      service: ctx.names.service,
      taskDefinition: taskDefinitionArn,
      forceNewDeployment: true,
    }),
  );
  const deployment = primaryDeployment(updated.service);
  return { deploymentId: deployment?.id, createdAt: deployment?.createdAt };
}

export class DeploymentFailedError extends Error {
  constructor(
    message: string,
    readonly deploymentId: string,
    readonly details: readonly string[],
  ) {
    super([message, ...details].join('\n'));
    this.name = 'DeploymentFailedError';
  }
}

export interface WaitForDeploymentOptions {
  deploymentId: string;
  timeoutMs: number;
  /** When ECS created it, as CreateService/UpdateService returned; tells a newer PRIMARY from a stale read. */
  deploymentCreatedAt?: Date;
  /** Only service events at or after this moment are printed; default: now. */
  since?: Date;
  intervalMs?: number;
  /** How long "service missing" or "deployment not listed" counts as pending; default 60 s. */
  visibilityTimeoutMs?: number;
  /**
   * The run's signal (StepInput.signal): once another step has failed, the
   * run is over, and polling on until the rollout timeout would keep the
   * process alive with nothing left to report.
   */
  signal?: AbortSignal;
}

function formatEvent(event: ServiceEvent): string {
  const at = event.createdAt ? event.createdAt.toISOString().replace(/\.\d+Z$/, 'Z') : '';
  return `${at} ${event.message ?? ''}`.trim();
}

async function stoppedTaskReasons(ctx: StackContext): Promise<string[]> {
  try {
    const list = await ctx.clients.ecs.send(
      new ListTasksCommand({
        cluster: ctx.names.cluster,
        serviceName: ctx.names.service,
        desiredStatus: 'STOPPED',
      }),
    );
    const arns = (list.taskArns ?? []).slice(0, 10);
    if (arns.length === 0) return [];
    const out = await ctx.clients.ecs.send(
      new DescribeTasksCommand({ cluster: ctx.names.cluster, tasks: arns }),
    );
    return (out.tasks ?? [])
      .sort((a, b) => (b.stoppedAt?.getTime() ?? 0) - (a.stoppedAt?.getTime() ?? 0))
      .slice(0, 3)
      .map((task) => {
        const id = task.taskArn?.split('/').pop() ?? 'task';
        const containerReasons = (task.containers ?? [])
          .map((c) => c.reason)
          .filter((r): r is string => r !== undefined && r !== '');
        return [
          `stopped task ${id}: ${task.stoppedReason ?? 'no reason given'}`,
          ...containerReasons,
        ].join('; ');
      });
  } catch (error) {
    return [`(could not list stopped tasks: ${errorCode(error)})`];
  }
}

async function failureDetails(
  ctx: StackContext,
  service: Service | undefined,
  deployment: Deployment | undefined,
) {
  const details: string[] = [];
  if (deployment?.rolloutStateReason) details.push(`Rollout: ${deployment.rolloutStateReason}`);
  const events = (service?.events ?? []).slice(0, 5).reverse();
  if (events.length > 0)
    details.push('Latest service events:', ...events.map((e) => `  ${formatEvent(e)}`));
  const stopped = await stoppedTaskReasons(ctx);
  if (stopped.length > 0) details.push('Recently stopped tasks:', ...stopped.map((s) => `  ${s}`));
  return details;
}

/**
 * DescribeServices is eventually consistent: right after CreateService it
 * can answer `failures: [{reason: "MISSING"}]`, and right after
 * UpdateService a service without the new deployment. The id that
 * CreateService/UpdateService returned is the truth, so for this long "not
 * visible" means pending (terraform-provider-aws retries the same reads:
 * https://github.com/hashicorp/terraform-provider-aws/pull/3387,
 * https://github.com/hashicorp/terraform-provider-aws/issues/24565).
 */
export const DEPLOYMENT_VISIBILITY_TIMEOUT_MS = 60_000;

/**
 * The PRIMARY deployment that replaced `id`: one created after it, or, when
 * the creation times are unknown, a PRIMARY that is not `id` once `id` has
 * been seen. A stale read shows the older PRIMARY, which is not a rollback;
 * the circuit breaker rolls back by deploying "the last deployment that
 * completed successfully" anew, as a newer PRIMARY
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentCircuitBreaker.html).
 */
export function replacingDeployment(
  service: Service,
  id: string,
  ours: { createdAt: Date | undefined; seen: boolean },
): Deployment | undefined {
  const primary = primaryDeployment(service);
  if (primary === undefined || primary.id === id) return undefined;
  if (ours.createdAt !== undefined && primary.createdAt !== undefined) {
    return primary.createdAt.getTime() > ours.createdAt.getTime() ? primary : undefined;
  }
  return ours.seen ? primary : undefined;
}

/**
 * "Stable" is not enough: after a circuit-breaker rollback the service is
 * stable again on the old revision. Success means this deployment id is
 * listed and its rollout COMPLETED; a newer PRIMARY means it was rolled back.
 */
export async function waitForDeployment(
  ctx: StackContext,
  options: WaitForDeploymentOptions,
): Promise<void> {
  const started = ctx.clock.now();
  const since = options.since ?? new Date(started);
  const interval = options.intervalMs ?? 6_000;
  const visibilityTimeout = options.visibilityTimeoutMs ?? DEPLOYMENT_VISIBILITY_TIMEOUT_MS;
  const seenEvents = new Set<string>();
  const id = options.deploymentId;
  const ours = { createdAt: options.deploymentCreatedAt, seen: false };
  let invisibleSince: number | undefined;

  for (;;) {
    options.signal?.throwIfAborted();
    const service = await findService(ctx);
    const active = service?.status === 'ACTIVE' ? service : undefined;
    for (const event of freshEvents(active, since, seenEvents)) {
      ctx.report.progress(`ECS: ${event.message ?? ''}`);
    }
    const deployment = active?.deployments?.find((d) => d.id === id);
    if (deployment !== undefined) {
      ours.seen = true;
      ours.createdAt ??= deployment.createdAt;
      invisibleSince = undefined;
      if (deployment.rolloutState === 'COMPLETED') return;
      if (deployment.rolloutState === 'FAILED') {
        throw new DeploymentFailedError(
          `Deployment ${id} of ${ctx.names.service} failed.`,
          id,
          await failureDetails(ctx, service, deployment),
        );
      }
    } else {
      const replacement = active && replacingDeployment(active, id, ours);
      if (replacement !== undefined) {
        throw new DeploymentFailedError(
          `Deployment ${id} of ${ctx.names.service} is gone: the circuit breaker rolled it back ` +
            `(the newer deployment ${replacement.id ?? '?'} is now the primary one).`,
          id,
          await failureDetails(ctx, service, undefined),
        );
      }
      invisibleSince ??= ctx.clock.now();
      const invisibleFor = ctx.clock.now() - invisibleSince;
      if (invisibleFor >= visibilityTimeout) {
        throw new DeploymentFailedError(
          notVisibleMessage(ctx, id, service, invisibleFor),
          id,
          await failureDetails(ctx, active, undefined),
        );
      }
    }

    const elapsed = ctx.clock.now() - started;
    if (elapsed + interval > options.timeoutMs) {
      const progress = deployment
        ? `rollout ${deployment.rolloutState ?? 'unknown'}, ${deployment.runningCount ?? 0}/${deployment.desiredCount ?? 0} running`
        : 'not listed by DescribeServices yet';
      throw new DeploymentFailedError(
        `Deployment ${id} of ${ctx.names.service} timed out after ${Math.round(elapsed / 1000)} s (${progress}).`,
        id,
        await failureDetails(ctx, active, deployment),
      );
    }
    await ctx.clock.sleep(interval);
  }
}

/** Service events not printed yet, oldest first, none from before the wait. */
function freshEvents(service: Service | undefined, since: Date, seen: Set<string>): ServiceEvent[] {
  const fresh = (service?.events ?? [])
    .filter((e) => e.id !== undefined && !seen.has(e.id))
    .filter((e) => (e.createdAt?.getTime() ?? 0) >= since.getTime())
    .sort((a, b) => (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0));
  for (const event of fresh) seen.add(event.id ?? '');
  return fresh;
}

function notVisibleMessage(
  ctx: StackContext,
  id: string,
  service: Service | undefined,
  invisibleForMs: number,
): string {
  const seconds = Math.round(invisibleForMs / 1000);
  if (service?.status !== 'ACTIVE') {
    return (
      `ECS service ${ctx.names.service} is ${service?.status ?? 'missing'} in DescribeServices ` +
      `${seconds} s after deployment ${id} started; run "up" again.`
    );
  }
  return (
    `Deployment ${id} of ${ctx.names.service} has not been listed by DescribeServices for ${seconds} s ` +
    `(primary deployment: ${primaryDeploymentId(service) ?? 'none'}); run "iclinic-deploy status" to see what runs, then run the command again.`
  );
}

/**
 * Whether `service` shows ECS's own rollback of `ours`: a PRIMARY deployment
 * on the previous revision created after ours (the circuit breaker rolls
 * back to "the last deployment that completed successfully" as a new
 * deployment:
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentCircuitBreaker.html).
 * A stale read (DescribeServices is eventually consistent,
 * https://github.com/hashicorp/terraform-provider-aws/pull/3387) shows the
 * older PRIMARY instead, which proves nothing.
 */
export function rolledBackByEcs(
  service: Parameters<typeof primaryDeployment>[0],
  ours: { readonly id?: string | undefined; readonly createdAt?: Date | undefined },
  previousTaskDefinitionArn: string,
): boolean {
  const primary = primaryDeployment(service);
  if (primary === undefined || primary.id === ours.id) return false;
  if (primary.createdAt === undefined || ours.createdAt === undefined) return false;
  return (
    (primary.taskDefinition ?? service?.taskDefinition) === previousTaskDefinitionArn &&
    primary.createdAt.getTime() > ours.createdAt.getTime()
  );
}
