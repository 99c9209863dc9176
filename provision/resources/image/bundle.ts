import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The service in one file, made by `npm run build` (scripts/bundle-service.ts)
 * and shipped in the package: the image build only copies it, so it needs no
 * npm, no registry and no TypeScript. CommonJS, named .cjs because the
 * package is an ES module package; the image runs it as /app/server.js.
 */
export const SERVICE_BUNDLE = 'dist/image/server.cjs';

/**
 * The hash of every file the bundle was made from (server/ and the
 * dependencies it imports), written beside it by the build. Only a clone has
 * it: the package leaves it out, since it ships none of those sources.
 */
export const BUNDLE_INPUTS = 'dist/image/inputs.json';

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export class ServiceBundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServiceBundleError';
  }
}

const HOW_TO_FIX =
  'Run "npm run build" in that folder (it bundles server/ for the image), ' +
  'or deploy an image that is already pushed with --image <uri>.';

/**
 * Fails when the bundle is missing, or (in a clone) older than a source it
 * was made from: the image would then run code other than the checked-out
 * service, under a tag that looks current.
 */
export async function checkServiceBundle(contextDir: string): Promise<void> {
  if (!existsSync(join(contextDir, SERVICE_BUNDLE))) {
    throw new ServiceBundleError(
      `The service bundle ${SERVICE_BUNDLE} is missing in ${contextDir}. ${HOW_TO_FIX}`,
    );
  }
  const manifest = join(contextDir, BUNDLE_INPUTS);
  if (!existsSync(manifest)) return;
  const inputs = JSON.parse(await readFile(manifest, 'utf8')) as Record<string, string>;
  for (const [file, hash] of Object.entries(inputs)) {
    const path = join(contextDir, file);
    // An input that is absent (a package without sources) cannot be newer.
    if (!existsSync(path)) continue;
    if (sha256(await readFile(path)) !== hash) {
      throw new ServiceBundleError(
        `The service bundle ${SERVICE_BUNDLE} is older than ${file}, which changed after the last build in ${contextDir}. ${HOW_TO_FIX}`,
      );
    }
  }
}
