import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { DescribeImagesCommand } from '@aws-sdk/client-ecr';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { NOT_CREATED_YET } from '../../../../../provision/plan.js';
import {
  buildContextDir,
  checkEngine,
  contentTag,
  cpuArchitectureFor,
  dockerfileInstructions,
  EngineUnavailableError,
  ensureImage,
  loginToRegistry,
  nativePlatform,
  pushImage,
  runEngine,
  SERVICE_BUNDLE,
} from '../../../../../provision/resources/image/index.js';
import { BUNDLE_INPUTS } from '../../../../../provision/resources/image/bundle.js';
import { awsError, mutatingOperations, operations, testContext } from '../../../support/context.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iclinic-image-test-'));
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await rm(dir, { recursive: true, force: true });
});

/** A clone's layout: the Dockerfile, the built bundle, and what never reaches the image. */
async function buildContext(): Promise<string> {
  const context = join(dir, 'context');
  await mkdir(join(context, 'server'), { recursive: true });
  await mkdir(join(context, 'dist', 'image'), { recursive: true });
  await writeFile(join(context, 'Dockerfile'), '# the image\nFROM node:20-alpine\n');
  await writeFile(join(context, SERVICE_BUNDLE), 'console.log(1);\n');
  await writeFile(join(context, 'package.json'), '{"name":"x","version":"1.0.0"}\n');
  await writeFile(join(context, 'package-lock.json'), '{}\n');
  await writeFile(join(context, 'server', 'x.ts'), 'export const x = 1;\n');
  return context;
}

/** Puts an executable shell script named `name` first on PATH. */
async function fakeEngine(name: string, script: string): Promise<string> {
  const bin = join(dir, 'bin');
  await mkdir(bin, { recursive: true });
  const path = join(bin, name);
  await writeFile(path, `#!/bin/sh\n${script}\n`);
  await chmod(path, 0o755);
  vi.stubEnv('PATH', `${bin}${delimiter}${process.env.PATH ?? ''}`);
  return path;
}

describe('contentTag', () => {
  it('is the same for the same content', async () => {
    const context = await buildContext();
    const first = await contentTag(context, 'linux/arm64');
    expect(await contentTag(context, 'linux/arm64')).toBe(first);
    expect(first).toMatch(/^[0-9a-f]{16}-arm64$/);
  });

  it('changes when the service bundle changes', async () => {
    const context = await buildContext();
    const before = await contentTag(context, 'linux/amd64');
    await writeFile(join(context, SERVICE_BUNDLE), 'console.log(2);\n');
    expect(await contentTag(context, 'linux/amd64')).not.toBe(before);
  });

  it('changes when a Dockerfile instruction changes', async () => {
    const context = await buildContext();
    const before = await contentTag(context, 'linux/amd64');
    await writeFile(join(context, 'Dockerfile'), '# the image\nFROM node:22-alpine\n');
    expect(await contentTag(context, 'linux/amd64')).not.toBe(before);
  });

  it('stays when only comments or blank lines of the Dockerfile change', async () => {
    const context = await buildContext();
    const before = await contentTag(context, 'linux/amd64');
    await writeFile(join(context, 'Dockerfile'), '# build it so\n\nFROM node:20-alpine\n\n');
    expect(await contentTag(context, 'linux/amd64')).toBe(before);
  });

  it('stays when package.json, the lockfile or the TypeScript sources change, since the image holds only the bundle', async () => {
    const context = await buildContext();
    const before = await contentTag(context, 'linux/amd64');
    await writeFile(join(context, 'package.json'), '{"name":"x","version":"1.0.1"}\n');
    await writeFile(join(context, 'package-lock.json'), '{"lockfileVersion":3}\n');
    await writeFile(join(context, 'server', 'x.ts'), 'export const x = 2;\n');
    await writeFile(join(context, 'server', 'y.ts'), '');
    expect(await contentTag(context, 'linux/amd64')).toBe(before);
  });

  it('changes when the platform changes', async () => {
    const context = await buildContext();
    const amd = await contentTag(context, 'linux/amd64');
    const arm = await contentTag(context, 'linux/arm64');
    expect(amd).toMatch(/-amd64$/);
    expect(arm.slice(0, 16)).not.toBe(amd.slice(0, 16));
  });

  it('ignores files outside the image inputs', async () => {
    const context = await buildContext();
    const before = await contentTag(context, 'linux/amd64');
    await writeFile(join(context, 'README.md'), 'notes');
    expect(await contentTag(context, 'linux/amd64')).toBe(before);
  });
});

describe('dockerfileInstructions', () => {
  it('keeps parser directives, which look like comments but change the build', () => {
    expect(dockerfileInstructions('# syntax=docker/dockerfile:1\n# a note\nFROM x\n')).toBe(
      '# syntax=docker/dockerfile:1\nFROM x',
    );
  });

  it('keeps a Dockerfile with a here-document whole, since its lines are content', () => {
    const text = 'FROM x\nCOPY <<EOF /etc/conf\n# a setting\nEOF\n';
    expect(dockerfileInstructions(text)).toBe(text);
  });
});

describe('platforms', () => {
  it('maps linux/arm64 to ARM64 and linux/amd64 to X86_64', () => {
    expect(cpuArchitectureFor('linux/arm64')).toBe('ARM64');
    expect(cpuArchitectureFor('linux/amd64')).toBe('X86_64');
  });

  it('builds arm64 natively on arm64 machines and amd64 elsewhere', () => {
    expect(nativePlatform('arm64')).toBe('linux/arm64');
    expect(nativePlatform('x64')).toBe('linux/amd64');
  });
});

describe('runEngine', () => {
  it('rejects with EngineUnavailableError when the engine is not installed', async () => {
    const error = await runEngine('iclinic-no-such-engine-xyz', ['version']).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EngineUnavailableError);
    expect((error as Error).message).toMatch(
      /"iclinic-no-such-engine-xyz" is not installed or not on PATH/,
    );
  });

  it('collects output and the exit code and forwards non-empty lines', async () => {
    const path = await fakeEngine('fake-engine', 'echo one; echo; echo two >&2; exit 3');
    const lines: string[] = [];
    const result = await runEngine(path, [], { onLine: (line) => lines.push(line) });
    expect(result).toEqual({ code: 3, stdout: 'one\n\n', stderr: 'two\n' });
    expect(lines.sort()).toEqual(['one', 'two']);
  });

  it('reports the exit code of an engine that exits without reading its input', async () => {
    const path = await fakeEngine('deaf-engine', 'exit 4');
    // Large enough that the write is still going when the pipe closes.
    const result = await runEngine(path, [], { stdin: 'x'.repeat(4 * 1024 * 1024) });
    expect(result.code).toBe(4);
  });

  it('stops the engine at once when the run is aborted', async () => {
    const path = await fakeEngine('slow-engine', 'sleep 30');
    const aborted = new AbortController();
    const started = Date.now();
    const running = runEngine(path, [], { signal: aborted.signal });
    setTimeout(() => aborted.abort(), 100);
    await expect(running).rejects.toThrow(/abort/i);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('checkEngine', () => {
  it('tells to start the engine when "version" fails', async () => {
    await fakeEngine(
      'docker',
      'echo "Cannot connect to the Docker daemon. Is the docker daemon running?" >&2; exit 1',
    );
    const error = await checkEngine('docker').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineUnavailableError);
    const message = (error as Error).message;
    expect(message).toMatch(/"docker version" failed \(is the engine running\?\)/);
    expect(message).toMatch(/Cannot connect to the Docker daemon/);
    expect(message).toMatch(/Install and start Docker/);
  });

  it('passes when "version" succeeds', async () => {
    await fakeEngine('podman', 'echo "podman version 5"');
    await expect(checkEngine('podman')).resolves.toBeUndefined();
  });
});

describe('loginToRegistry', () => {
  it('passes the password on stdin and never on the command line', async () => {
    const record = join(dir, 'record');
    await fakeEngine('docker', `printf '%s\\n' "$@" > "${record}.argv"; cat > "${record}.stdin"`);
    const password = 'eyJwYXlsb2FkIjoic2VjcmV0LXBhc3N3b3JkIn0';
    await loginToRegistry('docker', {
      username: 'AWS',
      password,
      registry: '123456789012.dkr.ecr.us-east-1.amazonaws.com',
    });
    const argv = await readFile(`${record}.argv`, 'utf8');
    expect(argv.split('\n').filter((a) => a !== '')).toEqual([
      'login',
      '--username',
      'AWS',
      '--password-stdin',
      '123456789012.dkr.ecr.us-east-1.amazonaws.com',
    ]);
    expect(argv).not.toContain(password);
    expect(await readFile(`${record}.stdin`, 'utf8')).toBe(password);
  });

  it('fails with the engine error output when login fails', async () => {
    await fakeEngine('docker', 'cat > /dev/null; echo "unauthorized: bad credentials" >&2; exit 1');
    await expect(
      loginToRegistry('docker', { username: 'AWS', password: 'p', registry: 'r.example.com' }),
    ).rejects.toThrow(
      /docker login r\.example\.com failed \(exit code 1\):\nunauthorized: bad credentials/,
    );
  });
});

describe('pushImage', () => {
  const login = {
    username: 'AWS',
    password: 'eyJwYXlsb2FkIjoic2VjcmV0In0',
    registry: '123456789012.dkr.ecr.us-east-1.amazonaws.com',
  };
  const imageRef = `${login.registry}/iclinic/api:abc-amd64`;
  const report = { progress: () => undefined, warn: () => undefined };

  /** A fake engine that records each run's argv (one line, args joined by "|"). */
  async function recordingEngine(name: string, extra = ''): Promise<string> {
    const record = join(dir, 'runs');
    await fakeEngine(
      name,
      `cat > /dev/null; (IFS='|'; echo "$*") >> "${record}"\n` +
        `if [ "$1" = "--config" ]; then cat "$2/config.json" > "${record}.config"; fi\n${extra}`,
    );
    return record;
  }

  async function runs(record: string): Promise<string[][]> {
    return (await readFile(record, 'utf8'))
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => line.split('|'));
  }

  it('docker: logs in and pushes with --config <private dir> before the subcommand, and removes the dir', async () => {
    // A user set up for the ECR credential helper, on a non-default context.
    const userConfig = join(dir, 'user-docker');
    await mkdir(userConfig);
    const original = JSON.stringify({ credsStore: 'ecr-login', currentContext: 'colima' });
    await writeFile(join(userConfig, 'config.json'), original);
    vi.stubEnv('DOCKER_CONFIG', userConfig);
    const record = await recordingEngine('docker');

    await pushImage({
      engine: 'docker',
      contextDir: dir,
      imageRef,
      platform: 'linux/amd64',
      login,
      report,
    });

    const [loginRun, pushRun] = await runs(record);
    const configDir = loginRun?.[1] ?? '';
    expect(configDir).toMatch(/iclinic-deploy-auth-/);
    expect(loginRun).toEqual([
      '--config',
      configDir,
      'login',
      '--username',
      'AWS',
      '--password-stdin',
      login.registry,
    ]);
    expect(pushRun).toEqual(['--config', configDir, 'push', imageRef]);
    expect(existsSync(configDir)).toBe(false);
    expect(JSON.parse(await readFile(`${record}.config`, 'utf8'))).toEqual({
      auths: {},
      currentContext: 'colima',
    });
    expect(await readFile(join(userConfig, 'config.json'), 'utf8')).toBe(original);
  });

  it('podman: logs in and pushes with the same private --authfile, and removes it', async () => {
    const record = await recordingEngine('podman');
    await pushImage({
      engine: 'podman',
      contextDir: dir,
      imageRef,
      platform: 'linux/amd64',
      login,
      report,
    });
    const [loginRun, pushRun] = await runs(record);
    const authFile = loginRun?.[2] ?? '';
    expect(authFile).toMatch(/iclinic-deploy-auth-[^/]+\/auth\.json$/);
    expect(loginRun).toEqual([
      'login',
      '--authfile',
      authFile,
      '--username',
      'AWS',
      '--password-stdin',
      login.registry,
    ]);
    expect(pushRun).toEqual(['push', '--authfile', authFile, imageRef]);
    expect(existsSync(dirname(authFile))).toBe(false);
  });

  it('removes the private config dir when the push fails', async () => {
    const record = await recordingEngine('docker', 'if [ "$3" = "push" ]; then exit 1; fi');
    await expect(
      pushImage({
        engine: 'docker',
        contextDir: dir,
        imageRef,
        platform: 'linux/amd64',
        login,
        report,
      }),
    ).rejects.toThrow(/docker push .* failed/);
    const [loginRun] = await runs(record);
    expect(existsSync(loginRun?.[1] ?? '')).toBe(false);
  });
});

describe('ensureImage in a dry run', () => {
  const repository = {
    repositoryUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/iclinic/api',
    repositoryArn: 'arn:aws:ecr:us-east-1:123456789012:repository/iclinic/api',
  };
  const base = { engine: 'docker', platform: 'linux/amd64' } as const;
  let settings: typeof base & { contextDir: string };

  beforeEach(async () => {
    settings = { ...base, contextDir: await buildContext() };
  });

  /** An engine that records that it ran at all: a dry run must never start one. */
  async function engineThatMustNotRun(): Promise<string> {
    const record = join(dir, 'engine-ran');
    await fakeEngine('docker', `echo "$*" >> "${record}"`);
    return record;
  }

  it('says nothing to do when the content tag is already in the repository, without the engine', async () => {
    const record = await engineThatMustNotRun();
    const { ctx, mocks } = testContext();
    mocks.ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageTags: ['t'] }] });
    const result = await ensureImage({ ...ctx, dryRun: true }, settings, repository);
    const tag = await contentTag(settings.contextDir, 'linux/amd64');
    expect(result).toEqual({
      changes: [],
      value: { imageUri: `${repository.repositoryUri}:${tag}` },
    });
    expect(mocks.ecr.commandCalls(DescribeImagesCommand)[0]?.args[0].input.imageIds).toEqual([
      { imageTag: tag },
    ]);
    expect(mutatingOperations(mocks.ecr)).toEqual([]);
    expect(existsSync(record)).toBe(false);
  });

  it('plans the build and push of a tag the repository lacks, without the engine or a login', async () => {
    const record = await engineThatMustNotRun();
    const { ctx, mocks } = testContext();
    mocks.ecr.on(DescribeImagesCommand).rejects(awsError('ImageNotFoundException', 'no image'));
    const result = await ensureImage({ ...ctx, dryRun: true }, settings, repository);
    const tag = await contentTag(settings.contextDir, 'linux/amd64');
    expect(result.changes).toEqual([
      {
        action: 'create',
        kind: 'container image',
        name: `iclinic/api:${tag}`,
        detail: 'build for linux/amd64 with docker, push',
      },
    ]);
    expect(operations(mocks.ecr)).toEqual(['DescribeImages']);
    expect(existsSync(record)).toBe(false);
  });

  it('plans the image without asking ECR when the repository would be created', async () => {
    const { ctx, mocks } = testContext();
    const absent = { repositoryUri: NOT_CREATED_YET, repositoryArn: NOT_CREATED_YET };
    const result = await ensureImage({ ...ctx, dryRun: true }, settings, absent);
    expect(result.value.imageUri).toBe(NOT_CREATED_YET);
    expect(result.changes).toMatchObject([{ action: 'create', kind: 'container image' }]);
    expect(operations(mocks.ecr)).toEqual([]);
  });

  it('refuses a bundle older than its sources before asking ECR, saying to run npm run build', async () => {
    const { ctx, mocks } = testContext();
    await writeFile(
      join(settings.contextDir, BUNDLE_INPUTS),
      JSON.stringify({ 'server/x.ts': 'the hash of an older server/x.ts' }),
    );
    await expect(ensureImage({ ...ctx, dryRun: true }, settings, repository)).rejects.toThrow(
      /older than server\/x\.ts[\s\S]*npm run build/,
    );
    expect(operations(mocks.ecr)).toEqual([]);
  });
});

describe('the package’s own build context', () => {
  it('is the folder holding the Dockerfile, whose .dockerignore admits the bundle', async () => {
    const context = buildContextDir();
    expect(existsSync(join(context, 'Dockerfile'))).toBe(true);
    const ignore = await readFile(join(context, '.dockerignore'), 'utf8');
    expect(ignore.split('\n')).toContain(`!${SERVICE_BUNDLE}`);
    expect(await readFile(join(context, 'Dockerfile'), 'utf8')).toMatch(
      new RegExp(`^COPY ${SERVICE_BUNDLE.replaceAll('.', '\\.')} /app/server\\.js$`, 'm'),
    );
  });
});
