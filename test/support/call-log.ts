import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { allPolicyActions, iamActionsOf } from '../../provision/policy/index.js';
import { REPO_ROOT } from './moto.js';

/**
 * Where the end-to-end suite's CLI runs record the AWS operations they
 * called: one file per worker (files run side by side), all read together.
 */
export const CALL_LOG_DIR = join(
  REPO_ROOT,
  'node_modules',
  '.cache',
  'iclinic-deploy',
  'e2e-operations',
);

/** Empties the log for a new run of the suite; returns its directory. */
export function startCallLog(dir = CALL_LOG_DIR): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The file a worker's CLI runs append to (VITEST_POOL_ID names the worker). */
export function workerCallLog(dir: string, poolId = process.env.VITEST_POOL_ID ?? '1'): string {
  return join(dir, `worker-${poolId}.txt`);
}

/** The operations recorded by every worker, or undefined when no end-to-end run recorded any. */
export function recordedOperations(dir = CALL_LOG_DIR): Set<string> | undefined {
  if (!existsSync(dir)) return undefined;
  const lines = readdirSync(dir)
    .filter((name) => name.endsWith('.txt'))
    .flatMap((name) => readFileSync(join(dir, name), 'utf8').split('\n'));
  return new Set(lines.filter((line) => line !== ''));
}

/** Operations the deployer policy does not allow, sorted. */
export function operationsMissingFromPolicy(performed: Iterable<string>): string[] {
  const allowed = allPolicyActions();
  // A call can be authorized as other actions (CreateDistributionWithTags is
  // CreateDistribution plus TagResource): each of those must be allowed.
  return [...performed]
    .filter((operation) => iamActionsOf(operation).some((action) => !allowed.has(action)))
    .sort();
}
