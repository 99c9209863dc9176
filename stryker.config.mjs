// Mutation testing (npm run mutation): Stryker changes the code where a
// surviving change would hurt a user, one mutant at a time, and runs the unit
// tests that cover it. Not part of .ci/run (it takes much longer than the
// 8-minute CI goal); the reports land in reports/mutation/ (git-ignored).
// test/MUTATION.md has the score, the timing and the survivors with the
// reason each one is left.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  // The unit project only: e2e and container need moto and a container engine.
  vitest: { configFile: 'vitest.unit.config.ts', related: true },
  coverageAnalysis: 'perTest',
  // No TypeScript checker: on server/app.ts it made the run about three times
  // longer (a checker process takes one of the two slots and two minutes to
  // start) to set aside the few mutants that do not type-check.
  mutate: [
    // server/main.ts only starts the listener; the container tests cover it.
    'server/app.ts',
    'server/config.ts',
    'server/log.ts',
    'provision/context.ts',
    'provision/graph.ts',
    'provision/policy/*.ts',
    'provision/commands/set-token.ts',
    'provision/commands/undo.ts',
    // rollback.ts orders the steps; the target and the graph are its two halves.
    'provision/commands/rollback*.ts',
    'provision/resources/ecs/deployment.ts',
    'teardown/*.ts',
  ],
  // The machine is shared (2 cores): at most two test runners.
  concurrency: 2,
  incremental: true,
  incrementalFile: 'reports/mutation/incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/report.json' },
  thresholds: { high: 90, low: 85, break: 85 },
  // The sandbox needs the sources, node_modules (linked) and dist/ (one unit
  // test runs the built CLI; being built before the mutants, it kills none).
  ignorePatterns: ['.venv-moto', '.cache', 'coverage'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  // A loaded machine slows every run; a mutant is a timeout only well past its normal time.
  timeoutMS: 20_000,
};
