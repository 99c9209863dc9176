// Runs before every e2e file (vitest.config.ts setupFiles). A worker's
// emulator serves one file after another: each file starts from an empty
// account and a fresh strict layer, whatever ran before it on that worker,
// so a file's injections depend only on the seed and its own calls
// (STRICT_AWS_SEED replays one file alone).
import { beforeAll } from 'vitest';
import { endpoint } from '../support/e2e.js';
import { resetMoto } from '../support/moto.js';

beforeAll(async () => {
  await resetMoto(endpoint);
});
