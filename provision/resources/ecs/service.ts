import {
  CreateServiceCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  UpdateServiceCommand,
  type CreateServiceCommandInput,
  type Deployment,
  type Service,
} from '@aws-sdk/client-ecs';
import type { Converged, StackContext } from '../../context.js';
import { ecsTags } from '../../names.js';
import { ChangeSet, NOT_CREATED_YET, type Change } from '../../plan.js';
import { isNotFound, pollUntil } from '../../retry.js';
import { sameSet } from '../shared.js';
import { retryWhileServiceDependenciesPropagate } from './propagation.js';
import { describeTaskDefinition } from './task-definition.js';

const KIND = 'ECS service';

export interface ServiceSettings {
  taskDefinitionArn: string;
  subnetIds: string[];
  securityGroupId: string;
  targetGroupArn: string;
  /** The task count; with `autoscaled`, only the count CreateService starts with (the minimum). */
  desiredCount: number;
  /**
   * Application Auto Scaling owns the desired count (see autoscaling.ts):
   * UpdateService omits it, so ECS keeps what the scaler set
   * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateService.html#ECS-UpdateService-request-desiredCount;
   * the fight is aws/aws-cdk#3919, hashicorp/terraform#10308), and a
   * different count is no drift, except a count below `desiredCount` (the
   * minimum): see countBelowMinimum.
   */
  autoscaled?: boolean;
  /** The port the load balancer forwards to; must match the task definition's. Default 8080. */
  containerPort?: number;
  /** Start a new deployment even when nothing differs (e.g. a new secret version behind an unpinned reference). */
  forceNewDeployment?: boolean;
  /** How long CreateService/UpdateService are retried on IAM propagation errors. */
  iamPropagationTimeoutMs?: number;
}

export const DEFAULT_CONTAINER_PORT = 8080;
const HEALTH_CHECK_GRACE_SECONDS = 30;
const DEPLOYMENT_CONFIGURATION = {
  deploymentCircuitBreaker: { enable: true, rollback: true },
  maximumPercent: 200,
  minimumHealthyPercent: 100,
} as const;

function networkConfiguration(
  settings: ServiceSettings,
): NonNullable<CreateServiceCommandInput['networkConfiguration']> {
  return {
    awsvpcConfiguration: {
      subnets: [...settings.subnetIds],
      securityGroups: [settings.securityGroupId],
      // Public subnets without a NAT gateway: tasks need a public IP to pull
      // the image and read the secret.
      assignPublicIp: 'ENABLED',
    },
  };
}

function wantedMapping(ctx: Pick<StackContext, 'names'>, settings: ServiceSettings) {
  return {
    targetGroupArn: settings.targetGroupArn,
    containerName: ctx.names.containerName,
    containerPort: settings.containerPort ?? DEFAULT_CONTAINER_PORT,
  };
}

function loadBalancerMapping(ctx: Pick<StackContext, 'names'>, settings: ServiceSettings) {
  return [wantedMapping(ctx, settings)];
}

/** Read-only: the raw ECS service record (any status), or undefined when the cluster or service is missing. */
export async function findService(ctx: StackContext): Promise<Service | undefined> {
  try {
    const out = await ctx.clients.ecs.send(
      new DescribeServicesCommand({ cluster: ctx.names.cluster, services: [ctx.names.service] }),
    );
    return (out.services ?? []).find((s) => s.serviceName === ctx.names.service);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export function primaryDeployment(service: Service | undefined): Deployment | undefined {
  return service?.deployments?.find((d) => d.status === 'PRIMARY');
}

function failedPrimaryDeployment(service: Service | undefined): Deployment | undefined {
  const primary = primaryDeployment(service);
  return primary?.rolloutState === 'FAILED' ? primary : undefined;
}

function sameDeploymentConfiguration(service: Service): boolean {
  const dc = service.deploymentConfiguration;
  // AWS always reports the deployment configuration; when it is missing
  // altogether (moto after CreateService) drift cannot be told, and updating
  // anyway would make every second run mutate.
  return (
    dc === undefined ||
    (dc.deploymentCircuitBreaker?.enable === true &&
      dc.deploymentCircuitBreaker.rollback === true &&
      dc.maximumPercent === DEPLOYMENT_CONFIGURATION.maximumPercent &&
      dc.minimumHealthyPercent === DEPLOYMENT_CONFIGURATION.minimumHealthyPercent)
  );
}

type LoadBalancerMapping = NonNullable<Service['loadBalancers']>[number];

function mappingText(mapping: LoadBalancerMapping | undefined): string {
  if (mapping === undefined) return 'none';
  return `${mapping.targetGroupArn ?? '?'} → ${mapping.containerName ?? '?'}:${mapping.containerPort ?? '?'}`;
}

function sameMapping(found: readonly LoadBalancerMapping[], wanted: LoadBalancerMapping): boolean {
  const [only] = found;
  return (
    found.length === 1 &&
    only !== undefined &&
    only.targetGroupArn === wanted.targetGroupArn &&
    only.containerName === wanted.containerName &&
    only.containerPort === wanted.containerPort
  );
}

/**
 * The minimum, when an autoscaled service's count was set below it behind
 * the tool's back (0 in the console): the scaler never goes below its
 * minimum but does not notice a change made outside it until a policy
 * fires or the target is registered again
 * (https://docs.aws.amazon.com/autoscaling/application/userguide/getting-started.html,
 * "Scalable target"), and with no task no metric makes a policy fire. At
 * or above the minimum the count is the scaler's, and this is undefined.
 */
function countBelowMinimum(service: Service, settings: ServiceSettings): number | undefined {
  if (settings.autoscaled !== true) return undefined;
  return (service.desiredCount ?? 0) < settings.desiredCount ? settings.desiredCount : undefined;
}

/** The settings this tool owns that differ on an ACTIVE service, one update each. */
export function diffService(
  ctx: Pick<StackContext, 'names'>,
  service: Service,
  settings: ServiceSettings,
): Change[] {
  const name = ctx.names.service;
  const changes = new ChangeSet();
  if (service.taskDefinition !== settings.taskDefinitionArn) {
    const from = service.taskDefinition ?? 'none';
    changes.update(KIND, name, 'task definition', from, settings.taskDefinitionArn);
  }
  const fixedCountDiffers =
    settings.autoscaled !== true && service.desiredCount !== settings.desiredCount;
  if (fixedCountDiffers || countBelowMinimum(service, settings) !== undefined) {
    const from = String(service.desiredCount ?? 0);
    changes.update(KIND, name, 'desired count', from, String(settings.desiredCount));
  }
  const vpc = service.networkConfiguration?.awsvpcConfiguration;
  if (
    !sameSet(vpc?.subnets, settings.subnetIds) ||
    !sameSet(vpc?.securityGroups, [settings.securityGroupId]) ||
    vpc?.assignPublicIp !== 'ENABLED'
  ) {
    changes.update(KIND, name, 'network configuration (subnets, security group, public IP)');
  }
  if (!sameDeploymentConfiguration(service)) {
    changes.update(
      KIND,
      name,
      'deployment configuration (circuit breaker with rollback, 200%/100%)',
    );
  }
  const found = service.loadBalancers ?? [];
  const wanted = wantedMapping(ctx, settings);
  if (!sameMapping(found, wanted)) {
    const from = found.length > 1 ? `${found.length} mappings` : mappingText(found[0]);
    changes.update(KIND, name, 'load balancer mapping', from, mappingText(wanted));
  }
  return [...changes.list];
}

export function planService(
  ctx: Pick<StackContext, 'names'>,
  current: Service | undefined,
  settings: ServiceSettings,
): Change[] {
  const name = ctx.names.service;
  const changes = new ChangeSet();
  if (!current || current.status !== 'ACTIVE') {
    const draining =
      current?.status === 'DRAINING' ? ', once the deleted one of that name has drained' : '';
    const detail = `${settings.desiredCount} task(s) on ${settings.taskDefinitionArn}${draining}`;
    return [...changes.create(KIND, name, detail).list];
  }
  const diffs = diffService(ctx, current, settings);
  if (diffs.length > 0) return diffs;
  const failed = failedPrimaryDeployment(current);
  if (settings.forceNewDeployment) {
    changes.update(KIND, name, 'new deployment (forced)');
  } else if (failed !== undefined) {
    // A failed first deployment has nothing to roll back to: the service
    // runs no task until something starts a new one.
    const reason = failed.rolloutStateReason ?? 'no reason given';
    changes.update(KIND, name, `new deployment: the last one failed (${reason})`);
  }
  return [...changes.list];
}

async function waitWhileDraining(ctx: StackContext, timeoutMs: number): Promise<void> {
  await pollUntil(
    ctx.clock,
    {
      what: `waiting for ECS service ${ctx.names.service} to finish draining`,
      timeoutMs,
      intervalMs: 6_000,
    },
    async () => {
      const s = await findService(ctx);
      const state = s?.status ?? 'absent';
      if (state === 'DRAINING')
        ctx.report.progress(`Waiting for the old ECS service ${ctx.names.service} to drain`);
      return { done: state !== 'DRAINING', state };
    },
  );
}

export interface ServiceRef {
  readonly serviceArn: string;
  /** The deployment to wait for; undefined when nothing was started. */
  readonly deploymentId: string | undefined;
  readonly deploymentCreatedAt?: Date | undefined;
}

function startedRef(service: Service | undefined, fallbackArn?: string): ServiceRef {
  const primary = primaryDeployment(service);
  return {
    serviceArn: service?.serviceArn ?? fallbackArn ?? '',
    deploymentId: primary?.id,
    deploymentCreatedAt: primary?.createdAt,
  };
}

/** A rollout still in progress (say, the previous run was interrupted while waiting) is the one to wait for. */
function unchangedRef(service: Service): ServiceRef {
  const primary = primaryDeployment(service);
  const inProgress = primary?.rolloutState === 'IN_PROGRESS';
  return {
    serviceArn: service.serviceArn ?? '',
    deploymentId: inProgress ? primary.id : undefined,
    deploymentCreatedAt: inProgress ? primary.createdAt : undefined,
  };
}

export async function ensureService(
  ctx: StackContext,
  settings: ServiceSettings,
): Promise<Converged<ServiceRef>> {
  let current = await findService(ctx);
  const changes = planService(ctx, current, settings);
  if (current?.status === 'ACTIVE' && changes.length === 0) {
    return { changes, value: unchangedRef(current) };
  }
  if (ctx.dryRun) {
    const serviceArn = current?.status === 'ACTIVE' ? (current.serviceArn ?? '') : NOT_CREATED_YET;
    return { changes, value: { serviceArn, deploymentId: NOT_CREATED_YET } };
  }
  if (current?.status === 'DRAINING') {
    // A service deleted moments ago (e.g. `down` then `up`) cannot be
    // re-created under the same name until it is INACTIVE.
    await waitWhileDraining(ctx, 10 * 60_000);
    current = await findService(ctx);
  }
  if (!current || current.status !== 'ACTIVE') {
    const created = await createService(ctx, settings);
    return { changes: planService(ctx, current, settings), value: startedRef(created) };
  }
  const updated = await updateService(ctx, current, settings);
  return { changes, value: startedRef(updated, current.serviceArn) };
}

function createService(ctx: StackContext, settings: ServiceSettings): Promise<Service | undefined> {
  const name = ctx.names.service;
  return retryWhileServiceDependenciesPropagate(
    ctx,
    `creating ECS service ${name}`,
    settings.iamPropagationTimeoutMs,
    async () => {
      const out = await ctx.clients.ecs.send(
        new CreateServiceCommand({
          cluster: ctx.names.cluster,
          serviceName: name,
          taskDefinition: settings.taskDefinitionArn,
          desiredCount: settings.desiredCount,
          launchType: 'FARGATE',
          platformVersion: 'LATEST',
          networkConfiguration: networkConfiguration(settings),
          loadBalancers: loadBalancerMapping(ctx, settings),
          healthCheckGracePeriodSeconds: HEALTH_CHECK_GRACE_SECONDS,
          deploymentConfiguration: DEPLOYMENT_CONFIGURATION,
          propagateTags: 'SERVICE',
          enableECSManagedTags: true,
          tags: ecsTags(ctx.names.stack),
        }),
      );
      return out.service;
    },
  );
}

function updateService(
  ctx: StackContext,
  current: Service,
  settings: ServiceSettings,
): Promise<Service | undefined> {
  const name = ctx.names.service;
  const taskDefinitionChanged = current.taskDefinition !== settings.taskDefinitionArn;
  const lastRolloutFailed = failedPrimaryDeployment(current) !== undefined;
  const desiredCount =
    settings.autoscaled === true ? countBelowMinimum(current, settings) : settings.desiredCount;
  return retryWhileServiceDependenciesPropagate(
    ctx,
    `updating ECS service ${name}`,
    settings.iamPropagationTimeoutMs,
    async () => {
      const out = await ctx.clients.ecs.send(
        new UpdateServiceCommand({
          cluster: ctx.names.cluster,
          service: name,
          taskDefinition: settings.taskDefinitionArn,
          ...(desiredCount === undefined ? {} : { desiredCount }),
          networkConfiguration: networkConfiguration(settings),
          loadBalancers: loadBalancerMapping(ctx, settings),
          healthCheckGracePeriodSeconds: HEALTH_CHECK_GRACE_SECONDS,
          deploymentConfiguration: DEPLOYMENT_CONFIGURATION,
          // AWS starts a deployment for a new task definition anyway; being
          // explicit also makes emulators issue a new deployment id.
          forceNewDeployment:
            taskDefinitionChanged || settings.forceNewDeployment === true || lastRolloutFailed,
        }),
      );
      return out.service;
    },
  );
}

export interface ServiceStatus {
  readonly status: string;
  readonly runningCount: number;
  readonly desiredCount: number;
  readonly pendingCount: number;
  readonly taskDefinitionArn: string | undefined;
  readonly image: string | undefined;
  readonly deployments: readonly { id: string; status: string; rolloutState: string | undefined }[];
  /** When the family's latest ACTIVE revision was registered. */
  readonly latestTaskDefinitionCreatedAt: Date | undefined;
}

/** Read-only: what `status` shows of the service, or undefined when it is not deployed. */
export async function describeService(ctx: StackContext): Promise<ServiceStatus | undefined> {
  const service = await findService(ctx);
  if (!service || service.status === 'INACTIVE') return undefined;
  let image: string | undefined;
  if (service.taskDefinition) {
    try {
      const out = await ctx.clients.ecs.send(
        new DescribeTaskDefinitionCommand({ taskDefinition: service.taskDefinition }),
      );
      image = out.taskDefinition?.containerDefinitions?.find(
        (c) => c.name === ctx.names.containerName,
      )?.image;
    } catch {
      // Status is best-effort; a deregistered revision just has no image.
    }
  }
  const latest = await describeTaskDefinition(ctx);
  return {
    status: service.status ?? 'UNKNOWN',
    runningCount: service.runningCount ?? 0,
    desiredCount: service.desiredCount ?? 0,
    pendingCount: service.pendingCount ?? 0,
    taskDefinitionArn: service.taskDefinition,
    image,
    deployments: (service.deployments ?? []).map((d) => ({
      id: d.id ?? '',
      status: d.status ?? '',
      rolloutState: d.rolloutState,
    })),
    latestTaskDefinitionCreatedAt: latest?.registeredAt,
  };
}
