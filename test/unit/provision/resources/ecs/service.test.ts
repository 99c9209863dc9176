import {
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeClustersCommand,
  DescribeServicesCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { NOT_CREATED_YET, outcomeOf } from '../../../../../provision/plan.js';
import { ensureService, removeService } from '../../../../../provision/resources/ecs/index.js';
import { awsError, testContext, mutatingOperations } from '../../../support/context.js';
import { TD_ARN, serviceSettings, activeService, removedNames } from './fixtures.js';

describe('ensureService', () => {
  it('creates the service with circuit breaker, rollback, public IP and the given subnets', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs.on(DescribeServicesCommand).resolves({ services: [] });
    mocks.ecs.on(CreateServiceCommand).resolves({
      service: activeService({
        deployments: [{ id: 'ecs-svc/new', status: 'PRIMARY', rolloutState: 'IN_PROGRESS' }],
      }),
    });

    const result = await ensureService(ctx, serviceSettings);

    expect(outcomeOf(result.changes)).toBe('created');
    expect(result.value).toMatchObject({ deploymentId: 'ecs-svc/new' });
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
    const { ctx, mocks } = testContext();
    mocks.ecs.on(DescribeServicesCommand).resolves({ services: [activeService()] });

    const result = await ensureService(ctx, serviceSettings);

    expect(outcomeOf(result.changes)).toBe('unchanged');
    expect(result.value).toMatchObject({ deploymentId: undefined });
    expect(mutatingOperations(mocks.ecs)).toEqual([]);
  });

  it('returns the deployment still in progress, without a mutating call, so up waits for it', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs.on(DescribeServicesCommand).resolves({
      services: [
        activeService({
          deployments: [{ id: 'ecs-svc/running', status: 'PRIMARY', rolloutState: 'IN_PROGRESS' }],
        }),
      ],
    });

    const result = await ensureService(ctx, serviceSettings);

    expect(outcomeOf(result.changes)).toBe('unchanged');
    expect(result.value).toMatchObject({ deploymentId: 'ecs-svc/running' });
    expect(mutatingOperations(mocks.ecs)).toEqual([]);
  });

  it('starts a new deployment when the last one failed, even though nothing else changed', async () => {
    const { ctx, mocks } = testContext();
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

    expect(outcomeOf(result.changes)).toBe('updated');
    expect(result.value).toMatchObject({ deploymentId: 'ecs-svc/retry' });
    expect(result.changes).toEqual([
      {
        action: 'update',
        kind: 'ECS service',
        name: 'iclinic-api',
        detail:
          'new deployment: the last one failed (ECS deployment circuit breaker: tasks failed to start.)',
      },
    ]);
    expect(mocks.ecs.commandCalls(UpdateServiceCommand)[0]?.args[0].input).toMatchObject({
      forceNewDeployment: true,
    });
  });

  it('updates with forceNewDeployment when the task definition changed and returns the new PRIMARY id', async () => {
    const { ctx, mocks } = testContext();
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

    expect(outcomeOf(result.changes)).toBe('updated');
    expect(result.value).toMatchObject({ deploymentId: 'ecs-svc/new' });
    expect(mocks.ecs.commandCalls(UpdateServiceCommand)[0]?.args[0].input).toMatchObject({
      taskDefinition: TD_ARN,
      forceNewDeployment: true,
    });
  });

  it('updates when the circuit breaker was turned off by hand', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs.on(DescribeServicesCommand).resolves({
      services: [
        activeService({
          deploymentConfiguration: { deploymentCircuitBreaker: { enable: false, rollback: false } },
        }),
      ],
    });
    mocks.ecs.on(UpdateServiceCommand).resolves({ service: activeService() });

    const result = await ensureService(ctx, serviceSettings);

    expect(result.changes).toEqual([
      {
        action: 'update',
        kind: 'ECS service',
        name: 'iclinic-api',
        detail: 'deployment configuration (circuit breaker with rollback, 200%/100%)',
      },
    ]);
    expect(mocks.ecs.commandCalls(UpdateServiceCommand)[0]?.args[0].input).toMatchObject({
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
      forceNewDeployment: false,
    });
  });

  it('waits for a DRAINING service to become INACTIVE, then creates it again', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [activeService({ status: 'DRAINING' })] })
      .resolvesOnce({ services: [activeService({ status: 'DRAINING' })] })
      .resolves({ services: [activeService({ status: 'INACTIVE' })] });
    mocks.ecs.on(CreateServiceCommand).resolves({ service: activeService() });

    const result = await ensureService(ctx, serviceSettings);

    expect(outcomeOf(result.changes)).toBe('created');
    expect(mutatingOperations(mocks.ecs)).toEqual(['CreateService']);
  });

  it('retries CreateService on an IAM propagation error, then succeeds', async () => {
    const { ctx, mocks, report } = testContext();
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

    expect(outcomeOf(result.changes)).toBe('created');
    expect(mocks.ecs.commandCalls(CreateServiceCommand)).toHaveLength(3);
    expect(report.progressLines.some((l) => /IAM/.test(l))).toBe(true);
  });

  it('gives up on IAM propagation errors after about two minutes', async () => {
    const { ctx, mocks, clock } = testContext();
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
    const { ctx, mocks, report } = testContext();
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

    expect(outcomeOf(result.changes)).toBe('created');
    expect(mocks.ecs.commandCalls(CreateServiceCommand)).toHaveLength(2);
    expect(report.progressLines.some((l) => /attach the target group/.test(l))).toBe(true);
  });

  it('does not retry an unrelated error', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs.on(DescribeServicesCommand).resolves({ services: [] });
    mocks.ecs
      .on(CreateServiceCommand)
      .rejects(awsError('InvalidParameterException', 'subnet-a does not exist'));
    await expect(ensureService(ctx, serviceSettings)).rejects.toThrow(/subnet-a/);
    expect(mocks.ecs.commandCalls(CreateServiceCommand)).toHaveLength(1);
  });
});

describe('removeService', () => {
  it('deletes with force and waits until the service is INACTIVE', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [activeService()] })
      .resolvesOnce({ services: [activeService({ status: 'DRAINING' })] })
      .resolvesOnce({ services: [activeService({ status: 'DRAINING' })] })
      .resolves({ services: [activeService({ status: 'INACTIVE' })] });
    mocks.ecs.on(DeleteServiceCommand).resolves({});

    const result = await removeService(ctx, { timeoutMs: 600_000 });

    expect(removedNames(result)).toEqual(['ECS service iclinic-api']);
    expect(mocks.ecs.commandCalls(DeleteServiceCommand)[0]?.args[0].input).toMatchObject({
      cluster: 'iclinic',
      service: 'iclinic-api',
      force: true,
    });
    expect(mocks.ecs.commandCalls(DescribeServicesCommand)).toHaveLength(4);
  });

  it('is a no-op when the service and its cluster are already gone', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [], failures: [{ reason: 'MISSING' }] });
    mocks.ecs.on(DescribeClustersCommand).resolves({ clusters: [] });
    expect(removedNames(await removeService(ctx, { timeoutMs: 60_000 }))).toEqual([]);
    expect(mutatingOperations(mocks.ecs)).toEqual([]);
  });

  it('deletes a service DescribeServices does not list yet while its cluster is active', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [], failures: [{ reason: 'MISSING' }] })
      .resolves({ services: [activeService({ status: 'INACTIVE' })] });
    mocks.ecs.on(DescribeClustersCommand).resolves({
      clusters: [{ clusterName: 'iclinic', status: 'ACTIVE' }],
    });
    mocks.ecs.on(DeleteServiceCommand).resolves({});

    const result = await removeService(ctx, { timeoutMs: 60_000 });

    expect(removedNames(result)).toEqual(['ECS service iclinic-api']);
    expect(mocks.ecs.commandCalls(DeleteServiceCommand)[0]?.args[0].input).toMatchObject({
      service: 'iclinic-api',
      force: true,
    });
  });

  it('removes nothing when the unlisted service really does not exist in the active cluster', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [], failures: [{ reason: 'MISSING' }] });
    mocks.ecs.on(DescribeClustersCommand).resolves({
      clusters: [{ clusterName: 'iclinic', status: 'ACTIVE' }],
    });
    mocks.ecs.on(DeleteServiceCommand).rejects(awsError('ServiceNotFoundException', 'not found'));

    expect(removedNames(await removeService(ctx, { timeoutMs: 60_000 }))).toEqual([]);
  });
});

describe('ensureService in a dry run', () => {
  it('plans nothing for an unchanged service', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs.on(DescribeServicesCommand).resolves({ services: [activeService()] });

    const result = await ensureService({ ...ctx, dryRun: true }, serviceSettings);

    expect(result.changes).toEqual([]);
    expect(mutatingOperations(mocks.ecs)).toEqual([]);
  });

  it('plans a changed desired count as old → new and updates nothing', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs.on(DescribeServicesCommand).resolves({ services: [activeService()] });

    const result = await ensureService(
      { ...ctx, dryRun: true },
      { ...serviceSettings, desiredCount: 3 },
    );

    expect(result.changes).toEqual([
      {
        action: 'update',
        kind: 'ECS service',
        name: 'iclinic-api',
        detail: 'desired count',
        from: '2',
        to: '3',
      },
    ]);
    expect(mutatingOperations(mocks.ecs)).toEqual([]);
  });

  it('plans the creation when the cluster does not exist yet', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs
      .on(DescribeServicesCommand)
      .rejects(awsError('ClusterNotFoundException', 'Cluster not found.'));

    const result = await ensureService({ ...ctx, dryRun: true }, serviceSettings);

    expect(result.changes.map((c) => c.action)).toEqual(['create']);
    expect(result.value.serviceArn).toBe(NOT_CREATED_YET);
    expect(mutatingOperations(mocks.ecs)).toEqual([]);
  });
});

describe('removeService in a dry run', () => {
  it('returns the delete it would make and deletes nothing', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs.on(DescribeServicesCommand).resolves({ services: [activeService()] });

    const result = await removeService({ ...ctx, dryRun: true }, { timeoutMs: 60_000 });

    expect(result.changes).toEqual([
      { action: 'delete', kind: 'ECS service', name: 'iclinic-api' },
    ]);
    expect(mutatingOperations(mocks.ecs)).toEqual([]);
  });
});

describe('ensureService with autoscaling', () => {
  const scaled = { ...serviceSettings, autoscaled: true, desiredCount: 2 };

  it('creates the service starting at the given minimum count', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs.on(DescribeServicesCommand).resolves({ services: [] });
    mocks.ecs.on(CreateServiceCommand).resolves({ service: activeService() });

    await ensureService(ctx, scaled);

    expect(mocks.ecs.commandCalls(CreateServiceCommand)[0]?.args[0].input.desiredCount).toBe(2);
  });

  it('plans no desired-count drift when the scaler has moved the count', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [activeService({ desiredCount: 5 })] });

    const result = await ensureService({ ...ctx, dryRun: true }, scaled);

    expect(result.changes).toEqual([]);
  });

  it('makes no mutating call when only the desired count differs', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [activeService({ desiredCount: 5 })] });

    await ensureService(ctx, scaled);

    expect(mutatingOperations(mocks.ecs)).toEqual([]);
  });

  it('brings a count set below the minimum behind its back up to the minimum', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [activeService({ desiredCount: 0, runningCount: 0 })] });
    mocks.ecs.on(UpdateServiceCommand).resolves({ service: activeService() });

    const result = await ensureService(ctx, scaled);

    expect(result.changes).toEqual([
      {
        action: 'update',
        kind: 'ECS service',
        name: 'iclinic-api',
        detail: 'desired count',
        from: '0',
        to: '2',
      },
    ]);
    expect(mocks.ecs.commandCalls(UpdateServiceCommand)[0]?.args[0].input.desiredCount).toBe(2);
  });

  it('sends no desiredCount when the count is at the minimum, even with a new task definition', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [activeService({ taskDefinition: 'arn:old:2', desiredCount: 2 })] });
    mocks.ecs.on(UpdateServiceCommand).resolves({ service: activeService() });

    await ensureService(ctx, scaled);

    expect(mocks.ecs.commandCalls(UpdateServiceCommand)[0]?.args[0].input).not.toHaveProperty(
      'desiredCount',
    );
  });

  it('updates a new task definition without sending desiredCount, so the scaled count stays', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [activeService({ taskDefinition: 'arn:old:2', desiredCount: 5 })] });
    mocks.ecs.on(UpdateServiceCommand).resolves({ service: activeService() });

    await ensureService(ctx, scaled);

    const input = mocks.ecs.commandCalls(UpdateServiceCommand)[0]?.args[0].input;
    expect(input?.taskDefinition).toBe(TD_ARN);
    expect(input).not.toHaveProperty('desiredCount');
  });
});
