import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteClusterCommand,
  DeleteServiceCommand,
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeClustersCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type Service,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import {
  GetAWSDefaultServiceQuotaCommand,
  GetServiceQuotaCommand,
} from '@aws-sdk/client-service-quotas';
import { describe, expect, it } from 'vitest';
import {
  buildTaskDefinitionInput,
  checkFargateVcpuQuota,
  DeploymentFailedError,
  ensureCluster,
  ensureService,
  ensureTaskDefinition,
  removeCluster,
  removeService,
  removeTaskDefinitions,
  validateFargateSize,
  waitForDeployment,
  type ServiceSettings,
  type TaskSettings,
} from '../../../provision/service.js';
import { awsError, mockedContext, mutatingCalls } from '../support/ecs-context.js';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:iclinic/api-token-AbCdEf';

const taskSettings: TaskSettings = {
  image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/iclinic/api:abc123',
  cpu: 256,
  memory: 512,
  cpuArchitecture: 'ARM64',
  containerPort: 8080,
  healthCheckCommand: ['node', 'dist/healthcheck.js'],
  executionRoleArn: 'arn:aws:iam::123456789012:role/iclinic-task-execution',
  logGroup: '/ecs/iclinic/api',
  secrets: [
    { name: 'ICLINIC_PASS', valueFrom: `${SECRET_ARN}:current::` },
    { name: 'ICLINIC_PASS_PREVIOUS', valueFrom: `${SECRET_ARN}:previous::` },
    { name: 'ICLINIC_PASS_PREVIOUS_UNTIL', valueFrom: `${SECRET_ARN}:previousUntil::` },
  ],
};

const TD_ARN = 'arn:aws:ecs:us-east-1:123456789012:task-definition/iclinic-api:3';

/** What DescribeTaskDefinition returns for a revision registered from `input`, with AWS's defaults filled in. */
function asDescribed(input: ReturnType<typeof buildTaskDefinitionInput>): TaskDefinition {
  return {
    ...input,
    taskDefinitionArn: TD_ARN,
    revision: 3,
    status: 'ACTIVE',
    containerDefinitions: (input.containerDefinitions ?? []).map((c) => ({
      ...c,
      portMappings: (c.portMappings ?? []).map((p) => ({ ...p, hostPort: p.containerPort })),
      // AWS returns the secrets and environment in its own order.
      secrets: [...(c.secrets ?? [])].reverse(),
      cpu: 0,
      mountPoints: [],
      volumesFrom: [],
    })),
  } as TaskDefinition;
}

const serviceSettings: ServiceSettings = {
  taskDefinitionArn: TD_ARN,
  subnetIds: ['subnet-a', 'subnet-b'],
  securityGroupId: 'sg-tasks',
  targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/iclinic-tg/1',
  desiredCount: 2,
};

function activeService(overrides: Partial<Service> = {}): Service {
  return {
    serviceName: 'iclinic-api',
    serviceArn: 'arn:aws:ecs:us-east-1:123456789012:service/iclinic/iclinic-api',
    status: 'ACTIVE',
    taskDefinition: TD_ARN,
    desiredCount: 2,
    runningCount: 2,
    networkConfiguration: {
      awsvpcConfiguration: {
        subnets: ['subnet-b', 'subnet-a'],
        securityGroups: ['sg-tasks'],
        assignPublicIp: 'ENABLED',
      },
    },
    deploymentConfiguration: {
      deploymentCircuitBreaker: { enable: true, rollback: true },
      maximumPercent: 200,
      minimumHealthyPercent: 100,
    },
    loadBalancers: [
      { targetGroupArn: serviceSettings.targetGroupArn, containerName: 'api', containerPort: 8080 },
    ],
    deployments: [{ id: 'ecs-svc/1', status: 'PRIMARY', rolloutState: 'COMPLETED' }],
    events: [],
    ...overrides,
  };
}

describe('validateFargateSize', () => {
  it('rejects an invalid cpu/memory pair listing the valid memory sizes', () => {
    expect(() => validateFargateSize(256, 4096)).toThrow(/256 CPU.*512, 1024, 2048 MiB/);
  });

  it('accepts a valid pair', () => {
    expect(() => validateFargateSize(512, 2048)).not.toThrow();
  });
});

describe('checkFargateVcpuQuota', () => {
  it('fails with a clear message when the quota is below the need', async () => {
    const { ctx, mocks } = mockedContext();
    mocks.quotas.on(GetServiceQuotaCommand).resolves({ Quota: { Value: 0.5 } });
    await expect(checkFargateVcpuQuota(ctx, 1)).rejects.toThrow(
      /quota .* is 0\.5.*needs 1 vCPU.*L-3032A538/s,
    );
  });

  it('falls back to the AWS default when the account has no applied value', async () => {
    const { ctx, mocks } = mockedContext();
    mocks.quotas
      .on(GetServiceQuotaCommand)
      .rejects(awsError('NoSuchResourceException', 'no applied quota'));
    mocks.quotas.on(GetAWSDefaultServiceQuotaCommand).resolves({ Quota: { Value: 0.25 } });
    await expect(checkFargateVcpuQuota(ctx, 1)).rejects.toThrow(/quota .* is 0\.25/s);
  });

  it('warns and continues when the quota API is unavailable', async () => {
    const { ctx, mocks, report } = mockedContext();
    mocks.quotas
      .on(GetServiceQuotaCommand)
      .rejects(awsError('AccessDeniedException', 'not allowed'));
    await expect(checkFargateVcpuQuota(ctx, 1)).resolves.toBeUndefined();
    expect(report.warnings.join()).toMatch(/Fargate vCPU quota/);
  });
});

describe('ensureCluster', () => {
  it('re-creates an INACTIVE cluster with the same name', async () => {
    const { ctx, mocks } = mockedContext();
    mocks.ecs
      .on(DescribeClustersCommand)
      .resolves({ clusters: [{ clusterName: 'iclinic', status: 'INACTIVE' }] });
    mocks.ecs.on(CreateClusterCommand).resolves({ cluster: { clusterArn: 'arn:cluster/iclinic' } });
    const result = await ensureCluster(ctx);
    expect(result.outcome).toBe('created');
    expect(mutatingCalls(mocks.ecs)).toEqual(['CreateCluster']);
  });

  it('retries CreateCluster while the new service-linked role cannot be assumed yet', async () => {
    const { ctx, mocks, report } = mockedContext();
    mocks.ecs.on(DescribeClustersCommand).resolves({ clusters: [] });
    mocks.ecs
      .on(CreateClusterCommand)
      .rejectsOnce(
        awsError(
          'InvalidParameterException',
          'Unable to assume the service linked role. Please verify that the ECS service linked role exists.',
        ),
      )
      .resolves({ cluster: { clusterArn: 'arn:cluster/iclinic' } });

    const result = await ensureCluster(ctx);

    expect(result.value.clusterArn).toBe('arn:cluster/iclinic');
    expect(mocks.ecs.commandCalls(CreateClusterCommand)).toHaveLength(2);
    expect(report.progressLines.some((line) => /IAM roles to propagate/.test(line))).toBe(true);
  });

  it('gives up on CreateCluster after the propagation bound', async () => {
    const { ctx, mocks, clock } = mockedContext();
    mocks.ecs.on(DescribeClustersCommand).resolves({ clusters: [] });
    mocks.ecs
      .on(CreateClusterCommand)
      .rejects(awsError('InvalidParameterException', 'Unable to assume the service linked role.'));
    const started = clock.now();
    await expect(ensureCluster(ctx)).rejects.toThrow(/Gave up creating ECS cluster/);
    expect(clock.now() - started).toBeLessThanOrEqual(120_000);
  });
});

describe('ensureTaskDefinition', () => {
  it('registers a hardened Fargate definition with secrets by ARN and no token in the environment', async () => {
    const { ctx, mocks } = mockedContext();
    mocks.ecs
      .on(DescribeTaskDefinitionCommand)
      .rejects(awsError('ClientException', 'Unable to describe task definition.'));
    mocks.ecs
      .on(RegisterTaskDefinitionCommand)
      .resolves({ taskDefinition: { taskDefinitionArn: TD_ARN, revision: 1 } });

    const result = await ensureTaskDefinition(ctx, taskSettings);

    expect(result).toMatchObject({
      outcome: 'created',
      value: { taskDefinitionArn: TD_ARN, revision: 1 },
    });
    const input = mocks.ecs.commandCalls(RegisterTaskDefinitionCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      family: 'iclinic-api',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: 'ARM64' },
      executionRoleArn: taskSettings.executionRoleArn,
    });
    const container = input?.containerDefinitions?.[0];
    expect(container).toMatchObject({
      name: 'api',
      essential: true,
      readonlyRootFilesystem: true,
      user: '1000',
      portMappings: [{ containerPort: 8080 }],
      stopTimeout: 30,
      healthCheck: {
        command: ['CMD', 'node', 'dist/healthcheck.js'],
        interval: 10,
        timeout: 5,
        retries: 3,
        startPeriod: 10,
      },
      logConfiguration: {
        logDriver: 'awslogs',
        options: {
          'awslogs-group': '/ecs/iclinic/api',
          'awslogs-region': 'us-east-1',
          'awslogs-stream-prefix': 'api',
        },
      },
    });
    expect(container?.secrets?.map((s) => s.name)).toEqual([
      'ICLINIC_PASS',
      'ICLINIC_PASS_PREVIOUS',
      'ICLINIC_PASS_PREVIOUS_UNTIL',
    ]);
    expect(container?.secrets?.every((s) => s.valueFrom?.startsWith(SECRET_ARN))).toBe(true);
    expect(JSON.stringify(container?.environment ?? [])).not.toMatch(/ICLINIC_PASS/);
  });

  it('makes no Register call when the latest revision matches', async () => {
    const { ctx, mocks } = mockedContext();
    mocks.ecs
      .on(DescribeTaskDefinitionCommand)
      .resolves({ taskDefinition: asDescribed(buildTaskDefinitionInput(ctx, taskSettings)) });

    const result = await ensureTaskDefinition(ctx, taskSettings);

    expect(result).toMatchObject({
      outcome: 'unchanged',
      value: { taskDefinitionArn: TD_ARN, revision: 3 },
    });
    expect(mutatingCalls(mocks.ecs)).toEqual([]);
  });

  it('registers a new revision when the image changed', async () => {
    const { ctx, mocks } = mockedContext();
    mocks.ecs
      .on(DescribeTaskDefinitionCommand)
      .resolves({ taskDefinition: asDescribed(buildTaskDefinitionInput(ctx, taskSettings)) });
    mocks.ecs
      .on(RegisterTaskDefinitionCommand)
      .resolves({ taskDefinition: { taskDefinitionArn: 'arn:new', revision: 4 } });

    const result = await ensureTaskDefinition(ctx, { ...taskSettings, image: 'repo:other' });

    expect(result.outcome).toBe('updated');
    expect(result.changes.join()).toMatch(/image/);
  });

  it('rejects an invalid cpu/memory pair before any AWS call', async () => {
    const { ctx, mocks } = mockedContext();
    await expect(ensureTaskDefinition(ctx, { ...taskSettings, memory: 3000 })).rejects.toThrow(
      /Invalid Fargate memory/,
    );
    expect(mocks.ecs.calls()).toHaveLength(0);
  });
});

describe('ensureService', () => {
  it('creates the service with circuit breaker, rollback, public IP and the given subnets', async () => {
    const { ctx, mocks } = mockedContext();
    mocks.ecs.on(DescribeServicesCommand).resolves({ services: [] });
    mocks.ecs.on(CreateServiceCommand).resolves({
      service: activeService({
        deployments: [{ id: 'ecs-svc/new', status: 'PRIMARY', rolloutState: 'IN_PROGRESS' }],
      }),
    });

    const result = await ensureService(ctx, serviceSettings);

    expect(result).toMatchObject({ outcome: 'created', value: { deploymentId: 'ecs-svc/new' } });
    expect(mocks.ecs.commandCalls(CreateServiceCommand)[0]?.args[0].input).toMatchObject({
      cluster: 'iclinic',
      serviceName: 'iclinic-api',
      launchType: 'FARGATE',
      platformVersion: 'LATEST',
      desiredCount: 2,
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: ['subnet-a', 'subnet-b'],
          securityGroups: ['sg-tasks'],
          assignPublicIp: 'ENABLED',
        },
      },
      loadBalancers: [
        {
          targetGroupArn: serviceSettings.targetGroupArn,
          containerName: 'api',
          containerPort: 8080,
        },
      ],
      healthCheckGracePeriodSeconds: 30,
      deploymentConfiguration: {
        deploymentCircuitBreaker: { enable: true, rollback: true },
        maximumPercent: 200,
        minimumHealthyPercent: 100,
      },
      propagateTags: 'SERVICE',
      enableECSManagedTags: true,
    });
  });

  it('makes no mutating call when the service matches', async () => {
    const { ctx, mocks } = mockedContext();
    mocks.ecs.on(DescribeServicesCommand).resolves({ services: [activeService()] });

    const result = await ensureService(ctx, serviceSettings);

    expect(result).toMatchObject({ outcome: 'unchanged', value: { deploymentId: undefined } });
    expect(mutatingCalls(mocks.ecs)).toEqual([]);
  });

  it('returns the deployment still in progress, without a mutating call, so up waits for it', async () => {
    const { ctx, mocks } = mockedContext();
    mocks.ecs.on(DescribeServicesCommand).resolves({
      services: [
        activeService({
          deployments: [{ id: 'ecs-svc/running', status: 'PRIMARY', rolloutState: 'IN_PROGRESS' }],
        }),
      ],
    });

    const result = await ensureService(ctx, serviceSettings);

    expect(result).toMatchObject({
      outcome: 'unchanged',
      value: { deploymentId: 'ecs-svc/running' },
    });
    expect(mutatingCalls(mocks.ecs)).toEqual([]);
  });

  it('starts a new deployment when the last one failed, even though nothing else changed', async () => {
    const { ctx, mocks } = mockedContext();
    mocks.ecs.on(DescribeServicesCommand).resolves({
      services: [
        activeService({
          runningCount: 0,
          deployments: [
            {
              id: 'ecs-svc/failed',
              status: 'PRIMARY',
              rolloutState: 'FAILED',
              rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.',
            },
          ],
        }),
      ],
    });
    mocks.ecs.on(UpdateServiceCommand).resolves({
      service: activeService({
        deployments: [{ id: 'ecs-svc/retry', status: 'PRIMARY', rolloutState: 'IN_PROGRESS' }],
      }),
    });

    const result = await ensureService(ctx, serviceSettings);

    expect(result).toMatchObject({ outcome: 'updated', value: { deploymentId: 'ecs-svc/retry' } });
    expect(result.changes.join()).toMatch(/last one failed \(ECS deployment circuit breaker/);
    expect(mocks.ecs.commandCalls(UpdateServiceCommand)[0]?.args[0].input).toMatchObject({
      forceNewDeployment: true,
    });
  });

  it('updates with forceNewDeployment when the task definition changed and returns the new PRIMARY id', async () => {
    const { ctx, mocks } = mockedContext();
    mocks.ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [activeService({ taskDefinition: 'arn:old:2' })] });
    mocks.ecs.on(UpdateServiceCommand).resolves({
      service: activeService({
        deployments: [
          { id: 'ecs-svc/new', status: 'PRIMARY' },
          { id: 'ecs-svc/1', status: 'ACTIVE' },
        ],
      }),
    });

    const result = await ensureService(ctx, serviceSettings);

    expect(result).toMatchObject({ outcome: 'updated', value: { deploymentId: 'ecs-svc/new' } });
    expect(mocks.ecs.commandCalls(UpdateServiceCommand)[0]?.args[0].input).toMatchObject({
      taskDefinition: TD_ARN,
      forceNewDeployment: true,
    });
  });

  it('updates when the circuit breaker was turned off by hand', async () => {
    const { ctx, mocks } = mockedContext();
    mocks.ecs.on(DescribeServicesCommand).resolves({
      services: [
        activeService({
          deploymentConfiguration: { deploymentCircuitBreaker: { enable: false, rollback: false } },
        }),
      ],
    });
    mocks.ecs.on(UpdateServiceCommand).resolves({ service: activeService() });

    const result = await ensureService(ctx, serviceSettings);

    expect(result.changes.join()).toMatch(/circuit breaker/);
    expect(mocks.ecs.commandCalls(UpdateServiceCommand)[0]?.args[0].input).toMatchObject({
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
      forceNewDeployment: false,
    });
  });

  it('waits for a DRAINING service to become INACTIVE, then creates it again', async () => {
    const { ctx, mocks } = mockedContext();
    mocks.ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [activeService({ status: 'DRAINING' })] })
      .resolvesOnce({ services: [activeService({ status: 'DRAINING' })] })
      .resolves({ services: [activeService({ status: 'INACTIVE' })] });
    mocks.ecs.on(CreateServiceCommand).resolves({ service: activeService() });

    const result = await ensureService(ctx, serviceSettings);

    expect(result.outcome).toBe('created');
    expect(mutatingCalls(mocks.ecs)).toEqual(['CreateService']);
  });

  it('retries CreateService on an IAM propagation error, then succeeds', async () => {
    const { ctx, mocks, report } = mockedContext();
    mocks.ecs.on(DescribeServicesCommand).resolves({ services: [] });
    mocks.ecs
      .on(CreateServiceCommand)
      .rejectsOnce(
        awsError(
          'InvalidParameterException',
          'Unable to assume the service linked role. Please verify that the ECS service linked role exists.',
        ),
      )
      .rejectsOnce(
        awsError(
          'InvalidParameterException',
          'ECS was unable to assume the role that was provided.',
        ),
      )
      .resolves({ service: activeService() });

    const result = await ensureService(ctx, serviceSettings);

    expect(result.outcome).toBe('created');
    expect(mocks.ecs.commandCalls(CreateServiceCommand)).toHaveLength(3);
    expect(report.progressLines.some((l) => /IAM/.test(l))).toBe(true);
  });

  it('gives up on IAM propagation errors after about two minutes', async () => {
    const { ctx, mocks, clock } = mockedContext();
    mocks.ecs.on(DescribeServicesCommand).resolves({ services: [] });
    mocks.ecs
      .on(CreateServiceCommand)
      .rejects(awsError('InvalidParameterException', 'Unable to assume the service linked role.'));
    const started = clock.now();

    await expect(ensureService(ctx, serviceSettings)).rejects.toThrow(
      /Gave up creating ECS service/,
    );
    expect(clock.now() - started).toBeLessThanOrEqual(120_000);
    expect(clock.now() - started).toBeGreaterThan(60_000);
  });

  it('retries CreateService while the new listener has not attached the target group yet', async () => {
    const { ctx, mocks, report } = mockedContext();
    mocks.ecs.on(DescribeServicesCommand).resolves({ services: [] });
    mocks.ecs
      .on(CreateServiceCommand)
      .rejectsOnce(
        awsError(
          'InvalidParameterException',
          `The target group with targetGroupArn ${serviceSettings.targetGroupArn} does not have an associated load balancer.`,
        ),
      )
      .resolves({ service: activeService() });

    const result = await ensureService(ctx, serviceSettings);

    expect(result.outcome).toBe('created');
    expect(mocks.ecs.commandCalls(CreateServiceCommand)).toHaveLength(2);
    expect(report.progressLines.some((l) => /attach the target group/.test(l))).toBe(true);
  });

  it('does not retry an unrelated error', async () => {
    const { ctx, mocks } = mockedContext();
    mocks.ecs.on(DescribeServicesCommand).resolves({ services: [] });
    mocks.ecs
      .on(CreateServiceCommand)
      .rejects(awsError('InvalidParameterException', 'subnet-a does not exist'));
    await expect(ensureService(ctx, serviceSettings)).rejects.toThrow(/subnet-a/);
    expect(mocks.ecs.commandCalls(CreateServiceCommand)).toHaveLength(1);
  });
});

describe('waitForDeployment', () => {
  const at = (offsetMs: number) => new Date(Date.parse('2026-01-01T00:00:00Z') + offsetMs);

  it('succeeds when the given deployment reaches COMPLETED', async () => {
    const { ctx, mocks } = mockedContext();
    mocks.ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({
        services: [
          activeService({
            deployments: [{ id: 'ecs-svc/9', status: 'PRIMARY', rolloutState: 'IN_PROGRESS' }],
          }),
        ],
      })
      .resolves({
        services: [
          activeService({
            deployments: [{ id: 'ecs-svc/9', status: 'PRIMARY', rolloutState: 'COMPLETED' }],
          }),
        ],
      });

    await expect(
      waitForDeployment(ctx, { deploymentId: 'ecs-svc/9', timeoutMs: 60_000 }),
    ).resolves.toBeUndefined();
    expect(mocks.ecs.commandCalls(DescribeServicesCommand)).toHaveLength(2);
  });

  it('fails with the rollout reason, events and stopped task reasons on FAILED', async () => {
    const { ctx, mocks } = mockedContext();
    mocks.ecs.on(DescribeServicesCommand).resolves({
      services: [
        activeService({
          deployments: [
            {
              id: 'ecs-svc/9',
              status: 'PRIMARY',
              rolloutState: 'FAILED',
              rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.',
            },
          ],
          events: [
            { id: 'e1', createdAt: at(1000), message: '(service iclinic-api) has started 2 tasks' },
          ],
        }),
      ],
    });
    mocks.ecs.on(ListTasksCommand).resolves({ taskArns: ['arn:task/1'] });
    mocks.ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        {
          taskArn: 'arn:task/1',
          stoppedReason: 'Essential container in task exited',
          stoppedAt: at(2000),
        },
      ],
    });

    const error = await waitForDeployment(ctx, {
      deploymentId: 'ecs-svc/9',
      timeoutMs: 60_000,
    }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DeploymentFailedError);
    const message = (error as Error).message;
    expect(message).toMatch(/circuit breaker: tasks failed to start/);
    expect(message).toMatch(/has started 2 tasks/);
    expect(message).toMatch(/Essential container in task exited/);
  });

  const MISSING = {
    services: [],
    failures: [{ arn: 'iclinic-api', reason: 'MISSING' }],
  };
  const oldPrimary = { id: 'ecs-svc/1', status: 'PRIMARY', rolloutState: 'COMPLETED' as const };
  const ours = (rolloutState: 'IN_PROGRESS' | 'COMPLETED') => ({
    id: 'ecs-svc/9',
    status: 'PRIMARY',
    rolloutState,
    createdAt: at(0),
  });

  it('reads MISSING right after CreateService as pending, then follows the deployment', async () => {
    const { ctx, mocks } = mockedContext();
    mocks.ecs
      .on(DescribeServicesCommand)
      .resolvesOnce(MISSING)
      .resolvesOnce({ services: [activeService({ deployments: [ours('IN_PROGRESS')] })] })
      .resolves({ services: [activeService({ deployments: [ours('COMPLETED')] })] });

    await expect(
      waitForDeployment(ctx, { deploymentId: 'ecs-svc/9', timeoutMs: 600_000 }),
    ).resolves.toBeUndefined();
    expect(mocks.ecs.commandCalls(DescribeServicesCommand)).toHaveLength(3);
  });

  it('reads a service without the new deployment right after UpdateService as pending', async () => {
    const { ctx, mocks } = mockedContext();
    const stale = { ...oldPrimary, createdAt: at(-86_400_000) };
    mocks.ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [activeService({ deployments: [stale] })] })
      .resolves({ services: [activeService({ deployments: [ours('COMPLETED')] })] });

    await expect(
      waitForDeployment(ctx, {
        deploymentId: 'ecs-svc/9',
        deploymentCreatedAt: at(0),
        timeoutMs: 600_000,
      }),
    ).resolves.toBeUndefined();
  });

  it('fails as rolled back at once when a PRIMARY created after ours is listed', async () => {
    const { ctx, mocks } = mockedContext();
    const rollback = { id: 'ecs-svc/10', status: 'PRIMARY', createdAt: at(5_000) };
    mocks.ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [activeService({ deployments: [rollback] })] });
    mocks.ecs.on(ListTasksCommand).resolves({ taskArns: [] });

    await expect(
      waitForDeployment(ctx, {
        deploymentId: 'ecs-svc/9',
        deploymentCreatedAt: at(0),
        timeoutMs: 600_000,
      }),
    ).rejects.toThrow(/ecs-svc\/9.*rolled it back.*ecs-svc\/10/);
    expect(mocks.ecs.commandCalls(DescribeServicesCommand)).toHaveLength(1);
  });

  it('fails as rolled back when another deployment is PRIMARY after ours was seen', async () => {
    const { ctx, mocks } = mockedContext();
    mocks.ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({
        services: [
          activeService({
            deployments: [{ id: 'ecs-svc/9', status: 'PRIMARY', rolloutState: 'IN_PROGRESS' }],
          }),
        ],
      })
      .resolves({
        services: [activeService({ deployments: [{ id: 'ecs-svc/10', status: 'PRIMARY' }] })],
      });
    mocks.ecs.on(ListTasksCommand).resolves({ taskArns: [] });

    await expect(
      waitForDeployment(ctx, { deploymentId: 'ecs-svc/9', timeoutMs: 600_000 }),
    ).rejects.toThrow(/ecs-svc\/9.*rolled it back/);
  });

  it('gives up after about 60 s when the service stays MISSING', async () => {
    const { ctx, mocks, clock } = mockedContext();
    mocks.ecs.on(DescribeServicesCommand).resolves(MISSING);
    mocks.ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    const started = clock.now();

    await expect(
      waitForDeployment(ctx, { deploymentId: 'ecs-svc/9', timeoutMs: 600_000 }),
    ).rejects.toThrow(
      /iclinic-api is missing in DescribeServices 60 s after deployment ecs-svc\/9/,
    );
    expect(clock.now() - started).toBeGreaterThanOrEqual(60_000);
    expect(clock.now() - started).toBeLessThan(70_000);
  });

  it('gives up after about 60 s when the deployment is never listed and nothing replaced it', async () => {
    const { ctx, mocks, clock } = mockedContext();
    mocks.ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [activeService({ deployments: [oldPrimary] })] });
    mocks.ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    const started = clock.now();

    await expect(
      waitForDeployment(ctx, { deploymentId: 'ecs-svc/9', timeoutMs: 600_000 }),
    ).rejects.toThrow(/ecs-svc\/9 .*not been listed by DescribeServices for 60 s/);
    expect(clock.now() - started).toBeLessThan(70_000);
  });

  it('times out with the details and the elapsed time', async () => {
    const { ctx, mocks } = mockedContext();
    mocks.ecs.on(DescribeServicesCommand).resolves({
      services: [
        activeService({
          deployments: [{ id: 'ecs-svc/9', status: 'PRIMARY', rolloutState: 'IN_PROGRESS' }],
        }),
      ],
    });
    mocks.ecs.on(ListTasksCommand).resolves({ taskArns: [] });

    await expect(
      waitForDeployment(ctx, { deploymentId: 'ecs-svc/9', timeoutMs: 30_000 }),
    ).rejects.toThrow(/timed out after \d+ s/);
  });

  it('prints each new service event once, and none from before the wait', async () => {
    const { ctx, mocks, report } = mockedContext();
    const old = { id: 'e0', createdAt: at(-60_000), message: 'old event' };
    const first = { id: 'e1', createdAt: at(1000), message: 'has started 2 tasks' };
    const second = { id: 'e2', createdAt: at(7000), message: 'has reached a steady state' };
    const inProgress = [
      { id: 'ecs-svc/9', status: 'PRIMARY', rolloutState: 'IN_PROGRESS' as const },
    ];
    mocks.ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({
        services: [activeService({ deployments: inProgress, events: [first, old] })],
      })
      .resolvesOnce({
        services: [activeService({ deployments: inProgress, events: [first, old] })],
      })
      .resolves({
        services: [
          activeService({
            deployments: [{ id: 'ecs-svc/9', status: 'PRIMARY', rolloutState: 'COMPLETED' }],
            events: [second, first, old],
          }),
        ],
      });

    await waitForDeployment(ctx, { deploymentId: 'ecs-svc/9', timeoutMs: 60_000 });

    expect(report.progressLines).toEqual([
      'ECS: has started 2 tasks',
      'ECS: has reached a steady state',
    ]);
  });
});

describe('removeService', () => {
  it('deletes with force and waits until the service is INACTIVE', async () => {
    const { ctx, mocks } = mockedContext();
    mocks.ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [activeService()] })
      .resolvesOnce({ services: [activeService({ status: 'DRAINING' })] })
      .resolvesOnce({ services: [activeService({ status: 'DRAINING' })] })
      .resolves({ services: [activeService({ status: 'INACTIVE' })] });
    mocks.ecs.on(DeleteServiceCommand).resolves({});

    const result = await removeService(ctx, { timeoutMs: 600_000 });

    expect(result.removed).toEqual(['ECS service iclinic-api']);
    expect(mocks.ecs.commandCalls(DeleteServiceCommand)[0]?.args[0].input).toMatchObject({
      cluster: 'iclinic',
      service: 'iclinic-api',
      force: true,
    });
    expect(mocks.ecs.commandCalls(DescribeServicesCommand)).toHaveLength(4);
  });

  it('is a no-op when the service is already gone', async () => {
    const { ctx, mocks } = mockedContext();
    mocks.ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [], failures: [{ reason: 'MISSING' }] });
    expect((await removeService(ctx, { timeoutMs: 60_000 })).removed).toEqual([]);
    expect(mutatingCalls(mocks.ecs)).toEqual([]);
  });
});

describe('removeCluster', () => {
  it('retries while the cluster still contains services', async () => {
    const { ctx, mocks } = mockedContext();
    mocks.ecs
      .on(DescribeClustersCommand)
      .resolves({ clusters: [{ clusterName: 'iclinic', status: 'ACTIVE' }] });
    mocks.ecs
      .on(DeleteClusterCommand)
      .rejectsOnce(
        awsError(
          'ClusterContainsServicesException',
          'The Cluster cannot be deleted while Services are active.',
        ),
      )
      .resolves({});

    const result = await removeCluster(ctx, { timeoutMs: 300_000 });

    expect(result.removed).toEqual(['ECS cluster iclinic']);
    expect(mocks.ecs.commandCalls(DeleteClusterCommand)).toHaveLength(2);
  });
});

describe('removeTaskDefinitions', () => {
  it('deregisters every ACTIVE revision of this family only and tolerates a missing delete API', async () => {
    const { ctx, mocks, report } = mockedContext();
    mocks.ecs
      .on(ListTaskDefinitionsCommand, { status: 'ACTIVE' })
      .resolves({
        taskDefinitionArns: [
          'arn:aws:ecs:us-east-1:1:task-definition/iclinic-api:1',
          'arn:aws:ecs:us-east-1:1:task-definition/iclinic-api:2',
          'arn:aws:ecs:us-east-1:1:task-definition/iclinic-api2:1',
        ],
      })
      .on(ListTaskDefinitionsCommand, { status: 'INACTIVE' })
      .resolves({ taskDefinitionArns: ['arn:aws:ecs:us-east-1:1:task-definition/iclinic-api:1'] });
    mocks.ecs.on(DeregisterTaskDefinitionCommand).resolves({});
    mocks.ecs
      .on(DeleteTaskDefinitionsCommand)
      .rejects(awsError('UnknownOperationException', 'not here'));

    const result = await removeTaskDefinitions(ctx);

    expect(result.removed).toHaveLength(2);
    expect(
      mocks.ecs
        .commandCalls(DeregisterTaskDefinitionCommand)
        .map((c) => c.args[0].input.taskDefinition),
    ).toEqual([
      'arn:aws:ecs:us-east-1:1:task-definition/iclinic-api:1',
      'arn:aws:ecs:us-east-1:1:task-definition/iclinic-api:2',
    ]);
    expect(report.warnings.join()).toMatch(/inactive revisions/);
  });
});
