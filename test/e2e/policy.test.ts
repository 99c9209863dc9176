import { beforeEach, describe, expect, it } from 'vitest';
import { endpoint, PREBUILT_IMAGE } from '../support/e2e.js';
import { operationsMissingFromPolicy } from '../support/call-log.js';
import { runCli } from '../support/cli.js';
import { resetMoto } from '../support/moto.js';

const IMAGE = PREBUILT_IMAGE;

beforeEach(async () => {
  await resetMoto(endpoint);
});

describe('the deployer policy printed by "policy"', () => {
  it('allows every AWS operation a full lifecycle performs', async () => {
    const lifecycle = [
      ['up', '--image', IMAGE, '--platform', 'linux/amd64', '--no-verify'],
      ['up', '--image', IMAGE, '--platform', 'linux/amd64', '--no-verify'],
      ['status'],
      ['set-token', '--generate', '--no-verify'],
      ['set-token', '--generate', '--no-verify', '--grace', '0'],
      ['down', '--yes'],
      ['down', '--yes'],
    ];
    const performed = new Set<string>();
    for (const args of lifecycle) {
      const result = await runCli([...args, '--json'], { endpoint });
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
      const record = JSON.parse(result.stdout) as {
        awsCalls: { byOperation: Record<string, number> };
      };
      for (const operation of Object.keys(record.awsCalls.byOperation)) performed.add(operation);
    }
    expect(operationsMissingFromPolicy(performed)).toEqual([]);
    expect(performed.size).toBeGreaterThan(40);
  });

  it('prints valid JSON naming the stack in its resources', async () => {
    const result = await runCli(['policy', '--name', 'demo', '--region', 'sa-east-1']);
    expect(result.code).toBe(0);
    const policy = JSON.parse(result.stdout) as { Statement: { Resource: string | string[] }[] };
    const resources = policy.Statement.flatMap((s) => [s.Resource].flat());
    expect(resources).toContain('arn:aws:secretsmanager:sa-east-1:*:secret:demo/api-token-??????');
  });
});
