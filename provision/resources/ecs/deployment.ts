import {
  DescribeTasksCommand,
  ListTasksCommand,
  UpdateServiceCommand,
  type Deployment,
  type Service,
  type ServiceEvent,
  type Task,
} from '@aws-sdk/client-ecs';
import type { StackContext } from '../../context.js';
import { errorCode } from '../../retry.js';
import { isIamPropagationStop } from './propagation.js';
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

interface StoppedTasks {
  /** The most recently stopped first, at most 10. */
  readonly tasks: readonly Task[];
  /** Why they could not be listed, when they could not. */
  readonly unreadable?: string;
}

async function recentStoppedTasks(ctx: StackContext): Promise<StoppedTasks> {
  try {
    const list = await ctx.clients.ecs.send(
      new ListTasksCommand({
        cluster: ctx.names.cluster,
        serviceName: ctx.names.service,
        desiredStatus: 'STOPPED',
      }),
    );
    const arns = (list.taskArns ?? []).slice(0, 10);
    if (arns.length === 0) return { tasks: [] };
    const out = await ctx.clients.ecs.send(
      new DescribeTasksCommand({ cluster: ctx.names.cluster, tasks: arns }),
    );
    const tasks = [...(out.tasks ?? [])].sort(
      (a, b) => (b.stoppedAt?.getTime() ?? 0) - (a.stoppedAt?.getTime() ?? 0),
    );
    return { tasks };
  } catch (error) {
    return { tasks: [], unreadable: errorCode(error) };
  }
}

function stoppedTaskLine(task: Task): string {
  const id = task.taskArn?.split('/').pop() ?? 'task';
  const containerReasons = (task.containers ?? [])
    .map((c) => c.reason)
    .filter((r): r is string => r !== undefined && r !== '');
  return [
    `stopped task ${id}: ${task.stoppedReason ?? 'no reason given'}`,
    ...containerReasons,
  ].join('; ');
}

function failureDetails(
  service: Service | undefined,
  deployment: Deployment | undefined,
  stopped: StoppedTasks,
): string[] {
  const details: string[] = [];
  if (deployment?.rolloutStateReason) details.push(`Rollout: ${deployment.rolloutStateReason}`);
  const events = (service?.events ?? []).slice(0, 5).reverse();
  if (events.length > 0)
    details.push('Latest service events:', ...events.map((e) => `  ${formatEvent(e)}`));
  const lines =
    stopped.unreadable === undefined
      ? stopped.tasks.slice(0, 3).map(stoppedTaskLine)
      : [`(could not list stopped tasks: ${stopped.unreadable})`];
  if (lines.length > 0) details.push('Recently stopped tasks:', ...lines.map((l) => `  ${l}`));
  return details;
}

async function failure(
  ctx: StackContext,
  message: string,
  id: string,
  service: Service | undefined,
  deployment: Deployment | undefined,
): Promise<DeploymentFailedError> {
  const stopped = await recentStoppedTasks(ctx);
  return new DeploymentFailedError(message, id, failureDetails(service, deployment, stopped));
}

/**
 * A first deployment (nothing else listed, so the circuit breaker had
 * nothing to roll back to) whose every stopped task stopped because the
 * new execution role could not be used yet: started again once by
 * waitForDeployment instead of failing the run.
 */
class IamPropagationFailure extends DeploymentFailedError {
  constructor(
    message: string,
    deploymentId: string,
    details: readonly string[],
    readonly taskDefinitionArn: string,
  ) {
    super(message, deploymentId, details);
  }
}

async function failedRollout(
  ctx: StackContext,
  service: Service | undefined,
  deployment: Deployment,
): Promise<DeploymentFailedError> {
  const id = deployment.id ?? '';
  const message = `Deployment ${id} of ${ctx.names.service} failed.`;
  const stopped = await recentStoppedTasks(ctx);
  const details = failureDetails(service, deployment, stopped);
  const first = (service?.deployments ?? []).every((d) => d.id === id);
  const taskDefinitionArn = deployment.taskDefinition ?? service?.taskDefinition;
  const onlyIam = stopped.tasks.length > 0 && stopped.tasks.every(isIamPropagationStop);
  return first && onlyIam && taskDefinitionArn !== undefined
    ? new IamPropagationFailure(message, id, details, taskDefinitionArn)
    : new DeploymentFailedError(message, id, details);
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

/** How often a first deployment that failed on IAM propagation is started again. */
const IAM_PROPAGATION_RESTARTS = 1;
/** Not worth a new deployment with less time than this left. */
const RESTART_MIN_TIME_MS = 60_000;

/**
 * "Stable" is not enough: after a circuit-breaker rollback the service is
 * stable again on the old revision. Success means this deployment id is
 * listed and its rollout COMPLETED; a newer PRIMARY means it was rolled back.
 *
 * A first deployment whose tasks all stopped because ECS could not yet use
 * the execution role created moments before (IAM is eventually consistent:
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency;
 * the same failure, fixed by ordering, in
 * https://github.com/telia-oss/terraform-aws-ecs-fargate/pull/58) is
 * started again once, within the timeout, instead of failing the run: by
 * the time the circuit breaker gives up the role has propagated.
 */
export async function waitForDeployment(
  ctx: StackContext,
  options: WaitForDeploymentOptions,
): Promise<void> {
  const deadline = ctx.clock.now() + options.timeoutMs;
  let current = options;
  for (let restarts = 0; ; restarts += 1) {
    try {
      await followDeployment(ctx, current);
      return;
    } catch (error) {
      const timeLeft = deadline - ctx.clock.now();
      const retry =
        error instanceof IamPropagationFailure &&
        restarts < IAM_PROPAGATION_RESTARTS &&
        timeLeft >= RESTART_MIN_TIME_MS;
      if (!retry) throw error;
      ctx.report.progress(
        `Deployment ${error.deploymentId} failed because its tasks could not use the new execution role yet (IAM propagation); starting a new deployment`,
      );
      const restarted = await rollService(ctx, error.taskDefinitionArn);
      if (restarted.deploymentId === undefined) throw error;
      current = {
        ...options,
        deploymentId: restarted.deploymentId,
        ...(restarted.createdAt === undefined ? {} : { deploymentCreatedAt: restarted.createdAt }),
        since: new Date(ctx.clock.now()),
        timeoutMs: timeLeft,
      };
    }
  }
}

async function followDeployment(
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
      if (deployment.rolloutState === 'FAILED') throw await failedRollout(ctx, active, deployment);
    } else {
      const replacement = active && replacingDeployment(active, id, ours);
      if (replacement !== undefined) {
        throw await failure(
          ctx,
          `Deployment ${id} of ${ctx.names.service} is gone: the circuit breaker rolled it back ` +
            `(the newer deployment ${replacement.id ?? '?'} is now the primary one).`,
          id,
          service,
          undefined,
        );
      }
      invisibleSince ??= ctx.clock.now();
      const invisibleFor = ctx.clock.now() - invisibleSince;
      if (invisibleFor >= visibilityTimeout) {
        throw await failure(
          ctx,
          notVisibleMessage(ctx, id, service, invisibleFor),
          id,
          active,
          undefined,
        );
      }
    }

    const elapsed = ctx.clock.now() - started;
    if (elapsed + interval > options.timeoutMs) {
      const progress = deployment
        ? `rollout ${deployment.rolloutState ?? 'unknown'}, ${deployment.runningCount ?? 0}/${deployment.desiredCount ?? 0} running`
        : 'not listed by DescribeServices yet';
      throw await failure(
        ctx,
        `Deployment ${id} of ${ctx.names.service} timed out after ${Math.round(elapsed / 1000)} s (${progress}).`,
        id,
        active,
        deployment,
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
      `${seconds} s after deployment ${id} started; run "npx iclinic-deploy up" again.`
    );
  }
  return (
    `Deployment ${id} of ${ctx.names.service} has not been listed by DescribeServices for ${seconds} s ` +
    `(primary deployment: ${primaryDeploymentId(service) ?? 'none'}); run "npx iclinic-deploy status" to see what runs, then run the command again.`
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
