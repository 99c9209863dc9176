/**
 * What every end-to-end test shares. Files run side by side, one per worker,
 * and each worker has its own emulator (global-setup.ts): a moto and the
 * strict AWS layer in front of it. The CLI (and resetMoto, which also resets
 * the strict layer's rules) goes through the strict layer; the tests' own SDK
 * clients read moto itself, so an assertion never trips an injected fault.
 */
import { inject } from 'vitest';
import { testClients } from './aws.js';

export interface Emulator {
  /** moto itself: for the tests' own assertion clients, which must see no injected fault. */
  readonly motoEndpoint: string;
  /** The strict proxy in front of moto: every CLI run (runCli) and resetMoto go here. */
  readonly awsEndpoint: string;
}

/** This worker's emulator: vitest numbers its workers 1..maxWorkers (VITEST_POOL_ID). */
function workerEmulator(): Emulator {
  const emulators = inject('emulators');
  const poolId = Number(process.env.VITEST_POOL_ID ?? '1');
  const found = emulators[poolId - 1];
  if (found === undefined) {
    throw new Error(
      `e2e worker ${String(process.env.VITEST_POOL_ID)} has no emulator: global setup started ${emulators.length}, one per worker of the e2e project. Set the worker count in vitest.config.ts (the e2e project's maxWorkers), where global setup reads it.`,
    );
  }
  return found;
}

const emulator = workerEmulator();
export const endpoint = emulator.awsEndpoint;
export const motoEndpoint = emulator.motoEndpoint;
export const aws = testClients(motoEndpoint);

/** An image "already pushed" elsewhere: --image skips the build, which needs an engine and a registry. */
export const PREBUILT_IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/prebuilt/api:v1';

/** `up` with the prebuilt image, no final call (moto serves nothing), and any extra flags. */
export function upArgs(...extra: string[]): string[] {
  return ['up', '--image', PREBUILT_IMAGE, '--platform', 'linux/amd64', '--no-verify', ...extra];
}
