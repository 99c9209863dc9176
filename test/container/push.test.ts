// The CLI's own build-and-push path (provision/image.ts), run for real with
// the local engine against a local TLS registry standing in for ECR: ECR
// itself cannot be reached here and moto has no registry.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentReporter } from '../../provision/context.js';
import {
  buildContextDir,
  buildImage,
  contentTag,
  nativePlatform,
  pushImage,
  runEngine,
  type ContainerEngine,
} from '../../provision/resources/image/index.js';
import { decodeAuthorization } from '../../provision/resources/registry.js';
import { selfSignedCertificate } from '../support/certificate.js';
import { exec, freePort } from '../support/container-engine.js';

const PODMAN_SOCKET = '/run/podman/podman.sock';

let registry: ChildProcess | undefined;
let workDir = '';
let registryHost = '';
let engine: ContainerEngine = 'docker';
const trustDirs: string[] = [];

/** The docker client when it reaches an engine (podman's API counts), else podman itself. */
async function pickEngine(): Promise<ContainerEngine> {
  if (process.env.DOCKER_HOST === undefined && existsSync(PODMAN_SOCKET)) {
    process.env.DOCKER_HOST = `unix://${PODMAN_SOCKET}`;
  }
  const docker = await runEngine('docker', ['version']).catch(() => undefined);
  if (docker?.code === 0) return 'docker';
  const podman = await runEngine('podman', ['version']).catch(() => undefined);
  if (podman?.code === 0) return 'podman';
  throw new Error(
    'Neither docker nor podman works here; run "bash .ci/setup-containers.sh" or start Docker.',
  );
}

beforeAll(async () => {
  engine = await pickEngine();
  workDir = await mkdtemp(join(tmpdir(), 'iclinic-registry-'));
  const port = await freePort();
  registryHost = `127.0.0.1:${port}`;
  const { certPath: cert, keyPath: key } = selfSignedCertificate(
    '127.0.0.1',
    'IP:127.0.0.1',
    workDir,
  );
  // Both engines look up a registry's CA by host:port in these folders.
  for (const base of ['/etc/containers/certs.d', '/etc/docker/certs.d']) {
    const dir = join(base, registryHost);
    try {
      await mkdir(dir, { recursive: true });
      await copyFile(cert, join(dir, 'ca.crt'));
      trustDirs.push(dir);
    } catch {
      // Not writable (not root): the engine may already trust the certificate another way.
    }
  }
  const config = join(workDir, 'config.yml');
  await writeFile(
    config,
    [
      'version: 0.1',
      'storage:',
      `  filesystem: { rootdirectory: ${join(workDir, 'data')} }`,
      'http:',
      `  addr: ${registryHost}`,
      `  tls: { certificate: ${cert}, key: ${key} }`,
      '',
    ].join('\n'),
  );
  const binary = process.env.REGISTRY_BINARY ?? 'docker-registry';
  registry = spawn(binary, ['serve', config], { stdio: 'ignore' });
  const deadline = Date.now() + 20_000;
  for (;;) {
    const probe = await exec('openssl', ['s_client', '-connect', registryHost], {
      input: '',
      timeoutMs: 3_000,
    });
    if (probe.stdout.includes('BEGIN CERTIFICATE')) break;
    if (Date.now() > deadline || registry.exitCode !== null) {
      throw new Error(
        `${binary} did not start on ${registryHost} (install Debian's docker-registry or set REGISTRY_BINARY)`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
});

afterAll(async () => {
  registry?.kill('SIGTERM');
  for (const dir of trustDirs) await rm(dir, { recursive: true, force: true });
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('building and pushing the image the way up does', () => {
  it('builds the Dockerfile, logs in with the password on stdin and pushes a content-tagged image', async () => {
    const contextDir = buildContextDir();
    const platform = nativePlatform();
    const tag = await contentTag(contextDir, platform);
    const imageRef = `${registryHost}/iclinic/api:${tag}`;
    // The same shape ECR's GetAuthorizationToken returns: base64 "AWS:<password>" and an https endpoint.
    const login = decodeAuthorization(
      Buffer.from('AWS:not-a-real-password').toString('base64'),
      `https://${registryHost}`,
    );
    const lines: string[] = [];
    const report = { ...silentReporter, progress: (line: string) => lines.push(line) };
    await buildImage({ engine, contextDir, imageRef, platform, report });
    // A user set up for the ECR credential helper (not installed here, so any
    // login that consulted it would fail, like "not implemented" does).
    const userConfigs = await credentialHelperUserConfigs();
    try {
      await pushImage({ engine, contextDir, imageRef, platform, login, report });
      for (const file of userConfigs.files) {
        expect(await readFile(file, 'utf8'), file).not.toContain('not-a-real-password');
        expect(await readFile(file, 'utf8'), file).not.toContain(
          Buffer.from('AWS:not-a-real-password').toString('base64'),
        );
      }
    } finally {
      userConfigs.restore();
    }
    expect(lines.some((l) => l.includes(`pushing ${imageRef}`))).toBe(true);

    const tags = await fetchTags(
      `https://${registryHost}/v2/iclinic/api/tags/list`,
      join(workDir, 'cert.pem'),
    );
    expect(tags).toContain(tag);
    await runEngine(engine, ['rmi', imageRef]);
  });
});

/** Points docker's and podman's user credential config at files that name the ECR helper. */
async function credentialHelperUserConfigs(): Promise<{ files: string[]; restore: () => void }> {
  const dir = join(workDir, 'user-config');
  await mkdir(dir, { recursive: true });
  const helper = JSON.stringify({
    credsStore: 'ecr-login',
    credHelpers: { [registryHost]: 'ecr-login' },
  });
  await writeFile(join(dir, 'config.json'), helper);
  await writeFile(join(dir, 'auth.json'), helper);
  const saved = {
    DOCKER_CONFIG: process.env.DOCKER_CONFIG,
    REGISTRY_AUTH_FILE: process.env.REGISTRY_AUTH_FILE,
  };
  process.env.DOCKER_CONFIG = dir;
  process.env.REGISTRY_AUTH_FILE = join(dir, 'auth.json');
  return {
    files: [join(dir, 'config.json'), join(dir, 'auth.json')],
    restore: () => {
      if (saved.DOCKER_CONFIG === undefined) delete process.env.DOCKER_CONFIG;
      else process.env.DOCKER_CONFIG = saved.DOCKER_CONFIG;
      if (saved.REGISTRY_AUTH_FILE === undefined) delete process.env.REGISTRY_AUTH_FILE;
      else process.env.REGISTRY_AUTH_FILE = saved.REGISTRY_AUTH_FILE;
    },
  };
}

async function fetchTags(url: string, caFile: string): Promise<string[]> {
  const result = await exec('curl', ['-sS', '--cacert', caFile, url]);
  if (result.code !== 0) throw new Error(`curl ${url}: ${result.stderr}`);
  return (JSON.parse(result.stdout) as { tags?: string[] }).tags ?? [];
}
