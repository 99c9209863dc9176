import { describe, expect, it } from 'vitest';
import { renderRollback } from '../../../cli/commands/rollback.js';
import { taskRange } from '../../../cli/commands/up.js';
import { UsageError } from '../../../cli/errors.js';
import { rollbackGraph } from '../../../provision/commands/rollback-graph.js';
import { testContext } from '../support/context.js';

describe('rollback', () => {
  it('waits for the deployment after the rollback and verifies after that', () => {
    const { ctx } = testContext();
    const graph = rollbackGraph(ctx, { timeoutMs: 60_000, verify: true });
    expect(graph.rollout.after).toEqual(['rollback']);
    expect(graph.verify.after).toEqual(['rollout']);
  });

  it('says what changed and that the token did not', () => {
    const { lines } = renderRollback({
      rollback: {
        changes: [
          {
            action: 'update',
            kind: 'ECS service',
            name: 'iclinic-api',
            detail: 'image',
            from: 'repo:b',
            to: 'repo:a',
          },
        ],
        fromRevision: 7,
        newRevision: 9,
        deploymentId: 'ecs-svc/9',
        deploymentCreatedAt: undefined,
      },
      rollout: { url: 'http://lb' },
      verify: { verified: true },
    });
    expect(lines).toEqual([
      '',
      '~ updated ECS service iclinic-api: image repo:b → repo:a',
      "Rolled back to revision 7's image and settings, as revision 9.",
      'The token is unchanged: the new revision reads the secret version running before.',
      'The API answers at http://lb/',
    ]);
  });
});

describe('up task range', () => {
  it('defaults to 2 to 6 tasks', () => {
    expect(taskRange({})).toEqual({ minTasks: 2, maxTasks: 6 });
  });

  it('takes --desired-count N as the fixed size N to N', () => {
    expect(taskRange({ desiredCount: 3 })).toEqual({ minTasks: 3, maxTasks: 3 });
  });

  it('refuses --desired-count with --min-tasks or --max-tasks, as a usage error', () => {
    expect(() => taskRange({ desiredCount: 3, maxTasks: 8 })).toThrow(UsageError);
    expect(() => taskRange({ desiredCount: 3, minTasks: 1 })).toThrow(
      /--desired-count 3 fixes the size; it cannot be combined with --min-tasks or --max-tasks/,
    );
  });

  it('raises the default maximum to a larger minimum, and lowers the default minimum to a smaller maximum', () => {
    expect(taskRange({ minTasks: 8 })).toEqual({ minTasks: 8, maxTasks: 8 });
    expect(taskRange({ maxTasks: 1 })).toEqual({ minTasks: 1, maxTasks: 1 });
  });

  it('refuses a minimum above the maximum', () => {
    expect(() => taskRange({ minTasks: 5, maxTasks: 3 })).toThrow(/--min-tasks 5, --max-tasks 3/);
  });
});
