import { PutRetentionPolicyCommand } from '@aws-sdk/client-cloudwatch-logs';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Change } from '../../provision/plan.js';
import { runCli } from '../support/cli.js';
import { aws, endpoint } from '../support/e2e.js';
import { leftovers } from '../support/leftovers.js';
import { resetMoto } from '../support/moto.js';

// The CLI and resetMoto go through the strict AWS layer; assertions read moto directly.
const IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/prebuilt/api:v1';
const UP = ['up', '--image', IMAGE, '--platform', 'linux/amd64', '--no-verify'];

interface DryRunRecord {
  ok: boolean;
  dryRun: boolean;
  steps: { key: string; changes: Change[] }[];
  awsCalls: { mutating: number; byOperation: Record<string, number> };
  error?: { message: string };
}

async function dryRun(args: string[]): Promise<DryRunRecord> {
  const result = await runCli([...args, '--dry-run', '--json'], { endpoint });
  const record = JSON.parse(result.stdout) as DryRunRecord;
  expect(record.error?.message, result.stderr).toBeUndefined();
  expect(result.code).toBe(0);
  expect(record.dryRun).toBe(true);
  expect(record.awsCalls.mutating, JSON.stringify(record.awsCalls.byOperation)).toBe(0);
  return record;
}

const changesOf = (record: DryRunRecord) => record.steps.flatMap((s) => s.changes);

beforeEach(async () => {
  await resetMoto(endpoint);
});

describe('a dry run reads the account and changes nothing', () => {
  it('names exactly the setting drifted behind the tool’s back, old → new', async () => {
    expect((await runCli(UP, { endpoint })).code).toBe(0);
    await aws.logs.send(
      new PutRetentionPolicyCommand({ logGroupName: '/ecs/iclinic/api', retentionInDays: 30 }),
    );
    const record = await dryRun(UP);
    expect(changesOf(record)).toEqual([
      expect.objectContaining({
        action: 'update',
        kind: 'log group',
        name: '/ecs/iclinic/api',
        from: '30 days',
        to: '14 days',
      }),
    ]);
  });

  it('says nothing would change on an untouched stack', async () => {
    expect((await runCli(UP, { endpoint })).code).toBe(0);
    const result = await runCli([...UP, '--dry-run'], { endpoint });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Nothing to change.');
  });

  it('plans the creation of everything on an empty account', async () => {
    const record = await dryRun(UP);
    const created = changesOf(record).filter((c) => c.action === 'create');
    for (const kind of [
      'VPC',
      'security group',
      'load balancer',
      'target group',
      'log group',
      'ECS service',
    ]) {
      expect(
        created.map((c) => c.kind),
        kind,
      ).toContainEqual(expect.stringMatching(new RegExp(kind, 'i')));
    }
    expect(await leftovers(aws, 'iclinic')).toEqual([]);
  });

  it('lists what down would delete on a deployed stack, and deletes nothing', async () => {
    expect((await runCli(UP, { endpoint })).code).toBe(0);
    const record = await dryRun(['down']);
    const deletes = changesOf(record);
    expect(deletes.length).toBeGreaterThan(10);
    expect(deletes.every((c) => c.action === 'delete')).toBe(true);
    const status = await runCli(['status'], { endpoint });
    expect(status.stdout).not.toContain('MISSING');
  });
});
