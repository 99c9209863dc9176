// Times the service image build with the local engine, from a cold engine
// cache (`build --no-cache`: every step runs again; the base image stays) and
// from a warm one (nothing changed: every step comes from the cache), and,
// apart, the bundling of server/ that `npm run build` does before (a package
// install ships the bundle and skips it). Prints figures and the machine's
// load average; asserts nothing.
//
//   npm run bench:image       (BENCH_ROUNDS builds of each kind, default 3)
//
// Removes the image and the cache layers it made when done.
//
// Env also: CONTAINER_ENGINE (default: podman, else docker).
import { loadavg } from 'node:os';
import {
  bundleService,
  detectEngine,
  type ContainerEngine,
} from '../test/support/container-engine.js';
import { median } from './load.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const IMAGE = `localhost/iclinic-api:bench-build-${process.pid}`;

const seconds = (ms: number) => (ms / 1000).toFixed(1);
const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

async function timedBuild(engine: ContainerEngine, noCache: boolean): Promise<number> {
  const started = performance.now();
  await engine.build(IMAGE, undefined, { noCache, bundle: false });
  return performance.now() - started;
}

/** Every image id; with `untaggedOnly`, those without a name (cache layers, replaced builds). */
async function imageIds(engine: ContainerEngine, untaggedOnly = false): Promise<Set<string>> {
  const listed = await engine.mustRun([
    'images',
    '-a',
    '--no-trunc',
    '--format',
    '{{.ID}} {{.Repository}}:{{.Tag}}',
  ]);
  const rows = listed.split('\n').map((row) => row.split(' '));
  return new Set(
    rows
      .filter(([id, name]) => id && (!untaggedOnly || name === '<none>:<none>'))
      .map(([id]) => id ?? ''),
  );
}

/** Removes the bench's image and the untagged cache layers that appeared during the run. */
async function removeImagesMadeSince(engine: ContainerEngine, before: Set<string>): Promise<void> {
  await engine.run(['rmi', '-f', IMAGE]);
  for (let pass = 0; pass < 5; pass++) {
    const made = [...(await imageIds(engine, true))].filter((id) => !before.has(id));
    if (made.length === 0) return;
    // Children before parents: an image another one builds on cannot go first.
    for (const id of made) await engine.run(['rmi', id]);
  }
}

async function main(): Promise<void> {
  const engine = await detectEngine();
  const before = await imageIds(engine);
  process.stdout.write(`engine: ${engine.command}; load average before: ${load()}\n`);
  const bundleStarted = performance.now();
  await bundleService();
  const bundleMs = performance.now() - bundleStarted;
  // The first build fills the cache the warm builds read.
  await timedBuild(engine, false);
  const cold: number[] = [];
  const warm: number[] = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      cold.push(await timedBuild(engine, true));
      warm.push(await timedBuild(engine, false));
      process.stdout.write(
        `round ${round}: cold ${seconds(cold.at(-1) ?? NaN)} s, warm ${seconds(warm.at(-1) ?? NaN)} s\n`,
      );
    }
    const size = Number(await engine.mustRun(['image', 'inspect', '--format', '{{.Size}}', IMAGE]));
    process.stdout.write(
      `image build, median of ${ROUNDS}: cold engine cache ${seconds(median(cold))} s, ` +
        `warm engine cache ${seconds(median(warm))} s; image ${(size / 1_000_000).toFixed(1)} MB\n` +
        `bundling server/ before (npm run bundle, once): ${seconds(bundleMs)} s\n` +
        `load average after: ${load()}\n`,
    );
  } finally {
    await removeImagesMadeSince(engine, before);
  }
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(1);
});
