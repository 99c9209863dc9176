import { beforeEach, describe, expect, it } from 'vitest';
import { aws, endpoint, upArgs } from '../support/e2e.js';
import { runCli } from '../support/cli.js';
import { CRASH_STEPS } from '../support/crash-steps.js';
import { leftovers } from '../support/leftovers.js';
import { resetMoto } from '../support/moto.js';

const UP = upArgs('--json');

beforeEach(async () => {
  await resetMoto(endpoint);
});

// The same crashes followed by `up` again: resume.test.ts.
describe('a crash at any step', () => {
  it.each(CRASH_STEPS)('after "%s": down leaves nothing tagged', async (step) => {
    await runCli(UP, { endpoint, env: { ICLINIC_DEPLOY_FAIL_AFTER: step } });
    const removed = await runCli(['down', '--yes'], { endpoint });
    expect(removed.code, removed.stderr).toBe(0);
    expect(await leftovers(aws, 'iclinic')).toEqual([]);
  });
});
