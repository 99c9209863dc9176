// The stack every set-token test rotates: one ECS service on revision 3
// pinned to the current secret version, whose UpdateService, DescribeServices
// and secret calls keep state, so a test can tell what ends up running.
import {
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type Deployment,
  type DescribeTaskDefinitionCommandInput,
  type RegisterTaskDefinitionCommandInput,
  type TaskDefinition,
  type UpdateServiceCommandInput,
} from '@aws-sdk/client-ecs';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { expect, vi } from 'vitest';
import type { StackContext } from '../../../../provision/context.js';
import { secretReferences } from '../../../../provision/resources/secret.js';
import {
  buildTaskDefinitionInput,
  type TaskSettings,
} from '../../../../provision/resources/ecs/index.js';
import { runSetToken, type SetTokenSettings } from '../../../../provision/commands/set-token.js';
import type { RunEvent } from '../../../../provision/events.js';
import { runGraph, type StepGraph, type StepRecord } from '../../../../provision/graph.js';
import { awsError, testContext } from '../../support/context.js';

export const SECRET_ARN =
  'arn:aws:secretsmanager:us-east-1:123456789012:secret:iclinic/api-token-AbCdEf';
export const TD_OLD = 'arn:aws:ecs:us-east-1:123456789012:task-definition/iclinic-api:3';
export const TD_NEW = 'arn:aws:ecs:us-east-1:123456789012:task-definition/iclinic-api:4';
export const OLD_VERSION = 'version-old';
export const NEW_VERSION = 'version-new';
export const OLD_TOKEN = 'old-token-0123456789abcdefghij';
export const NEW_TOKEN = 'new-token-0123456789abcdefghij';

export const oldSettings: TaskSettings = {
  image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/iclinic/api:0123456789abcdef-arm64',
  cpu: 512,
  memory: 1024,
  cpuArchitecture: 'ARM64',
  containerPort: 8080,
  healthCheckCommand: ['node', 'dist/healthcheck.js'],
  executionRoleArn: 'arn:aws:iam::123456789012:role/iclinic-task-execution',
  logGroup: '/ecs/iclinic/api',
  secrets: secretReferences({ arn: SECRET_ARN, versionId: OLD_VERSION }),
  environment: [{ name: 'LOG_LEVEL', value: 'info' }],
};

/** What DescribeTaskDefinition returns for a revision, with AWS's defaults filled in. */
export function described(
  ctx: StackContext,
  settings: TaskSettings,
  arn: string,
  revision: number,
): TaskDefinition {
  const input = buildTaskDefinitionInput(ctx, settings);
  return {
    ...input,
    taskDefinitionArn: arn,
    revision,
    status: 'ACTIVE',
    containerDefinitions: (input.containerDefinitions ?? []).map((c) => ({
      ...c,
      portMappings: (c.portMappings ?? []).map((p) => ({ ...p, hostPort: p.containerPort })),
      cpu: 0,
      mountPoints: [],
      volumesFrom: [],
    })),
  } as TaskDefinition;
}

export interface Scenario {
  /** Rollout state ECS reports for a deployment of the new revision. */
  newRollout?: 'COMPLETED' | 'FAILED';
  /** The circuit breaker already put the service back and removed the new deployment. */
  rolledBackByEcs?: boolean;
  serviceMissing?: boolean;
  currentToken?: string;
  /**
   * DescribeServices calls (1-based) that answer as before the last
   * UpdateService, as an eventually consistent read right after it can.
   */
  staleReads?: readonly number[];
  /**
   * What becomes of the UpdateService onto the new revision: `lost`, ECS
   * applies it but the reply never arrives (a dropped connection);
   * `refused`, ECS refuses it and nothing changes. Either way the call throws.
   * `unlisted`: ECS applies it and answers, but lists no deployment.
   */
  newUpdate?: 'lost' | 'refused' | 'unlisted';
  /** Reads after each UpdateService for which its deployment is still IN_PROGRESS (6 s apart). */
  inProgressReads?: number;
  /**
   * DescribeServices calls (1-based) that answer MISSING, as an eventually
   * consistent read can.
   */
  missingReads?: readonly number[];
  /**
   * The deployment that puts the service back on the previous revision is
   * replaced, before any read lists it, by a newer PRIMARY (ecs-svc/3).
   */
  putBackReplaced?: boolean;
}

export function stack(scenario: Scenario = {}) {
  const { ctx, mocks, clock, report } = testContext();
  const state = {
    taskDefinition: TD_OLD,
    deployments: [
      {
        id: 'ecs-svc/old',
        status: 'PRIMARY',
        rolloutState: 'COMPLETED',
        createdAt: new Date(clock.now() - 86_400_000),
      },
    ] as Deployment[],
    deploymentCount: 0,
    describeCount: 0,
    readsSinceUpdate: 0,
  };
  let beforeLastUpdate = { taskDefinition: state.taskDefinition, deployments: state.deployments };
  const service = (
    seen = { taskDefinition: state.taskDefinition, deployments: state.deployments },
  ) => ({
    serviceName: 'iclinic-api',
    status: 'ACTIVE',
    taskDefinition: seen.taskDefinition,
    deployments: seen.deployments,
    events: [],
  });
  mocks.ecs.on(DescribeServicesCommand).callsFake(async () => {
    state.describeCount += 1;
    if (
      scenario.serviceMissing === true ||
      scenario.missingReads?.includes(state.describeCount) === true
    )
      return { services: [], failures: [{ arn: 'iclinic-api', reason: 'MISSING' }] };
    const stale = scenario.staleReads?.includes(state.describeCount) === true;
    if (stale) return { services: [service(beforeLastUpdate)] };
    state.readsSinceUpdate += 1;
    if (state.deploymentCount > 0 && state.readsSinceUpdate <= (scenario.inProgressReads ?? 0)) {
      const inProgress = state.deployments.map((d) => ({ ...d, rolloutState: 'IN_PROGRESS' }));
      return { services: [service({ ...state, deployments: inProgress as Deployment[] })] };
    }
    return { services: [service()] };
  });
  mocks.ecs
    .on(DescribeTaskDefinitionCommand)
    .callsFake(async (input: DescribeTaskDefinitionCommandInput) => {
      if (input.taskDefinition !== TD_OLD && input.taskDefinition !== 'iclinic-api') {
        throw new Error(`unexpected DescribeTaskDefinition ${input.taskDefinition ?? ''}`);
      }
      return { taskDefinition: described(ctx, oldSettings, TD_OLD, 3) };
    });
  mocks.ecs
    .on(RegisterTaskDefinitionCommand)
    .callsFake(async (input: RegisterTaskDefinitionCommandInput) => ({
      taskDefinition: { ...input, taskDefinitionArn: TD_NEW, revision: 4, status: 'ACTIVE' },
    }));
  mocks.ecs.on(UpdateServiceCommand).callsFake(async (input: UpdateServiceCommandInput) => {
    const isNewUpdate = input.taskDefinition === TD_NEW;
    if (isNewUpdate && scenario.newUpdate === 'refused') {
      throw awsError('InvalidParameterException', 'TaskDefinition is inactive');
    }
    state.deploymentCount += 1;
    state.readsSinceUpdate = 0;
    const id = `ecs-svc/${state.deploymentCount}`;
    const isNew = input.taskDefinition === TD_NEW;
    const rollout = isNew ? (scenario.newRollout ?? 'COMPLETED') : 'COMPLETED';
    const createdAt = new Date(clock.now());
    const returned = [{ id, status: 'PRIMARY', rolloutState: 'IN_PROGRESS', createdAt }];
    beforeLastUpdate = { taskDefinition: state.taskDefinition, deployments: state.deployments };
    if (!isNew && scenario.putBackReplaced === true) {
      state.taskDefinition = TD_OLD;
      state.deployments = [
        {
          id: `ecs-svc/${state.deploymentCount + 1}`,
          status: 'PRIMARY',
          rolloutState: 'IN_PROGRESS',
          createdAt: new Date(createdAt.getTime() + 1_000),
        },
      ];
    } else if (isNew && scenario.rolledBackByEcs === true) {
      // ECS rolled the deployment back before the first poll: it is gone.
      state.taskDefinition = TD_OLD;
      state.deployments = [
        {
          id: 'ecs-svc/rollback',
          status: 'PRIMARY',
          rolloutState: 'COMPLETED',
          createdAt: new Date(createdAt.getTime() + 1_000),
        },
      ];
    } else {
      state.taskDefinition = input.taskDefinition ?? state.taskDefinition;
      state.deployments = [
        {
          id,
          status: 'PRIMARY',
          rolloutState: rollout,
          rolloutStateReason: rollout === 'FAILED' ? 'tasks failed to start' : undefined,
          createdAt,
        },
      ];
    }
    if (isNewUpdate && scenario.newUpdate === 'lost') {
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    }
    if (isNewUpdate && scenario.newUpdate === 'unlisted') {
      return { service: { ...service(), deployments: [] } };
    }
    return { service: { ...service(), deployments: returned } };
  });
  mocks.ecs.on(DeregisterTaskDefinitionCommand).resolves({});
  mocks.ecs.on(ListTasksCommand).resolves({ taskArns: [] });
  mocks.ecs.on(DescribeTasksCommand).resolves({ tasks: [] });

  mocks.secrets.on(DescribeSecretCommand).resolves({
    ARN: SECRET_ARN,
    VersionIdsToStages: { [OLD_VERSION]: ['AWSCURRENT'] },
  });
  mocks.secrets.on(GetSecretValueCommand).resolves({
    SecretString: JSON.stringify({
      token: scenario.currentToken ?? OLD_TOKEN,
      previousToken: '',
      previousTokenValidUntil: '',
    }),
  });
  mocks.secrets.on(PutSecretValueCommand).resolves({ ARN: SECRET_ARN, VersionId: NEW_VERSION });
  mocks.secrets.on(UpdateSecretVersionStageCommand).resolves({ ARN: SECRET_ARN });

  return { ctx, mocks, clock, report, state };
}

export function settings(overrides: Partial<SetTokenSettings> = {}): SetTokenSettings {
  return { token: NEW_TOKEN, graceMs: 600_000, timeoutMs: 600_000, verify: false, ...overrides };
}

export function run(ctx: StackContext, s: SetTokenSettings) {
  let records: readonly StepRecord[] = [];
  const events: RunEvent[] = [];
  // Lines a step reports reach the user through the run's events.
  const sink = (event: RunEvent) => {
    events.push(event);
    if (event.type === 'warning') ctx.report.warn(event.message);
    if (event.type === 'progress') ctx.report.progress(event.message);
  };
  const start = <G>(graph: StepGraph<G>) => {
    const started = runGraph(graph, { events: sink, clock: ctx.clock });
    records = started.records;
    return started;
  };
  const result = runSetToken(ctx, s, { start });
  // Filled as steps end; complete once the run has settled.
  const runner = {
    get records() {
      return records;
    },
  };
  return { runner, events, result };
}

export function writtenSecret(mocks: ReturnType<typeof stack>['mocks']): unknown {
  const calls = mocks.secrets.commandCalls(PutSecretValueCommand);
  expect(calls).toHaveLength(1);
  return JSON.parse(calls[0]?.args[0].input.SecretString ?? '');
}

/** The stack's load balancer, found by name, with its target group and HTTP listener. */
export function withLoadBalancer(mocks: ReturnType<typeof stack>['mocks']): void {
  mocks.elbv2.on(DescribeLoadBalancersCommand).resolves({
    LoadBalancers: [
      { LoadBalancerArn: 'arn:lb', DNSName: 'iclinic-alb.example.com', State: { Code: 'active' } },
    ],
  });
  mocks.elbv2
    .on(DescribeTargetGroupsCommand)
    .resolves({ TargetGroups: [{ TargetGroupArn: 'arn:tg' }] });
  mocks.elbv2
    .on(DescribeListenersCommand)
    .resolves({ Listeners: [{ ListenerArn: 'arn:l', Port: 80, Protocol: 'HTTP' }] });
}

/** A service that answers 200 only to `accepted`; returns "<url> <Authorization>" of each call. */
export function serviceAccepting(accepted: string): string[] {
  const seen: string[] = [];
  vi.stubGlobal('fetch', (input: string | URL | Request, init?: RequestInit) => {
    const auth = new Headers(init?.headers).get('authorization') ?? '';
    seen.push(`${String(input)} ${auth}`);
    return Promise.resolve(new Response('', { status: auth === `Token ${accepted}` ? 200 : 401 }));
  });
  return seen;
}
