import { beforeEach, describe, expect, it } from 'vitest';
import { endpoint, upArgs } from '../support/e2e.js';
import { runCli } from '../support/cli.js';
import { CRASH_STEPS } from '../support/crash-steps.js';
import { resetMoto } from '../support/moto.js';

const UP = upArgs('--json');

beforeEach(async () => {
  await resetMoto(endpoint);
});

// The same crashes followed by `down`: resume-down.test.ts.
describe('a crash at any step', () => {
  it.each(CRASH_STEPS)(
    'after "%s": up again converges and a third up changes nothing',
    async (step) => {
      const crashed = await runCli(UP, { endpoint, env: { ICLINIC_DEPLOY_FAIL_AFTER: step } });
      expect(crashed.code).toBe(1);
      expect(crashed.stdout).toContain('Injected failure');
      const resumed = await runCli(UP, { endpoint });
      expect(resumed.code, resumed.stderr).toBe(0);
      const again = JSON.parse((await runCli(UP, { endpoint })).stdout) as {
        awsCalls: { mutating: number; byOperation: object };
      };
      expect(again.awsCalls.mutating, JSON.stringify(again.awsCalls.byOperation)).toBe(0);
    },
  );
});
