import { defineConfig } from 'vitest/config';
import { unitProjects } from './vitest.config.js';

// The unit projects alone, for mutation testing (stryker.config.mjs): the main
// vitest.config.ts also declares e2e and container, whose global setups
// start moto and a container engine.
export default defineConfig({
  test: {
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    maxWorkers: 1,
    projects: unitProjects.map((project) => ({
      // Instrumented code on a shared, loaded machine runs many times slower.
      test: { ...project.test, testTimeout: 60_000 },
    })),
  },
});
