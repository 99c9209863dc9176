import { createHash } from 'node:crypto';

/** The seed when STRICT_AWS_SEED is not set: a fixed one, so plain runs repeat. */
export const DEFAULT_STRICT_SEED = 'iclinic-strict-1';

export function strictSeed(env: NodeJS.ProcessEnv = process.env): string {
  const value = env.STRICT_AWS_SEED?.trim();
  return value === undefined || value === '' ? DEFAULT_STRICT_SEED : value;
}

/**
 * Decisions in [0, 1) that depend only on (seed, key, how many times this
 * key was asked before): the same run order replays the same injections,
 * and calls of one key do not shift the decisions of another.
 */
export function seededRandom(seed: string): { random(key: string): number; reset(): void } {
  const counters = new Map<string, number>();
  return {
    random(key) {
      const count = counters.get(key) ?? 0;
      counters.set(key, count + 1);
      const digest = createHash('sha256').update(`${seed}\0${key}\0${count}`).digest();
      return digest.readUInt32BE(0) / 2 ** 32;
    },
    reset: () => counters.clear(),
  };
}
