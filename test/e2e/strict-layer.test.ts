import { DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { beforeEach, describe, expect, inject, it } from 'vitest';
import { aws, endpoint, upArgs } from '../support/e2e.js';
import { STACK_TAG_KEY } from '../../provision/names.js';
import { runCli } from '../support/cli.js';
import { resetMoto } from '../support/moto.js';

const UP = upArgs();

const STACK_FILTER = [{ Name: `tag:${STACK_TAG_KEY}`, Values: ['iclinic'] }];

async function withhold(action: string): Promise<void> {
  const response = await fetch(`${endpoint}/strict-aws/withhold`, {
    method: 'POST',
    body: JSON.stringify({ action }),
  });
  expect(response.status, await response.text()).toBe(200);
}

beforeEach(async () => {
  await resetMoto(endpoint);
});

describe('the strict layer is in the path of every CLI run', () => {
  it('refuses a call the deployer policy lacks with AWS AccessDenied, and up stops there', async () => {
    await withhold('ec2:CreateVpc');
    const result = await runCli(UP, { endpoint });
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(
      /UnauthorizedOperation|not authorized to perform: ec2:CreateVpc/,
    );
    // The refused call never reached moto: no VPC exists.
    expect((await aws.ec2.send(new DescribeVpcsCommand({ Filters: STACK_FILTER }))).Vpcs).toEqual(
      [],
    );
  });

  it('refuses a request that names no stack: only runCli may talk to the proxy', async () => {
    const client = new EC2Client({
      region: 'us-east-1',
      endpoint,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      maxAttempts: 1,
    });
    await expect(client.send(new DescribeVpcsCommand({}))).rejects.toMatchObject({
      name: 'UnauthorizedOperation',
    });
  });

  it('reports its seed to the suite', () => {
    expect(inject('strictSeed')).toMatch(/\S/);
  });
});
