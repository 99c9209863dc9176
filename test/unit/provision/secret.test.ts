import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import {
  describeSecret,
  ensureSecret,
  parseTokenSecret,
  readTokenSecret,
  removeSecret,
  secretReferences,
  writeTokenSecret,
} from '../../../provision/secret.js';
import { awsError, mutatingOperations, operations, testContext } from '../support/context.js';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:iclinic/api-token-AbCdEf';
const notFound = () =>
  awsError('ResourceNotFoundException', 'Secrets Manager can’t find the specified secret.');

describe('ensureSecret', () => {
  it('creates the secret with the token JSON and the stack tags when it is missing', async () => {
    const { ctx, mocks } = testContext();
    mocks.secrets.on(DescribeSecretCommand).rejects(notFound());
    mocks.secrets.on(CreateSecretCommand).resolves({ ARN, VersionId: 'v1' });
    const result = await ensureSecret(ctx, { initialToken: () => 'initial-token-0123456789' });
    expect(result).toEqual({
      outcome: 'created',
      changes: ['created secret iclinic/api-token'],
      value: { arn: ARN, versionId: 'v1' },
    });
    const input = mocks.secrets.commandCalls(CreateSecretCommand)[0]?.args[0].input;
    expect(input?.Name).toBe('iclinic/api-token');
    expect(JSON.parse(input?.SecretString ?? '')).toEqual({
      token: 'initial-token-0123456789',
      previousToken: '',
      previousTokenValidUntil: '',
    });
    expect(input?.Tags).toEqual([
      { Key: 'iclinic-deploy:stack', Value: 'iclinic' },
      { Key: 'managed-by', Value: 'iclinic-deploy' },
    ]);
  });

  it('leaves an existing secret unchanged with no mutating call and returns the AWSCURRENT version', async () => {
    const { ctx, mocks } = testContext();
    mocks.secrets.on(DescribeSecretCommand).resolves({
      ARN,
      VersionIdsToStages: { old: ['AWSPREVIOUS'], current: ['AWSCURRENT'] },
    });
    let generated = 0;
    const result = await ensureSecret(ctx, {
      initialToken: () => {
        generated += 1;
        return 'x'.repeat(43);
      },
    });
    expect(result).toEqual({
      outcome: 'unchanged',
      changes: [],
      value: { arn: ARN, versionId: 'current' },
    });
    expect(mutatingOperations(mocks.secrets)).toEqual([]);
    expect(mocks.secrets.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    expect(generated).toBe(0);
  });

  it('fails clearly when an existing secret has no AWSCURRENT version', async () => {
    const { ctx, mocks } = testContext();
    mocks.secrets
      .on(DescribeSecretCommand)
      .resolves({ ARN, VersionIdsToStages: { v: ['AWSPREVIOUS'] } });
    await expect(ensureSecret(ctx, { initialToken: () => 't' })).rejects.toThrow(
      /no AWSCURRENT version.*set-token --generate/,
    );
    expect(mutatingOperations(mocks.secrets)).toEqual([]);
  });

  it('retries CreateSecret while the name is scheduled for deletion, then succeeds', async () => {
    const { ctx, mocks, clock, report } = testContext();
    mocks.secrets.on(DescribeSecretCommand).rejects(notFound());
    const scheduled = awsError(
      'InvalidRequestException',
      "You can't create this secret because a secret with this name is already scheduled for deletion.",
    );
    mocks.secrets
      .on(CreateSecretCommand)
      .rejectsOnce(scheduled)
      .rejectsOnce(scheduled)
      .resolves({ ARN, VersionId: 'v2' });
    const result = await ensureSecret(ctx, { initialToken: () => 'tok' });
    expect(result.value).toEqual({ arn: ARN, versionId: 'v2' });
    expect(mocks.secrets.commandCalls(CreateSecretCommand)).toHaveLength(3);
    expect(clock.slept.length).toBe(2);
    expect(report.progressLines.join('\n')).toMatch(/waiting for AWS to free the secret name/);
  });

  it('does not retry CreateSecret on other errors', async () => {
    const { ctx, mocks } = testContext();
    mocks.secrets.on(DescribeSecretCommand).rejects(notFound());
    mocks.secrets.on(CreateSecretCommand).rejects(awsError('AccessDeniedException', 'denied'));
    await expect(ensureSecret(ctx, { initialToken: () => 'tok' })).rejects.toThrow(/denied/);
    expect(mocks.secrets.commandCalls(CreateSecretCommand)).toHaveLength(1);
  });

  it('creates the secret anew when one force-deleted moments ago cannot be restored', async () => {
    const { ctx, mocks } = testContext();
    mocks.secrets.on(DescribeSecretCommand).resolves({
      ARN,
      DeletedDate: new Date('2026-01-01'),
      VersionIdsToStages: { v1: ['AWSCURRENT'] },
    });
    mocks.secrets
      .on(RestoreSecretCommand)
      .rejects(
        awsError(
          'InvalidRequestException',
          "You can't perform this operation on the secret because it was deleted.",
        ),
      );
    mocks.secrets
      .on(CreateSecretCommand)
      .rejectsOnce(
        awsError(
          'InvalidRequestException',
          "You can't create this secret because a secret with this name is already scheduled for deletion.",
        ),
      )
      .resolves({ ARN, VersionId: 'v2' });
    const result = await ensureSecret(ctx, { initialToken: () => 'tok' });
    expect(result).toMatchObject({ outcome: 'created', value: { arn: ARN, versionId: 'v2' } });
  });

  it('restores a secret pending deletion instead of creating a new one', async () => {
    const { ctx, mocks } = testContext();
    mocks.secrets
      .on(DescribeSecretCommand)
      .resolvesOnce({
        ARN,
        DeletedDate: new Date('2026-01-01'),
        VersionIdsToStages: { v1: ['AWSCURRENT'] },
      })
      .resolves({ ARN, VersionIdsToStages: { v1: ['AWSCURRENT'] } });
    mocks.secrets.on(RestoreSecretCommand).resolves({ ARN });
    const result = await ensureSecret(ctx, { initialToken: () => 'tok' });
    expect(result.outcome).toBe('updated');
    expect(result.changes[0]).toMatch(/restored secret iclinic\/api-token/);
    expect(result.value).toEqual({ arn: ARN, versionId: 'v1' });
    expect(mutatingOperations(mocks.secrets)).toEqual(['RestoreSecret']);
  });
});

describe('secretReferences', () => {
  it('pins each of the three variables to its JSON key and the version id', () => {
    expect(secretReferences({ arn: ARN, versionId: 'ver-1' })).toEqual([
      { name: 'ICLINIC_PASS', valueFrom: `${ARN}:token::ver-1` },
      { name: 'ICLINIC_PASS_PREVIOUS', valueFrom: `${ARN}:previousToken::ver-1` },
      { name: 'ICLINIC_PASS_PREVIOUS_UNTIL', valueFrom: `${ARN}:previousTokenValidUntil::ver-1` },
    ]);
  });
});

describe('parseTokenSecret', () => {
  it('parses the JSON this tool writes', () => {
    expect(
      parseTokenSecret(
        '{"token":"a","previousToken":"b","previousTokenValidUntil":"2026-01-01T00:00:00.000Z"}',
        's',
      ),
    ).toEqual({
      token: 'a',
      previousToken: 'b',
      previousTokenValidUntil: '2026-01-01T00:00:00.000Z',
    });
  });

  it('fills missing previous-token keys with empty strings', () => {
    expect(parseTokenSecret('{"token":"a"}', 's')).toEqual({
      token: 'a',
      previousToken: '',
      previousTokenValidUntil: '',
    });
  });

  it('rejects a plain-text secret without quoting it', () => {
    const secret = 'plain-text-secret-token-value';
    const error = (() => {
      try {
        parseTokenSecret(secret, 'iclinic/api-token');
      } catch (e) {
        return e as Error;
      }
      throw new Error('accepted');
    })();
    expect(error.message).toMatch(/iclinic\/api-token does not hold the JSON/);
    expect(error.message).not.toContain(secret);
  });

  it('rejects JSON without a token without quoting it', () => {
    const secret = '{"previousToken":"very-secret-previous-value"}';
    expect(() => parseTokenSecret(secret, 'n')).toThrow(/does not hold the JSON/);
    try {
      parseTokenSecret(secret, 'n');
    } catch (e) {
      expect((e as Error).message).not.toContain('very-secret-previous-value');
    }
  });

  it.each([undefined, '', 'null', '42', '{"token":""}', '{"token":5}'])('rejects %j', (value) => {
    expect(() => parseTokenSecret(value, 'n')).toThrow(/does not hold the JSON/);
  });
});

describe('readTokenSecret and writeTokenSecret', () => {
  it('reads a given version', async () => {
    const { ctx, mocks } = testContext();
    mocks.secrets.on(GetSecretValueCommand).resolves({ SecretString: '{"token":"abc"}' });
    await expect(readTokenSecret(ctx, 'v9')).resolves.toMatchObject({ token: 'abc' });
    expect(mocks.secrets.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: 'iclinic/api-token',
      VersionId: 'v9',
    });
  });

  it('writes a new version and returns its id', async () => {
    const { ctx, mocks } = testContext();
    mocks.secrets.on(PutSecretValueCommand).resolves({ ARN, VersionId: 'v3' });
    const secret = { token: 'n', previousToken: 'o', previousTokenValidUntil: 'z' };
    await expect(writeTokenSecret(ctx, secret)).resolves.toEqual({ arn: ARN, versionId: 'v3' });
    expect(
      JSON.parse(
        mocks.secrets.commandCalls(PutSecretValueCommand)[0]?.args[0].input.SecretString ?? '',
      ),
    ).toEqual(secret);
  });
});

describe('describeSecret', () => {
  it('treats a secret pending deletion as absent', async () => {
    const { ctx, mocks } = testContext();
    mocks.secrets.on(DescribeSecretCommand).resolves({ ARN, DeletedDate: new Date() });
    await expect(describeSecret(ctx)).resolves.toBeUndefined();
  });
});

describe('removeSecret', () => {
  it('deletes the secret without a recovery window', async () => {
    const { ctx, mocks } = testContext();
    mocks.secrets.on(DescribeSecretCommand).resolves({ ARN });
    mocks.secrets.on(DeleteSecretCommand).resolves({ ARN });
    await expect(removeSecret(ctx)).resolves.toEqual({ removed: ['secret iclinic/api-token'] });
    expect(mocks.secrets.commandCalls(DeleteSecretCommand)[0]?.args[0].input).toEqual({
      SecretId: 'iclinic/api-token',
      ForceDeleteWithoutRecovery: true,
    });
  });

  it('makes no mutating call when the secret is absent', async () => {
    const { ctx, mocks } = testContext();
    mocks.secrets.on(DescribeSecretCommand).rejects(notFound());
    await expect(removeSecret(ctx)).resolves.toEqual({ removed: [] });
    expect(operations(mocks.secrets)).toEqual(['DescribeSecret']);
  });

  it('treats a secret deleted concurrently as already removed', async () => {
    const { ctx, mocks } = testContext();
    mocks.secrets.on(DescribeSecretCommand).resolves({ ARN });
    mocks.secrets.on(DeleteSecretCommand).rejects(notFound());
    await expect(removeSecret(ctx)).resolves.toEqual({ removed: [] });
  });
});
