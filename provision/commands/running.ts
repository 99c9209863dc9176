/** set-token's first step: what the service runs now, read before anything changes. */
import type { TaskDefinition } from '@aws-sdk/client-ecs';
import type { StackContext } from '../context.js';
import { stackFlags } from '../names.js';
import { describeRevision, findService } from '../resources/ecs/index.js';
import { describeSecret, pinnedSecretVersion, readTokenSecret } from '../resources/secret.js';

/** What runs now: the revision, and the secret version and token it was started with. */
export interface RunningRotation {
  readonly taskDefinitionArn: string;
  readonly definition: TaskDefinition;
  readonly secretArn: string;
  readonly secretVersionId: string;
  readonly previousToken: string;
  /** The service already runs with the token asked for: nothing to change, not a failure. */
  readonly alreadyCurrent: boolean;
}

export /** Read-only: what runs, and the token the service actually runs with (kept as the previous one). */
async function readRunningRotation(
  ctx: StackContext,
  settings: { readonly token: string },
): Promise<RunningRotation> {
  const n = ctx.names;
  const found = await findService(ctx);
  const service = found?.status === 'ACTIVE' ? found : undefined;
  const secret = await describeSecret(ctx);
  if (service?.taskDefinition === undefined || secret?.currentVersionId === undefined) {
    throw new Error(
      `Stack "${n.stack}" is not deployed in ${ctx.region} (no active service ${n.service} or secret ${n.secret}); run "npx iclinic-deploy up${stackFlags(n.stack, ctx.region)}" first.`,
    );
  }
  const definition = await describeRevision(ctx, service.taskDefinition);
  if (definition === undefined)
    throw new Error(`Task definition ${service.taskDefinition} not found.`);
  const pinned = pinnedSecretVersion(
    definition.containerDefinitions?.find((c) => c.name === n.containerName)?.secrets,
  );
  const liveVersionId = pinned ?? secret.currentVersionId;
  if (liveVersionId !== secret.currentVersionId) {
    ctx.report.warn(
      `The secret's current version is not the one the service runs (an earlier set-token did not finish). ` +
        'The token the service runs with is the one kept as the previous token.',
    );
  }
  const live = await readTokenSecret(ctx, pinned);
  return {
    taskDefinitionArn: service.taskDefinition,
    definition,
    secretArn: secret.arn,
    secretVersionId: liveVersionId,
    previousToken: live.token,
    alreadyCurrent: live.token === settings.token,
  };
}
