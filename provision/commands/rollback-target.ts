/**
 * Which revision `rollback` goes to, and whether it can still run.
 *
 * The order is the deploy history, not the revision numbers: a rollback
 * registers a copy (a new, higher number) of an older revision, tagged with
 * the revision it copies (ROLLBACK_OF_TAG). Counting back from the running
 * revision's place in that history keeps a second `rollback` from picking
 * the revision the first one left (the bad build), and never picks a
 * revision newer than the running one (an `up` the circuit breaker undid).
 */
import {
  DescribeTaskDefinitionCommand,
  paginateListTaskDefinitions,
  type ContainerDefinition,
  type RegisterTaskDefinitionCommandInput,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import type { StackContext } from '../context.js';
import { hasErrorCode, messageMatches } from '../retry.js';
import { LIFECYCLE_POLICY, stackImageExists } from '../resources/registry.js';

/** On a rollback copy: the revision whose image and settings it copies. */
export const ROLLBACK_OF_TAG = 'iclinic-deploy:rollback-of';

export class RollbackTargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RollbackTargetError';
  }
}

class RevisionNotFoundError extends Error {
  constructor(arn: string) {
    super(
      `Task definition ${arn} was not found; run "npx iclinic-deploy status" to list revisions.`,
    );
    this.name = 'RevisionNotFoundError';
  }
}

export interface Revision {
  readonly definition: TaskDefinition;
  readonly revision: number;
  /** Its place in the deploy history: the revision a rollback copy copies, else its own number. */
  readonly origin: number;
}

export const revisionOfArn = (arn: string): number => Number(/:(\d+)$/.exec(arn)?.[1] ?? 0);

export function apiContainer(
  ctx: Pick<StackContext, 'names'>,
  td: TaskDefinition,
): ContainerDefinition | undefined {
  return td.containerDefinitions?.find((c) => c.name === ctx.names.containerName);
}

export const imageOf = (ctx: Pick<StackContext, 'names'>, td: TaskDefinition): string =>
  apiContainer(ctx, td)?.image ?? 'none';

/** The revision with its tags (DescribeTaskDefinition omits them unless asked). */
export async function describeRevision(ctx: StackContext, arn: string): Promise<Revision> {
  const out = await ctx.clients.ecs.send(
    new DescribeTaskDefinitionCommand({ taskDefinition: arn, include: ['TAGS'] }),
  );
  const definition = out.taskDefinition;
  if (definition?.taskDefinitionArn === undefined) throw new RevisionNotFoundError(arn);
  const revision = definition.revision ?? revisionOfArn(definition.taskDefinitionArn);
  const copied = Number(out.tags?.find((t) => t.key === ROLLBACK_OF_TAG)?.value);
  const isCopy = Number.isInteger(copied) && copied >= 1 && copied < revision;
  return { definition, revision, origin: isCopy ? copied : revision };
}

/** ACTIVE revisions of the family, newest first (familyPrefix also lists "x-api2": filtered). */
export async function revisionArns(ctx: StackContext): Promise<string[]> {
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

export type CopiedSettings = Pick<
  RegisterTaskDefinitionCommandInput,
  (typeof COPIED_FIELDS)[number]
>;

/**
 * The registration inputs a revision was registered with, other than its
 * family, containers and tags. Fields ECS fills in on registration (ARN,
 * revision, status, requiresAttributes...) are not inputs and are left out.
 */
export function copiedSettings(td: TaskDefinition): CopiedSettings {
  return Object.fromEntries(
    COPIED_FIELDS.filter((field) => td[field] !== undefined).map((field) => [field, td[field]]),
  ) as CopiedSettings;
}

/** The settings a user would call different, secrets excepted: comparing these finds a real previous version. */
function settingsKey(ctx: Pick<StackContext, 'names'>, td: TaskDefinition): string {
  const containers = (td.containerDefinitions ?? []).map((c) =>
    c.name === ctx.names.containerName ? { ...c, secrets: [] } : c,
  );
  return JSON.stringify({ ...copiedSettings(td), containerDefinitions: containers });
}

export const sameSettings = (
  ctx: Pick<StackContext, 'names'>,
  a: TaskDefinition,
  b: TaskDefinition,
): boolean => settingsKey(ctx, a) === settingsKey(ctx, b);

/**
 * ECS answers a revision that does not exist with a bare ClientException,
 * "Unable to describe task definition." (as users of other tools met it:
 * https://github.com/hashicorp/terraform/pull/12609): the user is told
 * which revisions exist instead.
 */
async function missingRevision(ctx: StackContext, to: number, error: unknown): Promise<never> {
  const unknown =
    hasErrorCode(error, 'ClientException') &&
    messageMatches(error, /Unable to describe task definition/i);
  if (!unknown && !(error instanceof RevisionNotFoundError)) throw error;
  const existing = (await revisionArns(ctx)).map(revisionOfArn).sort((a, b) => a - b);
  throw new RollbackTargetError(
    `Revision ${to} of ${ctx.names.taskFamily} does not exist (or was deregistered). ` +
      (existing.length > 0
        ? `Its revisions are ${existing.join(', ')}; pick one with "npx iclinic-deploy rollback --to N" ("npx iclinic-deploy status" shows the recent ones and their images).`
        : `It has no active revision; deploy with "npx iclinic-deploy up".`),
  );
}

async function revisionGiven(ctx: StackContext, running: Revision, to: number): Promise<Revision> {
  const family = ctx.names.taskFamily;
  if (!Number.isInteger(to) || to < 1) {
    throw new RollbackTargetError(
      `Invalid --to ${to}: give a revision number of ${family} (see "npx iclinic-deploy status").`,
    );
  }
  const chosen = await describeRevision(ctx, `${family}:${to}`).catch((error: unknown) =>
    missingRevision(ctx, to, error),
  );
  if (sameSettings(ctx, chosen.definition, running.definition)) {
    throw new RollbackTargetError(
      `Revision ${to} of ${family} has the image and settings the service runs now (revision ${running.revision}); nothing to roll back.`,
    );
  }
  return chosen;
}

/**
 * Without --to: the newest revision before the running one's place in the
 * deploy history whose image or settings differ (a set-token registers
 * revisions that change only the secret version; going back to one of
 * those would change nothing).
 */
async function previousRevision(ctx: StackContext, running: Revision): Promise<Revision> {
  const family = ctx.names.taskFamily;
  for (const arn of await revisionArns(ctx)) {
    // Newer ones include the build a rollback left and any `up` the circuit breaker undid.
    if (revisionOfArn(arn) >= running.origin) continue;
    const candidate = await describeRevision(ctx, arn);
    if (!sameSettings(ctx, candidate.definition, running.definition)) return candidate;
  }
  const copy =
    running.origin === running.revision
      ? ''
      : ` (a rollback to revision ${running.origin}, so nothing after ${running.origin} counts)`;
  throw new RollbackTargetError(
    `No revision of ${family} older than the running revision ${running.revision}${copy} has another image or settings; ` +
      `nothing older to roll back to. Deploy another image with "npx iclinic-deploy up", or pick a revision with "npx iclinic-deploy rollback --to N".`,
  );
}

export function chooseRevision(
  ctx: StackContext,
  running: Revision,
  to: number | undefined,
): Promise<Revision> {
  return to === undefined ? previousRevision(ctx, running) : revisionGiven(ctx, running, to);
}

const REVISIONS_SCANNED = 20;

/** Revisions other than the running one, newest first, whose image is still there (or elsewhere). */
async function runnableRevisions(ctx: StackContext, running: Revision): Promise<number[]> {
  const exists = new Map<string, boolean | undefined>();
  const runnable: number[] = [];
  for (const arn of (await revisionArns(ctx)).slice(0, REVISIONS_SCANNED)) {
    const candidate = await describeRevision(ctx, arn);
    if (sameSettings(ctx, candidate.definition, running.definition)) continue;
    const image = imageOf(ctx, candidate.definition);
    if (!exists.has(image)) exists.set(image, await stackImageExists(ctx, image));
    if (exists.get(image) !== false) runnable.push(candidate.revision);
  }
  return runnable;
}

/**
 * Refuses a revision whose image the repository's lifecycle policy has
 * expired (imageCountMoreThan expires the oldest beyond the count:
 * https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html):
 * Fargate would fail to pull it and the circuit breaker would undo the
 * rollback only after minutes.
 */
export async function ensureImageExists(
  ctx: StackContext,
  target: Revision,
  running: Revision,
): Promise<void> {
  const image = imageOf(ctx, target.definition);
  if ((await stackImageExists(ctx, image)) !== false) return;
  const kept = LIFECYCLE_POLICY.rules[0]?.selection.countNumber ?? 0;
  const runnable = await runnableRevisions(ctx, running);
  throw new RollbackTargetError(
    `Revision ${target.revision} of ${ctx.names.taskFamily} runs image ${image}, which is no longer in ` +
      `ECR repository ${ctx.names.repository} (its lifecycle policy keeps the ${kept} most recent images), ` +
      `so its tasks could not start. ` +
      (runnable.length > 0
        ? `Revisions whose image is still there: ${runnable.join(', ')}; pick one with "npx iclinic-deploy rollback --to N".`
        : `No other revision's image is still there; deploy one with "npx iclinic-deploy up".`),
  );
}
