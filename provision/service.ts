import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteClusterCommand,
  DeleteServiceCommand,
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeClustersCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type ContainerDefinition,
  type CreateServiceCommandInput,
  type Deployment,
  type RegisterTaskDefinitionCommandInput,
  type Service,
  type ServiceEvent,
  type TaskDefinition,
  type TaskDefinitionStatus,
} from '@aws-sdk/client-ecs';
import {
  GetAWSDefaultServiceQuotaCommand,
  GetServiceQuotaCommand,
} from '@aws-sdk/client-service-quotas';
import type { Ensured, Removed, StackContext } from './context.js';
import { ecsTags } from './names.js';
import {
  errorCode,
  errorMessage,
  hasErrorCode,
  messageMatches,
  pollUntil,
  retry,
} from './retry.js';

// ---------------------------------------------------------------------------
// Fargate sizing and quota
// ---------------------------------------------------------------------------

function range(from: number, to: number, step: number): number[] {
  const values: number[] = [];
  for (let v = from; v <= to; v += step) values.push(v);
  return values;
}

/** Fargate accepts only these CPU units / memory MiB pairs (Linux). */
export const FARGATE_SIZES: ReadonlyMap<number, readonly number[]> = new Map([
  [256, [512, 1024, 2048]],
  [512, range(1024, 4096, 1024)],
  [1024, range(2048, 8192, 1024)],
  [2048, range(4096, 16384, 1024)],
  [4096, range(8192, 30720, 1024)],
  [8192, range(16384, 61440, 4096)],
  [16384, range(32768, 122880, 8192)],
]);

export function validateFargateSize(cpu: number, memory: number): void {
  const allowed = FARGATE_SIZES.get(cpu);
  if (!allowed) {
    throw new Error(
      `Invalid Fargate CPU ${cpu}: use one of ${[...FARGATE_SIZES.keys()].join(', ')} CPU units ` +
        `(1024 units = 1 vCPU; 256 is the smallest and cheapest).`,
    );
  }
  if (!allowed.includes(memory)) {
    throw new Error(
      `Invalid Fargate memory ${memory} MiB for ${cpu} CPU units: with ${cpu} CPU Fargate accepts ` +
        `${allowed.join(', ')} MiB. Change the memory setting to one of these, or pick another CPU size.`,
    );
  }
}

export const FARGATE_VCPU_QUOTA_CODE = 'L-3032A538';

export class FargateQuotaError extends Error {
  constructor(quota: number, needed: number) {
    super(
      `This account's Fargate On-Demand vCPU quota in this region is ${quota}, but the deployment needs ` +
        `${needed} vCPU at its peak (old and new tasks run side by side during a rolling deploy). ` +
        `Request an increase of quota ${FARGATE_VCPU_QUOTA_CODE} ("Fargate On-Demand vCPU resource count") ` +
        `in the Service Quotas console, or lower the task CPU / desired count.`,
    );
    this.name = 'FargateQuotaError';
  }
}

/**
 * New accounts can have a quota below 1 vCPU, which shows up only as a
 * rollout stuck on "reached the limit on the number of vCPUs"; checking
 * first turns that into a clear message. The check is advisory: when the
 * quota API cannot answer (no permission, emulator) the run goes on.
 */
export async function checkFargateVcpuQuota(ctx: StackContext, neededVcpu: number): Promise<void> {
  let quota: number | undefined;
  const which = { ServiceCode: 'fargate', QuotaCode: FARGATE_VCPU_QUOTA_CODE };
  try {
    const out = await ctx.clients.quotas
      .send(new GetServiceQuotaCommand(which))
      .catch((error: unknown) => {
        // A quota never adjusted in the account may have no applied value.
        if (hasErrorCode(error, 'NoSuchResourceException')) {
          return ctx.clients.quotas.send(new GetAWSDefaultServiceQuotaCommand(which));
        }
        throw error;
      });
    quota = out.Quota?.Value;
  } catch (error) {
    ctx.report.warn(
      `Could not read the Fargate vCPU quota (${errorCode(error)}: ${errorMessage(error)}); ` +
        `continuing without checking it.`,
    );
    return;
  }
  if (quota === undefined) {
    ctx.report.warn('The Fargate vCPU quota came back empty; continuing without checking it.');
    return;
  }
  if (quota < neededVcpu) throw new FargateQuotaError(quota, neededVcpu);
}

// ---------------------------------------------------------------------------
// Cluster
// ---------------------------------------------------------------------------

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
): string[] {
  if (!current) return [`create ECS cluster ${ctx.names.cluster}`];
  if (current.status === 'INACTIVE')
    return [`re-create deleted (INACTIVE) ECS cluster ${ctx.names.cluster}`];
  return [];
}

export async function ensureCluster(
  ctx: StackContext,
  options: { iamPropagationTimeoutMs?: number } = {},
): Promise<Ensured<{ clusterArn: string }>> {
  const current = await describeCluster(ctx);
  const plan = planCluster(ctx, current);
  if (current && plan.length === 0) {
    return { outcome: 'unchanged', changes: [], value: { clusterArn: current.clusterArn } };
  }
  // CreateCluster on the name of an INACTIVE cluster makes a fresh one; on
  // an ACTIVE one it is idempotent, so a race with another run is harmless.
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
  return {
    outcome: 'created',
    changes: plan.map((p) => p.replace(/^create/, 'created').replace(/^re-create/, 're-created')),
    value: { clusterArn: out.cluster?.clusterArn ?? '' },
  };
}

export async function removeCluster(
  ctx: StackContext,
  options: { timeoutMs: number },
): Promise<Removed> {
  const current = await describeCluster(ctx);
  if (!current || current.status === 'INACTIVE') return { removed: [] };
  try {
    // Services and tasks that are still draining keep the cluster busy for
    // a while after DeleteService returns.
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
    if (hasErrorCode(error, 'ClusterNotFoundException')) return { removed: [] };
    throw error;
  }
  return { removed: [`ECS cluster ${ctx.names.cluster}`] };
}

// ---------------------------------------------------------------------------
// Task definition
// ---------------------------------------------------------------------------

export interface TaskSettings {
  image: string;
  cpu: number;
  memory: number;
  cpuArchitecture: 'X86_64' | 'ARM64';
  containerPort: number;
  /** Shell-less command; `CMD` is prepended. */
  healthCheckCommand: string[];
  executionRoleArn: string;
  logGroup: string;
  /** valueFrom is a Secrets Manager ARN (optionally with :json-key:stage:version-id). */
  secrets: { name: string; valueFrom: string }[];
  environment?: { name: string; value: string }[];
}

export const LOG_STREAM_PREFIX = 'api';
const STOP_TIMEOUT_SECONDS = 30;
// Matches the numeric uid of the image's non-root user; a name would need
// /etc/passwd lookups that a read-only root filesystem makes fragile.
const CONTAINER_USER = '1000';

export function buildTaskDefinitionInput(
  ctx: Pick<StackContext, 'names' | 'region'>,
  settings: TaskSettings,
): RegisterTaskDefinitionCommandInput {
  const container: ContainerDefinition = {
    name: ctx.names.containerName,
    image: settings.image,
    essential: true,
    portMappings: [{ containerPort: settings.containerPort, protocol: 'tcp' }],
    readonlyRootFilesystem: true,
    user: CONTAINER_USER,
    secrets: settings.secrets.map((s) => ({ name: s.name, valueFrom: s.valueFrom })),
    environment: (settings.environment ?? []).map((e) => ({ name: e.name, value: e.value })),
    logConfiguration: {
      logDriver: 'awslogs',
      options: {
        'awslogs-group': settings.logGroup,
        'awslogs-region': ctx.region,
        'awslogs-stream-prefix': LOG_STREAM_PREFIX,
      },
    },
    healthCheck: {
      command: ['CMD', ...settings.healthCheckCommand],
      interval: 10,
      timeout: 5,
      retries: 3,
      startPeriod: 10,
    },
    stopTimeout: STOP_TIMEOUT_SECONDS,
  };
  return {
    family: ctx.names.taskFamily,
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: String(settings.cpu),
    memory: String(settings.memory),
    runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: settings.cpuArchitecture },
    executionRoleArn: settings.executionRoleArn,
    containerDefinitions: [container],
    tags: ecsTags(ctx.names.stack),
  };
}

type TaskDefinitionShape = Pick<
  TaskDefinition,
  | 'cpu'
  | 'memory'
  | 'networkMode'
  | 'requiresCompatibilities'
  | 'runtimePlatform'
  | 'executionRoleArn'
> & { containerDefinitions?: ContainerDefinition[] };

const byName = <T extends { name?: string }>(a: T, b: T): number =>
  (a.name ?? '').localeCompare(b.name ?? '');

/**
 * The settings this tool owns, in a form where AWS's defaults and ordering
 * (hostPort filled in, empty lists, string numbers) do not look like drift.
 */
export function normalizeTaskDefinition(td: TaskDefinitionShape): Record<string, string> {
  const c = td.containerDefinitions?.[0];
  const options = c?.logConfiguration?.options ?? {};
  const fields: Record<string, unknown> = {
    cpu: String(td.cpu ?? ''),
    memory: String(td.memory ?? ''),
    networkMode: td.networkMode,
    requiresCompatibilities: [...(td.requiresCompatibilities ?? [])].sort(),
    runtimePlatform: [
      td.runtimePlatform?.operatingSystemFamily ?? 'LINUX',
      td.runtimePlatform?.cpuArchitecture ?? 'X86_64',
    ],
    executionRoleArn: td.executionRoleArn,
    containers: td.containerDefinitions?.length ?? 0,
    containerName: c?.name,
    image: c?.image,
    essential: c?.essential ?? true,
    portMappings: (c?.portMappings ?? []).map((p) => [p.containerPort, p.protocol ?? 'tcp']),
    readonlyRootFilesystem: c?.readonlyRootFilesystem ?? false,
    user: c?.user,
    secrets: [...(c?.secrets ?? [])].sort(byName).map((s) => [s.name, s.valueFrom]),
    environment: [...(c?.environment ?? [])].sort(byName).map((e) => [e.name, e.value]),
    logConfiguration: [
      c?.logConfiguration?.logDriver,
      Object.entries(options).sort(([a], [b]) => a.localeCompare(b)),
    ],
    healthCheck: c?.healthCheck
      ? [
          c.healthCheck.command,
          c.healthCheck.interval,
          c.healthCheck.timeout,
          c.healthCheck.retries,
          c.healthCheck.startPeriod,
        ]
      : null,
    stopTimeout: c?.stopTimeout,
  };
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, JSON.stringify(v ?? null)]));
}

export function diffTaskDefinition(
  current: TaskDefinitionShape | undefined,
  desired: TaskDefinitionShape,
): string[] {
  if (!current) return [];
  const a = normalizeTaskDefinition(current);
  const b = normalizeTaskDefinition(desired);
  return Object.keys(b).filter((key) => a[key] !== b[key]);
}

export interface TaskDefinitionState {
  readonly taskDefinitionArn: string;
  readonly revision: number;
  readonly registeredAt: Date | undefined;
  readonly definition: TaskDefinition;
}

/** The latest ACTIVE revision of the family, or undefined when none is active. */
export async function describeTaskDefinition(
  ctx: StackContext,
): Promise<TaskDefinitionState | undefined> {
  try {
    const out = await ctx.clients.ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: ctx.names.taskFamily }),
    );
    const td = out.taskDefinition;
    if (!td?.taskDefinitionArn || td.status === 'INACTIVE') return undefined;
    return {
      taskDefinitionArn: td.taskDefinitionArn,
      revision: td.revision ?? 0,
      registeredAt: td.registeredAt,
      definition: td,
    };
  } catch (error) {
    // ECS answers an unknown family with ClientException "Unable to describe
    // task definition"; moto with its own not-found error.
    if (
      hasErrorCode(error, 'ClientException', 'TaskDefinitionNotFoundException') ||
      messageMatches(error, /unable to describe task definition|not found/i)
    ) {
      return undefined;
    }
    throw error;
  }
}

export function planTaskDefinition(
  ctx: Pick<StackContext, 'names' | 'region'>,
  current: TaskDefinitionState | undefined,
  settings: TaskSettings,
): string[] {
  const desired = buildTaskDefinitionInput(ctx, settings);
  if (!current)
    return [
      `register task definition ${ctx.names.taskFamily} (no active revision yet; image ${settings.image})`,
    ];
  const changed = diffTaskDefinition(current.definition, desired);
  if (changed.length === 0) return [];
  return [`register a new revision of ${ctx.names.taskFamily} (changed: ${changed.join(', ')})`];
}

export async function ensureTaskDefinition(
  ctx: StackContext,
  settings: TaskSettings,
): Promise<Ensured<{ taskDefinitionArn: string; revision: number }>> {
  validateFargateSize(settings.cpu, settings.memory);
  const current = await describeTaskDefinition(ctx);
  const plan = planTaskDefinition(ctx, current, settings);
  if (current && plan.length === 0) {
    return {
      outcome: 'unchanged',
      changes: [],
      value: { taskDefinitionArn: current.taskDefinitionArn, revision: current.revision },
    };
  }
  const out = await ctx.clients.ecs.send(
    new RegisterTaskDefinitionCommand(buildTaskDefinitionInput(ctx, settings)),
  );
  const td = out.taskDefinition;
  if (!td?.taskDefinitionArn) {
    throw new Error(
      `RegisterTaskDefinition for ${ctx.names.taskFamily} returned no ARN; run the command again.`,
    );
  }
  const revision = td.revision ?? 0;
  return {
    outcome: current ? 'updated' : 'created',
    changes: plan.map((p) => `${p}: revision ${revision}`),
    value: { taskDefinitionArn: td.taskDefinitionArn, revision },
  };
}

function familyOfArn(arn: string): string | undefined {
  return /:task-definition\/([^:]+):\d+$/.exec(arn)?.[1];
}

async function listTaskDefinitionArns(
  ctx: StackContext,
  status: TaskDefinitionStatus,
): Promise<string[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ctx.clients.ecs.send(
      new ListTaskDefinitionsCommand({
        familyPrefix: ctx.names.taskFamily,
        status,
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    // familyPrefix is a prefix: "x-api" also lists "x-api2", another stack's.
    arns.push(
      ...(page.taskDefinitionArns ?? []).filter((arn) => familyOfArn(arn) === ctx.names.taskFamily),
    );
    nextToken = page.nextToken;
  } while (nextToken);
  return arns;
}

export async function removeTaskDefinitions(ctx: StackContext): Promise<Removed> {
  const removed: string[] = [];
  for (const arn of await listTaskDefinitionArns(ctx, 'ACTIVE')) {
    try {
      await ctx.clients.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn }));
      removed.push(`task definition ${arn.split('/').pop() ?? arn} (deregistered)`);
    } catch (error) {
      if (!hasErrorCode(error, 'ClientException', 'TaskDefinitionNotFoundException')) throw error;
    }
  }
  // Deregistered revisions stay listed as INACTIVE until deleted. Deleting
  // them is tidy but optional (older endpoints and emulators lack the API),
  // so failures only warn.
  try {
    const inactive = await listTaskDefinitionArns(ctx, 'INACTIVE');
    for (let i = 0; i < inactive.length; i += 10) {
      await ctx.clients.ecs.send(
        new DeleteTaskDefinitionsCommand({ taskDefinitions: inactive.slice(i, i + 10) }),
      );
    }
  } catch (error) {
    ctx.report.warn(
      `Could not delete inactive revisions of ${ctx.names.taskFamily} (${errorCode(error)}); they cost nothing and can stay.`,
    );
  }
  return { removed };
}

// ---------------------------------------------------------------------------
// Service
// ---------------------------------------------------------------------------

export interface ServiceSettings {
  taskDefinitionArn: string;
  subnetIds: string[];
  securityGroupId: string;
  targetGroupArn: string;
  desiredCount: number;
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

/** Read-only: the raw ECS service record (any status), for planService and status. */
export async function findService(ctx: StackContext): Promise<Service | undefined> {
  try {
    const out = await ctx.clients.ecs.send(
      new DescribeServicesCommand({ cluster: ctx.names.cluster, services: [ctx.names.service] }),
    );
    return (out.services ?? []).find((s) => s.serviceName === ctx.names.service);
  } catch (error) {
    if (hasErrorCode(error, 'ClusterNotFoundException')) return undefined;
    throw error;
  }
}

const sameSet = (a: readonly string[] | undefined, b: readonly string[]): boolean =>
  JSON.stringify([...(a ?? [])].sort()) === JSON.stringify([...b].sort());

/** Which of the settings this tool owns differ on an ACTIVE service. */
export function diffService(
  ctx: Pick<StackContext, 'names'>,
  service: Service,
  settings: ServiceSettings,
): string[] {
  const diffs: string[] = [];
  if (service.taskDefinition !== settings.taskDefinitionArn) {
    diffs.push(
      `task definition ${service.taskDefinition ?? 'none'} -> ${settings.taskDefinitionArn}`,
    );
  }
  if (service.desiredCount !== settings.desiredCount) {
    diffs.push(`desired count ${service.desiredCount ?? 0} -> ${settings.desiredCount}`);
  }
  const vpc = service.networkConfiguration?.awsvpcConfiguration;
  if (
    !sameSet(vpc?.subnets, settings.subnetIds) ||
    !sameSet(vpc?.securityGroups, [settings.securityGroupId]) ||
    vpc?.assignPublicIp !== 'ENABLED'
  ) {
    diffs.push('network configuration (subnets, security group, public IP)');
  }
  const dc = service.deploymentConfiguration;
  // AWS always reports the deployment configuration; when it is missing
  // altogether (moto after CreateService) drift cannot be told, and updating
  // anyway would make every second run mutate.
  if (
    dc !== undefined &&
    (dc.deploymentCircuitBreaker?.enable !== true ||
      dc.deploymentCircuitBreaker.rollback !== true ||
      dc.maximumPercent !== DEPLOYMENT_CONFIGURATION.maximumPercent ||
      dc.minimumHealthyPercent !== DEPLOYMENT_CONFIGURATION.minimumHealthyPercent)
  ) {
    diffs.push('deployment configuration (circuit breaker with rollback, 200%/100%)');
  }
  const lb = service.loadBalancers ?? [];
  if (
    lb.length !== 1 ||
    lb[0]?.targetGroupArn !== settings.targetGroupArn ||
    lb[0]?.containerName !== ctx.names.containerName ||
    lb[0]?.containerPort !== (settings.containerPort ?? DEFAULT_CONTAINER_PORT)
  ) {
    diffs.push(`load balancer target group -> ${settings.targetGroupArn}`);
  }
  return diffs;
}

export function planService(
  ctx: Pick<StackContext, 'names'>,
  current: Service | undefined,
  settings: ServiceSettings,
): string[] {
  const name = ctx.names.service;
  if (!current || current.status === 'INACTIVE') {
    return [
      `create ECS service ${name} with ${settings.desiredCount} task(s) on ${settings.taskDefinitionArn}`,
    ];
  }
  if (current.status === 'DRAINING') {
    return [`wait for draining ECS service ${name} to finish, then create it again`];
  }
  const diffs = diffService(ctx, current, settings);
  if (diffs.length === 0 && settings.forceNewDeployment)
    return [`force a new deployment of ${name}`];
  const failed = failedPrimaryDeployment(current);
  if (diffs.length === 0 && failed !== undefined) {
    // A failed first deployment has nothing to roll back to: the service
    // runs no task until something starts a new one.
    return [
      `force a new deployment of ${name}: the last one failed (${failed.rolloutStateReason ?? 'no reason given'})`,
    ];
  }
  return diffs.map((d) => `update ECS service ${name}: ${d}`);
}

// IAM is eventually consistent: for up to a minute or two after the roles
// are created, ECS can still fail to assume them.
const IAM_PROPAGATION_MESSAGE =
  /unable to assume (the )?(service linked )?role|ECS was unable to assume|service role being passed|verify that the ECS service linked role exists/i;

function loadBalancerMapping(ctx: Pick<StackContext, 'names'>, settings: ServiceSettings) {
  return [
    {
      targetGroupArn: settings.targetGroupArn,
      containerName: ctx.names.containerName,
      containerPort: settings.containerPort ?? DEFAULT_CONTAINER_PORT,
    },
  ];
}

/**
 * Retries `fn` while ECS cannot yet assume a role created moments before
 * (its own service-linked role, or the task execution role): about two
 * minutes by default, with a visible message.
 */
export function retryWhileIamPropagates<T>(
  ctx: StackContext,
  what: string,
  timeoutMs: number | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  return retryWhilePropagating(ctx, what, timeoutMs, isIamPropagationError, fn);
}

// Right after CreateListener, CreateService can still answer that the target
// group has no load balancer for a few seconds; terraform retries it
// (https://github.com/hashicorp/terraform-provider-aws/issues/3495, fixed by
// https://github.com/hashicorp/terraform-provider-aws/pull/3535).
const TARGET_GROUP_NOT_ATTACHED_MESSAGE = /does not have an associated load balancer/i;

export function isTargetGroupNotAttachedError(error: unknown): boolean {
  return (
    hasErrorCode(error, 'InvalidParameterException') &&
    messageMatches(error, TARGET_GROUP_NOT_ATTACHED_MESSAGE)
  );
}

/** CreateService/UpdateService: both roles and the listener may be moments old. */
function retryWhileServiceDependenciesPropagate<T>(
  ctx: StackContext,
  what: string,
  timeoutMs: number | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  return retryWhilePropagating(
    ctx,
    what,
    timeoutMs,
    (error) => isIamPropagationError(error) || isTargetGroupNotAttachedError(error),
    fn,
  );
}

function retryWhilePropagating<T>(
  ctx: StackContext,
  what: string,
  timeoutMs: number | undefined,
  isRetryable: (error: unknown) => boolean,
  fn: () => Promise<T>,
): Promise<T> {
  return retry(
    ctx.clock,
    {
      what,
      timeoutMs: timeoutMs ?? 120_000,
      initialDelayMs: 5_000,
      maxDelayMs: 15_000,
      isRetryable,
      onRetry: (error, _attempt, elapsed) =>
        ctx.report.progress(
          isTargetGroupNotAttachedError(error)
            ? `Waiting for the new listener to attach the target group to the load balancer (${Math.round(elapsed / 1000)} s)`
            : `Waiting for IAM roles to propagate before ECS can use them (${Math.round(elapsed / 1000)} s)`,
        ),
    },
    fn,
  );
}

export function isIamPropagationError(error: unknown): boolean {
  return (
    hasErrorCode(error, 'InvalidParameterException', 'ClientException', 'AccessDeniedException') &&
    messageMatches(error, IAM_PROPAGATION_MESSAGE)
  );
}

export function primaryDeployment(service: Service | undefined): Deployment | undefined {
  return service?.deployments?.find((d) => d.status === 'PRIMARY');
}

export function primaryDeploymentId(service: Service | undefined): string | undefined {
  return primaryDeployment(service)?.id;
}

function failedPrimaryDeployment(service: Service | undefined): Deployment | undefined {
  const primary = primaryDeployment(service);
  return primary?.rolloutState === 'FAILED' ? primary : undefined;
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

export async function ensureService(
  ctx: StackContext,
  settings: ServiceSettings,
): Promise<Ensured<ServiceRef>> {
  const name = ctx.names.service;
  let current = await findService(ctx);
  if (current?.status === 'DRAINING') {
    // A service deleted moments ago (e.g. `down` then `up`) cannot be
    // re-created under the same name until it is INACTIVE.
    await waitWhileDraining(ctx, 10 * 60_000);
    current = await findService(ctx);
  }

  const retryOnPropagation = <T>(what: string, fn: () => Promise<T>): Promise<T> =>
    retryWhileServiceDependenciesPropagate(ctx, what, settings.iamPropagationTimeoutMs, fn);

  if (!current || current.status !== 'ACTIVE') {
    const plan = planService(ctx, current, settings);
    const out = await retryOnPropagation(`creating ECS service ${name}`, () =>
      ctx.clients.ecs.send(
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
      ),
    );
    return {
      outcome: 'created',
      changes: plan.map((p) => p.replace(/^create/, 'created')),
      value: {
        serviceArn: out.service?.serviceArn ?? '',
        deploymentId: primaryDeploymentId(out.service),
        deploymentCreatedAt: primaryDeployment(out.service)?.createdAt,
      },
    };
  }

  const diffs = diffService(ctx, current, settings);
  const lastRolloutFailed = failedPrimaryDeployment(current) !== undefined;
  if (diffs.length === 0 && !settings.forceNewDeployment && !lastRolloutFailed) {
    // A rollout still in progress (say, the previous run was interrupted
    // while waiting) is the one to wait for.
    const primary = primaryDeployment(current);
    return {
      outcome: 'unchanged',
      changes:
        primary?.rolloutState === 'IN_PROGRESS'
          ? [`deployment ${primary.id ?? '?'} still in progress`]
          : [],
      value: {
        serviceArn: current.serviceArn ?? '',
        deploymentId: primary?.rolloutState === 'IN_PROGRESS' ? primary.id : undefined,
        deploymentCreatedAt:
          primary?.rolloutState === 'IN_PROGRESS' ? primary.createdAt : undefined,
      },
    };
  }
  const taskDefinitionChanged = current.taskDefinition !== settings.taskDefinitionArn;
  const out = await retryOnPropagation(`updating ECS service ${name}`, () =>
    ctx.clients.ecs.send(
      new UpdateServiceCommand({
        cluster: ctx.names.cluster,
        service: name,
        taskDefinition: settings.taskDefinitionArn,
        desiredCount: settings.desiredCount,
        networkConfiguration: networkConfiguration(settings),
        loadBalancers: loadBalancerMapping(ctx, settings),
        healthCheckGracePeriodSeconds: HEALTH_CHECK_GRACE_SECONDS,
        deploymentConfiguration: DEPLOYMENT_CONFIGURATION,
        // AWS starts a deployment for a new task definition anyway; being
        // explicit also makes emulators issue a new deployment id.
        forceNewDeployment:
          taskDefinitionChanged || settings.forceNewDeployment === true || lastRolloutFailed,
      }),
    ),
  );
  return {
    outcome: 'updated',
    changes: planService(ctx, current, settings).map((p) =>
      p.replace(/^update/, 'updated').replace(/^force/, 'forced'),
    ),
    value: {
      serviceArn: out.service?.serviceArn ?? current.serviceArn ?? '',
      deploymentId: primaryDeploymentId(out.service),
      deploymentCreatedAt: primaryDeployment(out.service)?.createdAt,
    },
  };
}

// ---------------------------------------------------------------------------
// Waiting for a deployment
// ---------------------------------------------------------------------------

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
function replacingDeployment(
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

// ---------------------------------------------------------------------------
// Status and removal
// ---------------------------------------------------------------------------

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

export async function removeService(
  ctx: StackContext,
  options: { timeoutMs: number },
): Promise<Removed> {
  const name = ctx.names.service;
  const current = await findService(ctx);
  if (!current || current.status === 'INACTIVE') return { removed: [] };
  if (current.status === 'ACTIVE') {
    try {
      // force: DeleteService otherwise refuses while desiredCount > 0, and
      // scaling to 0 first would only add a wait.
      await ctx.clients.ecs.send(
        new DeleteServiceCommand({ cluster: ctx.names.cluster, service: name, force: true }),
      );
    } catch (error) {
      if (
        hasErrorCode(
          error,
          'ServiceNotFoundException',
          'ServiceNotActiveException',
          'ClusterNotFoundException',
        )
      ) {
        return { removed: [] };
      }
      throw error;
    }
  }
  const started = ctx.clock.now();
  await pollUntil(
    ctx.clock,
    {
      what: `waiting for ECS service ${name} to drain`,
      timeoutMs: options.timeoutMs,
      intervalMs: 6_000,
    },
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
  return { removed: [`ECS service ${name}`] };
}
