import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BUNDLE_INPUTS,
  checkServiceBundle,
  SERVICE_BUNDLE,
  ServiceBundleError,
  sha256,
} from '../../../../../provision/resources/image/bundle.js';

let context: string;

beforeEach(async () => {
  context = await mkdtemp(join(tmpdir(), 'iclinic-bundle-test-'));
});

afterEach(async () => {
  await rm(context, { recursive: true, force: true });
});

async function write(file: string, text: string): Promise<void> {
  await mkdir(dirname(join(context, file)), { recursive: true });
  await writeFile(join(context, file), text);
}

/** A clone right after `npm run build`: the bundle and the hashes of its inputs. */
async function builtClone(sources: Record<string, string>): Promise<void> {
  for (const [file, text] of Object.entries(sources)) await write(file, text);
  await write(SERVICE_BUNDLE, 'bundled');
  const hashes = Object.fromEntries(
    Object.entries(sources).map(([file, text]) => [file, sha256(Buffer.from(text))]),
  );
  await write(BUNDLE_INPUTS, JSON.stringify(hashes));
}

describe('checkServiceBundle', () => {
  it('passes right after a build', async () => {
    await builtClone({ 'server/main.ts': 'main', 'node_modules/hono/dist/index.js': 'hono' });
    await expect(checkServiceBundle(context)).resolves.toBeUndefined();
  });

  it('fails when the bundle is missing, naming it, the folder and npm run build', async () => {
    const error = await checkServiceBundle(context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceBundleError);
    expect((error as Error).message).toContain(`${SERVICE_BUNDLE} is missing in ${context}`);
    expect((error as Error).message).toMatch(/npm run build.*--image <uri>/);
  });

  it('fails when a source changed after the build, naming that source', async () => {
    await builtClone({ 'server/main.ts': 'main', 'server/app.ts': 'app' });
    await write('server/app.ts', 'app, edited');
    await expect(checkServiceBundle(context)).rejects.toThrow(
      /older than server\/app\.ts, which changed after the last build/,
    );
  });

  it('fails when a bundled dependency changed after the build', async () => {
    await builtClone({ 'server/main.ts': 'main', 'node_modules/hono/dist/index.js': 'hono 4.1' });
    await write('node_modules/hono/dist/index.js', 'hono 4.2');
    await expect(checkServiceBundle(context)).rejects.toThrow(
      /node_modules\/hono\/dist\/index\.js/,
    );
  });

  it('passes in a package, which ships the bundle but neither its sources nor their hashes', async () => {
    await write(SERVICE_BUNDLE, 'bundled');
    await expect(checkServiceBundle(context)).resolves.toBeUndefined();
  });

  it('skips inputs that are absent, as in a package that still carries the hashes', async () => {
    await builtClone({ 'server/main.ts': 'main' });
    await rm(join(context, 'server'), { recursive: true });
    await expect(checkServiceBundle(context)).resolves.toBeUndefined();
  });
});
