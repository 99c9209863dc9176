// What set-token puts back when the rotation fails part way, and in which order.
import {
  DeregisterTaskDefinitionCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { RotationFailedError, runSetToken } from '../../../../provision/commands/set-token.js';
import { ignoreEvents } from '../../../../provision/events.js';
import { runGraph, type StepGraph } from '../../../../provision/graph.js';
import { UndoList } from '../../../../provision/commands/undo.js';
import { mutatingOperations } from '../../support/context.js';
import {
  NEW_TOKEN,
  NEW_VERSION,
  OLD_TOKEN,
  OLD_VERSION,
  run,
  settings,
  stack,
  TD_NEW,
  TD_OLD,
} from './set-token-fixture.js';

describe('runSetToken', () => {
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

    it('follows the deployment that puts the service back from its creation time, so one replacing it is reported at once', async () => {
      const { ctx, clock } = stack({ newRollout: 'FAILED', putBackReplaced: true });
      const started = clock.now();
      const error = await run(ctx, settings()).result.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RotationFailedError);
      expect((error as Error).message).toBe(
        'The token was NOT changed: Deployment ecs-svc/1 of iclinic-api failed.\n' +
          'Rollout: tasks failed to start\n' +
          'Restoring the previous state also failed: Deployment ecs-svc/2 of iclinic-api is gone: ' +
          'the circuit breaker rolled it back (the newer deployment ecs-svc/3 is now the primary one).. ' +
          'Run "npx iclinic-deploy status --region us-east-1" to see what runs; ' +
          '"npx iclinic-deploy token --region us-east-1" prints the token stored now; ' +
          'then run "npx iclinic-deploy set-token" again.\n' +
          `Restored: service iclinic-api back on ${TD_OLD}; deregistered ${TD_NEW}; ` +
          'secret iclinic/api-token current version. The service keeps running with the previous token.',
      );
      expect(clock.now() - started).toBeLessThan(60_000);
    });

    it('says so when restoring the previous state fails too', async () => {
      const { ctx, mocks } = stack({ newRollout: 'FAILED' });
      mocks.secrets.on(UpdateSecretVersionStageCommand).rejects(new Error('throttled'));
      const error = await run(ctx, settings()).result.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RotationFailedError);
      // The secret's inverse runs last and fails: what came before it is still listed.
      expect((error as Error).message).toBe(
        'The token was NOT changed: Deployment ecs-svc/1 of iclinic-api failed.\n' +
          'Rollout: tasks failed to start\n' +
          'Restoring the previous state also failed: throttled. ' +
          'Run "npx iclinic-deploy status --region us-east-1" to see what runs; ' +
          '"npx iclinic-deploy token --region us-east-1" prints the token stored now; ' +
          'then run "npx iclinic-deploy set-token" again.\n' +
          `Restored: service iclinic-api back on ${TD_OLD}; deregistered ${TD_NEW}. ` +
          'The service keeps running with the previous token.',
      );
    });
  });

  describe('when UpdateService itself fails', () => {
    it('puts the service back when UpdateService was applied but its reply was lost', async () => {
      const { ctx, mocks, state } = stack({ newUpdate: 'lost' });
      const error = await run(ctx, settings()).result.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RotationFailedError);
      const updates = mocks.ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input);
      expect(updates.map((u) => u.taskDefinition)).toEqual([TD_NEW, TD_OLD]);
      expect(state.taskDefinition).toBe(TD_OLD);
      expect(mocks.secrets.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(1);
      expect((error as Error).message).toBe(
        'The token was NOT changed: socket hang up\n' +
          'Restored: service iclinic-api back on ' +
          `${TD_OLD}; deregistered ${TD_NEW}; secret iclinic/api-token current version; ` +
          'rollback deployment ecs-svc/2 completed. ' +
          'The service keeps running with the previous token.',
      );
    });

    it('puts the service back when the reply was lost and the undo reads no service at all', async () => {
      // Calls: 1 the check, 2 the undo's read: MISSING, as an eventually consistent read can be.
      const { ctx, mocks, state } = stack({ newUpdate: 'lost', missingReads: [2] });
      const error = await run(ctx, settings()).result.catch((e: unknown) => e);
      const updates = mocks.ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input);
      expect(updates.map((u) => u.taskDefinition)).toEqual([TD_NEW, TD_OLD]);
      expect(state.taskDefinition).toBe(TD_OLD);
      expect((error as Error).message).toBe(
        'The token was NOT changed: socket hang up\n' +
          'Restored: service iclinic-api back on ' +
          `${TD_OLD}; deregistered ${TD_NEW}; secret iclinic/api-token current version; ` +
          'rollback deployment ecs-svc/2 completed. ' +
          'The service keeps running with the previous token.',
      );
    });

    it('leaves the service alone when UpdateService was refused and nothing changed', async () => {
      const { ctx, mocks, state } = stack({ newUpdate: 'refused' });
      const error = await run(ctx, settings()).result.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RotationFailedError);
      const updates = mocks.ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input);
      expect(updates.map((u) => u.taskDefinition)).toEqual([TD_NEW]);
      expect(state.taskDefinition).toBe(TD_OLD);
      expect((error as Error).message).toBe(
        'The token was NOT changed: TaskDefinition is inactive\n' +
          `Restored: deregistered ${TD_NEW}; secret iclinic/api-token current version. ` +
          'The service keeps running with the previous token.',
      );
    });
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
  it('has nothing to put back when a dry run fails after its last step', async () => {
    const { ctx, mocks } = stack();
    const dry = { ...ctx, dryRun: true };
    // As the CLI starts it with ICLINIC_DEPLOY_FAIL_AFTER=rollout and --dry-run.
    const start = <G>(graph: StepGraph<G>) =>
      runGraph(graph, {
        events: ignoreEvents,
        clock: ctx.clock,
        dryRun: true,
        failAfter: 'rollout',
      });
    const error = await runSetToken(dry, settings(), { start }).catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      'The token was NOT changed: Injected failure after step "rollout" ' +
        '(ICLINIC_DEPLOY_FAIL_AFTER is set; this is a test hook).\n' +
        'The service keeps running with the previous token.',
    );
    expect(mutatingOperations(mocks.ecs)).toEqual([]);
    expect(mutatingOperations(mocks.secrets)).toEqual([]);
  });

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
