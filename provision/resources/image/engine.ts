import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Reporter } from '../../context.js';

export type ImagePlatform = 'linux/amd64' | 'linux/arm64';

export type ContainerEngine = 'docker' | 'podman' | 'finch';
export const CONTAINER_ENGINES: readonly ContainerEngine[] = ['docker', 'podman', 'finch'];

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export class EngineUnavailableError extends Error {
  constructor(engine: string, detail: string) {
    super(
      `The container engine "${engine}" is not usable: ${detail}. ` +
        `Install and start Docker (or pass --engine podman / --engine finch), ` +
        `or deploy an image that is already pushed with --image <uri>.`,
    );
    this.name = 'EngineUnavailableError';
  }
}

/** Runs the engine; lines of output go to `onLine` so long builds show progress. */
export function runEngine(
  engine: string,
  args: readonly string[],
  options: { stdin?: string; onLine?: (line: string) => void; signal?: AbortSignal } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(engine, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    let stdout = '';
    let stderr = '';
    const forward = (chunk: Buffer, sink: 'out' | 'err') => {
      const text = chunk.toString('utf8');
      if (sink === 'out') stdout += text;
      else stderr += text;
      if (options.onLine)
        for (const line of text.split('\n')) if (line.trim() !== '') options.onLine(line);
    };
    child.stdout.on('data', (chunk: Buffer) => forward(chunk, 'out'));
    child.stderr.on('data', (chunk: Buffer) => forward(chunk, 'err'));
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT')
        reject(new EngineUnavailableError(engine, `"${engine}" is not installed or not on PATH`));
      else reject(error);
    });
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    // A command that exits without reading its input (most do, and quickly)
    // closes the pipe first: EPIPE here is not a failure, the exit code says.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.stdin ?? '');
  });
}

export async function checkEngine(engine: ContainerEngine): Promise<void> {
  const result = await runEngine(engine, ['version']);
  if (result.code !== 0) {
    const reason = result.stderr.trim().split('\n').pop() || `exit code ${result.code}`;
    throw new EngineUnavailableError(
      engine,
      `"${engine} version" failed (is the engine running?): ${reason}`,
    );
  }
}

async function mustSucceed(what: string, result: Promise<RunResult>): Promise<RunResult> {
  const finished = await result;
  if (finished.code !== 0) {
    const tail = finished.stderr.trim().split('\n').slice(-5).join('\n');
    throw new Error(`${what} failed (exit code ${finished.code}):\n${tail}`);
  }
  return finished;
}

export interface BuildAndPushOptions {
  readonly engine: ContainerEngine;
  readonly contextDir: string;
  readonly imageRef: string;
  readonly platform: ImagePlatform;
  readonly login: { username: string; password: string; registry: string };
  readonly report: Reporter;
  /** Stops the engine when another step of the run has already failed. */
  readonly signal?: AbortSignal;
}

/**
 * Where login keeps our ECR credentials: never the user's client config.
 * A config with `credsStore`/`credHelpers` (the ECR credential helper) makes
 * `docker login` fail with "not implemented"
 * (https://github.com/awslabs/amazon-ecr-credential-helper/issues/574), and
 * the user's config should not receive our short-lived token anyway. Docker
 * takes a client config directory as a global flag (`--config`, before the
 * subcommand); podman an auth file on login and push (`--authfile`).
 */
export interface RegistryAuth {
  readonly globalArgs: readonly string[];
  readonly commandArgs: readonly string[];
}

export function registryAuthArgs(engine: ContainerEngine, dir: string): RegistryAuth {
  if (engine === 'docker') return { globalArgs: ['--config', dir], commandArgs: [] };
  if (engine === 'podman')
    return { globalArgs: [], commandArgs: ['--authfile', join(dir, 'auth.json')] };
  // finch keeps its credentials inside its VM; it has no client-config flag.
  return { globalArgs: [], commandArgs: [] };
}

/**
 * A fresh docker config keeps the user's current context (a non-default
 * daemon such as Docker Desktop's or colima's, where the image was built)
 * but none of the user's credentials or helpers.
 */
async function prepareDockerConfig(dir: string): Promise<void> {
  const userDir = process.env.DOCKER_CONFIG ?? join(homedir(), '.docker');
  let currentContext: unknown;
  try {
    currentContext = (
      JSON.parse(await readFile(join(userDir, 'config.json'), 'utf8')) as {
        currentContext?: unknown;
      }
    ).currentContext;
  } catch {
    // No readable user config: the default context.
  }
  const config = typeof currentContext === 'string' ? { auths: {}, currentContext } : { auths: {} };
  await writeFile(join(dir, 'config.json'), JSON.stringify(config), { mode: 0o600 });
  if (existsSync(join(userDir, 'contexts')))
    await symlink(join(userDir, 'contexts'), join(dir, 'contexts'));
}

/** Runs `use` with a private registry-auth location, removed afterwards (also on failure). */
export async function withIsolatedRegistryAuth<T>(
  engine: ContainerEngine,
  use: (auth: RegistryAuth) => Promise<T>,
): Promise<T> {
  // mkdtemp makes the directory readable by the user only.
  const dir = await mkdtemp(join(tmpdir(), 'iclinic-deploy-auth-'));
  try {
    if (engine === 'docker') await prepareDockerConfig(dir);
    return await use(registryAuthArgs(engine, dir));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const NO_ISOLATION: RegistryAuth = { globalArgs: [], commandArgs: [] };

/** The password goes through stdin, never the command line, so `ps` cannot see it. */
export async function loginToRegistry(
  engine: ContainerEngine,
  login: BuildAndPushOptions['login'],
  auth: RegistryAuth = NO_ISOLATION,
): Promise<void> {
  await mustSucceed(
    `${engine} login ${login.registry}`,
    runEngine(
      engine,
      [
        ...auth.globalArgs,
        'login',
        ...auth.commandArgs,
        '--username',
        login.username,
        '--password-stdin',
        login.registry,
      ],
      { stdin: login.password },
    ),
  );
}

export async function buildImage(options: Omit<BuildAndPushOptions, 'login'>): Promise<void> {
  const { engine, contextDir, imageRef, platform, report } = options;
  report.progress(`building ${imageRef} for ${platform} with ${engine}`);
  await mustSucceed(
    `${engine} build`,
    runEngine(engine, ['build', '--platform', platform, '--tag', imageRef, contextDir], {
      onLine: (line) => report.progress(`  build | ${line}`),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    }),
  );
}

export async function pushImage(options: BuildAndPushOptions): Promise<void> {
  const { engine, imageRef, report } = options;
  await withIsolatedRegistryAuth(engine, async (auth) => {
    await loginToRegistry(engine, options.login, auth);
    report.progress(`pushing ${imageRef}`);
    await mustSucceed(
      `${engine} push ${imageRef}`,
      runEngine(engine, [...auth.globalArgs, 'push', ...auth.commandArgs, imageRef], {
        onLine: (line) => report.progress(`  push | ${line}`),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      }),
    );
  });
}
