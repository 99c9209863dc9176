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
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  type GetSecretValueCommandInput,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StackContext } from '../../../../provision/context.js';
import { NOT_CREATED_YET } from '../../../../provision/plan.js';
import { secretReferences } from '../../../../provision/resources/secret.js';
import {
  buildTaskDefinitionInput,
  normalizeTaskDefinition,
  type TaskSettings,
} from '../../../../provision/resources/ecs/index.js';
import {
  RotationFailedError,
  UnverifiedRotationError,
  runSetToken,
  type SetTokenSettings,
} from '../../../../provision/commands/set-token.js';
import type { RunEvent } from '../../../../provision/events.js';
import { runGraph, type StepGraph, type StepRecord } from '../../../../provision/graph.js';
import { UndoList } from '../../../../provision/commands/undo.js';
import { taskSettingsFrom } from '../../../../provision/resources/ecs/index.js';
import { testContext, mutatingOperations } from '../../support/context.js';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:iclinic/api-token-AbCdEf';
const TD_OLD = 'arn:aws:ecs:us-east-1:123456789012:task-definition/iclinic-api:3';
const TD_NEW = 'arn:aws:ecs:us-east-1:123456789012:task-definition/iclinic-api:4';
const OLD_VERSION = 'version-old';
const NEW_VERSION = 'version-new';
const OLD_TOKEN = 'old-token-0123456789abcdefghij';
const NEW_TOKEN = 'new-token-0123456789abcdefghij';

const oldSettings: TaskSettings = {
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
function described(
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

interface Scenario {
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
}

function stack(scenario: Scenario = {}) {
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
    if (scenario.serviceMissing === true)
      return { services: [], failures: [{ arn: 'iclinic-api', reason: 'MISSING' }] };
    const stale = scenario.staleReads?.includes(state.describeCount) === true;
    return { services: [stale ? service(beforeLastUpdate) : service()] };
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
    state.deploymentCount += 1;
    const id = `ecs-svc/${state.deploymentCount}`;
    const isNew = input.taskDefinition === TD_NEW;
    const rollout = isNew ? (scenario.newRollout ?? 'COMPLETED') : 'COMPLETED';
    const createdAt = new Date(clock.now());
    const returned = [{ id, status: 'PRIMARY', rolloutState: 'IN_PROGRESS', createdAt }];
    beforeLastUpdate = { taskDefinition: state.taskDefinition, deployments: state.deployments };
    if (isNew && scenario.rolledBackByEcs === true) {
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

function settings(overrides: Partial<SetTokenSettings> = {}): SetTokenSettings {
  return { token: NEW_TOKEN, graceMs: 600_000, timeoutMs: 600_000, verify: false, ...overrides };
}

function run(ctx: StackContext, s: SetTokenSettings) {
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

function writtenSecret(mocks: ReturnType<typeof stack>['mocks']): unknown {
  const calls = mocks.secrets.commandCalls(PutSecretValueCommand);
  expect(calls).toHaveLength(1);
  return JSON.parse(calls[0]?.args[0].input.SecretString ?? '');
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('runSetToken', () => {
  it('writes a new secret version with the new token, the previous token and validUntil = end of --timeout + grace', async () => {
    const { ctx, mocks } = stack();
    const result = await run(ctx, settings({ graceMs: 600_000, timeoutMs: 600_000 })).result;
    expect(writtenSecret(mocks)).toEqual({
      token: NEW_TOKEN,
      previousToken: OLD_TOKEN,
      previousTokenValidUntil: '2026-01-01T00:20:00.000Z',
    });
    expect(mocks.secrets.commandCalls(PutSecretValueCommand)[0]?.args[0].input.SecretId).toBe(
      'iclinic/api-token',
    );
    expect(result.previousTokenValidUntil).toBe('2026-01-01T00:20:00.000Z');
  });

  it('writes previousToken "" when the grace period is 0', async () => {
    const { ctx, mocks } = stack();
    const result = await run(ctx, settings({ graceMs: 0 })).result;
    expect(writtenSecret(mocks)).toEqual({
      token: NEW_TOKEN,
      previousToken: '',
      previousTokenValidUntil: '',
    });
    expect(result.previousTokenValidUntil).toBeUndefined();
  });

  it('registers a revision pinned to the new version that otherwise equals the current one', async () => {
    const { ctx, mocks } = stack();
    await run(ctx, settings()).result;
    const registered = mocks.ecs.commandCalls(RegisterTaskDefinitionCommand);
    expect(registered).toHaveLength(1);
    const input = registered[0]?.args[0].input;
    expect(input).toEqual(
      buildTaskDefinitionInput(ctx, {
        ...oldSettings,
        secrets: secretReferences({ arn: SECRET_ARN, versionId: NEW_VERSION }),
      }),
    );
    expect(input?.containerDefinitions?.[0]?.secrets).toEqual([
      { name: 'ICLINIC_PASS', valueFrom: `${SECRET_ARN}:token::${NEW_VERSION}` },
      { name: 'ICLINIC_PASS_PREVIOUS', valueFrom: `${SECRET_ARN}:previousToken::${NEW_VERSION}` },
      {
        name: 'ICLINIC_PASS_PREVIOUS_UNTIL',
        valueFrom: `${SECRET_ARN}:previousTokenValidUntil::${NEW_VERSION}`,
      },
    ]);
    const before = normalizeTaskDefinition(described(ctx, oldSettings, TD_OLD, 3));
    const after = normalizeTaskDefinition(input ?? {});
    const changed = Object.keys(after).filter((key) => before[key] !== after[key]);
    expect(changed).toEqual(['secrets']);
  });

  it('updates the service to the new revision with forceNewDeployment and waits for its PRIMARY deployment', async () => {
    const { ctx, mocks, state } = stack();
    const result = await run(ctx, settings()).result;
    const updates = mocks.ecs.commandCalls(UpdateServiceCommand);
    expect(updates).toHaveLength(1);
    expect(updates[0]?.args[0].input).toEqual({
      cluster: 'iclinic',
      service: 'iclinic-api',
      taskDefinition: TD_NEW,
      forceNewDeployment: true,
    });
    expect(result).toMatchObject({
      previousTokenValidUntil: '2026-01-01T00:20:00.000Z',
      taskDefinitionArn: TD_NEW,
      deploymentId: 'ecs-svc/1',
      verified: false,
    });
    expect(state.taskDefinition).toBe(TD_NEW);
    // one DescribeServices for the check, at least one while waiting
    expect(mocks.ecs.commandCalls(DescribeServicesCommand).length).toBeGreaterThanOrEqual(2);
  });

  it('makes exactly the mutating calls of a rotation on success', async () => {
    const { ctx, mocks } = stack();
    await run(ctx, settings()).result;
    expect(mutatingOperations(mocks.secrets)).toEqual(['PutSecretValue']);
    expect(mutatingOperations(mocks.ecs)).toEqual(['RegisterTaskDefinition', 'UpdateService']);
  });

  it('records every step as done or updated, verify as done when skipped by --no-verify', async () => {
    const { ctx } = stack();
    const { runner, result } = run(ctx, settings());
    await result;
    expect(runner.records.map((r) => [r.key, r.status])).toEqual([
      ['check', 'done'],
      ['secret-version', 'updated'],
      ['task-definition', 'updated'],
      ['rollout', 'updated'],
      ['verify', 'done'],
    ]);
  });

  it('keeps the token the service runs with as the previous one when an earlier run stopped after writing the secret', async () => {
    const { ctx, mocks, report } = stack();
    const NEVER_LIVE = 'never-live-token-0123456789abcd';
    // AWSCURRENT moved on to a version the running revision is not pinned to.
    mocks.secrets.on(DescribeSecretCommand).resolves({
      ARN: SECRET_ARN,
      VersionIdsToStages: { [OLD_VERSION]: ['AWSPREVIOUS'], 'version-stray': ['AWSCURRENT'] },
    });
    mocks.secrets
      .on(GetSecretValueCommand)
      .callsFake(async (input: GetSecretValueCommandInput) => ({
        SecretString: JSON.stringify({
          token: input.VersionId === OLD_VERSION ? OLD_TOKEN : NEVER_LIVE,
          previousToken: '',
          previousTokenValidUntil: '',
        }),
      }));
    await run(ctx, settings()).result;
    expect(writtenSecret(mocks)).toMatchObject({ token: NEW_TOKEN, previousToken: OLD_TOKEN });
    expect(report.warnings.join()).toMatch(/not the one the service runs/);
  });

  it('puts nothing back but the service check when the secret write itself fails', async () => {
    const { ctx, mocks } = stack();
    mocks.secrets.on(PutSecretValueCommand).rejects(new Error('AccessDenied on PutSecretValue'));
    const error = await run(ctx, settings()).result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RotationFailedError);
    expect((error as Error).message).toMatch(/^The token was NOT changed: AccessDenied/);
    expect(mutatingOperations(mocks.ecs)).toEqual([]);
    expect(mocks.secrets.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
  });

  /** The first poll after UpdateService returns `ms` later: the rollout takes that long. */
  function slowRollout(ms: number) {
    const scenario = stack();
    const { clock, mocks, state } = scenario;
    let waited = false;
    mocks.ecs.on(DescribeServicesCommand).callsFake(async () => {
      if (!waited && mocks.ecs.commandCalls(UpdateServiceCommand).length > 0) {
        waited = true;
        await clock.sleep(ms);
      }
      return {
        services: [
          {
            serviceName: 'iclinic-api',
            status: 'ACTIVE',
            taskDefinition: state.taskDefinition,
            deployments: state.deployments,
            events: [],
          },
        ],
      };
    });
    return scenario;
  }

  it('keeps the previous token for --grace after the command ends when the rollout takes 5 minutes', async () => {
    const { ctx, clock, mocks } = slowRollout(5 * 60_000);
    // The CLI's defaults: --grace 5m, --timeout 20.
    const result = await run(ctx, settings({ graceMs: 5 * 60_000, timeoutMs: 20 * 60_000 })).result;
    const printedAt = clock.now();
    expect(printedAt).toBeGreaterThanOrEqual(Date.parse('2026-01-01T00:05:00.000Z'));
    expect(Date.parse(result.previousTokenValidUntil ?? '')).toBeGreaterThanOrEqual(
      printedAt + 5 * 60_000,
    );
    expect(writtenSecret(mocks)).toMatchObject({
      previousTokenValidUntil: result.previousTokenValidUntil,
    });
  });

  it('warns when the rollout ran past --timeout and left less than --grace', async () => {
    const { ctx, report } = slowRollout(180_000);
    await run(ctx, settings({ graceMs: 60_000, timeoutMs: 60_000 })).result;
    expect(report.warnings.join()).toMatch(
      /rollout ran past --timeout: the previous token is accepted only until 2026-01-01T00:02:00.000Z/,
    );
  });

  it('completes when the first read after UpdateService does not list the new deployment yet', async () => {
    // Calls: 1 the check, 2 stale (no new deployment), 3 the new one COMPLETED.
    const { ctx, mocks } = stack({ staleReads: [2] });
    const result = await run(ctx, settings()).result;
    expect(result).toMatchObject({ deploymentId: 'ecs-svc/1', taskDefinitionArn: TD_NEW });
    expect(mocks.ecs.commandCalls(DescribeServicesCommand)).toHaveLength(3);
    expect(mocks.secrets.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
    expect(mocks.ecs.commandCalls(UpdateServiceCommand)).toHaveLength(1);
    expect(mocks.ecs.commandCalls(DeregisterTaskDefinitionCommand)).toHaveLength(0);
  });

  describe('when the deployment fails', () => {
    it('moves AWSCURRENT back, puts the service back, deregisters the new revision and says the token was NOT changed', async () => {
      const { ctx, mocks, state } = stack({ newRollout: 'FAILED' });
      const error = await run(ctx, settings()).result.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RotationFailedError);
      const message = (error as Error).message;
      expect(message).toMatch(
        /^The token was NOT changed: Deployment ecs-svc\/1 of iclinic-api failed\./,
      );
      expect(message).toMatch(/The service keeps running with the previous token\./);
      expect(message).not.toContain(NEW_TOKEN);
      expect(message).not.toContain(OLD_TOKEN);

      expect(mocks.secrets.commandCalls(UpdateSecretVersionStageCommand)[0]?.args[0].input).toEqual(
        {
          SecretId: 'iclinic/api-token',
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: OLD_VERSION,
          RemoveFromVersionId: NEW_VERSION,
        },
      );
      const updates = mocks.ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input);
      expect(updates).toHaveLength(2);
      expect(updates[1]).toEqual({
        cluster: 'iclinic',
        service: 'iclinic-api',
        taskDefinition: TD_OLD,
        forceNewDeployment: true,
      });
      expect(state.taskDefinition).toBe(TD_OLD);
      expect(mocks.ecs.commandCalls(DeregisterTaskDefinitionCommand)[0]?.args[0].input).toEqual({
        taskDefinition: TD_NEW,
      });
      expect(message).toMatch(
        /Restored: service iclinic-api back on .*:3; deregistered .*:4; secret iclinic\/api-token current version; rollback deployment ecs-svc\/2 completed\./,
      );
    });

    it('does not update the service again when ECS already rolled it back', async () => {
      const { ctx, mocks } = stack({ rolledBackByEcs: true });
      const error = await run(ctx, settings()).result.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RotationFailedError);
      expect((error as Error).message).toMatch(/is gone: the circuit breaker rolled it back/);
      expect(mocks.ecs.commandCalls(UpdateServiceCommand)).toHaveLength(1);
      expect(mocks.secrets.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(1);
      expect(mocks.ecs.commandCalls(DeregisterTaskDefinitionCommand)).toHaveLength(1);
    });

    it('still puts the service back when the undo reads a stale service still on the previous revision', async () => {
      // Calls: 1 the check, 2 FAILED, 3 the undo's read: stale, as before the update.
      const { ctx, mocks, state } = stack({ newRollout: 'FAILED', staleReads: [3] });
      const error = await run(ctx, settings()).result.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RotationFailedError);
      const updates = mocks.ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input);
      expect(updates.map((u) => u.taskDefinition)).toEqual([TD_NEW, TD_OLD]);
      expect(state.taskDefinition).toBe(TD_OLD);
      expect(mocks.secrets.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(1);
      expect((error as Error).message).toMatch(/Restored: service iclinic-api back on .*:3;/);
    });

    it('says so when restoring the previous state fails too', async () => {
      const { ctx, mocks } = stack({ newRollout: 'FAILED' });
      mocks.secrets.on(UpdateSecretVersionStageCommand).rejects(new Error('throttled'));
      const error = await run(ctx, settings()).result.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RotationFailedError);
      expect((error as Error).message).toMatch(
        /Restoring the previous state also failed: throttled/,
      );
      expect((error as Error).message).toContain(
        '"npx iclinic-deploy token --region us-east-1" prints the token stored now',
      );
      expect((error as Error).message).toMatch(/Restored: service iclinic-api back on/);
    });
  });

  it('succeeds with nothing changed, and no mutating call, when the service already runs the token', async () => {
    const { ctx, mocks } = stack({ currentToken: NEW_TOKEN });
    const result = await run(ctx, settings()).result;
    expect(result).toMatchObject({ unchanged: true, changes: [], verified: false });
    expect(result.previousTokenValidUntil).toBeUndefined();
    expect(mutatingOperations(mocks.ecs)).toEqual([]);
    expect(mutatingOperations(mocks.secrets)).toEqual([]);
  });

  it('tells its caller once the new token is stored, before the rollout starts', async () => {
    const { ctx, mocks } = stack();
    const seen: string[] = [];
    await runSetToken(ctx, settings(), {
      onTokenStored: () =>
        seen.push(
          `stored after ${mocks.secrets.commandCalls(PutSecretValueCommand).length} write(s), ` +
            `${mocks.ecs.commandCalls(UpdateServiceCommand).length} rollout(s)`,
        ),
    });
    expect(seen).toEqual(['stored after 1 write(s), 0 rollout(s)']);
  });

  it('fails clearly without any mutating call when the service is missing', async () => {
    const { ctx, mocks } = stack({ serviceMissing: true });
    const { runner, result } = run(ctx, settings());
    await expect(result).rejects.toThrow(
      /Stack "iclinic" is not deployed in us-east-1 \(no active service iclinic-api.*run "npx iclinic-deploy up --region us-east-1" first/,
    );
    expect(mutatingOperations(mocks.ecs)).toEqual([]);
    expect(mutatingOperations(mocks.secrets)).toEqual([]);
    expect(runner.records.map((r) => [r.key, r.status])).toEqual([
      ['check', 'failed'],
      ['secret-version', 'skipped'],
      ['task-definition', 'skipped'],
      ['rollout', 'skipped'],
      ['verify', 'skipped'],
    ]);
  });

  it('fails clearly without any mutating call when the cluster is missing', async () => {
    const { ctx, mocks } = stack();
    const missing = new Error('Cluster not found.');
    missing.name = 'ClusterNotFoundException';
    mocks.ecs.on(DescribeServicesCommand).rejects(missing);
    await expect(run(ctx, settings()).result).rejects.toThrow(
      /Stack "iclinic" is not deployed in us-east-1/,
    );
    expect(mutatingOperations(mocks.ecs)).toEqual([]);
    expect(mutatingOperations(mocks.secrets)).toEqual([]);
  });

  describe('with verification through the load balancer', () => {
    function withLoadBalancer(mocks: ReturnType<typeof stack>['mocks']) {
      mocks.elbv2.on(DescribeLoadBalancersCommand).resolves({
        LoadBalancers: [
          {
            LoadBalancerArn: 'arn:lb',
            DNSName: 'iclinic-alb.example.com',
            State: { Code: 'active' },
          },
        ],
      });
      mocks.elbv2
        .on(DescribeTargetGroupsCommand)
        .resolves({ TargetGroups: [{ TargetGroupArn: 'arn:tg' }] });
      mocks.elbv2
        .on(DescribeListenersCommand)
        .resolves({ Listeners: [{ ListenerArn: 'arn:l', Port: 80, Protocol: 'HTTP' }] });
    }

    /** A service that accepts only `accepted`. */
    function stubFetch(accepted: string) {
      const seen: string[] = [];
      vi.stubGlobal('fetch', (input: string | URL | Request, init?: RequestInit) => {
        const auth = new Headers(init?.headers).get('authorization') ?? '';
        seen.push(`${String(input)} ${auth}`);
        return Promise.resolve(
          new Response('', { status: auth === `Token ${accepted}` ? 200 : 401 }),
        );
      });
      return seen;
    }

    it('checks that the new token gets 200 and, with grace 0, the previous one gets 401', async () => {
      const { ctx, mocks } = stack();
      withLoadBalancer(mocks);
      const seen = stubFetch(NEW_TOKEN);
      const result = await run(ctx, settings({ verify: true, graceMs: 0 })).result;
      expect(result.verified).toBe(true);
      expect(seen).toEqual([
        `http://iclinic-alb.example.com/ Token ${NEW_TOKEN}`,
        `http://iclinic-alb.example.com/ Token ${OLD_TOKEN}`,
      ]);
    });

    it('keeps a completed rotation when the load balancer cannot be reached from here', async () => {
      const { ctx, mocks, state } = stack();
      withLoadBalancer(mocks);
      vi.stubGlobal('fetch', () =>
        Promise.reject(
          new TypeError('fetch failed', {
            cause: Object.assign(new Error('getaddrinfo ENOTFOUND iclinic-alb.example.com'), {
              code: 'ENOTFOUND',
            }),
          }),
        ),
      );
      const error = await run(ctx, settings({ verify: true, timeoutMs: 120_000 })).result.catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UnverifiedRotationError);
      expect((error as Error).message).toMatch(/rollout completed.*ENOTFOUND/s);
      expect((error as Error).message).toMatch(/Nothing was rolled back/);
      expect((error as Error).message).toContain('"npx iclinic-deploy token" prints the new token');
      expect(state.taskDefinition).toBe(TD_NEW);
      expect(mocks.secrets.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
    });

    it('waits for the service at most 5 minutes of a 20-minute --timeout', async () => {
      const { ctx, mocks, clock } = stack();
      withLoadBalancer(mocks);
      vi.stubGlobal('fetch', () => Promise.resolve(new Response('', { status: 503 })));
      const started = clock.now();
      const error = await run(ctx, settings({ verify: true, timeoutMs: 20 * 60_000 })).result.catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UnverifiedRotationError);
      expect((error as Error).message).toMatch(/still failing after 300 s/);
      expect(clock.now() - started).toBeLessThan(6 * 60_000);
    });

    it('rolls everything back when the new token is refused', async () => {
      const { ctx, mocks, state } = stack();
      withLoadBalancer(mocks);
      stubFetch(OLD_TOKEN);
      const error = await run(ctx, settings({ verify: true })).result.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RotationFailedError);
      expect((error as Error).message).toMatch(/got HTTP 401, expected 200/);
      expect(state.taskDefinition).toBe(TD_OLD);
      expect(mocks.secrets.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(1);
      expect(mocks.ecs.commandCalls(DeregisterTaskDefinitionCommand)).toHaveLength(1);
    });
  });
});

describe('taskSettingsFrom', () => {
  it('recovers the settings a revision was registered with, without its secrets', () => {
    const { ctx } = testContext();
    expect(taskSettingsFrom(described(ctx, oldSettings, TD_OLD, 3), 'api')).toEqual({
      ...oldSettings,
      secrets: [],
    });
  });

  it('rejects a revision this tool did not register', () => {
    expect(() =>
      taskSettingsFrom(
        { taskDefinitionArn: TD_OLD, containerDefinitions: [{ name: 'other' }] },
        'api',
      ),
    ).toThrow(/is not one this tool registered/);
  });
});

describe('UndoList', () => {
  it('runs the inverses newest first, then the waits they asked for, in order', async () => {
    const order: string[] = [];
    const undo = new UndoList();
    undo.push(async () => {
      order.push('secret');
      return { restored: 'secret' };
    });
    undo.push(async () => {
      order.push('revision');
      return {};
    });
    undo.push(async () => {
      order.push('service');
      return { restored: 'service', thenWait: async () => 'rollback completed' };
    });
    const restored: string[] = [];
    await undo.run(restored);
    expect(order).toEqual(['service', 'revision', 'secret']);
    expect(restored).toEqual(['service', 'secret', 'rollback completed']);
  });
});

describe('runSetToken undo', () => {
  it('runs the inverses of exactly the steps that succeeded, in reverse order', async () => {
    const { ctx, mocks } = stack();
    mocks.ecs.on(RegisterTaskDefinitionCommand).rejects(new Error('register refused'));
    const error = await run(ctx, settings()).result.catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      'The token was NOT changed: register refused\n' +
        'Restored: secret iclinic/api-token current version. ' +
        'The service keeps running with the previous token.',
    );
    // Only the secret write succeeded: only its inverse ran.
    expect(mutatingOperations(mocks.secrets)).toEqual([
      'PutSecretValue',
      'UpdateSecretVersionStage',
    ]);
    expect(mutatingOperations(mocks.ecs)).toEqual(['RegisterTaskDefinition']);
  });
});

describe('runSetToken in a dry run', () => {
  it('reads the account, makes no mutating call and names the three changes', async () => {
    const { ctx, mocks } = stack();
    const result = await run({ ...ctx, dryRun: true }, settings({ verify: true })).result;
    expect(result.changes).toEqual([
      {
        action: 'update',
        kind: 'secret',
        name: 'iclinic/api-token',
        detail: 'current version',
        from: OLD_VERSION,
        to: NOT_CREATED_YET,
      },
      {
        action: 'create',
        kind: 'task definition',
        name: 'iclinic-api',
        detail: 'new revision (secret version not created yet)',
      },
      {
        action: 'update',
        kind: 'ECS service',
        name: 'iclinic-api',
        detail: 'task definition',
        from: TD_OLD,
        to: NOT_CREATED_YET,
      },
    ]);
    expect(result).toMatchObject({ deploymentId: NOT_CREATED_YET, verified: false });
    expect(mutatingOperations(mocks.ecs)).toEqual([]);
    expect(mutatingOperations(mocks.secrets)).toEqual([]);
    expect(mocks.ecs.commandCalls(DescribeServicesCommand)).toHaveLength(1);
  });
});
