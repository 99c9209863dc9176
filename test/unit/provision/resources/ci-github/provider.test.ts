import {
  CreateOpenIDConnectProviderCommand,
  DeleteOpenIDConnectProviderCommand,
  GetOpenIDConnectProviderCommand,
  ListRolesCommand,
} from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import {
  ensureProvider,
  ProviderAudienceError,
  removeProvider,
} from '../../../../../provision/resources/ci-github/provider.js';
import { awsError, callInputs, mutatingOperations, testContext } from '../../../support/context.js';

const ARN = 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com';
const OURS = [{ Key: 'managed-by', Value: 'iclinic-deploy' }];
const missing = awsError('NoSuchEntity', `OpenIDConnect Provider not found for arn ${ARN}`);

function trustOf(provider: string): string {
  return encodeURIComponent(
    JSON.stringify({
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: provider },
          Action: 'sts:AssumeRoleWithWebIdentity',
        },
      ],
    }),
  );
}

function role(name: string, trust: string) {
  return {
    RoleName: name,
    Arn: `arn:aws:iam::123456789012:role/${name}`,
    Path: '/',
    RoleId: 'AROA',
    CreateDate: new Date(),
    AssumeRolePolicyDocument: trust,
  };
}

describe('ensureProvider', () => {
  it('creates the provider when missing: GitHub issuer, sts.amazonaws.com audience, our tag, no thumbprint', async () => {
    const { ctx, mocks } = testContext();
    mocks.iam.on(GetOpenIDConnectProviderCommand).rejects(missing);
    mocks.iam.on(CreateOpenIDConnectProviderCommand).resolves({ OpenIDConnectProviderArn: ARN });
    const result = await ensureProvider(ctx, ARN);
    expect(result.value).toEqual({ arn: ARN, createdByTool: true });
    expect(result.changes).toEqual([
      {
        action: 'create',
        kind: 'OIDC provider',
        name: 'token.actions.githubusercontent.com',
        detail: 'audience sts.amazonaws.com',
      },
    ]);
    const create = callInputs(mocks.iam).find((c) => c.operation === 'CreateOpenIDConnectProvider');
    expect(create?.input).toEqual({
      Url: 'https://token.actions.githubusercontent.com',
      ClientIDList: ['sts.amazonaws.com'],
      Tags: OURS,
    });
  });

  it('reuses a provider found in the account as it is, with no mutating call', async () => {
    const { ctx, mocks } = testContext();
    mocks.iam.on(GetOpenIDConnectProviderCommand).resolves({
      Url: 'token.actions.githubusercontent.com',
      ClientIDList: ['sts.amazonaws.com', 'other'],
      ThumbprintList: ['6938fd4d98bab03faadb97b34396831e3780aea1'],
      Tags: [{ Key: 'team', Value: 'platform' }],
    });
    const result = await ensureProvider(ctx, ARN);
    expect(result).toEqual({ changes: [], value: { arn: ARN, createdByTool: false } });
    expect(mutatingOperations(mocks.iam)).toEqual([]);
  });

  it('refuses, changing nothing, a provider that does not list the sts.amazonaws.com audience', async () => {
    const { ctx, mocks } = testContext();
    mocks.iam
      .on(GetOpenIDConnectProviderCommand)
      .resolves({ ClientIDList: ['https://github.com/acme'] });
    await expect(ensureProvider(ctx, ARN)).rejects.toThrow(ProviderAudienceError);
    await expect(ensureProvider(ctx, ARN)).rejects.toThrow(
      /lists: https:\/\/github.com\/acme.*add-client-id-to-open-id-connect-provider/,
    );
    expect(mutatingOperations(mocks.iam)).toEqual([]);
  });

  it('plans the creation in a dry run and makes no call that changes anything', async () => {
    const { ctx, mocks } = testContext();
    mocks.iam.on(GetOpenIDConnectProviderCommand).rejects(missing);
    const result = await ensureProvider({ ...ctx, dryRun: true }, ARN);
    expect(result.changes).toHaveLength(1);
    expect(mutatingOperations(mocks.iam)).toEqual([]);
  });

  it('takes a provider another run created meanwhile (EntityAlreadyExists) as done', async () => {
    const { ctx, mocks } = testContext();
    mocks.iam.on(GetOpenIDConnectProviderCommand).rejects(missing);
    mocks.iam
      .on(CreateOpenIDConnectProviderCommand)
      .rejects(awsError('EntityAlreadyExists', 'exists'));
    await expect(ensureProvider(ctx, ARN)).resolves.toMatchObject({ value: { arn: ARN } });
  });
});

describe('removeProvider', () => {
  const leaving = 'iclinic-us-east-1-deploy';

  it('deletes the provider it created once no other role trusts it (the leaving role does not count)', async () => {
    const { ctx, mocks } = testContext();
    mocks.iam
      .on(GetOpenIDConnectProviderCommand)
      .resolves({ ClientIDList: ['sts.amazonaws.com'], Tags: OURS });
    mocks.iam.on(ListRolesCommand).resolves({
      Roles: [
        role(leaving, trustOf(ARN)),
        role('unrelated', trustOf('arn:aws:iam::123456789012:oidc-provider/gitlab.com')),
      ],
    });
    const removed = await removeProvider(ctx, ARN, leaving);
    expect(removed.changes.map((c) => c.action)).toEqual(['delete']);
    expect(mutatingOperations(mocks.iam)).toEqual(['DeleteOpenIDConnectProvider']);
  });

  it('keeps the provider another role still trusts, and says which', async () => {
    const { ctx, mocks, report } = testContext();
    mocks.iam
      .on(GetOpenIDConnectProviderCommand)
      .resolves({ ClientIDList: ['sts.amazonaws.com'], Tags: OURS });
    mocks.iam
      .on(ListRolesCommand)
      .resolves({ Roles: [role('other-us-east-1-deploy', trustOf(ARN))] });
    expect(await removeProvider(ctx, ARN, leaving)).toEqual({ changes: [] });
    expect(mutatingOperations(mocks.iam)).toEqual([]);
    expect(report.progressLines.join('\n')).toContain('other-us-east-1-deploy still trust');
  });

  it('never deletes a provider it did not create, trusted or not', async () => {
    const { ctx, mocks } = testContext();
    mocks.iam
      .on(GetOpenIDConnectProviderCommand)
      .resolves({ ClientIDList: ['sts.amazonaws.com'], Tags: [] });
    mocks.iam.on(ListRolesCommand).resolves({ Roles: [] });
    expect(await removeProvider(ctx, ARN, leaving)).toEqual({ changes: [] });
    expect(mutatingOperations(mocks.iam)).toEqual([]);
  });

  it('has nothing to do when there is no provider', async () => {
    const { ctx, mocks } = testContext();
    mocks.iam.on(GetOpenIDConnectProviderCommand).rejects(missing);
    expect(await removeProvider(ctx, ARN, leaving)).toEqual({ changes: [] });
    expect(mocks.iam.commandCalls(DeleteOpenIDConnectProviderCommand)).toHaveLength(0);
  });
});
