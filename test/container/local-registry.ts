// A local TLS image registry standing in for ECR's registry (ECR cannot be
// reached here and moto has no registry API): Debian's docker-registry with a
// self-signed certificate that both engines are told to trust.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StrictRule } from '../support/strict-aws/types.js';
import { selfSignedCertificate } from '../support/certificate.js';
import { exec, freePort } from '../support/container-engine.js';

export interface LocalRegistry {
  /** host:port, as an image reference names it. */
  readonly host: string;
  /** The tags a repository holds, read over the registry's v2 API. */
  tags(repository: string): Promise<string[]>;
  stop(): Promise<void>;
}

async function waitForTls(host: string, registry: ChildProcess, binary: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const probe = await exec('openssl', ['s_client', '-connect', host], {
      input: '',
      timeoutMs: 3_000,
    });
    if (probe.stdout.includes('BEGIN CERTIFICATE')) return;
    if (Date.now() > deadline || registry.exitCode !== null) {
      throw new Error(
        `${binary} did not start on ${host} (install Debian's docker-registry or set REGISTRY_BINARY)`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export async function startLocalRegistry(): Promise<LocalRegistry> {
  const workDir = await mkdtemp(join(tmpdir(), 'iclinic-registry-'));
  const host = `127.0.0.1:${await freePort()}`;
  const { certPath, keyPath } = selfSignedCertificate('127.0.0.1', 'IP:127.0.0.1', workDir);
  const trustDirs: string[] = [];
  // Both engines look up a registry's CA by host:port in these folders.
  for (const base of ['/etc/containers/certs.d', '/etc/docker/certs.d']) {
    const dir = join(base, host);
    try {
      await mkdir(dir, { recursive: true });
      await copyFile(certPath, join(dir, 'ca.crt'));
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
      `  addr: ${host}`,
      `  tls: { certificate: ${certPath}, key: ${keyPath} }`,
      '',
    ].join('\n'),
  );
  const binary = process.env.REGISTRY_BINARY ?? 'docker-registry';
  const registry = spawn(binary, ['serve', config], { stdio: 'ignore' });
  const stop = async () => {
    if (registry.exitCode === null) {
      const exited = new Promise((resolve) => registry.once('exit', resolve));
      registry.kill('SIGTERM');
      await exited;
    }
    for (const dir of trustDirs) await rm(dir, { recursive: true, force: true });
    await rm(workDir, { recursive: true, force: true });
  };
  try {
    await waitForTls(host, registry, binary);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    host,
    stop,
    async tags(repository) {
      const url = `https://${host}/v2/${repository}/tags/list`;
      const result = await exec('curl', ['-sS', '--cacert', certPath, url]);
      if (result.code !== 0) throw new Error(`curl ${url}: ${result.stderr}`);
      return (JSON.parse(result.stdout) as { tags?: string[] | null }).tags ?? [];
    },
  };
}

const ECR_REGISTRY_HOST = /\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/g;

/**
 * A strict-layer rule for the container suite only: moto's ECR answers name
 * the real registry host (in repositoryUri and GetAuthorizationToken's
 * proxyEndpoint), which no engine here can reach; this puts the local
 * registry in its place, so `up` builds, logs in and pushes for real.
 */
export function ecrOnLocalRegistry(host: string): StrictRule {
  return {
    name: 'ecr-on-local-registry',
    source: 'test stand-in: https://docs.aws.amazon.com/AmazonECR/latest/userguide/Registries.html',
    async after(request, response) {
      if (request.service !== 'ecr') return undefined;
      const body = response.body.replaceAll(ECR_REGISTRY_HOST, host);
      return body === response.body ? undefined : { ...response, body };
    },
  };
}
