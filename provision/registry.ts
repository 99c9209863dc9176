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
import type { Ensured, Outcome, Removed, StackContext } from './context.js';
import { stackTags } from './names.js';
import { hasErrorCode } from './retry.js';

export interface RepositoryRef {
  readonly repositoryUri: string;
  readonly repositoryArn: string;
}

// Tags are content hashes, so old images are only rollback targets: ten is plenty.
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

export function planRepository(ctx: Pick<StackContext, 'names'>): string[] {
  return [
    `ECR repository ${ctx.names.repository} (scan on push, immutable tags, keep the last 10 images)`,
  ];
}

async function findRepository(ctx: StackContext): Promise<Repository | undefined> {
  try {
    const found = await ctx.clients.ecr.send(
      new DescribeRepositoriesCommand({ repositoryNames: [ctx.names.repository] }),
    );
    return found.repositories?.[0];
  } catch (error) {
    if (hasErrorCode(error, 'RepositoryNotFoundException')) return undefined;
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
      : JSON.parse(found.lifecyclePolicyText);
  } catch (error) {
    if (hasErrorCode(error, 'LifecyclePolicyNotFoundException')) return undefined;
    throw error;
  }
}

export async function ensureRepository(ctx: StackContext): Promise<Ensured<RepositoryRef>> {
  let repository = await findRepository(ctx);
  let outcome: Outcome = 'unchanged';
  const changes: string[] = [];
  if (repository === undefined) {
    const created = await ctx.clients.ecr.send(
      new CreateRepositoryCommand({
        repositoryName: ctx.names.repository,
        imageScanningConfiguration: { scanOnPush: true },
        imageTagMutability: 'IMMUTABLE',
        tags: stackTags(ctx.names.stack),
      }),
    );
    repository = created.repository;
    outcome = 'created';
    changes.push(`created repository ${ctx.names.repository}`);
  } else if (repository.imageScanningConfiguration?.scanOnPush !== true) {
    await ctx.clients.ecr.send(
      new PutImageScanningConfigurationCommand({
        repositoryName: ctx.names.repository,
        imageScanningConfiguration: { scanOnPush: true },
      }),
    );
    outcome = 'updated';
    changes.push('turned scan on push back on');
  }
  if (JSON.stringify(await currentLifecyclePolicy(ctx)) !== JSON.stringify(LIFECYCLE_POLICY)) {
    await ctx.clients.ecr.send(
      new PutLifecyclePolicyCommand({
        repositoryName: ctx.names.repository,
        lifecyclePolicyText: JSON.stringify(LIFECYCLE_POLICY),
      }),
    );
    if (outcome === 'unchanged') outcome = 'updated';
    changes.push('set the lifecycle policy');
  }
  if (repository?.repositoryUri === undefined || repository.repositoryArn === undefined) {
    throw new Error(`ECR returned no URI for repository ${ctx.names.repository}.`);
  }
  return {
    outcome,
    changes,
    value: { repositoryUri: repository.repositoryUri, repositoryArn: repository.repositoryArn },
  };
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
    if (hasErrorCode(error, 'ImageNotFoundException', 'RepositoryNotFoundException')) return false;
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

/** ECR's token is base64 of `AWS:<password>`; the endpoint comes with it. */
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

export async function describeRepository(ctx: StackContext): Promise<RepositoryRef | undefined> {
  const repository = await findRepository(ctx);
  if (repository?.repositoryUri === undefined || repository.repositoryArn === undefined)
    return undefined;
  return { repositoryUri: repository.repositoryUri, repositoryArn: repository.repositoryArn };
}

/** `force` because the repository still holds the images pushed by `up`. */
export async function removeRepository(ctx: StackContext): Promise<Removed> {
  // Looking first keeps a repeated `down` free of mutating calls.
  if ((await findRepository(ctx)) === undefined) return { removed: [] };
  try {
    await ctx.clients.ecr.send(
      new DeleteRepositoryCommand({ repositoryName: ctx.names.repository, force: true }),
    );
    return { removed: [`ECR repository ${ctx.names.repository} and its images`] };
  } catch (error) {
    if (hasErrorCode(error, 'RepositoryNotFoundException')) return { removed: [] };
    throw error;
  }
}
