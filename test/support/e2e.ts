/**
 * What every end-to-end test shares. The CLI (and resetMoto, which also
 * resets the strict layer's rules) goes through the strict AWS layer that
 * global-setup.ts puts in front of moto; the tests' own SDK clients read
 * moto itself, so an assertion never trips an injected fault.
 */
import { inject } from 'vitest';
import { testClients } from './aws.js';

export const endpoint = inject('awsEndpoint');
export const motoEndpoint = inject('motoEndpoint');
export const aws = testClients(motoEndpoint);

/** An image "already pushed" elsewhere: --image skips the build, which needs an engine and a registry. */
export const PREBUILT_IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/prebuilt/api:v1';

/** `up` with the prebuilt image, no final call (moto serves nothing), and any extra flags. */
export function upArgs(...extra: string[]): string[] {
  return ['up', '--image', PREBUILT_IMAGE, '--platform', 'linux/amd64', '--no-verify', ...extra];
}
