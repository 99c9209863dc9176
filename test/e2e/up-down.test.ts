import { DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  RevokeSecurityGroupIngressCommand,
} from '@aws-sdk/client-ec2';
import { DescribeRepositoriesCommand, GetLifecyclePolicyCommand } from '@aws-sdk/client-ecr';
import { DescribeServicesCommand, DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  ModifyTargetGroupCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  DetachRolePolicyCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import { DescribeSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { aws, endpoint, PREBUILT_IMAGE, upArgs } from '../support/e2e.js';
import { STACK_TAG_KEY } from '../../provision/names.js';
import { runCli, type CliResult } from '../support/cli.js';
import { leftovers } from '../support/leftovers.js';
import { resetMoto } from '../support/moto.js';

const IMAGE = PREBUILT_IMAGE;
// The plain-HTTP shape (0.0.0.0/0 on 80, a forwarding listener); https.test.ts covers the default.
const UP = upArgs('--plain-http', '--json');

interface JsonRecord {
  ok: boolean;
  steps: { key: string; status: string }[];
  awsCalls: { total: number; mutating: number; byOperation: Record<string, number> };
  result?: { removed?: string[] };
  error?: { message: string };
}

function parse(result: CliResult): JsonRecord {
  try {
    return JSON.parse(result.stdout) as JsonRecord;
  } catch {
    throw new Error(
      `CLI printed no JSON (exit ${result.code}).\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
    );
  }
}

async function up(extra: string[] = [], env?: Record<string, string>): Promise<JsonRecord> {
  const result = await runCli([...UP, ...extra], { endpoint, ...(env ? { env } : {}) });
  const record = parse(result);
  if (env?.ICLINIC_DEPLOY_FAIL_AFTER === undefined) {
    expect(record.error?.message, result.stderr).toBeUndefined();
    expect(result.code).toBe(0);
  }
  return record;
}

async function down(extra: string[] = []): Promise<JsonRecord> {
  const result = await runCli(['down', '--yes', '--json', ...extra], { endpoint });
  const record = parse(result);
  expect(record.error?.message, result.stderr).toBeUndefined();
  expect(result.code).toBe(0);
  return record;
}

async function stackVpcId(): Promise<string> {
  const vpcs = await aws.ec2.send(
    new DescribeVpcsCommand({ Filters: [{ Name: `tag:${STACK_TAG_KEY}`, Values: ['iclinic'] }] }),
  );
  expect(vpcs.Vpcs).toHaveLength(1);
  return vpcs.Vpcs?.[0]?.VpcId ?? '';
}

async function securityGroup(name: string) {
  const vpcId = await stackVpcId();
  const groups = await aws.ec2.send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: 'vpc-id', Values: [vpcId] },
        { Name: 'group-name', Values: [name] },
      ],
    }),
  );
  const group = groups.SecurityGroups?.[0];
  if (group === undefined) throw new Error(`security group ${name} not found`);
  return group;
}

async function targetGroup() {
  const found = await aws.elbv2.send(new DescribeTargetGroupsCommand({ Names: ['iclinic-tg'] }));
  const tg = found.TargetGroups?.[0];
  if (tg === undefined) throw new Error('target group not found');
  return tg;
}

async function currentService() {
  const found = await aws.ecs.send(
    new DescribeServicesCommand({ cluster: 'iclinic', services: ['iclinic-api'] }),
  );
  const service = found.services?.[0];
  if (service === undefined) throw new Error('service not found');
  return service;
}

beforeEach(async () => {
  await resetMoto(endpoint);
});

describe('up against the emulator', () => {
  it('creates two public subnets in two availability zones of a dedicated VPC', async () => {
    await up();
    const vpcId = await stackVpcId();
    const subnets = await aws.ec2.send(
      new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }),
    );
    expect(subnets.Subnets).toHaveLength(2);
    expect(new Set(subnets.Subnets?.map((s) => s.AvailabilityZone)).size).toBe(2);
    expect(subnets.Subnets?.every((s) => s.MapPublicIpOnLaunch)).toBe(true);
  });

  it('opens port 80 to the world on the load balancer group and 8080 only from it on the tasks group', async () => {
    await up();
    const alb = await securityGroup('iclinic-alb');
    const tasks = await securityGroup('iclinic-tasks');
    expect(
      alb.IpPermissions?.map((p) => [
        p.IpProtocol,
        p.FromPort,
        p.ToPort,
        p.IpRanges?.map((r) => r.CidrIp),
      ]),
    ).toEqual([['tcp', 80, 80, ['0.0.0.0/0']]]);
    expect(tasks.IpPermissions).toHaveLength(1);
    const rule = tasks.IpPermissions?.[0];
    expect([rule?.FromPort, rule?.ToPort, rule?.IpRanges ?? []]).toEqual([8080, 8080, []]);
    expect(rule?.UserIdGroupPairs?.map((p) => p.GroupId)).toEqual([alb.GroupId]);
  });

  it('configures the target group health check, deregistration delay and an HTTP listener', async () => {
    await up();
    const tg = await targetGroup();
    expect(tg).toMatchObject({
      TargetType: 'ip',
      Port: 8080,
      HealthCheckPath: '/healthz',
      HealthCheckIntervalSeconds: 10,
      HealthyThresholdCount: 2,
    });
    const attributes = await aws.elbv2.send(
      new DescribeTargetGroupAttributesCommand({ TargetGroupArn: tg.TargetGroupArn }),
    );
    expect(
      attributes.Attributes?.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value,
    ).toBe('15');
    const lbs = await aws.elbv2.send(new DescribeLoadBalancersCommand({ Names: ['iclinic-alb'] }));
    expect(lbs.LoadBalancers?.[0]?.Scheme).toBe('internet-facing');
    const listeners = await aws.elbv2.send(
      new DescribeListenersCommand({ LoadBalancerArn: lbs.LoadBalancers?.[0]?.LoadBalancerArn }),
    );
    expect(
      listeners.Listeners?.map((l) => [l.Port, l.Protocol, l.DefaultActions?.[0]?.TargetGroupArn]),
    ).toEqual([[80, 'HTTP', tg.TargetGroupArn]]);
  });

  it('registers a hardened task definition that takes the token from the secret and never in plain text', async () => {
    await up();
    const service = await currentService();
    const td = (
      await aws.ecs.send(
        new DescribeTaskDefinitionCommand({ taskDefinition: service.taskDefinition }),
      )
    ).taskDefinition;
    const secret = await aws.secrets.send(
      new DescribeSecretCommand({ SecretId: 'iclinic/api-token' }),
    );
    const token = JSON.parse(
      (await aws.secrets.send(new GetSecretValueCommand({ SecretId: 'iclinic/api-token' })))
        .SecretString ?? '{}',
    ).token as string;
    const container = td?.containerDefinitions?.[0];
    expect(td?.requiresCompatibilities).toEqual(['FARGATE']);
    expect(td?.runtimePlatform?.cpuArchitecture).toBe('X86_64');
    expect(container?.readonlyRootFilesystem).toBe(true);
    expect(container?.user).toBe('1000');
    expect(container?.healthCheck?.command?.[0]).toBe('CMD');
    expect(container?.logConfiguration?.options?.['awslogs-group']).toBe('/ecs/iclinic/api');
    const pass = container?.secrets?.find((s) => s.name === 'ICLINIC_PASS');
    expect(pass?.valueFrom?.startsWith(`${secret.ARN}:token::`)).toBe(true);
    expect(JSON.stringify(td)).not.toContain(token);
    expect(container?.environment?.some((e) => e.name === 'ICLINIC_PASS')).toBeFalsy();
  });

  // moto does not keep deploymentConfiguration, so the circuit breaker and
  // rollback settings are asserted on the CreateService request in
  // test/unit/provision/service.test.ts instead.
  it('runs two Fargate tasks with public IPs in both subnets behind the target group', async () => {
    await up();
    const service = await currentService();
    expect(service.desiredCount).toBe(2);
    expect(service.launchType).toBe('FARGATE');
    expect(service.networkConfiguration?.awsvpcConfiguration?.assignPublicIp).toBe('ENABLED');
    expect(service.networkConfiguration?.awsvpcConfiguration?.subnets).toHaveLength(2);
    expect(service.loadBalancers?.[0]?.containerPort).toBe(8080);
  });

  it('scans images on push, expires old ones and lets the role read only its secret', async () => {
    await up();
    const repo = await aws.ecr.send(
      new DescribeRepositoriesCommand({ repositoryNames: ['iclinic/api'] }),
    );
    expect(repo.repositories?.[0]?.imageScanningConfiguration?.scanOnPush).toBe(true);
    const lifecycle = await aws.ecr.send(
      new GetLifecyclePolicyCommand({ repositoryName: 'iclinic/api' }),
    );
    expect(lifecycle.lifecyclePolicyText).toContain('imageCountMoreThan');
    const secret = await aws.secrets.send(
      new DescribeSecretCommand({ SecretId: 'iclinic/api-token' }),
    );
    const policy = await aws.iam.send(
      new GetRolePolicyCommand({
        RoleName: 'iclinic-us-east-1-exec',
        PolicyName: 'iclinic-us-east-1-read-token',
      }),
    );
    const document = JSON.parse(decodeURIComponent(policy.PolicyDocument ?? '{}')) as {
      Statement: { Action: unknown; Resource: unknown }[];
    };
    expect(document.Statement).toHaveLength(1);
    expect([document.Statement[0]?.Resource].flat()).toEqual([secret.ARN]);
    const logs = await aws.logs.send(
      new DescribeLogGroupsCommand({ logGroupNamePrefix: '/ecs/iclinic/api' }),
    );
    expect(logs.logGroups?.[0]?.retentionInDays).toBe(14);
  });

  it('makes no mutating AWS call when run a second time', async () => {
    await up();
    const second = await up();
    expect(second.awsCalls.mutating, JSON.stringify(second.awsCalls.byOperation)).toBe(0);
    expect(second.steps.filter((s) => !['unchanged', 'done'].includes(s.status))).toEqual([]);
  });

  it('puts back a revoked rule, a changed health check and a detached policy', async () => {
    await up();
    const tasks = await securityGroup('iclinic-tasks');
    await aws.ec2.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: tasks.GroupId,
        IpPermissions: tasks.IpPermissions,
      }),
    );
    const tg = await targetGroup();
    await aws.elbv2.send(
      new ModifyTargetGroupCommand({
        TargetGroupArn: tg.TargetGroupArn,
        HealthCheckPath: '/',
        HealthyThresholdCount: 5,
      }),
    );
    await aws.iam.send(
      new DetachRolePolicyCommand({
        RoleName: 'iclinic-us-east-1-exec',
        PolicyArn: 'arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy',
      }),
    );
    await up();
    expect((await securityGroup('iclinic-tasks')).IpPermissions).toHaveLength(1);
    expect(await targetGroup()).toMatchObject({
      HealthCheckPath: '/healthz',
      HealthyThresholdCount: 2,
    });
    const attached = await aws.iam.send(
      new ListAttachedRolePoliciesCommand({ RoleName: 'iclinic-us-east-1-exec' }),
    );
    expect(attached.AttachedPolicies?.map((p) => p.PolicyName)).toContain(
      'AmazonECSTaskExecutionRolePolicy',
    );
  });

  it('keeps a second stack given --name apart from the first', async () => {
    await up();
    await up(['--name', 'iclinic-b']);
    await down(['--name', 'iclinic-b']);
    expect(await leftovers(aws, 'iclinic-b')).toEqual([]);
    expect((await leftovers(aws, 'iclinic')).length).toBeGreaterThan(10);
  });
});

describe('dry runs and bad input', () => {
  it('--dry-run on an empty account reads it and sends no mutating request', async () => {
    for (const command of [UP, ['down', '--json']]) {
      const result = await runCli([...command, '--dry-run'], { endpoint });
      const record = parse(result);
      expect(record.ok, result.stderr).toBe(true);
      expect(record.awsCalls.total).toBeGreaterThan(0);
      expect(record.awsCalls.mutating, JSON.stringify(record.awsCalls.byOperation)).toBe(0);
    }
    expect(await leftovers(aws, 'iclinic')).toEqual([]);
  });

  it('rejects an invalid --name before any call, saying what is allowed', async () => {
    const result = await runCli(['up', '--name', 'Bad_Name!'], { endpoint });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('Bad_Name!');
    expect(result.stderr).toMatch(/lowercase letters/);
    expect(await leftovers(aws, 'iclinic')).toEqual([]);
  });

  it('refuses --image without --platform before any call, since the architecture must match', async () => {
    const result = await runCli(['up', '--image', IMAGE, '--no-verify'], { endpoint });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--image needs --platform/);
    expect(await leftovers(aws, 'iclinic')).toEqual([]);
  });

  it('refuses an --image the stack’s own repository does not hold, before creating anything (exit 2)', async () => {
    const image = '123456789012.dkr.ecr.us-east-1.amazonaws.com/iclinic/api:no-such-tag';
    const result = await runCli(['up', '--image', image, '--platform', 'linux/amd64'], {
      endpoint,
    });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(`--image ${image} is not in ECR repository iclinic/api`);
    expect(await leftovers(aws, 'iclinic')).toEqual([]);
  });

  it('refuses a CPU and memory pair Fargate does not offer, even in a dry run', async () => {
    const result = await runCli(['up', '--dry-run', '--cpu', '256', '--memory', '4096']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Invalid Fargate memory 4096 MiB for 256 CPU units/);
    expect(result.stderr).toMatch(/512, 1024, 2048/);
  });

  it('does not print a set-token value that begins with "-" when it is taken for an option', async () => {
    const secret = '-Xsecret_value_0123456789';
    const result = await runCli(['set-token', secret], { endpoint });
    expect(result.code).toBe(2);
    expect(result.stdout + result.stderr).not.toContain(secret);
    expect(result.stderr).toContain('set-token -- <value>');
  });

  it('rejects an unknown region with the value received', async () => {
    const result = await runCli(['status', '--region', 'mars-1'], { endpoint });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('"mars-1" is not an AWS region code');
  });

  it('works in the region "aws configure" saved when no region variable is set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iclinic-aws-config-'));
    writeFileSync(join(dir, 'config'), '[profile work]\nregion = sa-east-1\n');
    // `policy` resolves the region like every command and names it in its resources.
    const result = await runCli(['policy', '--profile', 'work'], {
      env: { AWS_REGION: '', AWS_CONFIG_FILE: join(dir, 'config') },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('"aws:RequestedRegion": "sa-east-1"');
  });

  it('explains missing credentials and creates nothing', async () => {
    const result = await runCli(['up', ...UP.slice(1)], {
      endpoint: 'http://127.0.0.1:9',
      env: { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_EC2_METADATA_DISABLED: 'true' },
    });
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).toMatch(/No usable AWS credentials/);
  });

  it('refuses down without --yes when not in a terminal', async () => {
    const result = await runCli(['down'], { endpoint });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--yes');
  });

  it('explains that the container engine is missing when no --image is given, with the usage exit code 2', async () => {
    const result = await runCli(['up', '--engine', 'finch', '--no-verify'], {
      endpoint,
      env: { PATH: '/nonexistent' },
    });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/container engine "finch" is not usable/);
    expect(await leftovers(aws, 'iclinic')).toEqual([]);
  });
});

describe('down against the emulator', () => {
  it('removes every resource of the stack and reports them', async () => {
    await up();
    const record = await down();
    expect(record.result?.removed?.length).toBeGreaterThan(10);
    expect(await leftovers(aws, 'iclinic')).toEqual([]);
  });

  it('is harmless when run twice', async () => {
    await up();
    await down();
    const second = await down();
    expect(second.result?.removed).toEqual([]);
    expect(second.awsCalls.mutating).toBe(0);
  });

  it('status reports a missing stack without failing', async () => {
    const result = await runCli(['status'], { endpoint });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Nothing is deployed');
  });

  it('status says nothing is deployed after down, though the deleted cluster lingers as INACTIVE', async () => {
    await up();
    await down();
    const result = await runCli(['status'], { endpoint });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Nothing is deployed');
  });
});
