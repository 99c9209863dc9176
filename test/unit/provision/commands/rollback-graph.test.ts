// `rollback` as a run: the copy is registered and deployed, the deployment is
// waited for, and only then is the service called with the current token.
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ignoreEvents } from '../../../../provision/events.js';
import { runGraph } from '../../../../provision/graph.js';
import { rollbackGraph } from '../../../../provision/commands/rollback-graph.js';
import { testContext } from '../../support/context.js';

const FAMILY_ARN = 'arn:aws:ecs:us-east-1:123456789012:task-definition/iclinic-api';
const TOKEN = 'current-token-0123456789';

const revision = (n: number, image: string): TaskDefinition => ({
  taskDefinitionArn: `${FAMILY_ARN}:${n}`,
  family: 'iclinic-api',
  revision: n,
  containerDefinitions: [{ name: 'api', image }],
});

afterEach(() => {
  vi.unstubAllGlobals();
});

/** A stack running revision 4 over 3, whose rollout completes on the second poll; `events` in order. */
function deployedStack() {
  const { ctx, mocks, clock } = testContext();
  const events: string[] = [];
  const revisions = [revision(3, 'repo/api:v1'), revision(4, 'repo/api:v2')];
  let polls = 0;
  mocks.ecs.on(DescribeServicesCommand).callsFake(() => {
    const updated = events.includes('UpdateService');
    if (updated) polls += 1;
    const rolloutState = polls >= 2 ? 'COMPLETED' : 'IN_PROGRESS';
    if (updated) events.push(`DescribeServices ${rolloutState}`);
    return {
      services: [
        {
          serviceName: 'iclinic-api',
          status: 'ACTIVE',
          taskDefinition: `${FAMILY_ARN}:${updated ? 5 : 4}`,
          deployments: [{ id: 'ecs-svc/42', status: 'PRIMARY', rolloutState }],
        },
      ],
    };
  });
  mocks.ecs
    .on(ListTaskDefinitionsCommand)
    .resolves({ taskDefinitionArns: revisions.map((r) => r.taskDefinitionArn ?? '') });
  mocks.ecs.on(DescribeTaskDefinitionCommand).callsFake((input: { taskDefinition: string }) => ({
    taskDefinition: revisions.find((r) => r.taskDefinitionArn === input.taskDefinition),
  }));
  mocks.ecs.on(RegisterTaskDefinitionCommand).callsFake(() => {
    events.push('RegisterTaskDefinition');
    return { taskDefinition: { taskDefinitionArn: `${FAMILY_ARN}:5`, revision: 5 } };
  });
  mocks.ecs.on(UpdateServiceCommand).callsFake(() => {
    events.push('UpdateService');
    return {
      service: {
        deployments: [{ id: 'ecs-svc/42', status: 'PRIMARY', createdAt: new Date(clock.now()) }],
      },
    };
  });
  mocks.elbv2.on(DescribeLoadBalancersCommand).resolves({
    LoadBalancers: [
      { LoadBalancerArn: 'arn:lb', DNSName: 'iclinic-alb.example.com', State: { Code: 'active' } },
    ],
  });
  mocks.elbv2.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [] });
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
  return { ctx, clock, events };
}

describe('rollbackGraph', () => {
  it('waits for the deployment after the rollback and verifies after that', async () => {
    const { ctx, clock, events } = deployedStack();
    const run = runGraph(rollbackGraph(ctx, { timeoutMs: 600_000, verify: true }), {
      events: ignoreEvents,
      clock,
    });

    const results = await run.results;

    expect(events).toEqual([
      'RegisterTaskDefinition',
      'UpdateService',
      'DescribeServices IN_PROGRESS',
      'DescribeServices COMPLETED',
      `GET http://iclinic-alb.example.com/ Token ${TOKEN}`,
    ]);
    expect(results.rollback.deploymentId).toBe('ecs-svc/42');
    expect(results.rollout.url).toBe('http://iclinic-alb.example.com');
    expect(results.verify.verified).toBe(true);
    expect(run.records.map((record) => [record.key, record.status])).toEqual([
      ['rollback', 'created'],
      ['rollout', 'done'],
      ['verify', 'done'],
    ]);
  });
});
