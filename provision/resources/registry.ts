import {
  CreateRepositoryCommand,
  DeleteRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  GetAuthorizationTokenCommand,
  GetLifecyclePolicyCommand,
  PutImageScanningConfigurationCommand,
  PutLifecyclePolicyCommand,
  type Repository,
} from '@aws-sdk/client-ecr';
import type { Converged, Removal, StackContext } from '../context.js';
import { stackTags } from '../names.js';
import { ChangeSet, NOT_CREATED_YET, type Change } from '../plan.js';
import { isNotFound } from '../retry.js';

export interface RepositoryRef {
  /** NOT_CREATED_YET in a dry run where the repository would be created. */
  readonly repositoryUri: string;
  readonly repositoryArn: string;
}

/** Change kinds of this module, as the CLI shows them. */
export const ECR_REPOSITORY = 'ECR repository';
export const LIFECYCLE_POLICY_KIND = 'lifecycle policy';
const SCAN_ON_PUSH = 'scan on push';

// Tags are content hashes, so old images are only rollback targets: ten is
// plenty (https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html).
export const LIFECYCLE_POLICY = {
  rules: [
    {
      rulePriority: 1,
      description: 'Keep the 10 most recent images',
      selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 10 },
      action: { type: 'expire' },
    },
  ],
};

export interface RepositoryState {
  readonly ref: RepositoryRef;
  readonly scanOnPush: boolean;
  /** Parsed lifecycle policy text, undefined when the repository has none. */
  readonly lifecyclePolicy: unknown;
}

async function findRepository(ctx: StackContext): Promise<Repository | undefined> {
  try {
    const found = await ctx.clients.ecr.send(
      new DescribeRepositoriesCommand({ repositoryNames: [ctx.names.repository] }),
    );
    return found.repositories?.[0];
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

async function currentLifecyclePolicy(ctx: StackContext): Promise<unknown> {
  try {
    const found = await ctx.clients.ecr.send(
      new GetLifecyclePolicyCommand({ repositoryName: ctx.names.repository }),
    );
    return found.lifecyclePolicyText === undefined
      ? undefined
      : (JSON.parse(found.lifecyclePolicyText) as unknown);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

function refOf(ctx: StackContext, repository: Repository): RepositoryRef {
  if (repository.repositoryUri === undefined || repository.repositoryArn === undefined) {
    throw new Error(`ECR returned no URI for repository ${ctx.names.repository}.`);
  }
  return { repositoryUri: repository.repositoryUri, repositoryArn: repository.repositoryArn };
}

/** Read-only: the repository and the settings `up` keeps, undefined when absent. */
export async function describeRepositoryState(
  ctx: StackContext,
): Promise<RepositoryState | undefined> {
  const repository = await findRepository(ctx);
  if (repository === undefined) return undefined;
  return {
    ref: refOf(ctx, repository),
    scanOnPush: repository.imageScanningConfiguration?.scanOnPush === true,
    lifecyclePolicy: await currentLifecyclePolicy(ctx),
  };
}

/** Read-only: the repository's URI and ARN, undefined when absent (for `status`). */
export async function describeRepository(ctx: StackContext): Promise<RepositoryRef | undefined> {
  const repository = await findRepository(ctx);
  if (repository?.repositoryUri === undefined || repository.repositoryArn === undefined)
    return undefined;
  return { repositoryUri: repository.repositoryUri, repositoryArn: repository.repositoryArn };
}

interface LifecycleRule {
  selection?: { tagStatus?: string; countType?: string; countNumber?: number; countUnit?: string };
}

/** A lifecycle policy in a few words, for a plan's from/to. */
export function summarizeLifecyclePolicy(policy: unknown): string {
  const rules = (policy as { rules?: LifecycleRule[] } | undefined)?.rules ?? [];
  if (rules.length === 0) return 'no rules';
  return rules
    .map(({ selection: s = {} }) => {
      const images =
        s.tagStatus === undefined || s.tagStatus === 'any' ? 'images' : `${s.tagStatus} images`;
      return s.countType === 'imageCountMoreThan'
        ? `keep the ${s.countNumber ?? '?'} most recent ${images}`
        : `expire ${images} after ${s.countNumber ?? '?'} ${s.countUnit ?? 'days'}`;
    })
    .join('; ');
}

/** Pure: what ensureRepository applies, in order. */
export function planRepository(
  ctx: Pick<StackContext, 'names'>,
  current: RepositoryState | undefined,
): Change[] {
  const name = ctx.names.repository;
  const changes = new ChangeSet();
  const desiredRules = summarizeLifecyclePolicy(LIFECYCLE_POLICY);
  if (current === undefined) {
    changes.create(ECR_REPOSITORY, name, 'scan on push, immutable tags');
    changes.create(LIFECYCLE_POLICY_KIND, name, desiredRules);
    return [...changes.list];
  }
  if (!current.scanOnPush) changes.update(ECR_REPOSITORY, name, SCAN_ON_PUSH, 'off', 'on');
  if (current.lifecyclePolicy === undefined) {
    changes.create(LIFECYCLE_POLICY_KIND, name, desiredRules);
  } else if (JSON.stringify(current.lifecyclePolicy) !== JSON.stringify(LIFECYCLE_POLICY)) {
    const from = summarizeLifecyclePolicy(current.lifecyclePolicy);
    changes.update(LIFECYCLE_POLICY_KIND, name, 'rules', from, desiredRules);
  }
  return [...changes.list];
}

/** Sends the one call that makes `change` true; returns the repository when it made one. */
async function applyRepositoryChange(
  ctx: StackContext,
  change: Change,
): Promise<Repository | undefined> {
  const repositoryName = ctx.names.repository;
  const ecr = ctx.clients.ecr;
  if (change.kind === ECR_REPOSITORY && change.action === 'create') {
    // Immutable tags: a content tag, once pushed, always means the same image
    // (https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html).
    const created = await ecr.send(
      new CreateRepositoryCommand({
        repositoryName,
        imageScanningConfiguration: { scanOnPush: true },
        imageTagMutability: 'IMMUTABLE',
        tags: stackTags(ctx.names.stack),
      }),
    );
    return created.repository;
  }
  if (change.kind === ECR_REPOSITORY && change.detail === SCAN_ON_PUSH) {
    const imageScanningConfiguration = { scanOnPush: true };
    await ecr.send(
      new PutImageScanningConfigurationCommand({ repositoryName, imageScanningConfiguration }),
    );
  } else if (change.kind === LIFECYCLE_POLICY_KIND) {
    const lifecyclePolicyText = JSON.stringify(LIFECYCLE_POLICY);
    await ecr.send(new PutLifecyclePolicyCommand({ repositoryName, lifecyclePolicyText }));
  } else {
    throw new Error(`No way to apply ${change.action} ${change.kind} ${change.name}.`);
  }
  return undefined;
}

export async function ensureRepository(ctx: StackContext): Promise<Converged<RepositoryRef>> {
  const current = await describeRepositoryState(ctx);
  const changes = planRepository(ctx, current);
  if (ctx.dryRun) {
    const absent = { repositoryUri: NOT_CREATED_YET, repositoryArn: NOT_CREATED_YET };
    return { changes, value: current?.ref ?? absent };
  }
  let ref = current?.ref;
  for (const change of changes) {
    const created = await applyRepositoryChange(ctx, change);
    if (created !== undefined) ref = refOf(ctx, created);
  }
  if (ref === undefined)
    throw new Error(`ECR returned no URI for repository ${ctx.names.repository}.`);
  return { changes, value: ref };
}

/** Pushing a tag that exists fails on an immutable repository, so look first. */
export async function imageTagExists(ctx: StackContext, tag: string): Promise<boolean> {
  try {
    const found = await ctx.clients.ecr.send(
      new DescribeImagesCommand({
        repositoryName: ctx.names.repository,
        imageIds: [{ imageTag: tag }],
      }),
    );
    return (found.imageDetails ?? []).length > 0;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

export interface EcrImage {
  readonly registryId: string;
  readonly region: string;
  readonly repositoryName: string;
  /** One of the two: "repo:tag" or "repo@sha256:...". */
  readonly imageTag?: string;
  readonly imageDigest?: string;
}

// "<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>" or "...@sha256:<digest>"
// (https://docs.aws.amazon.com/AmazonECR/latest/userguide/docker-pull-ecr-image.html).
const ECR_IMAGE_URI =
  /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)(?::([\w][\w.-]{0,127})|@(sha256:[a-f0-9]{64}))$/;

/** Pure: the parts of an ECR image URI, undefined for an image in any other registry. */
export function parseEcrImage(imageUri: string): EcrImage | undefined {
  const match = ECR_IMAGE_URI.exec(imageUri);
  if (match === null) return undefined;
  const [, registryId = '', region = '', repositoryName = '', imageTag, imageDigest] = match;
  return {
    registryId,
    region,
    repositoryName,
    ...(imageTag === undefined ? {} : { imageTag }),
    ...(imageDigest === undefined ? {} : { imageDigest }),
  };
}

/**
 * Whether an image a task definition names is still in the stack's
 * repository, where LIFECYCLE_POLICY expires all but the most recent
 * images; undefined for an image anywhere else (`up --image` from another
 * repository), whose retention is not this tool's to know nor its policy's
 * to read.
 */
export async function stackImageExists(
  ctx: StackContext,
  imageUri: string,
): Promise<boolean | undefined> {
  const image = parseEcrImage(imageUri);
  if (image?.repositoryName !== ctx.names.repository || image.region !== ctx.region) {
    return undefined;
  }
  const imageId =
    image.imageDigest === undefined
      ? { imageTag: image.imageTag }
      : { imageDigest: image.imageDigest };
  try {
    const found = await ctx.clients.ecr.send(
      new DescribeImagesCommand({
        registryId: image.registryId,
        repositoryName: image.repositoryName,
        imageIds: [imageId],
      }),
    );
    return (found.imageDetails ?? []).length > 0;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/** The stack repository's most recent tags, newest first (the first page is enough to name a few). */
export async function recentTags(ctx: StackContext, count: number): Promise<string[]> {
  try {
    const found = await ctx.clients.ecr.send(
      new DescribeImagesCommand({
        repositoryName: ctx.names.repository,
        filter: { tagStatus: 'TAGGED' },
      }),
    );
    return (found.imageDetails ?? [])
      .sort((a, b) => (b.imagePushedAt?.getTime() ?? 0) - (a.imagePushedAt?.getTime() ?? 0))
      .flatMap((image) => image.imageTags ?? [])
      .slice(0, count);
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}

export interface RegistryLogin {
  readonly username: string;
  readonly password: string;
  /** Host (and port) to log in to, without the scheme. */
  readonly registry: string;
  readonly expiresAt: Date | undefined;
}

/**
 * ECR's token is base64 of `AWS:<password>`; the endpoint comes with it
 * (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_GetAuthorizationToken.html).
 */
export function decodeAuthorization(
  authorizationToken: string,
  proxyEndpoint: string,
  expiresAt?: Date,
): RegistryLogin {
  const decoded = Buffer.from(authorizationToken, 'base64').toString('utf8');
  const separator = decoded.indexOf(':');
  if (separator <= 0)
    throw new Error('ECR returned an authorization token that is not "user:password".');
  return {
    username: decoded.slice(0, separator),
    password: decoded.slice(separator + 1),
    registry: proxyEndpoint.replace(/^https?:\/\//, '').replace(/\/$/, ''),
    expiresAt,
  };
}

export async function registryLogin(ctx: StackContext): Promise<RegistryLogin> {
  const answer = await ctx.clients.ecr.send(new GetAuthorizationTokenCommand({}));
  const data = answer.authorizationData?.[0];
  if (data?.authorizationToken === undefined || data.proxyEndpoint === undefined) {
    throw new Error(
      'ECR GetAuthorizationToken returned no token; check the ecr:GetAuthorizationToken permission.',
    );
  }
  return decodeAuthorization(data.authorizationToken, data.proxyEndpoint, data.expiresAt);
}

/**
 * `force` because the repository still holds the images pushed by `up`
 * (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DeleteRepository.html).
 * Looking first keeps a repeated `down` (and any dry run) free of mutating calls.
 */
export async function removeRepository(ctx: StackContext): Promise<Removal> {
  const name = ctx.names.repository;
  if ((await findRepository(ctx)) === undefined) return { changes: [] };
  const changes = new ChangeSet().delete(ECR_REPOSITORY, name, 'with its images');
  if (ctx.dryRun) return { changes: [...changes.list] };
  try {
    await ctx.clients.ecr.send(new DeleteRepositoryCommand({ repositoryName: name, force: true }));
    return { changes: [...changes.list] };
  } catch (error) {
    if (isNotFound(error)) return { changes: [] };
    throw error;
  }
}
