import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import type { TestProject } from 'vitest/node';
import { startCallLog } from '../support/call-log.js';
import type { Emulator } from '../support/e2e.js';
import { REPO_ROOT, startMoto, type Moto } from '../support/moto.js';
import { printApiModelSummary } from '../support/strict-aws/models/report.js';
import { startStrictProxy, type StrictProxy } from '../support/strict-aws/proxy.js';
import { strictSeed } from '../support/strict-aws/random.js';
import { allStrictRules } from '../support/strict-aws/rules/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** One emulator per worker, the worker with VITEST_POOL_ID n using entry n - 1 (see e2e.ts). */
    emulators: Emulator[];
    /** The seed of the strict layer's injections (STRICT_AWS_SEED replays a run). */
    strictSeed: string;
  }
}

interface RunningEmulator {
  readonly moto: Moto;
  readonly proxy: StrictProxy;
}

let running: RunningEmulator[] = [];

/** The worker count vitest gives this project (vitest's own order: project, root, cores - 1). */
function workerCount(project: TestProject): number {
  return (
    project.config.maxWorkers ||
    project.vitest.config.maxWorkers ||
    Math.max(availableParallelism() - 1, 1)
  );
}

async function startEmulator(seed: string): Promise<RunningEmulator> {
  const moto = await startMoto(2);
  const proxy = await startStrictProxy({
    motoEndpoint: moto.endpoint,
    seed,
    rules: allStrictRules(),
    ...(process.env.STRICT_AWS_LOG === '1' ? { log: (line: string) => console.log(line) } : {}),
  });
  return { moto, proxy };
}

/**
 * Builds the CLI (the tests run the real binary) and starts one emulator per
 * worker: a moto_server and the strict layer in front of it
 * (test/support/strict-aws). Files run side by side, each against its
 * worker's emulator, so no two files ever share AWS state.
 */
export async function setup(project: TestProject): Promise<void> {
  // The strict layer builds SDK clients in this process, which vitest's
  // test.env does not reach; the CLI turns the SDK's Node 22 notice off the same way.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: REPO_ROOT, stdio: 'inherit' });
  const seed = strictSeed();
  const started = await Promise.allSettled(
    Array.from({ length: workerCount(project) }, () => startEmulator(seed)),
  );
  running = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = started.find((result) => result.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  console.log(
    `strict AWS layer: seed "${seed}" (replay a failing file with STRICT_AWS_SEED=${seed} npx vitest run --project e2e <file>; STRICT_AWS_LOG=1 lists each refusal)`,
  );
  project.provide(
    'emulators',
    running.map(({ moto, proxy }) => ({
      motoEndpoint: moto.endpoint,
      awsEndpoint: proxy.endpoint,
    })),
  );
  project.provide('strictSeed', seed);
  // Every CLI run of the suite records the AWS operations it called
  // (runCli passes the file on); `npm test` then checks them against the
  // deployer policy (posttest).
  process.env.ICLINIC_DEPLOY_CALL_LOG_DIR = startCallLog();
}

export async function teardown(): Promise<void> {
  await Promise.all(
    running.map(async ({ moto, proxy }) => {
      await proxy.stop();
      await moto.stop();
    }),
  );
  // Once per run, over every worker's proxy (they all run in this process).
  printApiModelSummary();
}
