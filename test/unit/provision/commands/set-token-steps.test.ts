// What each step of set-token records and says, the time limits it waits
// with, and the failures it reports without undoing anything.
import { UpdateServiceCommand } from '@aws-sdk/client-ecs';
import {
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  LoadBalancerNotFoundException,
  TargetGroupNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  RotationFailedError,
  UnverifiedRotationError,
  runSetToken,
} from '../../../../provision/commands/set-token.js';
import { RotationFailedError as UndoRotationFailedError } from '../../../../provision/commands/undo.js';
import {
  NEW_TOKEN,
  NEW_VERSION,
  OLD_TOKEN,
  OLD_VERSION,
  run,
  serviceAccepting,
  settings,
  stack,
  TD_NEW,
  TD_OLD,
  withLoadBalancer,
} from './set-token-fixture.js';

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('set-token records', () => {
  it('names each step, says what it found and what it changed', async () => {
    const { ctx } = stack();
    const { runner, result } = run(ctx, settings());
    await result;
    expect(
      runner.records.map(({ key, title, status, summary }) => ({ key, title, status, summary })),
    ).toEqual([
      {
        key: 'check',
        title: 'Check the running stack',
        status: 'done',
        summary: 'service iclinic-api and secret iclinic/api-token found',
      },
      {
        key: 'secret-version',
        title: 'Write the new token',
        status: 'updated',
        summary: undefined,
      },
      {
        key: 'task-definition',
        title: 'Register a task definition pinned to that version',
        status: 'updated',
        summary: undefined,
      },
      {
        key: 'rollout',
        title: 'Roll the service',
        status: 'updated',
        summary: 'deployment ecs-svc/1 completed',
      },
      {
        key: 'verify',
        title: 'Verify through the load balancer',
        status: 'done',
        summary: 'skipped (--no-verify)',
      },
    ]);
    expect(runner.records.find((r) => r.key === 'secret-version')?.changes).toEqual([
      {
        action: 'update',
        kind: 'secret',
        name: 'iclinic/api-token',
        detail: 'current version',
        from: OLD_VERSION,
        to: NEW_VERSION,
      },
    ]);
  });

  it('says, for every step after the check, that nothing changes when the service already runs the token', async () => {
    const { ctx } = stack({ currentToken: NEW_TOKEN });
    const { runner, result } = run(ctx, settings({ verify: true }));
    expect(await result).toMatchObject({ taskDefinitionArn: TD_OLD, deploymentId: undefined });
    const nothing = 'nothing to change: the service already runs with this token';
    expect(runner.records.map(({ key, status, summary }) => ({ key, status, summary }))).toEqual([
      {
        key: 'check',
        status: 'done',
        summary: `service iclinic-api and secret iclinic/api-token found; ${nothing}`,
      },
      { key: 'secret-version', status: 'unchanged', summary: nothing },
      { key: 'task-definition', status: 'unchanged', summary: nothing },
      { key: 'rollout', status: 'unchanged', summary: nothing },
      { key: 'verify', status: 'done', summary: nothing },
    ]);
  });

  it('says the verification was skipped in a dry run', async () => {
    const { ctx } = stack();
    const { runner, result } = run({ ...ctx, dryRun: true }, settings({ verify: true }));
    await result;
    expect(runner.records.find((r) => r.key === 'verify')?.summary).toBe('skipped (dry run)');
  });

  it('with a grace period, checks the new token only', async () => {
    const { ctx, mocks } = stack();
    withLoadBalancer(mocks);
    const sent = serviceAccepting(NEW_TOKEN);
    const { runner, result } = run(ctx, settings({ verify: true, graceMs: 60_000 }));
    expect((await result).verified).toBe(true);
    expect(sent).toEqual([`http://iclinic-alb.example.com/ Token ${NEW_TOKEN}`]);
    expect(runner.records.find((r) => r.key === 'verify')?.summary).toBe('new token 200');
  });

  it('without a grace period, also checks that the previous token is refused', async () => {
    const { ctx, mocks } = stack();
    withLoadBalancer(mocks);
    const sent = serviceAccepting(NEW_TOKEN);
    const { runner, result } = run(ctx, settings({ verify: true, graceMs: 0 }));
    await result;
    expect(sent).toEqual([
      `http://iclinic-alb.example.com/ Token ${NEW_TOKEN}`,
      `http://iclinic-alb.example.com/ Token ${OLD_TOKEN}`,
    ]);
    expect(runner.records.find((r) => r.key === 'verify')?.summary).toBe(
      'new token 200, previous token 401',
    );
  });

  it('runs silently with no start hook', async () => {
    const { ctx } = stack();
    const result = await runSetToken(ctx, settings());
    expect(result).toMatchObject({ taskDefinitionArn: TD_NEW, deploymentId: 'ecs-svc/1' });
  });
});

describe('set-token waits', () => {
  it('for a rollout longer than a minute, up to --timeout', async () => {
    // 20 reads 6 s apart: two minutes, within the 10 minutes given.
    const { ctx, state } = stack({ inProgressReads: 20 });
    await run(ctx, settings({ timeoutMs: 600_000 })).result;
    expect(state.taskDefinition).toBe(TD_NEW);
  });

  it('for the rollout no longer than --timeout, then puts everything back', async () => {
    // 25 reads 6 s apart would take 150 s: the rollout is given up at 120 s.
    const { ctx, state } = stack({ inProgressReads: 25 });
    const error = await run(ctx, settings({ timeoutMs: 120_000 })).result.catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      'The token was NOT changed: Deployment ecs-svc/1 of iclinic-api timed out after 120 s ' +
        '(rollout IN_PROGRESS, 0/0 running).\n' +
        `Restored: service iclinic-api back on ${TD_OLD}; deregistered ${TD_NEW}; ` +
        'secret iclinic/api-token current version; rollback deployment ecs-svc/2 completed. ' +
        'The service keeps running with the previous token.',
    );
    expect(state.taskDefinition).toBe(TD_OLD);
  });

  it('for the rollback deployment at least five minutes, even past --timeout', async () => {
    // The failed rollout uses up the minute given; putting the service back still gets its wait.
    const { ctx, state } = stack({ newRollout: 'FAILED', inProgressReads: 15 });
    const error = await run(ctx, settings({ timeoutMs: 60_000 })).result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RotationFailedError);
    expect((error as Error).message).toContain('rollback deployment ecs-svc/2 completed');
    expect(state.taskDefinition).toBe(TD_OLD);
  });
});

// The previous token is kept until --timeout + --grace after the secret is
// written, a deadline no rollout within --timeout can outlast: no warning.
describe('set-token never warns about the grace period', () => {
  it('not when the rollout ends exactly as the grace period does', async () => {
    const { ctx, report } = stack({ inProgressReads: 10 });
    // Ten reads 6 s apart: the rollout completes 60 s after the secret was written.
    await run(ctx, settings({ graceMs: 60_000 })).result;
    expect(report.warnings).toEqual([]);
  });

  it('not with a grace period of 0, however long the rollout', async () => {
    // Ten reads 6 s apart: the rollout completes at 54 s, past the 30 s --timeout
    // (the wait for it gets at least a minute).
    const { ctx, report } = stack({ inProgressReads: 9 });
    await run(ctx, settings({ graceMs: 0, timeoutMs: 30_000 })).result;
    expect(report.warnings).toEqual([]);
  });

  it('not when the rollout completes exactly at --timeout: the previous token has all of --grace left', async () => {
    // Ten reads 6 s apart: the rollout completes at 54 s, the --timeout.
    const { ctx, report } = stack({ inProgressReads: 9 });
    const result = await run(ctx, settings({ graceMs: 60_000, timeoutMs: 54_000 })).result;
    expect(result.previousTokenValidUntil).toBe('2026-01-01T00:01:54.000Z');
    expect(report.warnings).toEqual([]);
  });

  it('not when the rollout outlasts --grace: the previous token lasts until --timeout + --grace', async () => {
    const { ctx, report } = stack({ inProgressReads: 11 });
    const result = await run(ctx, settings({ graceMs: 60_000 })).result;
    expect(report.warnings).toEqual([]);
    expect(result.previousTokenValidUntil).toBe('2026-01-01T00:11:00.000Z');
  });
});

describe('set-token failures', () => {
  it('puts everything back when ECS starts no deployment it can follow', async () => {
    const { ctx, state } = stack({ newUpdate: 'unlisted' });
    const error = await run(ctx, settings()).result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RotationFailedError);
    expect((error as Error).message).toMatch(
      /^The token was NOT changed: ECS started no PRIMARY deployment for the update; cannot follow it\.\nRestored: service iclinic-api back on /,
    );
    expect(state.taskDefinition).toBe(TD_OLD);
  });

  it('says what it restored without waiting when putting the service back starts no deployment', async () => {
    const { ctx, mocks } = stack({ newRollout: 'FAILED' });
    mocks.ecs.on(UpdateServiceCommand, { taskDefinition: TD_OLD }).resolves({ service: {} });
    const error = await run(ctx, settings()).result.catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      'The token was NOT changed: Deployment ecs-svc/1 of iclinic-api failed.\n' +
        'Rollout: tasks failed to start\n' +
        `Restored: service iclinic-api back on ${TD_OLD}; deregistered ${TD_NEW}; ` +
        'secret iclinic/api-token current version. The service keeps running with the previous token.',
    );
  });

  it('is a RotationFailedError by that name', () => {
    const error = new UndoRotationFailedError('why', []);
    expect(error.name).toBe('RotationFailedError');
    expect(error.message).toBe(
      'The token was NOT changed: why\nThe service keeps running with the previous token.',
    );
  });

  it('fails the check with its own error, restoring nothing, when the service is missing', async () => {
    const { ctx, mocks } = stack({ serviceMissing: true });
    const error = await run(ctx, settings()).result.catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(RotationFailedError);
    expect((error as Error).message).toMatch(/^Stack "iclinic" is not deployed in us-east-1/);
    expect(mocks.secrets.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
  });
});

describe('UnverifiedRotationError', () => {
  const unreachable = () =>
    vi.stubGlobal('fetch', () => Promise.reject(new TypeError('fetch failed')));

  it('says until when the previous token keeps working', async () => {
    const { ctx, mocks } = stack();
    withLoadBalancer(mocks);
    unreachable();
    const error = await run(
      ctx,
      settings({ verify: true, graceMs: 600_000, timeoutMs: 60_000 }),
    ).result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnverifiedRotationError);
    expect((error as Error).name).toBe('UnverifiedRotationError');
    expect((error as Error).message).toMatch(
      /^The new token is deployed \(the rollout completed\), but it could not be checked through the load balancer: .*\nThe previous token keeps working until 2026-01-01T00:11:00\.000Z\. Nothing was rolled back: "npx iclinic-deploy token" prints the new token; check by hand with curl, or run "npx iclinic-deploy status"\.$/s,
    );
  });

  it('says the previous token is refused already without a grace period', async () => {
    const { ctx, mocks } = stack();
    withLoadBalancer(mocks);
    unreachable();
    const error = await run(
      ctx,
      settings({ verify: true, graceMs: 0, timeoutMs: 60_000 }),
    ).result.catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /\nThe previous token is no longer accepted by the new tasks\. Nothing was rolled back:/,
    );
  });

  it('names the missing load balancer when there is nothing to call', async () => {
    const { ctx, mocks, state } = stack();
    mocks.elbv2
      .on(DescribeLoadBalancersCommand)
      .rejects(new LoadBalancerNotFoundException({ message: 'none', $metadata: {} }));
    mocks.elbv2
      .on(DescribeTargetGroupsCommand)
      .rejects(new TargetGroupNotFoundException({ message: 'none', $metadata: {} }));
    const error = await run(ctx, settings({ verify: true })).result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnverifiedRotationError);
    expect((error as Error).message).toContain(
      'could not be checked through the load balancer: Load balancer iclinic-alb not found; cannot verify.',
    );
    expect(state.taskDefinition).toBe(TD_NEW);
  });
});
