import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Converged, StackContext } from '../../context.js';
import { ChangeSet, isNotCreatedYet, NOT_CREATED_YET } from '../../plan.js';
import { checkServiceBundle, SERVICE_BUNDLE } from './bundle.js';
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
export { checkServiceBundle, SERVICE_BUNDLE, ServiceBundleError } from './bundle.js';

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

/**
 * What the Dockerfile puts in the image besides its base: itself (the stages,
 * the entrypoint) and the service bundle. Nothing else (package.json, the
 * lockfile, the TypeScript sources) reaches the image, so nothing else moves
 * the tag.
 */
const IMAGE_INPUTS = ['Dockerfile', SERVICE_BUNDLE];

/**
 * The Dockerfile without its comments and blank lines: only its instructions
 * shape the image. Parser directives (`# syntax=...`, `# escape=...`) look
 * like comments but change the build, so they stay
 * (https://docs.docker.com/reference/dockerfile/#parser-directives). A
 * here-document's lines are content, comments included, so a Dockerfile with
 * one counts whole (https://docs.docker.com/reference/dockerfile/#here-documents).
 */
export function dockerfileInstructions(text: string): string {
  if (/<<-?\s*["']?[A-Za-z_]/.test(text)) return text;
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && (!line.startsWith('#') || /^#\s*\w+\s*=/.test(line)))
    .join('\n');
}

/**
 * The image tag is a hash of what goes into the image plus the platform, so
 * an unchanged image is never rebuilt or pushed again, and a changed one
 * always gets a new tag (the repository's tags are immutable).
 */
export async function contentTag(contextDir: string, platform: ImagePlatform): Promise<string> {
  const hash = createHash('sha256');
  hash.update(platform);
  for (const file of IMAGE_INPUTS) {
    const path = join(contextDir, file);
    if (!existsSync(path)) continue;
    const bytes = await readFile(path);
    hash.update(`\0${file}\0`);
    hash.update(file === 'Dockerfile' ? dockerfileInstructions(bytes.toString('utf8')) : bytes);
  }
  return `${hash.digest('hex').slice(0, 16)}-${platform.split('/')[1] ?? 'unknown'}`;
}

export const CONTAINER_IMAGE = 'container image';

export interface ImageSettings {
  /** An already pushed image; when absent the local engine builds and pushes one. */
  readonly image?: string;
  readonly engine: ContainerEngine;
  readonly platform: ImagePlatform;
  /** The folder holding the Dockerfile and the bundle; the package's own by default. */
  readonly contextDir?: string;
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
  const contextDir = settings.contextDir ?? buildContextDir();
  await checkServiceBundle(contextDir);
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
