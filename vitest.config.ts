import { readdirSync, readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// The projects a developer runs alone (`npm run test:unit` runs both unit
// ones) while `npm test` runs everything CI runs.

/**
 * Workers for every project, set once at the root: projects with different
 * maxWorkers must each get their own sequence.groupOrder and vitest refuses
 * them otherwise. Each e2e worker gets its own moto and strict layer
 * (test/e2e/global-setup.ts). CI has 2 cores: there 2 workers ran the e2e
 * files in 290 s (342 s of CPU), 3 workers in 287 s (372 s of CPU), so 2.
 */
const WORKERS = 2;

/**
 * Unit files that replace modules (vi.mock and friends) need a module graph of
 * their own; every other unit file shares one per worker (isolate: false), so
 * the AWS SDK and the sources are imported once per worker instead of once per
 * file: 120 s (82 s of CPU) isolated on one worker, 30 s (23 s of CPU) shared
 * on two, measured on the CI machine.
 */
const REPLACES_MODULES = /\bvi\.(mock|doMock|unmock|doUnmock|resetModules)\(/;
const UNIT_DIR = new URL('test/unit/', import.meta.url);
const replacingModules = readdirSync(UNIT_DIR, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.test.ts'))
  .filter((file) => REPLACES_MODULES.test(readFileSync(new URL(file, UNIT_DIR), 'utf8')))
  .map((file) => `test/unit/${file}`);

const unit = {
  // Property tests run thousands of cases: on the loaded 2-core machine, with
  // a second worker beside it, one took 8 s, over the 5 s default.
  testTimeout: 30_000,
  // A shared module graph outlives each file: what a file stubs must not.
  unstubEnvs: true,
  unstubGlobals: true,
};

/** The two unit projects; vitest.unit.config.ts (mutation testing) runs them alone. */
export const unitProjects = [
  {
    test: {
      ...unit,
      name: 'unit',
      include: ['test/unit/**/*.test.ts'],
      exclude: replacingModules,
      isolate: false,
    },
  },
  { test: { ...unit, name: 'unit-mocking', include: replacingModules } },
];

export default defineConfig({
  test: {
    // Same switch the CLI sets: the SDK's Node 22 notice is noise in test output.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    maxWorkers: WORKERS,
    projects: [
      ...unitProjects,
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/e2e/global-setup.ts'],
          setupFiles: ['test/e2e/file-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'container',
          include: ['test/container/**/*.test.ts'],
          globalSetup: ['test/container/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
