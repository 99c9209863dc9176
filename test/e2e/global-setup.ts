import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { allPolicyActions } from '../../provision/policy.js';
import { REPO_ROOT, startMoto, type Moto } from '../support/moto.js';

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string;
  }
}

let moto: Moto | undefined;
let callLog: string | undefined;

/** Builds the CLI (the tests run the real binary) and starts one moto_server for the suite. */
export async function setup(project: TestProject): Promise<void> {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: REPO_ROOT, stdio: 'inherit' });
  moto = await startMoto(2);
  project.provide('motoEndpoint', moto.endpoint);
  // Every CLI run of the suite appends the AWS operations it called here
  // (the workers inherit this variable and runCli passes it on).
  callLog = join(mkdtempSync(join(tmpdir(), 'iclinic-e2e-calls-')), 'operations.txt');
  process.env.ICLINIC_DEPLOY_CALL_LOG = callLog;
}

/**
 * The deployer policy must allow every operation the suite made the CLI call:
 * a missing action would fail for a user who applied the printed policy.
 */
export function operationsMissingFromPolicy(file: string): string[] {
  if (!existsSync(file)) return [];
  const performed = new Set(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line !== ''),
  );
  const allowed = allPolicyActions();
  return [...performed].filter((operation) => !allowed.has(operation)).sort();
}

export async function teardown(): Promise<void> {
  await moto?.stop();
  if (callLog === undefined) return;
  const missing = operationsMissingFromPolicy(callLog);
  if (missing.length > 0) {
    throw new Error(
      `The end-to-end suite called AWS operations that "iclinic-deploy policy" does not allow: ${missing.join(', ')}. Add them to provision/policy.ts.`,
    );
  }
}
