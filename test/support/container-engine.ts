// Thin helpers over a Docker-compatible container engine CLI (podman or
// docker) for the container tests and the benchmark. The engine is chosen by
// CONTAINER_ENGINE, else podman when installed, else docker when its daemon
// answers. No engine is an error, never a silent skip.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BASE_IMAGE = 'docker.io/library/node:24-slim';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function exec(
  command: string,
  args: string[],
  options: { timeoutMs?: number; input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      command,
      args,
      {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
        timeout: options.timeoutMs ?? 120_000,
        ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
        ...(options.env === undefined ? {} : { env: options.env }),
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr: stderr || (error && code !== 0 ? error.message : '') });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/**
 * Bundles the checked-out server/ into the file the Dockerfile copies (what
 * `npm run build` does after compiling), so an image built from the
 * repository runs the current code.
 */
export async function bundleService(): Promise<void> {
  const result = await exec(process.execPath, ['--import', 'tsx', 'scripts/bundle-service.ts'], {
    cwd: REPO_ROOT,
  });
  if (result.code !== 0) throw new Error(`bundling the service failed:\n${result.stderr}`);
}

export class ContainerEngine {
  constructor(readonly command: string) {}

  get isPodman(): boolean {
    return /podman/.test(this.command);
  }

  run(args: string[], timeoutMs?: number): Promise<RunResult> {
    return exec(this.command, args, { timeoutMs });
  }

  async mustRun(args: string[], timeoutMs?: number): Promise<string> {
    const result = await this.run(args, timeoutMs);
    if (result.code !== 0) {
      throw new Error(
        `${this.command} ${args.join(' ')} failed (${result.code}):\n${result.stderr}${result.stdout}`,
      );
    }
    return result.stdout.trim();
  }

  async imageExists(ref: string): Promise<boolean> {
    return (await this.run(['image', 'inspect', ref])).code === 0;
  }

  /**
   * Builds the repository's Dockerfile. On podman, `--pull=never` is added
   * only when the base image is already present (e.g. the CI stand-in), so a
   * machine with registry access still pulls what it lacks. `noCache`
   * rebuilds every step (a cold engine cache; the base image stays). The
   * repository itself is bundled first unless `bundle` is false.
   */
  async build(
    tag: string,
    contextDir = REPO_ROOT,
    options: { noCache?: boolean; bundle?: boolean } = {},
  ): Promise<void> {
    if (options.bundle ?? contextDir === REPO_ROOT) await bundleService();
    const args = ['build', '-t', tag, '-f', `${contextDir}/Dockerfile`];
    if (options.noCache === true) args.push('--no-cache');
    if (this.isPodman && (await this.imageExists(BASE_IMAGE))) args.push('--pull=never');
    args.push(contextDir);
    await this.mustRun(args, 900_000);
  }
}

async function works(command: string, args: string[]): Promise<boolean> {
  return (await exec(command, args, { timeoutMs: 20_000 })).code === 0;
}

export async function detectEngine(): Promise<ContainerEngine> {
  const forced = process.env.CONTAINER_ENGINE;
  if (forced) {
    if (!(await works(forced, ['version']))) {
      throw new Error(
        `CONTAINER_ENGINE=${forced} is set but "${forced} version" fails: is its daemon/service running?`,
      );
    }
    return new ContainerEngine(forced);
  }
  if (await works('podman', ['version'])) return new ContainerEngine('podman');
  if (await works('docker', ['version'])) return new ContainerEngine('docker');
  throw new Error(
    'No container engine available: install podman (see .ci/setup-containers.sh) or start a Docker daemon, ' +
      'or set CONTAINER_ENGINE. The container tests cannot run without one.',
  );
}

const PODMAN_SOCKET = '/run/podman/podman.sock';

/**
 * The `--engine` the CLI is given in the container suite: the docker client
 * when it reaches an engine (podman's Docker API counts; DOCKER_HOST is
 * pointed at its socket when unset), else podman itself.
 */
export async function cliEngine(): Promise<'docker' | 'podman'> {
  if (process.env.DOCKER_HOST === undefined && existsSync(PODMAN_SOCKET)) {
    process.env.DOCKER_HOST = `unix://${PODMAN_SOCKET}`;
  }
  if (await works('docker', ['version'])) return 'docker';
  if (await works('podman', ['version'])) return 'podman';
  throw new Error(
    'Neither docker nor podman works here; run "bash .ci/setup-containers.sh" or start Docker.',
  );
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface StartedContainer {
  name: string;
  port: number;
  url: string;
}

let counter = 0;

/** Starts the image detached, publishing its 8080 on a free loopback port. */
export async function startContainer(
  engine: ContainerEngine,
  image: string,
  options: {
    env?: Record<string, string>;
    extraArgs?: string[];
    namePrefix?: string;
    command?: string[];
  } = {},
): Promise<StartedContainer> {
  const port = await freePort();
  const name = `${options.namePrefix ?? 'iclinic-test'}-${process.pid}-${Date.now()}-${counter++}`;
  const envArgs = Object.entries(options.env ?? {}).flatMap(([key, value]) => [
    '-e',
    `${key}=${value}`,
  ]);
  await engine.mustRun([
    'run',
    '-d',
    '--name',
    name,
    '-p',
    `127.0.0.1:${port}:8080`,
    ...envArgs,
    ...(options.extraArgs ?? []),
    image,
    ...(options.command ?? []),
  ]);
  return { name, port, url: `http://127.0.0.1:${port}` };
}

/** Polls GET /healthz until it answers 200; returns the ms waited. */
export async function waitForHealthy(url: string, timeoutMs = 30_000): Promise<number> {
  const started = performance.now();
  let lastError = '';
  while (performance.now() - started < timeoutMs) {
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) });
      if (res.status === 200) return performance.now() - started;
      lastError = `status ${res.status}`;
    } catch (error) {
      lastError = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${url}/healthz not healthy after ${timeoutMs} ms (${lastError})`);
}

export async function removeContainer(engine: ContainerEngine, name: string): Promise<void> {
  await engine.run(engine.isPodman ? ['rm', '-f', '-t', '0', name] : ['rm', '-f', name]);
}

/** Starts `engine args...` without waiting; resolves with the result and the elapsed ms. */
export function spawnTimed(
  engine: ContainerEngine,
  args: string[],
): Promise<RunResult & { ms: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(engine.command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) =>
      resolve({ code: code ?? 1, stdout, stderr, ms: performance.now() - started }),
    );
  });
}
