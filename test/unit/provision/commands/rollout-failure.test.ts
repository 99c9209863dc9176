import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ListTasksCommand,
} from '@aws-sdk/client-ecs';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { describe, expect, it } from 'vitest';
import { describeError } from '../../../../cli/errors.js';
import { withTargetHealth } from '../../../../provision/commands/up.js';
import {
  stoppedTaskLines,
  withStoppedTaskLogs,
} from '../../../../provision/commands/rollout-failure.js';
import {
  DeploymentFailedError,
  waitForDeployment,
} from '../../../../provision/resources/ecs/index.js';
import { testContext } from '../../support/context.js';
import { failedRolloutService } from '../resources/ecs/fixtures.js';

const at = (ms: number) => new Date(Date.UTC(2026, 0, 5, 12, 0, 0) + ms);
const TASK = 'arn:aws:ecs:us-east-1:123456789012:task/iclinic/0a1b2c3d4e5f60718293a4b5c6d7e8f9';

/** A rollout whose tasks crash at start: what ECS, the load balancer and the logs say. */
function failedRollout() {
  const { ctx, mocks } = testContext();
  mocks.ecs.on(DescribeServicesCommand).resolves({
    services: [failedRolloutService(at(1000))],
  });
  mocks.ecs.on(ListTasksCommand).resolves({ taskArns: [TASK] });
  mocks.ecs.on(DescribeTasksCommand).resolves({
    tasks: [
      {
        taskArn: TASK,
        taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/iclinic-api:7',
        startedBy: 'ecs-svc/9',
        stoppedReason: 'Essential container in task exited',
        stoppedAt: at(9000),
      },
    ],
  });
  mocks.ecs.on(DescribeTaskDefinitionCommand).resolves({
    taskDefinition: {
      containerDefinitions: [
        {
          name: 'api',
          logConfiguration: {
            logDriver: 'awslogs',
            options: { 'awslogs-group': '/ecs/iclinic', 'awslogs-stream-prefix': 'api' },
          },
        },
      ],
    },
  });
  mocks.logs.on(GetLogEventsCommand).resolves({
    events: [
      {
        timestamp: at(4000).getTime(),
        message: JSON.stringify({
          time: at(4000).toISOString(),
          level: 'info',
          msg: 'listening',
          port: 8080,
        }),
      },
      {
        timestamp: at(5000).getTime(),
        message: 'Error: TOKEN_SECRET is not valid JSON',
      },
    ],
  });
  mocks.elbv2.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });
  return { ctx, mocks };
}

async function failedUpError(): Promise<unknown> {
  const { ctx } = failedRollout();
  return waitForDeployment(ctx, { deploymentId: 'ecs-svc/9', timeoutMs: 60_000, since: at(0) })
    .catch((error: unknown) => withTargetHealth(ctx, 'arn:tg', error))
    .catch((error: unknown) => withStoppedTaskLogs(ctx, error))
    .catch((error: unknown) => error);
}

describe('a failed rollout', () => {
  it('ends with the last log lines of the stopped task of that deployment', async () => {
    const error = await failedUpError();
    expect(error).toBeInstanceOf(DeploymentFailedError);
    const text = `error: ${describeError(error, { region: 'us-east-1', env: {} })}`;
    // The capture in the report is this text.
    if (process.env.SHOW_FAILED_ROLLOUT) process.stdout.write(`${text}\n`);
    expect(text).toContain('circuit breaker: tasks failed to start');
    expect(text).toContain('Essential container in task exited');
    expect(text).toContain('Last log lines of stopped task 0a1b2c3d4e5f60718293a4b5c6d7e8f9:');
    expect(text).toContain('Error: TOKEN_SECRET is not valid JSON');
    expect(text.indexOf('Last log lines')).toBeGreaterThan(text.indexOf('Target health'));
  });

  it('reads the stream of that task under the task definition awslogs settings', async () => {
    const { ctx, mocks } = failedRollout();
    await withStoppedTaskLogs(
      ctx,
      new DeploymentFailedError('Deployment ecs-svc/9 FAILED', 'ecs-svc/9', []),
    ).catch(() => undefined);
    expect(mocks.logs.commandCalls(GetLogEventsCommand)[0]?.args[0].input).toMatchObject({
      logGroupName: '/ecs/iclinic',
      logStreamName: 'api/api/0a1b2c3d4e5f60718293a4b5c6d7e8f9',
    });
  });

  it('keeps the original failure when the logs cannot be read, with one line saying so', async () => {
    const { ctx, mocks } = failedRollout();
    mocks.ecs.on(ListTasksCommand).rejects(new Error('not authorized to ListTasks'));
    const error = await withStoppedTaskLogs(
      ctx,
      new DeploymentFailedError('Deployment ecs-svc/9 FAILED', 'ecs-svc/9', []),
    ).catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      "Deployment ecs-svc/9 FAILED\n(Could not read the stopped tasks' logs: not authorized to ListTasks)",
    );
  });

  it('passes any other error through unchanged', async () => {
    const { ctx } = testContext();
    const other = new Error('throttled');
    await expect(withStoppedTaskLogs(ctx, other)).rejects.toBe(other);
  });

  it('says so when a stopped task wrote nothing', () => {
    expect(stoppedTaskLines([{ taskId: 'abc', lines: [] }])).toEqual([
      'Stopped task abc wrote no log lines (it may have failed before starting).',
    ]);
  });
});
