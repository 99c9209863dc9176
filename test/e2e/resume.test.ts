import { beforeEach, describe, expect, it } from 'vitest';
import { aws, endpoint, upArgs } from '../support/e2e.js';
import { runCli } from '../support/cli.js';
import { leftovers } from '../support/leftovers.js';
import { resetMoto } from '../support/moto.js';

const UP = upArgs('--json');

// Every step of `up` that changes something, in the order they can finish.
const STEPS = [
  'preflight',
  'service-linked-roles',
  'network',
  'load-balancer',
  'repository',
  'image',
  'secret',
  'log-group',
  'execution-role',
  'cluster',
  'task-definition',
  'service',
  'rollout',
];

beforeEach(async () => {
  await resetMoto(endpoint);
});

describe('a crash at any step', () => {
  it.each(STEPS)('after "%s": up again converges and a third up changes nothing', async (step) => {
    const crashed = await runCli(UP, { endpoint, env: { ICLINIC_DEPLOY_FAIL_AFTER: step } });
    expect(crashed.code).toBe(1);
    expect(crashed.stdout).toContain('Injected failure');
    const resumed = await runCli(UP, { endpoint });
    expect(resumed.code, resumed.stderr).toBe(0);
    const again = JSON.parse((await runCli(UP, { endpoint })).stdout) as {
      awsCalls: { mutating: number; byOperation: object };
    };
    expect(again.awsCalls.mutating, JSON.stringify(again.awsCalls.byOperation)).toBe(0);
  });

  it.each(STEPS)('after "%s": down leaves nothing tagged', async (step) => {
    await runCli(UP, { endpoint, env: { ICLINIC_DEPLOY_FAIL_AFTER: step } });
    const removed = await runCli(['down', '--yes'], { endpoint });
    expect(removed.code, removed.stderr).toBe(0);
    expect(await leftovers(aws, 'iclinic')).toEqual([]);
  });
});
