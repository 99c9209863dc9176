import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  UpdateSecretVersionStageCommand,
  type DescribeSecretCommandOutput,
} from '@aws-sdk/client-secrets-manager';
import type { Converged, Removal, StackContext } from '../context.js';
import { stackTags } from '../names.js';
import { ChangeSet, NOT_CREATED_YET, type Change } from '../plan.js';
import { errorMessage, hasErrorCode, isNotFound, messageMatches, retry } from '../retry.js';

/**
 * The secret holds JSON so one version carries the current token and the one
 * it replaced with its deadline: a task started from that version accepts
 * both until the deadline, which is what makes rotation free of failures.
 * Every key is always present because ECS refuses to start a task whose
 * secret reference names a missing JSON key.
 */
export interface TokenSecret {
  token: string;
  previousToken: string;
  previousTokenValidUntil: string;
}

export interface SecretRef {
  readonly arn: string;
  readonly versionId: string;
}

export const SECRET_KEYS = {
  ICLINIC_PASS: 'token',
  ICLINIC_PASS_PREVIOUS: 'previousToken',
  ICLINIC_PASS_PREVIOUS_UNTIL: 'previousTokenValidUntil',
} as const;

/**
 * ECS secret references pinned to one version: a task definition revision
 * then always starts tasks with the token it was registered with, so rolling
 * back the service also rolls back the token.
 */
export function secretReferences(ref: SecretRef): { name: string; valueFrom: string }[] {
  return Object.entries(SECRET_KEYS).map(([name, key]) => ({
    name,
    valueFrom: `${ref.arn}:${key}::${ref.versionId}`,
  }));
}

/**
 * The secret version a task definition's containers read ICLINIC_PASS from,
 * when pinned (`ARN:token::VERSION`); undefined when it follows AWSCURRENT.
 */
export function pinnedSecretVersion(
  secrets: readonly { name?: string; valueFrom?: string }[] | undefined,
): string | undefined {
  const reference = secrets?.find((s) => s.name === 'ICLINIC_PASS')?.valueFrom;
  const match = reference === undefined ? null : /:token:[^:]*:([^:]+)$/.exec(reference);
  return match?.[1];
}

const KIND = 'secret';

/**
 * Pure: what ensureSecret would change. An existing token is never
 * replaced, so the only changes are creating the secret or cancelling a
 * deletion someone scheduled by hand.
 */
export function planSecret(
  name: string,
  current: Pick<DescribeSecretCommandOutput, 'ARN' | 'DeletedDate'> | undefined,
): Change[] {
  const changes = new ChangeSet();
  if (current?.ARN === undefined) {
    changes.create(KIND, name, 'holds the API token (generated unless --token-stdin)');
  } else if (current.DeletedDate !== undefined) {
    changes.update(KIND, name, 'scheduled deletion', 'scheduled', 'cancelled');
  }
  return [...changes.list];
}

function currentVersionId(described: DescribeSecretCommandOutput): string | undefined {
  const versions = described.VersionIdsToStages ?? {};
  return Object.entries(versions).find(([, stages]) => stages.includes('AWSCURRENT'))?.[0];
}

async function findSecret(ctx: StackContext): Promise<DescribeSecretCommandOutput | undefined> {
  try {
    return await ctx.clients.secrets.send(
      new DescribeSecretCommand({ SecretId: ctx.names.secret }),
    );
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export function parseTokenSecret(
  secretString: string | undefined,
  secretName: string,
): TokenSecret {
  const broken = new Error(
    `Secret ${secretName} does not hold the JSON this tool writes ({"token": ..., "previousToken": ..., "previousTokenValidUntil": ...}). ` +
      `Fix it with "npx iclinic-deploy set-token --generate", which writes a fresh version.`,
  );
  if (secretString === undefined) throw broken;
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    throw broken;
  }
  if (typeof parsed !== 'object' || parsed === null) throw broken;
  const record = parsed as Record<string, unknown>;
  if (typeof record.token !== 'string' || record.token === '') throw broken;
  return {
    token: record.token,
    previousToken: typeof record.previousToken === 'string' ? record.previousToken : '',
    previousTokenValidUntil:
      typeof record.previousTokenValidUntil === 'string' ? record.previousTokenValidUntil : '',
  };
}

/**
 * Finds or creates the token secret. An existing token is never replaced:
 * it may have been set with set-token, and `up` must not undo that.
 */
export async function ensureSecret(
  ctx: StackContext,
  options: { initialToken: () => string },
): Promise<Converged<SecretRef>> {
  const name = ctx.names.secret;
  const found = await findSecret(ctx);
  const planned = planSecret(name, found);
  if (ctx.dryRun) {
    const arn = found?.ARN ?? NOT_CREATED_YET;
    const versionId = found === undefined ? undefined : currentVersionId(found);
    return { changes: planned, value: { arn, versionId: versionId ?? NOT_CREATED_YET } };
  }
  const described = found?.DeletedDate === undefined ? found : await restoreSecret(ctx);
  if (described?.ARN !== undefined) {
    const versionId = currentVersionId(described);
    if (versionId === undefined) {
      throw new Error(
        `Secret ${name} has no AWSCURRENT version; run "npx iclinic-deploy set-token --generate".`,
      );
    }
    return { changes: planned, value: { arn: described.ARN, versionId } };
  }
  const created = await createSecret(ctx, options.initialToken());
  // A restore that found the secret already gone becomes a creation.
  return { changes: planSecret(name, undefined), value: created };
}

/**
 * Deleted with a recovery window (by hand): restoring keeps the token users
 * already have. Undefined when it was force-deleted moments ago (a `down`
 * just before): it cannot be restored and vanishes once AWS frees the name.
 */
async function restoreSecret(ctx: StackContext): Promise<DescribeSecretCommandOutput | undefined> {
  try {
    await ctx.clients.secrets.send(new RestoreSecretCommand({ SecretId: ctx.names.secret }));
    return await findSecret(ctx);
  } catch (error) {
    if (hasErrorCode(error, 'InvalidRequestException') || isNotFound(error)) return undefined;
    throw error;
  }
}

async function createSecret(ctx: StackContext, token: string): Promise<SecretRef> {
  const secret: TokenSecret = { token, previousToken: '', previousTokenValidUntil: '' };
  const created = await retry(
    ctx.clock,
    {
      what: `creating secret ${ctx.names.secret}`,
      // A name freed by a forced delete is unusable for a short while.
      isRetryable: (error) => messageMatches(error, /scheduled for deletion/i),
      timeoutMs: 120_000,
      onRetry: () =>
        ctx.report.progress(
          `waiting for AWS to free the secret name ${ctx.names.secret} after a recent deletion`,
        ),
    },
    () =>
      ctx.clients.secrets.send(
        new CreateSecretCommand({
          Name: ctx.names.secret,
          Description: `API token for the ${ctx.names.stack} stack (managed by iclinic-deploy)`,
          SecretString: JSON.stringify(secret),
          Tags: stackTags(ctx.names.stack),
        }),
      ),
  );
  if (created.ARN === undefined || created.VersionId === undefined) {
    throw new Error(`CreateSecret for ${ctx.names.secret} returned no ARN or version id.`);
  }
  return { arn: created.ARN, versionId: created.VersionId };
}

export async function readTokenSecret(ctx: StackContext, versionId?: string): Promise<TokenSecret> {
  const value = await ctx.clients.secrets.send(
    // Naming the stage explicitly: moto answers an unqualified read with the
    // last written version even after AWSCURRENT was moved back.
    new GetSecretValueCommand({
      SecretId: ctx.names.secret,
      ...(versionId ? { VersionId: versionId } : { VersionStage: 'AWSCURRENT' }),
    }),
  );
  return parseTokenSecret(value.SecretString, ctx.names.secret);
}

/** Writes a new version and returns its id; the previous version stays readable. */
export async function writeTokenSecret(ctx: StackContext, secret: TokenSecret): Promise<SecretRef> {
  const written = await ctx.clients.secrets.send(
    new PutSecretValueCommand({ SecretId: ctx.names.secret, SecretString: JSON.stringify(secret) }),
  );
  if (written.ARN === undefined || written.VersionId === undefined) {
    throw new Error(`PutSecretValue for ${ctx.names.secret} returned no ARN or version id.`);
  }
  return { arn: written.ARN, versionId: written.VersionId };
}

/**
 * Moves AWSCURRENT back to `versionId`, away from `fromVersionId` (a version
 * written moments before): the undo of writeTokenSecret. Both ids must be
 * given, or Secrets Manager refuses to move a stage that is attached
 * (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_UpdateSecretVersionStage.html).
 */
export async function restoreCurrentVersion(
  ctx: StackContext,
  versions: { readonly versionId: string; readonly fromVersionId: string },
): Promise<void> {
  await ctx.clients.secrets.send(
    new UpdateSecretVersionStageCommand({
      SecretId: ctx.names.secret,
      VersionStage: 'AWSCURRENT',
      MoveToVersionId: versions.versionId,
      RemoveFromVersionId: versions.fromVersionId,
    }),
  );
}

export interface SecretStatus {
  readonly arn: string;
  readonly currentVersionId: string | undefined;
  readonly lastChanged: Date | undefined;
}

export async function describeSecret(ctx: StackContext): Promise<SecretStatus | undefined> {
  const described = await findSecret(ctx);
  if (described?.ARN === undefined || described.DeletedDate !== undefined) return undefined;
  return {
    arn: described.ARN,
    currentVersionId: currentVersionId(described),
    lastChanged: described.LastChangedDate ?? described.CreatedDate,
  };
}

/** Deletes without a recovery window so `up` can recreate the same name at once. */
export async function removeSecret(ctx: StackContext): Promise<Removal> {
  const described = await findSecret(ctx);
  if (described === undefined) return { changes: [] };
  const changes = [...new ChangeSet().delete(KIND, ctx.names.secret).list];
  if (ctx.dryRun) return { changes };
  try {
    await ctx.clients.secrets.send(
      new DeleteSecretCommand({ SecretId: ctx.names.secret, ForceDeleteWithoutRecovery: true }),
    );
  } catch (error) {
    if (isNotFound(error)) return { changes: [] };
    throw new Error(`Could not delete secret ${ctx.names.secret}: ${errorMessage(error)}`);
  }
  return { changes };
}
