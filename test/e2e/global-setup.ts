import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TestProject } from 'vitest/node';
import { CALL_LOG } from '../support/call-log.js';
import { REPO_ROOT, startMoto, type Moto } from '../support/moto.js';

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string;
  }
}

let moto: Moto | undefined;

/** Builds the CLI (the tests run the real binary) and starts one moto_server for the suite. */
export async function setup(project: TestProject): Promise<void> {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: REPO_ROOT, stdio: 'inherit' });
  moto = await startMoto(2);
  project.provide('motoEndpoint', moto.endpoint);
  // Every CLI run of the suite appends the AWS operations it called here
  // (the workers inherit this variable and runCli passes it on);
  // `npm test` then checks them against the deployer policy (posttest).
  mkdirSync(dirname(CALL_LOG), { recursive: true });
  writeFileSync(CALL_LOG, '');
  process.env.ICLINIC_DEPLOY_CALL_LOG = CALL_LOG;
}

export async function teardown(): Promise<void> {
  await moto?.stop();
}
