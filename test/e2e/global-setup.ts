import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TestProject } from 'vitest/node';
import { CALL_LOG } from '../support/call-log.js';
import { REPO_ROOT, startMoto, type Moto } from '../support/moto.js';
import { printApiModelSummary } from '../support/strict-aws/models/report.js';
import { startStrictProxy, type StrictProxy } from '../support/strict-aws/proxy.js';
import { strictSeed } from '../support/strict-aws/random.js';
import { allStrictRules } from '../support/strict-aws/rules/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** moto itself: for the tests' own assertion clients, which must see no injected fault. */
    motoEndpoint: string;
    /** The strict proxy in front of moto: every CLI run (runCli) and resetMoto go here. */
    awsEndpoint: string;
    /** The seed of the strict layer's injections (STRICT_AWS_SEED replays a run). */
    strictSeed: string;
  }
}

let moto: Moto | undefined;
let proxy: StrictProxy | undefined;

/**
 * Builds the CLI (the tests run the real binary), starts one moto_server for
 * the suite and the strict layer in front of it (test/support/strict-aws).
 */
export async function setup(project: TestProject): Promise<void> {
  // The strict layer builds SDK clients in this process, which vitest's
  // test.env does not reach; the CLI turns the SDK's Node 22 notice off the same way.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: REPO_ROOT, stdio: 'inherit' });
  moto = await startMoto(2);
  const seed = strictSeed();
  proxy = await startStrictProxy({
    motoEndpoint: moto.endpoint,
    seed,
    rules: allStrictRules(),
    ...(process.env.STRICT_AWS_LOG === '1' ? { log: (line: string) => console.log(line) } : {}),
  });
  console.log(
    `strict AWS layer: seed "${seed}" (replay a failure with STRICT_AWS_SEED=${seed}; STRICT_AWS_LOG=1 lists each refusal)`,
  );
  project.provide('motoEndpoint', moto.endpoint);
  project.provide('awsEndpoint', proxy.endpoint);
  project.provide('strictSeed', seed);
  // Every CLI run of the suite appends the AWS operations it called here
  // (the workers inherit this variable and runCli passes it on);
  // `npm test` then checks them against the deployer policy (posttest).
  mkdirSync(dirname(CALL_LOG), { recursive: true });
  writeFileSync(CALL_LOG, '');
  process.env.ICLINIC_DEPLOY_CALL_LOG = CALL_LOG;
}

export async function teardown(): Promise<void> {
  await proxy?.stop();
  await moto?.stop();
  printApiModelSummary();
}
