import { describe, expect, it } from 'vitest';
import { renderSetToken } from '../../../cli/commands/set-token.js';
import type { SetTokenResult } from '../../../provision/commands/set-token.js';

const rotated: SetTokenResult = {
  previousTokenValidUntil: '2026-01-01T00:20:00.000Z',
  taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/iclinic-api:4',
  deploymentId: 'ecs-svc/1',
  verified: true,
  unchanged: false,
  changes: [],
};

describe('renderSetToken', () => {
  it('does not repeat a token already printed alone when it was stored', () => {
    const { lines } = renderSetToken(rotated, {
      token: 'tok-0123456789abcdefghij',
      printToken: true,
      printWhenStored: true,
    });
    expect(lines.join('\n')).not.toContain('tok-0123456789abcdefghij');
    expect(lines).toContain('The new token is live.');
  });

  it('says nothing was changed when the service already ran with the token', () => {
    const { lines, json } = renderSetToken(
      { ...rotated, unchanged: true, previousTokenValidUntil: undefined, deploymentId: undefined },
      { token: 'tok-0123456789abcdefghij', printToken: true, printWhenStored: true },
    );
    expect(lines).toEqual(['', 'The service already runs with this token; nothing was changed.']);
    expect(json).toMatchObject({ unchanged: true });
    expect(JSON.stringify(json)).not.toContain('tok-0123456789abcdefghij');
  });
});
