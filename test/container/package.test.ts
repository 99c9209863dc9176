// `npx iclinic-deploy` as someone without a clone gets it: `npm pack`, the
// tarball installed with production dependencies only into an empty folder,
// then up / status / policy / down run from there against moto behind the
// strict layer. `up` builds the image with the real engine from what the
// package ships and pushes it to a local registry standing in for ECR's; the
// image, pulled back from that registry, must answer the service probes.
import { DescribeServicesCommand, DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stackNames } from '../../provision/names.js';
import {
  contentTag,
  nativePlatform,
  SERVICE_BUNDLE,
} from '../../provision/resources/image/index.js';
import { testClients } from '../support/aws.js';
import { E2E_DELAY_SCALE } from '../support/cli.js';
import {
  cliEngine,
  ContainerEngine,
  exec,
  REPO_ROOT,
  type RunResult,
} from '../support/container-engine.js';
import { leftovers } from '../support/leftovers.js';
import { startMoto, type Moto } from '../support/moto.js';
import { stackAppId } from '../support/strict-aws/protocol.js';
import { startStrictProxy, type StrictProxy } from '../support/strict-aws/proxy.js';
import { strictSeed } from '../support/strict-aws/random.js';
import { allStrictRules } from '../support/strict-aws/rules/index.js';
import { ecrOnLocalRegistry, startLocalRegistry, type LocalRegistry } from './local-registry.js';
import { describeServiceProbes } from './service-probes.js';

const STACK = 'iclinic';
const REGION = 'us-east-1';
const names = stackNames(STACK, REGION);
const engine = new ContainerEngine(inject('containerEngine'));

let workDir = '';
let appDir = '';
let installed = '';
let cliEngineName: 'docker' | 'podman' = 'docker';
let registry: LocalRegistry | undefined;
let moto: Moto | undefined;
let proxy: StrictProxy | undefined;
/** The image `up` deployed, as the task definition names it. */
let deployedImage = '';

/** The environment without npm's own variables: the child npm must not see the outer run's. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')),
  );
}

async function mustExec(command: string, args: string[], cwd: string): Promise<RunResult> {
  const result = await exec(command, args, { cwd, env: cleanEnv(), timeoutMs: 480_000 });
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.code}):\n${result.stderr}`);
  }
  return result;
}

/** `npm pack` (its prepare script builds and bundles) into workDir; the tarball's path. */
async function pack(): Promise<string> {
  const packed = await mustExec(
    'npm',
    ['pack', '--json', '--pack-destination', workDir],
    REPO_ROOT,
  );
  const [entry] = JSON.parse(packed.stdout) as { filename: string }[];
  if (entry === undefined) throw new Error(`npm pack printed no tarball: ${packed.stdout}`);
  return join(workDir, entry.filename);
}

/** `npx iclinic-deploy ARGS` in the install folder, as the user types it, at the strict layer. */
function npx(args: string[], timeoutMs = 300_000): Promise<RunResult> {
  return exec('npx', ['iclinic-deploy', ...args], {
    cwd: appDir,
    timeoutMs,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...(process.env.DOCKER_HOST === undefined ? {} : { DOCKER_HOST: process.env.DOCKER_HOST }),
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: REGION,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_ENDPOINT_URL: proxy?.endpoint ?? '',
      // The strict layer checks each call against this stack's deployer policy.
      AWS_SDK_UA_APP_ID: stackAppId(STACK, REGION),
      ICLINIC_DEPLOY_DELAY_SCALE: E2E_DELAY_SCALE,
    },
  });
}

interface RunJson {
  ok: boolean;
  steps: { key: string; changes: { action: string; kind: string; name: string }[] }[];
  error?: { message: string };
}

function parseRun(result: RunResult): RunJson {
  try {
    return JSON.parse(result.stdout) as RunJson;
  } catch {
    throw new Error(`no JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
}

beforeAll(async () => {
  cliEngineName = await cliEngine();
  workDir = await mkdtemp(join(tmpdir(), 'iclinic-package-'));
  appDir = join(workDir, 'app');
  await mkdir(appDir);
  const tarball = await pack();
  await mustExec('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', tarball], appDir);
  installed = join(appDir, 'node_modules', 'iclinic-deploy');
  registry = await startLocalRegistry();
  moto = await startMoto(2);
  proxy = await startStrictProxy({
    motoEndpoint: moto.endpoint,
    seed: strictSeed(),
    rules: [...allStrictRules(), ecrOnLocalRegistry(registry.host)],
  });
});

afterAll(async () => {
  if (deployedImage !== '') await engine.run(['rmi', '-f', deployedImage]);
  await proxy?.stop();
  await moto?.stop();
  await registry?.stop();
  if (workDir !== '') await rm(workDir, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('installs without a clone: the bundle and the Dockerfile, no sources, no build tools', async () => {
    expect(existsSync(join(installed, SERVICE_BUNDLE))).toBe(true);
    expect(existsSync(join(installed, 'Dockerfile'))).toBe(true);
    expect(existsSync(join(installed, '.dockerignore'))).toBe(true);
    for (const absent of [
      'server',
      'test',
      'package-lock.json',
      'tsconfig.json',
      'dist/image/inputs.json',
    ]) {
      expect(existsSync(join(installed, absent)), absent).toBe(false);
    }
    const modules = await readdir(join(appDir, 'node_modules'));
    for (const tool of ['typescript', 'esbuild', 'tsx', 'vitest', 'hono']) {
      expect(modules, tool).not.toContain(tool);
    }
  });

  it('up builds the image from the package with the engine, pushes it and deploys it', async () => {
    const result = await npx(['up', '--engine', cliEngineName, '--no-verify', '--json']);
    const record = parseRun(result);
    expect(record.error?.message, result.stderr).toBeUndefined();
    expect(result.code).toBe(0);

    const aws = testClients(moto?.endpoint ?? '');
    const { services } = await aws.ecs.send(
      new DescribeServicesCommand({ cluster: names.cluster, services: [names.service] }),
    );
    const { taskDefinition } = await aws.ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: services?.[0]?.taskDefinition }),
    );
    deployedImage = taskDefinition?.containerDefinitions?.[0]?.image ?? '';
    // The same content tag a clone computes: the package's image is the clone's image.
    const tag = await contentTag(installed, nativePlatform());
    expect(tag).toBe(await contentTag(REPO_ROOT, nativePlatform()));
    expect(deployedImage).toBe(`${registry?.host}/${names.repository}:${tag}`);
    const image = record.steps.find((step) => step.key === 'image');
    expect(image?.changes).toEqual([
      expect.objectContaining({ action: 'create', kind: 'container image' }),
    ]);
    expect(await registry?.tags(names.repository)).toEqual([tag]);
  });

  it('status and policy work from the package', async () => {
    const status = await npx(['status', '--json']);
    expect(parseRun(status).ok, status.stderr).toBe(true);
    const policy = await npx(['policy']);
    expect(policy.code, policy.stderr).toBe(0);
    // The policy comes as several managed-policy documents (a JSON array).
    const documents = JSON.parse(policy.stdout) as { Statement: unknown[] }[];
    expect(documents.length).toBeGreaterThan(1);
    for (const document of documents) expect(document.Statement.length).toBeGreaterThan(0);
  });

  describe('the image up pushed, pulled back from the registry', () => {
    beforeAll(async () => {
      if (deployedImage === '') throw new Error('up deployed no image: see the up test above.');
      // Drop the engine's local copy so the probes run what the registry holds.
      await engine.mustRun(['rmi', deployedImage]);
      await engine.mustRun(['pull', deployedImage], 300_000);
    });

    describeServiceProbes(() => deployedImage);
  });

  it('down from the package removes everything up made', async () => {
    const result = await npx(['down', '--yes', '--json']);
    expect(parseRun(result).error?.message, result.stderr).toBeUndefined();
    expect(result.code).toBe(0);
    expect(await leftovers(testClients(moto?.endpoint ?? ''), STACK, REGION)).toEqual([]);
  });
});
