// The rules waitForDeployment and set-token's undo decide with (which
// PRIMARY replaced ours, whether ECS rolled ours back), and what a failed
// deployment tells the user: events, stopped tasks, their order and format.
import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  UpdateServiceCommand,
  type Deployment,
  type Service,
} from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import {
  DeploymentFailedError,
  primaryDeploymentId,
  replacingDeployment,
  rolledBackByEcs,
  rollService,
  waitForDeployment,
} from '../../../../../provision/resources/ecs/index.js';
import { awsError, testContext } from '../../../support/context.js';
import { activeService } from './fixtures.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (offsetMs: number) => new Date(T0 + offsetMs);
const PREVIOUS = 'arn:aws:ecs:us-east-1:123456789012:task-definition/iclinic-api:3';
const NEW = 'arn:aws:ecs:us-east-1:123456789012:task-definition/iclinic-api:4';

const primary = (id: string, extra: Partial<Deployment> = {}): Deployment => ({
  id,
  status: 'PRIMARY',
  ...extra,
});
const withDeployments = (...deployments: Deployment[]): Service => ({ deployments });

describe('replacingDeployment', () => {
  const cases: [
    string,
    Service,
    { createdAt: Date | undefined; seen: boolean },
    string | undefined,
  ][] = [
    ['no PRIMARY at all', withDeployments(), { createdAt: at(0), seen: true }, undefined],
    [
      'ours still PRIMARY',
      withDeployments(primary('ours')),
      { createdAt: at(0), seen: true },
      undefined,
    ],
    [
      'a PRIMARY created after ours',
      withDeployments(primary('new', { createdAt: at(1) })),
      { createdAt: at(0), seen: false },
      'new',
    ],
    [
      'a PRIMARY created at the same instant',
      withDeployments(primary('same', { createdAt: at(0) })),
      { createdAt: at(0), seen: true },
      undefined,
    ],
    [
      'an older PRIMARY (a stale read), even once ours was seen',
      withDeployments(primary('old', { createdAt: at(-1) })),
      { createdAt: at(0), seen: true },
      undefined,
    ],
    [
      'another PRIMARY of unknown age once ours was seen',
      withDeployments(primary('other')),
      { createdAt: at(0), seen: true },
      'other',
    ],
    [
      'another PRIMARY of unknown age before ours was seen',
      withDeployments(primary('other')),
      { createdAt: at(0), seen: false },
      undefined,
    ],
    [
      'another dated PRIMARY when our age is unknown, ours seen',
      withDeployments(primary('other', { createdAt: at(-1) })),
      { createdAt: undefined, seen: true },
      'other',
    ],
  ];
  it.each(cases)('with %s', (_case, service, ours, expected) => {
    expect(replacingDeployment(service, 'ours', ours)?.id).toBe(expected);
  });
});

describe('rolledBackByEcs', () => {
  const ours = { id: 'ours', createdAt: at(0) };
  const cases: [string, Service | undefined, typeof ours | { id: string }, boolean][] = [
    ['no service', undefined, ours, false],
    ['no PRIMARY', withDeployments(), ours, false],
    ['ours still PRIMARY', withDeployments(primary('ours', { createdAt: at(5) })), ours, false],
    [
      'a newer PRIMARY on the previous revision',
      withDeployments(primary('back', { createdAt: at(5), taskDefinition: PREVIOUS })),
      ours,
      true,
    ],
    [
      'a newer PRIMARY whose revision only the service names',
      { taskDefinition: PREVIOUS, deployments: [primary('back', { createdAt: at(5) })] },
      ours,
      true,
    ],
    [
      'a newer PRIMARY on another revision than the previous one',
      {
        taskDefinition: PREVIOUS,
        deployments: [primary('other', { createdAt: at(5), taskDefinition: NEW })],
      },
      ours,
      false,
    ],
    [
      'a PRIMARY on the previous revision created at the same instant',
      withDeployments(primary('back', { createdAt: at(0), taskDefinition: PREVIOUS })),
      ours,
      false,
    ],
    [
      'an older PRIMARY on the previous revision (a stale read)',
      withDeployments(primary('old', { createdAt: at(-5), taskDefinition: PREVIOUS })),
      ours,
      false,
    ],
    [
      'a PRIMARY on the previous revision of unknown age',
      withDeployments(primary('back', { taskDefinition: PREVIOUS })),
      ours,
      false,
    ],
    [
      'a newer PRIMARY on the previous revision when our age is unknown',
      withDeployments(primary('back', { createdAt: at(5), taskDefinition: PREVIOUS })),
      { id: 'ours' },
      false,
    ],
  ];
  it.each(cases)('is %s → %s', (_case, service, mine, expected) => {
    expect(rolledBackByEcs(service, mine, PREVIOUS)).toBe(expected);
  });
});

describe('primaryDeploymentId and rollService', () => {
  it('reads the PRIMARY deployment, or nothing without a service', () => {
    expect(primaryDeploymentId(undefined)).toBeUndefined();
    expect(primaryDeploymentId(withDeployments({ id: 'a', status: 'ACTIVE' }, primary('b')))).toBe(
      'b',
    );
  });

  it('returns the PRIMARY deployment UpdateService started, or nothing when it lists none', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs
      .on(UpdateServiceCommand)
      .resolvesOnce({ service: withDeployments(primary('ecs-svc/7', { createdAt: at(3) })) })
      .resolvesOnce({ service: withDeployments() });
    expect(await rollService(ctx, NEW)).toEqual({ deploymentId: 'ecs-svc/7', createdAt: at(3) });
    expect(await rollService(ctx, NEW)).toEqual({ deploymentId: undefined, createdAt: undefined });
  });
});

describe('DeploymentFailedError', () => {
  it('carries the deployment id and puts each detail on its own line', () => {
    const error = new DeploymentFailedError('Deployment d of s failed.', 'd', ['one', 'two']);
    expect(error.name).toBe('DeploymentFailedError');
    expect(error.deploymentId).toBe('d');
    expect(error.details).toEqual(['one', 'two']);
    expect(error.message).toBe('Deployment d of s failed.\none\ntwo');
  });
});

/** A failed rollout whose service shows `events` (newest first, as ECS lists them). */
function failedWith(events: Service['events']) {
  const { ctx, mocks, report } = testContext();
  mocks.ecs.on(DescribeServicesCommand).resolves({
    services: [
      activeService({
        deployments: [
          primary('ecs-svc/9', { rolloutState: 'FAILED', rolloutStateReason: 'tasks failed' }),
        ],
        events,
      }),
    ],
  });
  return { ctx, mocks, report };
}

/** The error waitForDeployment fails with. */
async function failure(ctx: ReturnType<typeof testContext>['ctx']): Promise<Error> {
  try {
    await waitForDeployment(ctx, { deploymentId: 'ecs-svc/9', timeoutMs: 60_000 });
  } catch (error) {
    return error as Error;
  }
  throw new Error('the deployment did not fail');
}

describe('a failed deployment’s details', () => {
  it('shows the five latest service events, oldest first, to the second', async () => {
    const events = [6, 5, 4, 3, 2, 1].map((n) => ({
      id: `e${n}`,
      createdAt: at(n * 1_000 + 234),
      message: `event ${n}`,
    }));
    const { ctx, mocks } = failedWith([...events, { id: 'e0', message: '  undated  ' }]);
    mocks.ecs.on(ListTasksCommand).resolves({ taskArns: [] });

    const error = await failure(ctx);

    expect(error.message).toBe(
      [
        'Deployment ecs-svc/9 of iclinic-api failed.',
        'Rollout: tasks failed',
        'Latest service events:',
        '  2026-01-01T00:00:02Z event 2',
        '  2026-01-01T00:00:03Z event 3',
        '  2026-01-01T00:00:04Z event 4',
        '  2026-01-01T00:00:05Z event 5',
        '  2026-01-01T00:00:06Z event 6',
      ].join('\n'),
    );
    expect(mocks.ecs.commandCalls(DescribeTasksCommand)).toHaveLength(0);
    expect(mocks.ecs.commandCalls(ListTasksCommand)[0]?.args[0].input).toEqual({
      cluster: 'iclinic',
      serviceName: 'iclinic-api',
      desiredStatus: 'STOPPED',
    });
  });

  it('formats an undated event as its message alone', async () => {
    const { ctx, mocks } = failedWith([{ id: 'e1', message: 'no date here' }]);
    mocks.ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    expect((await failure(ctx)).message).toContain('\n  no date here');
  });

  it('shows the three most recently stopped tasks with their container reasons', async () => {
    const { ctx, mocks } = failedWith([]);
    const arns = Array.from({ length: 12 }, (_, i) => `arn:aws:ecs:task/iclinic/t${i}`);
    mocks.ecs.on(ListTasksCommand).resolves({ taskArns: arns });
    mocks.ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        { taskArn: 'arn:aws:ecs:task/iclinic/t1', stoppedReason: 'oldest', stoppedAt: at(1) },
        {
          taskArn: 'arn:aws:ecs:task/iclinic/t3',
          stoppedReason: 'Essential container in task exited',
          stoppedAt: at(3),
          containers: [
            { reason: 'CannotPullContainerError: not found' },
            { reason: '' },
            { name: 'sidecar' },
          ],
        },
        { stoppedAt: at(2) },
        { taskArn: 'arn:aws:ecs:task/iclinic/t4', stoppedReason: 'newest', stoppedAt: at(4) },
      ],
    });

    const error = await failure(ctx);

    expect(error.message).toBe(
      [
        'Deployment ecs-svc/9 of iclinic-api failed.',
        'Rollout: tasks failed',
        'Recently stopped tasks:',
        '  stopped task t4: newest',
        '  stopped task t3: Essential container in task exited; CannotPullContainerError: not found',
        '  stopped task task: no reason given',
      ].join('\n'),
    );
    expect(mocks.ecs.commandCalls(DescribeTasksCommand)[0]?.args[0].input).toEqual({
      cluster: 'iclinic',
      tasks: arns.slice(0, 10),
    });
  });

  it('lists tasks still stopping (no stoppedAt yet) after those that stopped', async () => {
    const { ctx, mocks } = failedWith([]);
    mocks.ecs.on(ListTasksCommand).resolves({ taskArns: ['t1', 't2', 't3'] });
    // ListTasks with desiredStatus STOPPED also lists tasks told to stop that have not yet.
    mocks.ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        { taskArn: 'arn:aws:ecs:task/iclinic/t1', stoppedReason: 'stopping' },
        { taskArn: 'arn:aws:ecs:task/iclinic/t2', stoppedReason: 'stopped', stoppedAt: at(1) },
        { taskArn: 'arn:aws:ecs:task/iclinic/t3', stoppedReason: 'also stopping' },
      ],
    });

    expect((await failure(ctx)).message).toBe(
      [
        'Deployment ecs-svc/9 of iclinic-api failed.',
        'Rollout: tasks failed',
        'Recently stopped tasks:',
        '  stopped task t2: stopped',
        '  stopped task t1: stopping',
        '  stopped task t3: also stopping',
      ].join('\n'),
    );
  });

  it('says why the stopped tasks could not be listed, and still fails with the rollout', async () => {
    const { ctx, mocks } = failedWith([]);
    mocks.ecs.on(ListTasksCommand).rejects(awsError('AccessDeniedException', 'no'));
    expect((await failure(ctx)).message).toBe(
      [
        'Deployment ecs-svc/9 of iclinic-api failed.',
        'Rollout: tasks failed',
        'Recently stopped tasks:',
        '  (could not list stopped tasks: AccessDeniedException)',
      ].join('\n'),
    );
  });
});

describe('waitForDeployment reads', () => {
  it('prints the events of the wait in time order, from its first instant on, only those with an id', async () => {
    const { ctx, mocks, report } = testContext();
    // Neither newest first nor oldest first: only sorting by time orders them.
    const events = [
      { id: 'middle', createdAt: at(1_000), message: 'second' },
      { message: 'no id', createdAt: at(1_500) },
      { id: 'undated', message: 'undated' },
      { id: 'late', createdAt: at(2_000), message: 'third' },
      { id: 'first', createdAt: at(0), message: 'first' },
      { id: 'before', createdAt: at(-1), message: 'before the wait' },
    ];
    mocks.ecs.on(DescribeServicesCommand).resolves({
      services: [
        activeService({
          deployments: [primary('ecs-svc/9', { rolloutState: 'COMPLETED' })],
          events,
        }),
      ],
    });

    await waitForDeployment(ctx, { deploymentId: 'ecs-svc/9', timeoutMs: 60_000 });

    expect(report.progressLines).toEqual(['ECS: first', 'ECS: second', 'ECS: third']);
  });

  it('never takes a service that is not ACTIVE for a completed deployment', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs.on(DescribeServicesCommand).resolves({
      services: [
        activeService({
          status: 'DRAINING',
          deployments: [primary('ecs-svc/9', { rolloutState: 'COMPLETED' })],
        }),
      ],
    });
    mocks.ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    await expect(
      waitForDeployment(ctx, { deploymentId: 'ecs-svc/9', timeoutMs: 600_000 }),
    ).rejects.toThrow(
      'ECS service iclinic-api is DRAINING in DescribeServices 60 s after deployment ecs-svc/9 started; run "npx iclinic-deploy up" again.',
    );
  });

  it('takes a service that lists no deployments as not showing ours yet, naming no primary', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [activeService({ deployments: undefined })] });
    mocks.ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    await expect(
      waitForDeployment(ctx, { deploymentId: 'ecs-svc/9', timeoutMs: 600_000 }),
    ).rejects.toThrow(
      'Deployment ecs-svc/9 of iclinic-api has not been listed by DescribeServices for 60 s ' +
        '(primary deployment: none); run "npx iclinic-deploy status" to see what runs, then run the command again.',
    );
  });

  it('remembers when ours was created once seen, so a later stale read is not a rollback', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({
        services: [
          activeService({
            deployments: [primary('ecs-svc/9', { rolloutState: 'IN_PROGRESS', createdAt: at(0) })],
          }),
        ],
      })
      .resolvesOnce({
        services: [
          activeService({ deployments: [primary('ecs-svc/1', { createdAt: at(-86_400_000) })] }),
        ],
      })
      .resolves({
        services: [
          activeService({
            deployments: [primary('ecs-svc/9', { rolloutState: 'COMPLETED', createdAt: at(0) })],
          }),
        ],
      });
    await expect(
      waitForDeployment(ctx, { deploymentId: 'ecs-svc/9', timeoutMs: 600_000 }),
    ).resolves.toBeUndefined();
    expect(mocks.ecs.commandCalls(DescribeServicesCommand)).toHaveLength(3);
  });

  it('names the replacing deployment, or "?" when ECS gives it no id', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs.on(DescribeServicesCommand).resolves({
      services: [activeService({ deployments: [{ status: 'PRIMARY', createdAt: at(5) }] })],
    });
    mocks.ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    await expect(
      waitForDeployment(ctx, {
        deploymentId: 'ecs-svc/9',
        deploymentCreatedAt: at(0),
        timeoutMs: 600_000,
      }),
    ).rejects.toThrow(
      'Deployment ecs-svc/9 of iclinic-api is gone: the circuit breaker rolled it back (the newer deployment ? is now the primary one).',
    );
  });

  it('times out, when the deployment was never listed, saying so', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [activeService({ deployments: [primary('ecs-svc/1')] })] });
    mocks.ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    await expect(
      waitForDeployment(ctx, { deploymentId: 'ecs-svc/9', timeoutMs: 20_000 }),
    ).rejects.toThrow(
      'Deployment ecs-svc/9 of iclinic-api timed out after 18 s (not listed by DescribeServices yet).',
    );
  });

  it('times out naming an unknown rollout state and missing counts as such', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [activeService({ deployments: [primary('ecs-svc/9')] })] });
    mocks.ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    await expect(
      waitForDeployment(ctx, { deploymentId: 'ecs-svc/9', timeoutMs: 20_000 }),
    ).rejects.toThrow(
      'Deployment ecs-svc/9 of iclinic-api timed out after 18 s (rollout unknown, 0/0 running).',
    );
  });
});
