import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTasksCommand,
} from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import {
  DeploymentFailedError,
  waitForDeployment,
} from '../../../../../provision/resources/ecs/index.js';
import { testContext } from '../../../support/context.js';
import { activeService, failedRolloutService } from './fixtures.js';

describe('waitForDeployment', () => {
  const at = (offsetMs: number) => new Date(Date.parse('2026-01-01T00:00:00Z') + offsetMs);

  it('succeeds when the given deployment reaches COMPLETED', async () => {
    const { ctx, mocks } = testContext();
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
    const { ctx, mocks } = testContext();
    mocks.ecs.on(DescribeServicesCommand).resolves({
      services: [failedRolloutService(at(1000))],
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
    const { ctx, mocks } = testContext();
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
    const { ctx, mocks } = testContext();
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
    const { ctx, mocks } = testContext();
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
    const { ctx, mocks } = testContext();
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
    const { ctx, mocks, clock } = testContext();
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
    const { ctx, mocks, clock } = testContext();
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

  it('stops polling once the signal aborts, so a failed run does not wait out the rollout', async () => {
    const { ctx, mocks } = testContext();
    const controller = new AbortController();
    let reads = 0;
    mocks.ecs.on(DescribeServicesCommand).callsFake(() => {
      // Another step of the run fails while this one waits.
      if ((reads += 1) === 2) controller.abort(new Error('autoscaling failed'));
      return {
        services: [
          activeService({
            deployments: [{ id: 'ecs-svc/9', status: 'PRIMARY', rolloutState: 'IN_PROGRESS' }],
          }),
        ],
      };
    });

    const error = await waitForDeployment(ctx, {
      deploymentId: 'ecs-svc/9',
      timeoutMs: 3_600_000,
      signal: controller.signal,
    }).catch((e: unknown) => e);

    expect((error as Error).message).toBe('autoscaling failed');
    expect(mocks.ecs.commandCalls(DescribeServicesCommand)).toHaveLength(2);
  });

  it('times out with the details and the elapsed time', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs.on(DescribeServicesCommand).resolves({
      services: [
        activeService({
          deployments: [
            {
              id: 'ecs-svc/9',
              status: 'PRIMARY',
              rolloutState: 'IN_PROGRESS',
              rolloutStateReason: 'ECS deployment ecs-svc/9 in progress.',
              runningCount: 1,
              desiredCount: 2,
            },
          ],
        }),
      ],
    });
    mocks.ecs.on(ListTasksCommand).resolves({ taskArns: ['arn:task/7'] });
    mocks.ecs.on(DescribeTasksCommand).resolves({
      tasks: [{ taskArn: 'arn:task/7', stoppedReason: 'Task failed ELB health checks' }],
    });

    const error = await waitForDeployment(ctx, {
      deploymentId: 'ecs-svc/9',
      timeoutMs: 30_000,
    }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DeploymentFailedError);
    // Polled at 0, 6, 12, 18, 24 and 30 s: one more interval would pass the 30 s timeout.
    expect((error as Error).message).toBe(
      [
        'Deployment ecs-svc/9 of iclinic-api timed out after 30 s (rollout IN_PROGRESS, 1/2 running).',
        'Rollout: ECS deployment ecs-svc/9 in progress.',
        'Recently stopped tasks:',
        '  stopped task 7: Task failed ELB health checks',
      ].join('\n'),
    );
    expect(mocks.ecs.commandCalls(DescribeServicesCommand)).toHaveLength(6);
  });

  it('prints each new service event once, and none from before the wait', async () => {
    const { ctx, mocks, report } = testContext();
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
