import {
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import {} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  type GetSecretValueCommandInput,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NOT_CREATED_YET } from '../../../../provision/plan.js';
import { secretReferences } from '../../../../provision/resources/secret.js';
import {
  buildTaskDefinitionInput,
  normalizeTaskDefinition,
  taskSettingsFrom,
} from '../../../../provision/resources/ecs/index.js';
import {
  RotationFailedError,
  runSetToken,
  UnverifiedRotationError,
} from '../../../../provision/commands/set-token.js';
import { testContext, mutatingOperations } from '../../support/context.js';
import {
  described,
  NEW_TOKEN,
  NEW_VERSION,
  OLD_TOKEN,
  OLD_VERSION,
  oldSettings,
  run,
  SECRET_ARN,
  serviceAccepting,
  settings,
  stack,
  TD_NEW,
  TD_OLD,
  withLoadBalancer,
  writtenSecret,
} from './set-token-fixture.js';

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
    expect((error as Error).message).toBe(
      'The token was NOT changed: AccessDenied on PutSecretValue\n' +
        'The service keeps running with the previous token.',
    );
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
    it('checks that the new token gets 200 and, with grace 0, the previous one gets 401', async () => {
      const { ctx, mocks } = stack();
      withLoadBalancer(mocks);
      const seen = serviceAccepting(NEW_TOKEN);
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
      serviceAccepting(OLD_TOKEN);
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
