import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  UpdateServiceCommand,
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

    const error = await waitForDeployment(ctx, {
      deploymentId: 'ecs-svc/9',
      timeoutMs: 600_000,
    }).catch((e: unknown) => e);

    // No service: no events and no rollout to detail.
    expect((error as Error).message).toBe(
      'ECS service iclinic-api is missing in DescribeServices 60 s after deployment ecs-svc/9 started; run "npx iclinic-deploy up" again.',
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

describe('waitForDeployment on a first deployment that failed on IAM propagation', () => {
  const at = (offsetMs: number) => new Date(Date.parse('2026-01-01T00:00:00Z') + offsetMs);
  const ROLE = 'arn:aws:iam::123456789012:role/iclinic-us-east-1-exec';
  // ECS's own wording, as tasks report it right after the role was created.
  const CANNOT_ASSUME = `ECS was unable to assume the role '${ROLE}' that was provided for this task. Please verify that the role being passed has the proper trust relationship and permissions and that your IAM user has permissions to pass this role.`;
  const CANNOT_READ_SECRET =
    'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret arn:aws:secretsmanager:us-east-1:123456789012:secret:iclinic/api-token-AbCdEf from secrets manager: AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/iclinic-us-east-1-exec/0f1e is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:123456789012:secret:iclinic/api-token-AbCdEf because no identity-based policy allows the secretsmanager:GetSecretValue action status code: 400';
  const stoppedWith = (...reasons: string[]) => ({
    tasks: reasons.map((stoppedReason, i) => ({
      taskArn: `arn:aws:ecs:us-east-1:123456789012:task/iclinic/${i}`,
      stoppedReason,
      stoppedAt: at(1000 + i),
    })),
  });
  const failedFirst = failedRolloutService(at(500));
  const completed = (id: string) => ({
    services: [
      activeService({ deployments: [{ id, status: 'PRIMARY', rolloutState: 'COMPLETED' }] }),
    ],
  });

  function firstDeployment(stopped: ReturnType<typeof stoppedWith>) {
    const { ctx, mocks, report } = testContext();
    mocks.ecs.on(ListTasksCommand).resolves({ taskArns: stopped.tasks.map((t) => t.taskArn) });
    mocks.ecs.on(DescribeTasksCommand).resolves(stopped);
    mocks.ecs.on(UpdateServiceCommand).resolves({
      service: {
        deployments: [
          {
            id: 'ecs-svc/10',
            status: 'PRIMARY',
            rolloutState: 'IN_PROGRESS',
            createdAt: at(90_000),
          },
        ],
      },
    });
    return { ctx, mocks, report };
  }

  it('starts a new deployment once when every task stopped on the role, and follows it', async () => {
    const { ctx, mocks, report } = firstDeployment(stoppedWith(CANNOT_ASSUME, CANNOT_READ_SECRET));
    mocks.ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [failedFirst] })
      .resolves(completed('ecs-svc/10'));

    await expect(
      waitForDeployment(ctx, { deploymentId: 'ecs-svc/9', timeoutMs: 600_000 }),
    ).resolves.toBeUndefined();

    expect(mocks.ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input)).toEqual([
      {
        cluster: 'iclinic',
        service: 'iclinic-api',
        taskDefinition: failedFirst.taskDefinition,
        forceNewDeployment: true,
      },
    ]);
    expect(report.progressLines.join('\n')).toMatch(
      /Deployment ecs-svc\/9 failed because its tasks could not use the new execution role yet \(IAM propagation\); starting a new deployment/,
    );
  });

  it('fails after that one new deployment fails the same way', async () => {
    const { ctx, mocks } = firstDeployment(stoppedWith(CANNOT_ASSUME));
    const secondFailed = activeService({
      deployments: [{ id: 'ecs-svc/10', status: 'PRIMARY', rolloutState: 'FAILED' }],
    });
    mocks.ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [failedFirst] })
      .resolves({ services: [secondFailed] });

    const error = await waitForDeployment(ctx, {
      deploymentId: 'ecs-svc/9',
      timeoutMs: 600_000,
    }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DeploymentFailedError);
    expect((error as Error).message).toMatch(/^Deployment ecs-svc\/10 of iclinic-api failed\./);
    expect(mocks.ecs.commandCalls(UpdateServiceCommand)).toHaveLength(1);
  });

  /** ecs-svc/9 stays IN_PROGRESS until `failsAtMs` into the wait, then FAILED; then `after`. */
  function failingAt(failsAtMs: number, clock: { now(): number }, after: () => unknown) {
    const inProgress = {
      services: [
        activeService({
          deployments: [{ id: 'ecs-svc/9', status: 'PRIMARY', rolloutState: 'IN_PROGRESS' }],
        }),
      ],
    };
    const start = clock.now();
    let failed = false;
    return () => {
      const elapsed = clock.now() - start;
      if (elapsed < failsAtMs) return inProgress;
      if (!failed) {
        failed = true;
        return { services: [failedFirst] };
      }
      return after();
    };
  }

  it.each([
    ['starts a new deployment with a minute of the timeout left', 120_000, 1],
    ['does not start a new deployment with less than a minute left', 114_000, 0],
  ])('%s', async (_name, timeoutMs, restarts) => {
    const { ctx, mocks } = firstDeployment(stoppedWith(CANNOT_ASSUME));
    // Ten reads 6 s apart IN_PROGRESS, FAILED at 60 s.
    mocks.ecs
      .on(DescribeServicesCommand)
      .callsFake(failingAt(60_000, ctx.clock, () => completed('ecs-svc/10')));

    const outcome = await waitForDeployment(ctx, { deploymentId: 'ecs-svc/9', timeoutMs }).then(
      () => 'completed',
      (e: unknown) => (e as Error).message.split('\n')[0],
    );

    expect(outcome).toBe(
      restarts === 1 ? 'completed' : 'Deployment ecs-svc/9 of iclinic-api failed.',
    );
    expect(mocks.ecs.commandCalls(UpdateServiceCommand)).toHaveLength(restarts);
  });

  it('gives the new deployment only what is left of the timeout', async () => {
    const { ctx, mocks } = firstDeployment(stoppedWith(CANNOT_ASSUME));
    const { clock } = ctx;
    const started = clock.now();
    // FAILED at 300 s of 600; the new deployment would complete only at 900 s.
    mocks.ecs.on(DescribeServicesCommand).callsFake(
      failingAt(300_000, clock, () =>
        clock.now() - started < 900_000
          ? {
              services: [
                activeService({
                  deployments: [
                    { id: 'ecs-svc/10', status: 'PRIMARY', rolloutState: 'IN_PROGRESS' },
                  ],
                }),
              ],
            }
          : completed('ecs-svc/10'),
      ),
    );

    const error = await waitForDeployment(ctx, {
      deploymentId: 'ecs-svc/9',
      timeoutMs: 600_000,
    }).catch((e: unknown) => e);

    expect((error as Error).message.split('\n')[0]).toBe(
      'Deployment ecs-svc/10 of iclinic-api timed out after 300 s (rollout IN_PROGRESS, 0/0 running).',
    );
    expect(clock.now() - started).toBeLessThanOrEqual(600_000);
  });

  it('fails with the first deployment’s failure when the new one cannot be followed', async () => {
    const { ctx, mocks } = firstDeployment(stoppedWith(CANNOT_ASSUME));
    // UpdateService answers without a PRIMARY deployment.
    mocks.ecs.on(UpdateServiceCommand).resolves({ service: { deployments: [] } });
    mocks.ecs.on(DescribeServicesCommand).resolves({ services: [failedFirst] });

    const error = await waitForDeployment(ctx, {
      deploymentId: 'ecs-svc/9',
      timeoutMs: 600_000,
    }).catch((e: unknown) => e);

    expect((error as Error).message.split('\n')[0]).toBe(
      'Deployment ecs-svc/9 of iclinic-api failed.',
    );
    expect(mocks.ecs.commandCalls(UpdateServiceCommand)).toHaveLength(1);
  });

  it('follows the new deployment from its creation time, so one replacing it is reported at once', async () => {
    const { ctx, mocks } = firstDeployment(stoppedWith(CANNOT_ASSUME));
    const { clock } = ctx;
    // UpdateService created ecs-svc/10 at 90 s; a newer PRIMARY shows before it is ever listed.
    const newer = activeService({
      deployments: [{ id: 'ecs-svc/11', status: 'PRIMARY', createdAt: at(95_000) }],
    });
    mocks.ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [failedFirst] })
      .resolves({ services: [newer] });
    const started = clock.now();

    const error = await waitForDeployment(ctx, {
      deploymentId: 'ecs-svc/9',
      timeoutMs: 600_000,
    }).catch((e: unknown) => e);

    expect((error as Error).message.split('\n')[0]).toBe(
      'Deployment ecs-svc/10 of iclinic-api is gone: the circuit breaker rolled it back (the newer deployment ecs-svc/11 is now the primary one).',
    );
    expect(clock.now() - started).toBeLessThan(60_000);
  });

  it('does not start again when a task stopped for another reason', async () => {
    const { ctx, mocks } = firstDeployment(
      stoppedWith(
        CANNOT_ASSUME,
        'CannotPullContainerError: pull image manifest has been retried 5 time(s): not found',
      ),
    );
    mocks.ecs.on(DescribeServicesCommand).resolves({ services: [failedFirst] });

    await expect(
      waitForDeployment(ctx, { deploymentId: 'ecs-svc/9', timeoutMs: 600_000 }),
    ).rejects.toThrow(/^Deployment ecs-svc\/9 of iclinic-api failed\./);
    expect(mocks.ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });

  it('does not start again a deployment that was not the first one', async () => {
    const { ctx, mocks } = firstDeployment(stoppedWith(CANNOT_ASSUME));
    const withEarlier = activeService({
      deployments: [
        ...(failedFirst.deployments ?? []),
        { id: 'ecs-svc/1', status: 'ACTIVE', rolloutState: 'COMPLETED' },
      ],
    });
    mocks.ecs.on(DescribeServicesCommand).resolves({ services: [withEarlier] });

    await expect(
      waitForDeployment(ctx, { deploymentId: 'ecs-svc/9', timeoutMs: 600_000 }),
    ).rejects.toThrow(DeploymentFailedError);
    expect(mocks.ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });
});
