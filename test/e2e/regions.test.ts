import { GetRoleCommand, GetRolePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { aws, endpoint, motoEndpoint as moto } from '../support/e2e.js';
import { leftovers } from '../support/leftovers.js';
import { resetMoto } from '../support/moto.js';

// moto's IAM is global, as AWS's is: both regions share one set of role names.
// The CLI and resetMoto go through the strict AWS layer; assertions read moto directly.
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const iam = new IAMClient({ region: 'us-east-1', endpoint: moto, credentials });
const secrets = (region: string) =>
  new SecretsManagerClient({ region, endpoint: moto, credentials });
const IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/prebuilt/api:v1';

async function cli(args: string[]): Promise<void> {
  const result = await runCli([...args, '--json'], { endpoint });
  expect(result.code, `${args.join(' ')}: ${result.stderr}\n${result.stdout}`).toBe(0);
}

const up = (region: string) =>
  cli(['up', '--image', IMAGE, '--platform', 'linux/amd64', '--no-verify', '--region', region]);
const down = (region: string) => cli(['down', '--yes', '--region', region]);

async function secretNamedByRole(region: string): Promise<unknown> {
  const policy = await iam.send(
    new GetRolePolicyCommand({
      RoleName: `iclinic-${region}-exec`,
      PolicyName: `iclinic-${region}-read-token`,
    }),
  );
  const document = JSON.parse(decodeURIComponent(policy.PolicyDocument ?? '{}')) as {
    Statement: { Resource: unknown }[];
  };
  return [document.Statement.map((s) => s.Resource)].flat(2);
}

async function secretArn(region: string): Promise<string | undefined> {
  return (await secrets(region).send(new DescribeSecretCommand({ SecretId: 'iclinic/api-token' })))
    .ARN;
}

async function roleExists(roleName: string): Promise<boolean> {
  return iam.send(new GetRoleCommand({ RoleName: roleName })).then(
    () => true,
    () => false,
  );
}

beforeEach(async () => {
  await resetMoto(endpoint);
});

describe('one stack name in two regions', () => {
  it("keeps each region's execution role reading its own secret, and down removes only its region's role", async () => {
    await up('us-east-1');
    await up('eu-west-1');

    const east = await secretArn('us-east-1');
    const west = await secretArn('eu-west-1');
    expect(east).toMatch(/^arn:aws:secretsmanager:us-east-1:/);
    expect(west).toMatch(/^arn:aws:secretsmanager:eu-west-1:/);
    expect(await secretNamedByRole('us-east-1')).toEqual([east]);
    expect(await secretNamedByRole('eu-west-1')).toEqual([west]);

    await down('eu-west-1');
    expect(await roleExists('iclinic-eu-west-1-exec')).toBe(false);
    expect(await roleExists('iclinic-us-east-1-exec')).toBe(true);
    expect(await secretNamedByRole('us-east-1')).toEqual([east]);

    await down('us-east-1');
    expect(await leftovers(aws, 'iclinic', 'us-east-1')).toEqual([]);
  });
});
