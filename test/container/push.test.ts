// The CLI's own build-and-push path (provision/resources/image/), run for real with
// the local engine against a local TLS registry standing in for ECR: ECR
// itself cannot be reached here and moto has no registry.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
import { cliEngine } from '../support/container-engine.js';
import { startLocalRegistry, type LocalRegistry } from './local-registry.js';

let registry: LocalRegistry;
let registryHost = '';
let engine: ContainerEngine = 'docker';

beforeAll(async () => {
  engine = await cliEngine();
  registry = await startLocalRegistry();
  registryHost = registry.host;
});

afterAll(async () => {
  await registry?.stop();
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
      await userConfigs.restore();
    }
    expect(lines.some((l) => l.includes(`pushing ${imageRef}`))).toBe(true);

    expect(await registry.tags('iclinic/api')).toContain(tag);
    await runEngine(engine, ['rmi', imageRef]);
  });
});

/** Points docker's and podman's user credential config at files that name the ECR helper. */
async function credentialHelperUserConfigs(): Promise<{
  files: string[];
  restore: () => Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'iclinic-user-config-'));
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
    restore: async () => {
      await rm(dir, { recursive: true, force: true });
      if (saved.DOCKER_CONFIG === undefined) delete process.env.DOCKER_CONFIG;
      else process.env.DOCKER_CONFIG = saved.DOCKER_CONFIG;
      if (saved.REGISTRY_AUTH_FILE === undefined) delete process.env.REGISTRY_AUTH_FILE;
      else process.env.REGISTRY_AUTH_FILE = saved.REGISTRY_AUTH_FILE;
    },
  };
}
