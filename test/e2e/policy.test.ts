import { beforeEach, describe, expect, it } from 'vitest';
import { endpoint, PREBUILT_IMAGE } from '../support/e2e.js';
import { operationsMissingFromPolicy } from '../support/call-log.js';
import { runCli } from '../support/cli.js';
import { resetMoto } from '../support/moto.js';
import type { PolicyDocument } from '../../provision/policy/index.js';

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

  it('prints its documents as a JSON array, each an IAM policy document naming the stack', async () => {
    const result = await runCli(['policy', '--name', 'demo', '--region', 'sa-east-1']);
    expect(result.code).toBe(0);
    const documents = JSON.parse(result.stdout) as PolicyDocument[];
    expect(documents.length).toBeGreaterThan(1);
    expect(documents.every((d) => d.Version === '2012-10-17')).toBe(true);
    const resources = documents.flatMap((d) => d.Statement).flatMap((s) => [s.Resource].flat());
    expect(resources).toContain('arn:aws:secretsmanager:sa-east-1:*:secret:demo/api-token-??????');
  });

  it('prints document N alone with --part N, for aws iam create-policy, and refuses a part past the last', async () => {
    const all = JSON.parse(
      (await runCli(['policy', '--name', 'demo', '--region', 'sa-east-1'])).stdout,
    ) as PolicyDocument[];
    for (const [index, document] of all.entries()) {
      const part = await runCli([
        'policy',
        '--name',
        'demo',
        '--region',
        'sa-east-1',
        '--part',
        String(index + 1),
      ]);
      expect(part.code).toBe(0);
      expect(JSON.parse(part.stdout)).toEqual(document);
    }
    const past = await runCli(['policy', '--part', String(all.length + 1)]);
    expect(past.code).toBe(2);
    expect(past.stderr).toContain(`from 1 to ${all.length}`);
  });
});
