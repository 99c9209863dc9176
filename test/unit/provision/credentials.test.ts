import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { checkCredentials, CredentialsError } from '../../../provision/up.js';
import { testContext } from '../support/context.js';

describe('checkCredentials', () => {
  it('returns the account and caller', async () => {
    const { ctx, mocks } = testContext();
    mocks.sts
      .on(GetCallerIdentityCommand)
      .resolves({ Account: '123456789012', Arn: 'arn:aws:iam::123456789012:user/dev' });
    await expect(checkCredentials(ctx)).resolves.toEqual({
      account: '123456789012',
      arn: 'arn:aws:iam::123456789012:user/dev',
    });
  });

  it('explains a rejected identity as a credentials problem', async () => {
    const { ctx, mocks } = testContext();
    mocks.sts.on(GetCallerIdentityCommand).rejects(
      Object.assign(new Error('The security token included in the request is invalid.'), {
        name: 'InvalidClientTokenId',
      }),
    );
    await expect(checkCredentials(ctx)).rejects.toBeInstanceOf(CredentialsError);
  });

  it('lets a network failure through as it is, since credentials are not the cause', async () => {
    const { ctx, mocks } = testContext();
    const unreachable = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), {
      code: 'ECONNREFUSED',
    });
    mocks.sts.on(GetCallerIdentityCommand).rejects(unreachable);
    await expect(checkCredentials(ctx)).rejects.toThrow('ECONNREFUSED');
    await expect(checkCredentials(ctx)).rejects.not.toBeInstanceOf(CredentialsError);
  });
});
