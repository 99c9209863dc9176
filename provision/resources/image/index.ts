import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Converged, StackContext } from '../../context.js';
import { ChangeSet, isNotCreatedYet, NOT_CREATED_YET } from '../../plan.js';
import { buildImage, pushImage, type ContainerEngine, type ImagePlatform } from './engine.js';
import {
  imageTagExists,
  recentTags,
  registryLogin,
  stackImageExists,
  type RepositoryRef,
} from '../registry.js';

export {
  buildImage,
  checkEngine,
  CONTAINER_ENGINES,
  EngineUnavailableError,
  loginToRegistry,
  pushImage,
  registryAuthArgs,
  runEngine,
  withIsolatedRegistryAuth,
  type BuildAndPushOptions,
  type ContainerEngine,
  type RegistryAuth,
  type RunResult,
} from './engine.js';

export type { ImagePlatform } from './engine.js';

/** `up --image` names the stack's own repository, but no image there has that tag or digest. */
export class ImageNotInRepositoryError extends Error {
  constructor(imageUri: string, repository: string, recentTags: readonly string[]) {
    super(
      `--image ${imageUri} is not in ECR repository ${repository}: its tasks could not pull it, and the rollout ` +
        'would fail only after minutes. ' +
        (recentTags.length > 0
          ? `Tags there, newest first: ${recentTags.join(', ')}. `
          : 'The repository holds no image yet. ') +
        'Push the image first, give a tag that is there, or run "npx iclinic-deploy up" without --image to build and push one.',
    );
    this.name = 'ImageNotInRepositoryError';
  }
}

/**
 * Checked before anything is created or changed: an image the stack's own
 * repository does not hold (a typo in the tag, one the lifecycle policy
 * expired). An image in any other repository is not this tool's to check.
 */
export async function checkGivenImage(ctx: StackContext, imageUri: string): Promise<void> {
  if ((await stackImageExists(ctx, imageUri)) !== false) return;
  throw new ImageNotInRepositoryError(imageUri, ctx.names.repository, await recentTags(ctx, 5));
}
export type CpuArchitecture = 'X86_64' | 'ARM64';

/** Fargate must run the architecture the image was built for, or tasks die with "exec format error". */
export function cpuArchitectureFor(platform: ImagePlatform): CpuArchitecture {
  return platform === 'linux/arm64' ? 'ARM64' : 'X86_64';
}

/** Apple-silicon and Graviton machines build arm64 natively; emulating amd64 there is slow. */
export function nativePlatform(arch: string = process.arch): ImagePlatform {
  return arch === 'arm64' ? 'linux/arm64' : 'linux/amd64';
}

/** The folder holding the Dockerfile: the package root, from source or from dist/. */
export function buildContextDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i += 1) {
    if (existsSync(join(dir, 'Dockerfile'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('Could not find the Dockerfile next to the iclinic-deploy package.');
}

const CONTEXT_ENTRIES = [
  'Dockerfile',
  '.dockerignore',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'server',
];

async function listFiles(root: string, entry: string): Promise<string[]> {
  const path = join(root, entry);
  if (!existsSync(path)) return [];
  const stats = await readdir(path, { withFileTypes: true }).catch(() => undefined);
  if (stats === undefined) return [entry];
  const nested = await Promise.all(
    stats.map((child) => listFiles(root, relative(root, join(path, child.name)))),
  );
  return nested.flat();
}

/**
 * The image tag is a hash of what goes into the image plus the platform, so
 * an unchanged source is never rebuilt or pushed again, and a changed one
 * always gets a new tag (the repository's tags are immutable).
 */
export async function contentTag(contextDir: string, platform: ImagePlatform): Promise<string> {
  const files = (await Promise.all(CONTEXT_ENTRIES.map((entry) => listFiles(contextDir, entry))))
    .flat()
    .sort();
  const hash = createHash('sha256');
  hash.update(platform);
  for (const file of files) {
    hash.update(`\0${file}\0`);
    hash.update(await readFile(join(contextDir, file)));
  }
  return `${hash.digest('hex').slice(0, 16)}-${platform.split('/')[1] ?? 'unknown'}`;
}

export const CONTAINER_IMAGE = 'container image';

export interface ImageSettings {
  /** An already pushed image; when absent the local engine builds and pushes one. */
  readonly image?: string;
  readonly engine: ContainerEngine;
  readonly platform: ImagePlatform;
}

/**
 * The image the service runs: the content tag in the stack's repository,
 * built and pushed only when ECR does not have that tag yet. A dry run
 * computes the tag and looks it up; it never runs the container engine.
 */
export async function ensureImage(
  ctx: StackContext,
  settings: ImageSettings,
  repository: RepositoryRef,
  signal?: AbortSignal,
): Promise<Converged<{ imageUri: string }>> {
  if (settings.image !== undefined) return { changes: [], value: { imageUri: settings.image } };
  const contextDir = buildContextDir();
  const tag = await contentTag(contextDir, settings.platform);
  const absent = isNotCreatedYet(repository.repositoryUri);
  const imageUri = absent ? NOT_CREATED_YET : `${repository.repositoryUri}:${tag}`;
  if (!absent && (await imageTagExists(ctx, tag))) return { changes: [], value: { imageUri } };
  const detail = `build for ${settings.platform} with ${settings.engine}, push`;
  const changes = new ChangeSet().create(CONTAINER_IMAGE, `${ctx.names.repository}:${tag}`, detail);
  if (ctx.dryRun) return { changes: [...changes.list], value: { imageUri } };
  const build = {
    engine: settings.engine,
    contextDir,
    imageRef: imageUri,
    platform: settings.platform,
    report: ctx.report,
    ...(signal === undefined ? {} : { signal }),
  };
  await buildImage(build);
  await pushImage({ ...build, login: await registryLogin(ctx) });
  return { changes: [...changes.list], value: { imageUri } };
}
