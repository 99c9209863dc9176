import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allPolicyActions, iamActionsOf } from '../../provision/policy/index.js';
import { REPO_ROOT } from './moto.js';

/** Where the end-to-end suite's CLI runs record the AWS operations they called. */
export const CALL_LOG = join(
  REPO_ROOT,
  'node_modules',
  '.cache',
  'iclinic-deploy',
  'e2e-operations.txt',
);

/** The recorded operations, or undefined when no end-to-end run recorded any. */
export function recordedOperations(file = CALL_LOG): Set<string> | undefined {
  if (!existsSync(file)) return undefined;
  return new Set(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line !== ''),
  );
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
