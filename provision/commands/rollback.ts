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
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type RegisterTaskDefinitionCommandInput,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import type { StackContext } from '../context.js';
import { ecsTags, stackFlags } from '../names.js';
import { ChangeSet, type Change } from '../plan.js';
import { pinnedSecretVersion } from '../resources/secret.js';
import { findService, primaryDeployment } from '../resources/ecs/index.js';
import {
  ROLLBACK_OF_TAG,
  RollbackTargetError,
  apiContainer,
  chooseRevision,
  copiedSettings,
  describeRevision,
  ensureImageExists,
  imageOf,
  revisionArns,
  revisionOfArn,
  type Revision,
} from './rollback-target.js';

export { ROLLBACK_OF_TAG, RollbackTargetError } from './rollback-target.js';

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

/** The most recent revisions with their image, date and pinned secret version. */
export async function listRevisions(ctx: StackContext, limit = 10): Promise<RevisionInfo[]> {
  const running = (await findService(ctx))?.taskDefinition;
  const revisions: RevisionInfo[] = [];
  for (const arn of (await revisionArns(ctx)).slice(0, limit)) {
    const { definition: td, revision } = await describeRevision(ctx, arn);
    const container = apiContainer(ctx, td);
    revisions.push({
      revision,
      taskDefinitionArn: arn,
      image: container?.image,
      registeredAt: td.registeredAt,
      secretVersionId: pinnedSecretVersion(container?.secrets),
      running: arn === running,
    });
  }
  return revisions;
}

/**
 * What a rollback copies: the registration input of `from`, with the
 * running revision's secret references on the API container, tagged with
 * the revision it copies (a copy of a copy names the original), which
 * places it in the deploy history for the next rollback (rollback-target.ts).
 */
export function rollbackInput(
  ctx: Pick<StackContext, 'names'>,
  from: Revision,
  running: TaskDefinition,
): RegisterTaskDefinitionCommandInput {
  const name = ctx.names.containerName;
  const currentSecrets = running.containerDefinitions?.find((c) => c.name === name)?.secrets;
  const containerDefinitions = (from.definition.containerDefinitions ?? []).map((c) =>
    c.name === name ? { ...c, secrets: currentSecrets ?? [] } : c,
  );
  return {
    ...copiedSettings(from.definition),
    family: ctx.names.taskFamily,
    containerDefinitions,
    tags: [...ecsTags(ctx.names.stack), { key: ROLLBACK_OF_TAG, value: String(from.origin) }],
  };
}

export interface RollbackPlan {
  readonly from: Revision;
  readonly running: Revision;
  readonly changes: readonly Change[];
}

/**
 * The revision to go back to (rollback-target.ts: the previous one in the
 * deploy history, or --to), refused before anything is registered when
 * its image is gone.
 */
export async function planRollback(
  ctx: StackContext,
  options: { readonly to?: number } = {},
): Promise<RollbackPlan> {
  const service = await findService(ctx);
  if (service?.status !== 'ACTIVE' || service.taskDefinition === undefined) {
    throw new RollbackTargetError(
      `Stack "${ctx.names.stack}" has no active service ${ctx.names.service} in ${ctx.region}; ` +
        `run "npx iclinic-deploy up${stackFlags(ctx.names.stack, ctx.region)}" first.`,
    );
  }
  const running = await describeRevision(ctx, service.taskDefinition);
  const from = await chooseRevision(ctx, running, options.to);
  await ensureImageExists(ctx, from, running);

  const changes = new ChangeSet();
  const family = ctx.names.taskFamily;
  changes.create(
    'task definition revision',
    family,
    `copy of revision ${from.revision} with the running token`,
  );
  const [fromImage, runningImage] = [from, running].map((r) => imageOf(ctx, r.definition));
  if (fromImage !== runningImage) {
    changes.update('ECS service', ctx.names.service, 'image', runningImage, fromImage);
  }
  changes.update(
    'ECS service',
    ctx.names.service,
    'task definition',
    `${family}:${running.revision}`,
    `copy of ${family}:${from.revision}`,
  );
  return { from, running, changes: changes.list };
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
  const fromRevision = plan.from.revision;
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
    new RegisterTaskDefinitionCommand(rollbackInput(ctx, plan.from, plan.running.definition)),
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
