import { defineConfig } from 'vitest/config';

// Three projects so a developer can run the fast unit suite alone
// (`npm run test:unit`) while `npm test` runs everything CI runs.
export default defineConfig({
  test: {
    // Same switch the CLI sets: the SDK's Node 22 notice is noise in test output.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    // Two workers for every project (the CI machine has 2 cores; vitest's
    // default would be one): e2e files then run side by side, one emulator
    // per worker. Set here, not per project: projects with different
    // maxWorkers must each get their own sequence.groupOrder and would then
    // run one after the other.
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
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
