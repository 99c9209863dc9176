import {
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeTaskDefinitionCommand,
  RegisterTaskDefinitionCommand,
  paginateListTaskDefinitions,
  type ContainerDefinition,
  type RegisterTaskDefinitionCommandInput,
  type TaskDefinition,
  type TaskDefinitionStatus,
} from '@aws-sdk/client-ecs';
import type { Converged, Removal, StackContext } from '../../context.js';
import { ecsTags } from '../../names.js';
import { ChangeSet, NOT_CREATED_YET, isNotCreatedYet, type Change } from '../../plan.js';
import { errorCode, hasErrorCode, isNotFound, messageMatches } from '../../retry.js';
import { validateFargateSize } from './fargate.js';

const KIND = 'task definition';

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

/** The settings (keys of normalizeTaskDefinition) whose values differ. */
export function diffTaskDefinition(
  current: TaskDefinitionShape | undefined,
  desired: TaskDefinitionShape,
): string[] {
  if (!current) return [];
  const a = normalizeTaskDefinition(current);
  const b = normalizeTaskDefinition(desired);
  return Object.keys(b).filter((key) => a[key] !== b[key]);
}

/** A normalised value as the user reads it: a plain string without its JSON quotes. */
function shown(normalized: string | undefined): string {
  if (normalized === undefined) return 'none';
  const value: unknown = JSON.parse(normalized);
  return typeof value === 'string' ? value : normalized;
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
      isNotFound(error) ||
      hasErrorCode(error, 'ClientException') ||
      messageMatches(error, /unable to describe task definition|not found/i)
    ) {
      return undefined;
    }
    throw error;
  }
}

/** Read-only: one revision by ARN (any status), as it was registered. */
export async function describeRevision(
  ctx: StackContext,
  arn: string,
): Promise<TaskDefinition | undefined> {
  const out = await ctx.clients.ecs.send(
    new DescribeTaskDefinitionCommand({ taskDefinition: arn }),
  );
  return out.taskDefinition;
}

/** Inputs a dry run passes for resources it would create first. */
function inputsNotCreatedYet(settings: TaskSettings): string[] {
  const pending: string[] = [];
  if (isNotCreatedYet(settings.executionRoleArn)) pending.push('execution role');
  if (isNotCreatedYet(settings.image)) pending.push('image');
  // A reference to a version not written yet is ARN:key::(not created yet).
  if (settings.secrets.some((s) => s.valueFrom.includes(NOT_CREATED_YET)))
    pending.push('secret version');
  return pending;
}

/**
 * No active revision: create one. A setting that differs: one update per
 * setting, `old → new` in the normalised form (registering a revision is
 * how ECS changes any of them).
 */
export function planTaskDefinition(
  ctx: Pick<StackContext, 'names' | 'region'>,
  current: TaskDefinitionState | undefined,
  settings: TaskSettings,
): Change[] {
  const family = ctx.names.taskFamily;
  const changes = new ChangeSet();
  const pending = inputsNotCreatedYet(settings);
  if (!current)
    return [...changes.create(KIND, family, `first revision, image ${settings.image}`).list];
  if (pending.length > 0) {
    return [
      ...changes.create(KIND, family, `new revision (${pending.join(', ')} not created yet)`).list,
    ];
  }
  const before = normalizeTaskDefinition(current.definition);
  const after = normalizeTaskDefinition(buildTaskDefinitionInput(ctx, settings));
  for (const key of Object.keys(after).filter((k) => before[k] !== after[k])) {
    changes.update(KIND, family, key, shown(before[key]), shown(after[key]));
  }
  return [...changes.list];
}

export interface TaskDefinitionRef {
  readonly taskDefinitionArn: string;
  readonly revision: number;
}

export async function ensureTaskDefinition(
  ctx: StackContext,
  settings: TaskSettings,
): Promise<Converged<TaskDefinitionRef>> {
  validateFargateSize(settings.cpu, settings.memory);
  const current = await describeTaskDefinition(ctx);
  const changes = planTaskDefinition(ctx, current, settings);
  if (current && changes.length === 0) {
    return {
      changes,
      value: { taskDefinitionArn: current.taskDefinitionArn, revision: current.revision },
    };
  }
  if (ctx.dryRun) {
    return { changes, value: { taskDefinitionArn: NOT_CREATED_YET, revision: 0 } };
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
  return {
    changes,
    value: { taskDefinitionArn: td.taskDefinitionArn, revision: td.revision ?? 0 },
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
  const pages = paginateListTaskDefinitions(
    { client: ctx.clients.ecs },
    { familyPrefix: ctx.names.taskFamily, status },
  );
  for await (const page of pages) {
    // familyPrefix is a prefix: "x-api" also lists "x-api2", another stack's.
    arns.push(
      ...(page.taskDefinitionArns ?? []).filter((arn) => familyOfArn(arn) === ctx.names.taskFamily),
    );
  }
  return arns;
}

/** One revision as the user knows it: `family:revision`. */
export function revisionName(arn: string): string {
  return arn.split('/').pop() ?? arn;
}

/** Deregisters one revision; true when it was there to deregister. */
export async function deregisterTaskDefinition(ctx: StackContext, arn: string): Promise<boolean> {
  try {
    await ctx.clients.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn }));
    return true;
  } catch (error) {
    // ECS answers a revision it does not know with a plain ClientException.
    if (isNotFound(error) || hasErrorCode(error, 'ClientException')) return false;
    throw error;
  }
}

export async function removeTaskDefinitions(ctx: StackContext): Promise<Removal> {
  const active = await listTaskDefinitionArns(ctx, 'ACTIVE');
  if (ctx.dryRun) {
    return { changes: active.map((arn) => deregistration(revisionName(arn))) };
  }
  const changes: Change[] = [];
  for (const arn of active) {
    if (await deregisterTaskDefinition(ctx, arn)) changes.push(deregistration(revisionName(arn)));
  }
  await deleteInactiveRevisions(ctx);
  return { changes };
}

function deregistration(revision: string): Change {
  return { action: 'delete', kind: KIND, name: revision, detail: 'deregister' };
}

/**
 * Deregistered revisions stay listed as INACTIVE until deleted. Deleting
 * them is tidy but optional (older endpoints and emulators lack the API,
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeleteTaskDefinitions.html
 * takes at most 10 per call), so failures only warn.
 */
async function deleteInactiveRevisions(ctx: StackContext): Promise<void> {
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
}

/** The settings of a registered revision, so a new one differs only in its secret references. */
export function taskSettingsFrom(definition: TaskDefinition, containerName: string): TaskSettings {
  const container = definition.containerDefinitions?.find((c) => c.name === containerName);
  const port = container?.portMappings?.[0]?.containerPort;
  const logGroup = container?.logConfiguration?.options?.['awslogs-group'];
  if (
    container?.image === undefined ||
    port === undefined ||
    logGroup === undefined ||
    definition.executionRoleArn === undefined
  ) {
    throw new Error(
      `Task definition ${definition.taskDefinitionArn ?? '?'} is not one this tool registered; run "npx iclinic-deploy up" first.`,
    );
  }
  const command = container.healthCheck?.command ?? [];
  return {
    image: container.image,
    cpu: Number(definition.cpu),
    memory: Number(definition.memory),
    cpuArchitecture: definition.runtimePlatform?.cpuArchitecture === 'ARM64' ? 'ARM64' : 'X86_64',
    containerPort: port,
    healthCheckCommand: command[0] === 'CMD' ? command.slice(1) : command,
    executionRoleArn: definition.executionRoleArn,
    logGroup,
    secrets: [],
    environment: (container.environment ?? []).flatMap((e) =>
      e.name === undefined || e.value === undefined ? [] : [{ name: e.name, value: e.value }],
    ),
  };
}
