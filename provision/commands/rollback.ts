/**
 * Rollback, library side: the family's recent revisions, and a rollback that
 * registers a copy of an earlier revision (image and settings) with the
 * token secret references of the revision running now, then rolls the
 * service onto it. The token must not go back with the image: the secret
 * references are pinned to one version (secretReferences in secret.ts), so
 * re-deploying an old revision as it is would also bring back the token it
 * was registered with, and clients using the current token would get 401s.
 *
 * The wait and the verification are up's (waitForDeployment, verify); the
 * CLI calls them with the deployment id this returns.
 */
import {
  DescribeTaskDefinitionCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  paginateListTaskDefinitions,
  type ContainerDefinition,
  type RegisterTaskDefinitionCommandInput,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import type { StackContext } from '../context.js';
import { ecsTags, stackFlags } from '../names.js';
import { ChangeSet, type Change } from '../plan.js';
import { pinnedSecretVersion } from '../resources/secret.js';
import { findService, primaryDeployment } from '../resources/ecs/index.js';

export interface RevisionInfo {
  readonly revision: number;
  readonly taskDefinitionArn: string;
  readonly image: string | undefined;
  readonly registeredAt: Date | undefined;
  /** The token secret version the revision pins; undefined when it follows AWSCURRENT. */
  readonly secretVersionId: string | undefined;
  /** True for the revision the service runs now. */
  readonly running: boolean;
}

function apiContainer(ctx: StackContext, td: TaskDefinition): ContainerDefinition | undefined {
  return td.containerDefinitions?.find((c) => c.name === ctx.names.containerName);
}

async function describeRevision(ctx: StackContext, arn: string): Promise<TaskDefinition> {
  const out = await ctx.clients.ecs.send(
    new DescribeTaskDefinitionCommand({ taskDefinition: arn }),
  );
  if (out.taskDefinition?.taskDefinitionArn === undefined) {
    throw new Error(
      `Task definition ${arn} was not found; run "iclinic-deploy status" to list revisions.`,
    );
  }
  return out.taskDefinition;
}

const revisionOfArn = (arn: string): number => Number(/:(\d+)$/.exec(arn)?.[1] ?? 0);

/** ACTIVE revisions of the family, newest first (familyPrefix also lists "x-api2": filtered). */
async function revisionArns(ctx: StackContext): Promise<string[]> {
  const family = ctx.names.taskFamily;
  const arns: string[] = [];
  for await (const page of paginateListTaskDefinitions(
    { client: ctx.clients.ecs },
    { familyPrefix: family, status: 'ACTIVE', sort: 'DESC' },
  )) {
    arns.push(...(page.taskDefinitionArns ?? []).filter((a) => a.includes(`/${family}:`)));
  }
  return arns.sort((a, b) => revisionOfArn(b) - revisionOfArn(a));
}

/** The most recent revisions with their image, date and pinned secret version. */
export async function listRevisions(ctx: StackContext, limit = 10): Promise<RevisionInfo[]> {
  const running = (await findService(ctx))?.taskDefinition;
  const revisions: RevisionInfo[] = [];
  for (const arn of (await revisionArns(ctx)).slice(0, limit)) {
    const td = await describeRevision(ctx, arn);
    const container = apiContainer(ctx, td);
    revisions.push({
      revision: td.revision ?? revisionOfArn(arn),
      taskDefinitionArn: arn,
      image: container?.image,
      registeredAt: td.registeredAt,
      secretVersionId: pinnedSecretVersion(container?.secrets),
      running: arn === running,
    });
  }
  return revisions;
}

const COPIED_FIELDS = [
  'taskRoleArn',
  'executionRoleArn',
  'networkMode',
  'volumes',
  'placementConstraints',
  'requiresCompatibilities',
  'cpu',
  'memory',
  'pidMode',
  'ipcMode',
  'proxyConfiguration',
  'inferenceAccelerators',
  'ephemeralStorage',
  'runtimePlatform',
] as const;

/**
 * What a rollback copies: the registration input of `from`, with the
 * running revision's secret references on the API container. Fields ECS
 * fills in on registration (ARN, revision, status, requiresAttributes...)
 * are not inputs and are left out.
 */
export function rollbackInput(
  ctx: Pick<StackContext, 'names'>,
  from: TaskDefinition,
  running: TaskDefinition,
): RegisterTaskDefinitionCommandInput {
  const name = ctx.names.containerName;
  const currentSecrets = running.containerDefinitions?.find((c) => c.name === name)?.secrets;
  const containerDefinitions = (from.containerDefinitions ?? []).map((c) =>
    c.name === name ? { ...c, secrets: currentSecrets ?? [] } : c,
  );
  const settings = Object.fromEntries(
    COPIED_FIELDS.filter((field) => from[field] !== undefined).map((field) => [field, from[field]]),
  ) as Pick<RegisterTaskDefinitionCommandInput, (typeof COPIED_FIELDS)[number]>;
  return {
    ...settings,
    family: ctx.names.taskFamily,
    containerDefinitions,
    tags: ecsTags(ctx.names.stack),
  };
}

/** The settings a user would call different, secrets excepted: comparing these finds a real previous version. */
function settingsKey(ctx: Pick<StackContext, 'names'>, td: TaskDefinition): string {
  const input = rollbackInput(ctx, td, { containerDefinitions: [] });
  const { tags: _tags, ...rest } = input;
  return JSON.stringify(rest);
}

export class RollbackTargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RollbackTargetError';
  }
}

export interface RollbackPlan {
  readonly from: TaskDefinition;
  readonly running: TaskDefinition;
  readonly changes: readonly Change[];
}

/**
 * Without --to: the newest revision before the running one whose image or
 * settings differ (a set-token registers revisions that change only the
 * secret version; going back to one of those would change nothing).
 */
export async function planRollback(
  ctx: StackContext,
  options: { readonly to?: number } = {},
): Promise<RollbackPlan> {
  const service = await findService(ctx);
  if (service?.status !== 'ACTIVE' || service.taskDefinition === undefined) {
    throw new RollbackTargetError(
      `Stack "${ctx.names.stack}" has no active service ${ctx.names.service} in ${ctx.region}; ` +
        `run "iclinic-deploy up${stackFlags(ctx.names.stack, ctx.region)}" first.`,
    );
  }
  const running = await describeRevision(ctx, service.taskDefinition);
  const runningRevision = running.revision ?? revisionOfArn(service.taskDefinition);
  const from = await chooseRevision(ctx, running, runningRevision, options.to);

  const changes = new ChangeSet();
  const family = ctx.names.taskFamily;
  changes.create(
    'task definition revision',
    family,
    `copy of revision ${from.revision ?? '?'} with the running token`,
  );
  const image = (td: TaskDefinition) => apiContainer(ctx, td)?.image ?? 'none';
  if (image(from) !== image(running)) {
    changes.update('ECS service', ctx.names.service, 'image', image(running), image(from));
  }
  changes.update(
    'ECS service',
    ctx.names.service,
    'task definition',
    `${family}:${runningRevision}`,
    `copy of ${family}:${from.revision ?? '?'}`,
  );
  return { from, running, changes: changes.list };
}

async function chooseRevision(
  ctx: StackContext,
  running: TaskDefinition,
  runningRevision: number,
  to: number | undefined,
): Promise<TaskDefinition> {
  const family = ctx.names.taskFamily;
  if (to !== undefined) {
    if (!Number.isInteger(to) || to < 1) {
      throw new RollbackTargetError(
        `Invalid --to ${to}: give a revision number of ${family} (see "iclinic-deploy status").`,
      );
    }
    const chosen = await describeRevision(ctx, `${family}:${to}`);
    if (settingsKey(ctx, chosen) === settingsKey(ctx, running)) {
      throw new RollbackTargetError(
        `Revision ${to} of ${family} has the image and settings the service runs now (revision ${runningRevision}); nothing to roll back.`,
      );
    }
    return chosen;
  }
  const runningKey = settingsKey(ctx, running);
  for (const arn of await revisionArns(ctx)) {
    if (revisionOfArn(arn) >= runningRevision) continue;
    const candidate = await describeRevision(ctx, arn);
    if (settingsKey(ctx, candidate) !== runningKey) return candidate;
  }
  throw new RollbackTargetError(
    `No earlier revision of ${family} with another image or settings than the running revision ${runningRevision}; ` +
      `nothing to roll back to. Deploy another image with "iclinic-deploy up".`,
  );
}

export interface RollbackResult {
  readonly changes: readonly Change[];
  /** Revision copied, and the new one registered (undefined in a dry run). */
  readonly fromRevision: number;
  readonly newRevision: number | undefined;
  /** The deployment to wait for; undefined in a dry run. */
  readonly deploymentId: string | undefined;
  readonly deploymentCreatedAt: Date | undefined;
}

/**
 * Registers the copy and points the service at it. UpdateService carries
 * no desiredCount, so it does not fight the autoscaler (see autoscaling.ts).
 */
export async function rollback(
  ctx: StackContext,
  options: { readonly to?: number } = {},
): Promise<RollbackResult> {
  const plan = await planRollback(ctx, options);
  const fromRevision = plan.from.revision ?? 0;
  if (ctx.dryRun) {
    return {
      changes: plan.changes,
      fromRevision,
      newRevision: undefined,
      deploymentId: undefined,
      deploymentCreatedAt: undefined,
    };
  }
  const registered = await ctx.clients.ecs.send(
    new RegisterTaskDefinitionCommand(rollbackInput(ctx, plan.from, plan.running)),
  );
  const arn = registered.taskDefinition?.taskDefinitionArn;
  if (arn === undefined) {
    throw new Error(
      `RegisterTaskDefinition for ${ctx.names.taskFamily} returned no ARN; run rollback again.`,
    );
  }
  const updated = await ctx.clients.ecs.send(
    new UpdateServiceCommand({
      cluster: ctx.names.cluster,
      service: ctx.names.service,
      taskDefinition: arn,
      forceNewDeployment: true,
    }),
  );
  const deployment = primaryDeployment(updated.service);
  return {
    changes: plan.changes,
    fromRevision,
    newRevision: registered.taskDefinition?.revision ?? revisionOfArn(arn),
    deploymentId: deployment?.id,
    deploymentCreatedAt: deployment?.createdAt,
  };
}
