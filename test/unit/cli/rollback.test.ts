import { describe, expect, it } from 'vitest';
import { renderRollback } from '../../../cli/commands/rollback.js';

describe('rollback', () => {
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
