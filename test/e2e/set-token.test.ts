import { DescribeServicesCommand, DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { DescribeSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { beforeEach, describe, expect, it } from 'vitest';
import { aws, endpoint, upArgs } from '../support/e2e.js';
import { runCli } from '../support/cli.js';
import { resetMoto } from '../support/moto.js';

const UP = upArgs();
const NEW_TOKEN = 'n3w-Token_with.allowed~chars+/';

interface StoredSecret {
  token: string;
  previousToken: string;
  previousTokenValidUntil: string;
}

async function secretValue(): Promise<StoredSecret> {
  const value = await aws.secrets.send(
    new GetSecretValueCommand({ SecretId: 'iclinic/api-token', VersionStage: 'AWSCURRENT' }),
  );
  return JSON.parse(value.SecretString ?? '{}') as StoredSecret;
}

async function currentVersionId(): Promise<string | undefined> {
  const described = await aws.secrets.send(
    new DescribeSecretCommand({ SecretId: 'iclinic/api-token' }),
  );
  return Object.entries(described.VersionIdsToStages ?? {}).find(([, stages]) =>
    stages.includes('AWSCURRENT'),
  )?.[0];
}

async function serviceTaskDefinition() {
  const found = await aws.ecs.send(
    new DescribeServicesCommand({ cluster: 'iclinic', services: ['iclinic-api'] }),
  );
  const arn = found.services?.[0]?.taskDefinition;
  const td = await aws.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }));
  return td.taskDefinition;
}

async function deployed(): Promise<void> {
  const result = await runCli(UP, { endpoint });
  expect(result.code, result.stderr).toBe(0);
}

beforeEach(async () => {
  await resetMoto(endpoint);
});

describe('set-token against the emulator', () => {
  it('writes a version with the new token, the previous one and its deadline', async () => {
    await deployed();
    const before = await secretValue();
    const started = Date.now();
    const result = await runCli(['set-token', NEW_TOKEN, '--grace', '10m', '--no-verify'], {
      endpoint,
    });
    expect(result.code, result.stderr).toBe(0);
    const after = await secretValue();
    expect(after.token).toBe(NEW_TOKEN);
    expect(after.previousToken).toBe(before.token);
    // At least --grace after the command ended; at most its --timeout (20 min) plus --grace,
    // counted from when the CLI started, somewhere between `started` and now.
    const until = Date.parse(after.previousTokenValidUntil);
    const ended = Date.now();
    expect(until).toBeGreaterThanOrEqual(ended + 10 * 60_000 - 1_000);
    expect(until).toBeGreaterThanOrEqual(started + 20 * 60_000 + 10 * 60_000);
    expect(until).toBeLessThanOrEqual(ended + 20 * 60_000 + 10 * 60_000);
    expect(result.stdout).toContain(`until ${after.previousTokenValidUntil}`);
    expect(result.stdout + result.stderr).not.toContain(NEW_TOKEN);
  });

  it('rolls the service onto a new revision pinned to the new secret version', async () => {
    await deployed();
    const old = await serviceTaskDefinition();
    const result = await runCli(['set-token', NEW_TOKEN, '--no-verify'], { endpoint });
    expect(result.code, result.stderr).toBe(0);
    const current = await serviceTaskDefinition();
    const version = await currentVersionId();
    expect(current?.revision).toBe((old?.revision ?? 0) + 1);
    const secrets = current?.containerDefinitions?.[0]?.secrets ?? [];
    expect(secrets.map((s) => s.valueFrom?.endsWith(`::${version}`))).toEqual([true, true, true]);
    expect(current?.containerDefinitions?.[0]?.image).toBe(old?.containerDefinitions?.[0]?.image);
  });

  it('with --grace 0 keeps no previous token', async () => {
    await deployed();
    const result = await runCli(['set-token', NEW_TOKEN, '--grace', '0', '--no-verify'], {
      endpoint,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(await secretValue()).toEqual({
      token: NEW_TOKEN,
      previousToken: '',
      previousTokenValidUntil: '',
    });
    expect(result.stdout).toContain('no longer accepted');
  });

  it('reads the token from stdin with "-"', async () => {
    await deployed();
    const result = await runCli(['set-token', '-', '--no-verify'], {
      endpoint,
      stdin: `${NEW_TOKEN}\n`,
    });
    expect(result.code, result.stderr).toBe(0);
    expect((await secretValue()).token).toBe(NEW_TOKEN);
  });

  it('--generate stores a strong token and prints it once', async () => {
    await deployed();
    const result = await runCli(['set-token', '--generate', '--no-verify'], { endpoint });
    expect(result.code, result.stderr).toBe(0);
    const { token } = await secretValue();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(result.stdout.split(token).length - 1).toBe(1);
  });

  it('--generate prints the token alone on its line once stored, so a failure after it does not lose it', async () => {
    await deployed();
    const result = await runCli(['set-token', '--generate', '--no-verify'], {
      endpoint,
      env: { ICLINIC_DEPLOY_FAIL_AFTER: 'rollout' },
    });
    expect(result.code).toBe(1);
    const [first] = result.stdout.split('\n');
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(result.stderr).toContain('The token was NOT changed');
  });

  it('with the token the service already runs, changes nothing and exits 0', async () => {
    await deployed();
    expect((await runCli(['set-token', NEW_TOKEN, '--no-verify'], { endpoint })).code).toBe(0);
    const version = await currentVersionId();
    const again = await runCli(['set-token', NEW_TOKEN, '--no-verify'], { endpoint });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('already runs with this token; nothing was changed');
    expect(await currentVersionId()).toBe(version);
  });

  it('rejects a token with a space and changes nothing', async () => {
    await deployed();
    const version = await currentVersionId();
    const result = await runCli(['set-token', 'has space', '--no-verify', '--json'], { endpoint });
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).toContain('whitespace');
    expect(await currentVersionId()).toBe(version);
  });

  it('puts the secret and the service back when the rollout fails midway', async () => {
    await deployed();
    const version = await currentVersionId();
    const old = await serviceTaskDefinition();
    const before = await secretValue();
    const result = await runCli(['set-token', NEW_TOKEN, '--no-verify'], {
      endpoint,
      env: { ICLINIC_DEPLOY_FAIL_AFTER: 'task-definition' },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('The token was NOT changed');
    expect(await currentVersionId()).toBe(version);
    expect(await secretValue()).toEqual(before);
    expect((await serviceTaskDefinition())?.taskDefinitionArn).toBe(old?.taskDefinitionArn);
  });

  it('is not undone by a later up, which changes nothing', async () => {
    await deployed();
    expect((await runCli(['set-token', NEW_TOKEN, '--no-verify'], { endpoint })).code).toBe(0);
    const again = await runCli([...UP, '--json'], { endpoint });
    const record = JSON.parse(again.stdout) as {
      awsCalls: { mutating: number; byOperation: object };
    };
    expect(record.awsCalls.mutating, JSON.stringify(record.awsCalls.byOperation)).toBe(0);
    expect((await secretValue()).token).toBe(NEW_TOKEN);
  });

  it('status tells when the token changed and until when the previous one works', async () => {
    await deployed();
    await runCli(['set-token', NEW_TOKEN, '--grace', '10m', '--no-verify'], { endpoint });
    const { previousTokenValidUntil } = await secretValue();
    const status = await runCli(['status'], { endpoint });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(
      `previous token is still accepted until ${previousTokenValidUntil}`,
    );
    expect(status.stdout).not.toContain(NEW_TOKEN);
  });

  it('token prints the current token and nothing else', async () => {
    await deployed();
    await runCli(['set-token', NEW_TOKEN, '--no-verify'], { endpoint });
    const result = await runCli(['token'], { endpoint });
    expect(result.stdout).toBe(`${NEW_TOKEN}\n`);
    const json = await runCli(['token', '--json'], { endpoint });
    expect(JSON.parse(json.stdout)).toMatchObject({ command: 'token', token: NEW_TOKEN });
  });

  it('fails clearly when the stack is not deployed', async () => {
    const result = await runCli(['set-token', NEW_TOKEN, '--no-verify'], { endpoint });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('run "npx iclinic-deploy up --region us-east-1" first');
  });
});
