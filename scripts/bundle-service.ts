// Bundles the service (server/main.ts and everything it imports) into the one
// file the image runs, and records the hash of each input beside it so `up`
// from a clone can tell when the bundle is older than the sources. Part of
// `npm run build` (and so of `npm ci`, `npm pack` and git installs, through
// the prepare script).
//
//   node --import tsx scripts/bundle-service.ts
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { BUNDLE_INPUTS, SERVICE_BUNDLE, sha256 } from '../provision/resources/image/bundle.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const result = await build({
  absWorkingDir: ROOT,
  entryPoints: ['server/main.ts'],
  bundle: true,
  platform: 'node',
  // The image's Node (NODE_IMAGE in the Dockerfile).
  target: 'node24',
  format: 'cjs',
  legalComments: 'none',
  outfile: SERVICE_BUNDLE,
  metafile: true,
  logLevel: 'warning',
});

// Metafile input paths are relative to absWorkingDir, as checkServiceBundle reads them.
const inputs: Record<string, string> = {};
for (const file of Object.keys(result.metafile.inputs).sort()) {
  inputs[file] = sha256(await readFile(join(ROOT, file)));
}
await mkdir(dirname(join(ROOT, BUNDLE_INPUTS)), { recursive: true });
await writeFile(join(ROOT, BUNDLE_INPUTS), `${JSON.stringify(inputs, null, 2)}\n`);
