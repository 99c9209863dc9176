import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type Deployment,
  type RegisterTaskDefinitionCommandInput,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ignoreEvents } from '../../../../provision/events.js';
import { runGraph } from '../../../../provision/graph.js';
import {
  rollbackGraph,
  type RollbackSettings,
} from '../../../../provision/commands/rollback-graph.js';
import { mutatingOperations, testContext } from '../../support/context.js';

const FAMILY_ARN = 'arn:aws:ecs:us-east-1:123456789012:task-definition/iclinic-api';
const TOKEN = 'current-token-0123456789';
const TARGET_GROUP_ARN =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/iclinic-tg/1';
const TASK_ARN = 'arn:aws:ecs:us-east-1:123456789012:task/iclinic/0a1b2c3d4e5f';

const revision = (n: number, image: string): TaskDefinition => ({
  taskDefinitionArn: `${FAMILY_ARN}:${n}`,
  family: 'iclinic-api',
  revision: n,
  containerDefinitions: [{ name: 'api', image }],
});

afterEach(() => {
  vi.unstubAllGlobals();
});

interface StackOptions {
  /** The rollout state DescribeServices shows on its nth poll after UpdateService (from 1). */
  readonly rollout?: (poll: number) => Deployment['rolloutState'];
  /** Whether UpdateService lists the deployment it started. */
  readonly listsDeployment?: boolean;
  readonly loadBalancer?: boolean;
  readonly targetGroup?: boolean;
}

/**
 * A stack running revision 4 over 3 and 2 (three images); by default its
 * rollout completes on the second poll and it has a load balancer without a
 * target group. `events` in order.
 */
function deployedStack(options: StackOptions = {}) {
  const rollout = options.rollout ?? ((poll) => (poll >= 2 ? 'COMPLETED' : 'IN_PROGRESS'));
  const { ctx, mocks, clock } = testContext();
  const events: string[] = [];
  const revisions = [
    revision(2, 'repo/api:v0'),
    revision(3, 'repo/api:v1'),
    revision(4, 'repo/api:v2'),
  ];
  let polls = 0;
  mocks.ecs.on(DescribeServicesCommand).callsFake(() => {
    const updated = events.includes('UpdateService');
    if (updated) polls += 1;
    const rolloutState = updated ? rollout(polls) : 'COMPLETED';
    if (updated) events.push(`DescribeServices ${rolloutState ?? ''}`);
    const deployment: Deployment = { id: 'ecs-svc/42', status: 'PRIMARY', rolloutState };
    if (rolloutState === 'FAILED') {
      deployment.rolloutStateReason = 'ECS deployment circuit breaker: tasks failed to start.';
    }
    return {
      services: [
        {
          serviceName: 'iclinic-api',
          status: 'ACTIVE',
          taskDefinition: `${FAMILY_ARN}:${updated ? 5 : 4}`,
          deployments: [deployment],
        },
      ],
    };
  });
  mocks.ecs
    .on(ListTaskDefinitionsCommand)
    .resolves({ taskDefinitionArns: revisions.map((r) => r.taskDefinitionArn ?? '').reverse() });
  mocks.ecs.on(DescribeTaskDefinitionCommand).callsFake((input: { taskDefinition: string }) => ({
    taskDefinition: revisions.find(
      (r) =>
        r.taskDefinitionArn === input.taskDefinition ||
        `iclinic-api:${r.revision ?? 0}` === input.taskDefinition,
    ),
  }));
  mocks.ecs
    .on(RegisterTaskDefinitionCommand)
    .callsFake((input: RegisterTaskDefinitionCommandInput) => {
      events.push(`RegisterTaskDefinition ${input.containerDefinitions?.[0]?.image ?? ''}`);
      return { taskDefinition: { taskDefinitionArn: `${FAMILY_ARN}:5`, revision: 5 } };
    });
  mocks.ecs.on(UpdateServiceCommand).callsFake(() => {
    events.push('UpdateService');
    const deployments = [{ id: 'ecs-svc/42', status: 'PRIMARY', createdAt: new Date(clock.now()) }];
    return { service: { deployments: options.listsDeployment === false ? [] : deployments } };
  });
  mocks.ecs.on(ListTasksCommand).resolves({ taskArns: [TASK_ARN] });
  mocks.ecs.on(DescribeTasksCommand).resolves({
    tasks: [
      {
        taskArn: TASK_ARN,
        taskDefinitionArn: `${FAMILY_ARN}:5`,
        startedBy: 'ecs-svc/42',
        stoppedReason: 'Essential container in task exited',
        stoppedAt: new Date(clock.now()),
      },
    ],
  });
  mocks.logs.on(GetLogEventsCommand).resolves({
    events: [{ timestamp: clock.now(), message: 'Error: TOKEN_SECRET is not valid JSON' }],
  });
  mocks.elbv2.on(DescribeLoadBalancersCommand).resolves({
    LoadBalancers:
      options.loadBalancer === false
        ? []
        : [
            {
              LoadBalancerArn: 'arn:lb',
              DNSName: 'iclinic-alb.example.com',
              State: { Code: 'active' },
            },
          ],
  });
  mocks.elbv2.on(DescribeTargetGroupsCommand).resolves({
    TargetGroups: options.targetGroup === true ? [{ TargetGroupArn: TARGET_GROUP_ARN }] : [],
  });
  mocks.elbv2.on(DescribeTargetHealthCommand).resolves({
    TargetHealthDescriptions: [
      {
        Target: { Id: '10.0.1.23', Port: 8080 },
        TargetHealth: {
          State: 'unhealthy',
          Reason: 'Target.FailedHealthChecks',
          Description: 'Health checks failed',
        },
      },
    ],
  });
  mocks.elbv2
    .on(DescribeListenersCommand)
    .resolves({ Listeners: [{ ListenerArn: 'arn:l', Port: 80, Protocol: 'HTTP' }] });
  mocks.secrets.on(GetSecretValueCommand).resolves({
    SecretString: JSON.stringify({ token: TOKEN, previousToken: '', previousTokenValidUntil: '' }),
  });
  vi.stubGlobal('fetch', (input: string | URL | Request, init?: RequestInit) => {
    const auth = new Headers(init?.headers).get('authorization') ?? '';
    events.push(`GET ${String(input)} ${auth}`);
    return Promise.resolve(new Response('{}', { status: auth === `Token ${TOKEN}` ? 200 : 401 }));
  });
  return { ctx, mocks, clock, events };
}

type Stack = ReturnType<typeof deployedStack>;

function run(stack: Stack, settings: Partial<RollbackSettings> = {}) {
  return runGraph(rollbackGraph(stack.ctx, { timeoutMs: 600_000, verify: true, ...settings }), {
    events: ignoreEvents,
    clock: stack.clock,
    dryRun: stack.ctx.dryRun === true,
  });
}

/** What the progress output shows of each step once the run has ended. */
const shown = (records: ReturnType<typeof run>['records']) =>
  records.map((r) => [r.key, r.title, r.status, r.summary ?? r.error]);

describe('rollbackGraph', () => {
  it('waits for the deployment after the rollback and verifies after that', async () => {
    const stack = deployedStack();
    const graph = run(stack);

    const results = await graph.results;

    expect(stack.events).toEqual([
      'RegisterTaskDefinition repo/api:v1',
      'UpdateService',
      'DescribeServices IN_PROGRESS',
      'DescribeServices COMPLETED',
      `GET http://iclinic-alb.example.com/ Token ${TOKEN}`,
    ]);
    expect(results.rollback.deploymentId).toBe('ecs-svc/42');
    expect(results.rollout.url).toBe('http://iclinic-alb.example.com');
    expect(results.verify.verified).toBe(true);
    expect(shown(graph.records)).toEqual([
      [
        'rollback',
        'Register a copy of the earlier revision with the current token and deploy it',
        'created',
        undefined,
      ],
      ['rollout', 'Wait for the deployment', 'done', 'deployment ecs-svc/42 completed'],
      ['verify', 'Call the service with the current token', 'done', 'HTTP 200 after 1 attempt(s)'],
    ]);
  });

  it('rolls back to the revision given with --to', async () => {
    const stack = deployedStack();
    const results = await run(stack, { to: 2 }).results;
    expect(results.rollback.fromRevision).toBe(2);
    expect(stack.events[0]).toBe('RegisterTaskDefinition repo/api:v0');
  });

  it('in a dry run, plans the rollback and neither waits nor calls the service', async () => {
    const stack = deployedStack();
    const graph = run({ ...stack, ctx: { ...stack.ctx, dryRun: true } });

    const results = await graph.results;

    expect(results.rollout).toEqual({ url: undefined });
    expect(results.verify).toEqual({ verified: false });
    expect(shown(graph.records).map(([key, , status, summary]) => [key, status, summary])).toEqual([
      ['rollback', 'will-create', undefined],
      ['rollout', 'done', 'not run in a dry run'],
      ['verify', 'done', 'not run in a dry run'],
    ]);
    expect(stack.events).toEqual([]);
    expect(mutatingOperations(stack.mocks.ecs)).toEqual([]);
    expect(stack.mocks.elbv2.calls()).toEqual([]);
  });

  it('does not wait when UpdateService lists no deployment, and says so', async () => {
    const stack = deployedStack({ listsDeployment: false });
    const graph = run(stack);

    await graph.results;

    expect(stack.events.filter((e) => e.startsWith('DescribeServices'))).toEqual([]);
    expect(graph.records.find((r) => r.key === 'rollout')?.summary).toBe(
      'deployment (none listed) completed',
    );
  });

  it('skips the call to the service with --no-verify', async () => {
    const stack = deployedStack();
    const graph = run(stack, { verify: false });

    const results = await graph.results;

    expect(results.verify).toEqual({ verified: false });
    expect(graph.records.find((r) => r.key === 'verify')?.summary).toBe('skipped (--no-verify)');
    expect(stack.events.filter((e) => e.startsWith('GET'))).toEqual([]);
  });

  it('skips the call to the service when the stack has no load balancer', async () => {
    const stack = deployedStack({ loadBalancer: false });
    const graph = run(stack);

    const results = await graph.results;

    expect(results.rollout).toEqual({ url: undefined });
    expect(results.verify).toEqual({ verified: false });
    expect(graph.records.find((r) => r.key === 'verify')?.summary).toBe(
      'skipped (no load balancer found)',
    );
    expect(stack.events.filter((e) => e.startsWith('GET'))).toEqual([]);
  });

  it('gives up on a rollout that is still in progress when --timeout runs out', async () => {
    // Were it waited for past --timeout, it would complete after 20 minutes.
    const stack = deployedStack({ rollout: (poll) => (poll > 200 ? 'COMPLETED' : 'IN_PROGRESS') });
    const graph = run(stack, { timeoutMs: 300_000 });

    await expect(graph.results).rejects.toThrow(
      'Deployment ecs-svc/42 of iclinic-api timed out after 300 s (rollout IN_PROGRESS, 0/0 running).',
    );
    expect(stack.events.filter((e) => e.startsWith('GET'))).toEqual([]);
  });
});

describe('rollbackGraph when the rollout fails', () => {
  const failing = { rollout: () => 'FAILED' as const };

  it("reports the target health and the stopped task's last log lines", async () => {
    const stack = deployedStack({ ...failing, targetGroup: true });
    const graph = run(stack);

    const error = await graph.results.catch((e: unknown) => e);

    expect((error as Error).message).toBe(
      [
        'Deployment ecs-svc/42 of iclinic-api failed.',
        'Rollout: ECS deployment circuit breaker: tasks failed to start.',
        'Recently stopped tasks:',
        '  stopped task 0a1b2c3d4e5f: Essential container in task exited',
        'Target 10.0.1.23:8080 unhealthy (Target.FailedHealthChecks: Health checks failed)',
        'Last log lines of stopped task 0a1b2c3d4e5f:',
        '  2026-01-01T00:00:00.000Z 0a1b2c3d Error: TOKEN_SECRET is not valid JSON',
      ].join('\n'),
    );
    expect(stack.mocks.elbv2.commandCalls(DescribeTargetHealthCommand)[0]?.args[0].input).toEqual({
      TargetGroupArn: TARGET_GROUP_ARN,
    });
  });

  it("reports the stopped task's last log lines when there is no target group", async () => {
    const stack = deployedStack(failing);
    const graph = run(stack);

    const error = await graph.results.catch((e: unknown) => e);

    expect((error as Error).message).toBe(
      [
        'Deployment ecs-svc/42 of iclinic-api failed.',
        'Rollout: ECS deployment circuit breaker: tasks failed to start.',
        'Recently stopped tasks:',
        '  stopped task 0a1b2c3d4e5f: Essential container in task exited',
        'Last log lines of stopped task 0a1b2c3d4e5f:',
        '  2026-01-01T00:00:00.000Z 0a1b2c3d Error: TOKEN_SECRET is not valid JSON',
      ].join('\n'),
    );
    expect(stack.mocks.elbv2.commandCalls(DescribeTargetHealthCommand)).toEqual([]);
  });
});
