import { defineConfig } from 'vitest/config';

// The unit project alone, for mutation testing (stryker.config.mjs): the main
// vitest.config.ts also declares e2e and container, whose global setups
// start moto and a container engine. Test files share one module graph
// (isolate: false), which makes a mutant's run several times faster; the
// files that replace modules with vi.mock keep their own.
const common = {
  env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  // Instrumented code on a shared, loaded machine runs many times slower.
  testTimeout: 60_000,
};
const mocking = [
  'test/unit/teardown/down.test.ts',
  'test/unit/provision/commands/service-url.test.ts',
];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          ...common,
          name: 'unit-shared',
          include: ['test/unit/**/*.test.ts'],
          exclude: mocking,
          isolate: false,
        },
      },
      { test: { ...common, name: 'unit-mocking', include: mocking } },
    ],
  },
});
