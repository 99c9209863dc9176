import { deployRolePolicies } from '../../../../../provision/policy/deploy-role.js';
import {
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import {
  checkInlineQuota,
  ensureDeployRole,
  INLINE_POLICIES_MAX_CHARS,
  InlinePolicyQuotaError,
  removeDeployRole,
} from '../../../../../provision/resources/ci-github/role.js';
import { deployTrustPolicy } from '../../../../../provision/resources/ci-github/trust.js';
import { simulate } from '../../../../support/iam-simulate.js';
import { awsError, callInputs, mutatingOperations, testContext } from '../../../support/context.js';

const PROVIDER = 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com';
const NAME = 'iclinic-us-east-1-deploy';
const ARN = `arn:aws:iam::123456789012:role/${NAME}`;
const target = { repo: 'acme/api', branch: 'main' };
const policies = deployRolePolicies('iclinic', 'us-east-1');
const settings = { providerArn: PROVIDER, target, policies };
const noRole = awsError('NoSuchEntity', `The role with name ${NAME} cannot be found.`);

function existing(trust: unknown = deployTrustPolicy(PROVIDER, target)) {
  return {
    Role: {
      RoleName: NAME,
      Arn: ARN,
      Path: '/',
      RoleId: 'AROA',
      CreateDate: new Date(),
      AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(trust)),
      Tags: [{ Key: 'iclinic-deploy:stack', Value: 'iclinic' }],
    },
  };
}

/** A role already converged: same trust, the deployer policy inline, nothing attached. */
function converged() {
  const { ctx, mocks, report } = testContext();
  mocks.iam.on(GetRoleCommand).resolves(existing());
  mocks.iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: policies.map((p) => p.name) });
  for (const policy of policies) {
    mocks.iam.on(GetRolePolicyCommand, { PolicyName: policy.name }).resolves({
      RoleName: NAME,
      PolicyName: policy.name,
      PolicyDocument: encodeURIComponent(JSON.stringify(policy.document)),
    });
  }
  mocks.iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [] });
  return { ctx, mocks, report };
}

describe('ensureDeployRole', () => {
  it('creates the role with the trust policy and tags, then puts the deployer policy inline', async () => {
    const { ctx, mocks } = testContext();
    // IAM does not show a new role at once: GetRole answers NoSuchEntity until it does.
    mocks.iam.on(GetRoleCommand).rejectsOnce(noRole).rejectsOnce(noRole).resolves(existing());
    mocks.iam.on(CreateRoleCommand).resolves(existing());
    const result = await ensureDeployRole(ctx, settings);
    expect(result.value).toEqual({ arn: ARN, name: NAME });
    expect(mutatingOperations(mocks.iam)).toEqual([
      'CreateRole',
      ...policies.map(() => 'PutRolePolicy'),
    ]);
    const create = callInputs(mocks.iam).find((c) => c.operation === 'CreateRole')?.input as {
      AssumeRolePolicyDocument: string;
      Tags: { Key: string; Value: string }[];
    };
    expect(JSON.parse(create.AssumeRolePolicyDocument)).toEqual(
      deployTrustPolicy(PROVIDER, target),
    );
    expect(create.Tags).toContainEqual({ Key: 'iclinic-deploy:stack', Value: 'iclinic' });
    const put = callInputs(mocks.iam).find((c) => c.operation === 'PutRolePolicy')?.input as {
      PolicyName: string;
      PolicyDocument: string;
    };
    expect(put.PolicyName).toBe('deployer-policy-1');
    expect(JSON.parse(put.PolicyDocument)).toEqual(policies[0]?.document);
  });

  it('changes nothing on a role that already has the trust and the policies', async () => {
    const { ctx, mocks } = converged();
    const result = await ensureDeployRole(ctx, settings);
    expect(result.changes).toEqual([]);
    expect(mutatingOperations(mocks.iam)).toEqual([]);
  });

  it('moves the trust to another branch and says old → new', async () => {
    const { ctx, mocks } = converged();
    const result = await ensureDeployRole(ctx, {
      ...settings,
      target: { repo: 'acme/api', branch: 'release' },
    });
    expect(result.changes).toEqual([
      {
        action: 'update',
        kind: 'IAM role',
        name: NAME,
        detail: 'trust',
        from: 'acme/api, branch main',
        to: 'acme/api, branch release',
      },
    ]);
    expect(mutatingOperations(mocks.iam)).toEqual(['UpdateAssumeRolePolicy']);
    const update = mocks.iam.commandCalls(UpdateAssumeRolePolicyCommand)[0]?.args[0].input;
    expect(JSON.parse(update?.PolicyDocument ?? '')).toEqual(
      deployTrustPolicy(PROVIDER, { repo: 'acme/api', branch: 'release' }),
    );
  });

  it('removes what is not the deployer policy: another inline policy and any attached managed policy', async () => {
    const { ctx, mocks } = converged();
    mocks.iam
      .on(ListRolePoliciesCommand)
      .resolves({ PolicyNames: [...policies.map((p) => p.name), 'added-by-hand'] });
    mocks.iam.on(GetRolePolicyCommand, { PolicyName: 'added-by-hand' }).resolves({
      RoleName: NAME,
      PolicyName: 'added-by-hand',
      PolicyDocument: '{"Statement":[]}',
    });
    mocks.iam.on(ListAttachedRolePoliciesCommand).resolves({
      AttachedPolicies: [
        {
          PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess',
          PolicyName: 'AdministratorAccess',
        },
      ],
    });
    await ensureDeployRole(ctx, settings);
    expect(mocks.iam.commandCalls(DeleteRolePolicyCommand)[0]?.args[0].input.PolicyName).toBe(
      'added-by-hand',
    );
    expect(mocks.iam.commandCalls(DetachRolePolicyCommand)[0]?.args[0].input.PolicyArn).toBe(
      'arn:aws:iam::aws:policy/AdministratorAccess',
    );
    expect(mocks.iam.commandCalls(PutRolePolicyCommand)).toHaveLength(0);
  });

  it('plans the creation in a dry run and changes nothing', async () => {
    const { ctx, mocks } = testContext();
    mocks.iam.on(GetRoleCommand).rejects(noRole);
    const result = await ensureDeployRole({ ...ctx, dryRun: true }, settings);
    expect(result.changes.map((c) => `${c.action} ${c.kind}`)).toEqual([
      'create IAM role',
      ...policies.map(() => 'create inline policy'),
    ]);
    expect(mutatingOperations(mocks.iam)).toEqual([]);
  });
});

describe('deployRolePolicies', () => {
  const documents = policies.map((p) => p.document);
  const all = documents.flatMap((d) => d.Statement);
  const decide = (action: string, resource: string) =>
    simulate(documents, { action, resource, context: { 'aws:RequestedRegion': 'us-east-1' } });

  it('is the deployer policy without the statements over the CI wiring, so the role cannot widen itself', async () => {
    expect(all.map((s) => s.Sid)).not.toContain('GitHubDeployRole');
    expect(all.map((s) => s.Sid)).not.toContain('GitHubOidcProvider');
    for (const action of [
      'iam:PutRolePolicy',
      'iam:UpdateAssumeRolePolicy',
      'iam:AttachRolePolicy',
    ])
      expect(await decide(action, ARN), action).toBe('ImplicitlyDenied');
    expect(await decide('iam:CreateOpenIDConnectProvider', PROVIDER)).toBe('ImplicitlyDenied');
  });

  it('keeps what up needs, e.g. the execution role and the image repository', async () => {
    const exec = 'arn:aws:iam::123456789012:role/iclinic-us-east-1-exec';
    expect(await decide('iam:PutRolePolicy', exec)).toBe('Allowed');
    const repository = 'arn:aws:ecr:us-east-1:123456789012:repository/iclinic/api';
    expect(await decide('ecr:PutImage', repository)).toBe('Allowed');
  });

  it("fits IAM's 10,240 characters of inline policy per role for the longest stack name and region", () => {
    const longest = deployRolePolicies('a'.repeat(24), 'ap-southeast-3');
    expect(() => checkInlineQuota(longest)).not.toThrow();
    const size = longest.reduce((sum, p) => sum + JSON.stringify(p.document).length, 0);
    expect(size).toBeLessThanOrEqual(INLINE_POLICIES_MAX_CHARS);
  });

  it('refuses documents over the quota before any call', () => {
    const big = [
      {
        name: 'x',
        document: {
          Version: '2012-10-17' as const,
          Statement: [
            {
              Sid: 'a'.repeat(10_300),
              Effect: 'Allow' as const,
              Action: ['s3:GetObject'],
              Resource: '*',
            },
          ],
        },
      },
    ];
    expect(() => checkInlineQuota(big)).toThrow(InlinePolicyQuotaError);
  });
});

describe('removeDeployRole', () => {
  it('deletes the role with its inline policies', async () => {
    const { ctx, mocks } = converged();
    mocks.iam.on(DeleteRoleCommand).resolves({});
    const removed = await removeDeployRole(ctx);
    expect(removed.changes).toEqual([
      { action: 'delete', kind: 'IAM role', name: NAME, detail: 'with its policies' },
    ]);
    expect(mutatingOperations(mocks.iam)).toEqual([
      ...policies.map(() => 'DeleteRolePolicy'),
      'DeleteRole',
    ]);
  });

  it('makes no mutating call when there is no role, after a second look', async () => {
    const { ctx, mocks } = testContext();
    mocks.iam.on(GetRoleCommand).rejects(noRole);
    expect(await removeDeployRole(ctx)).toEqual({ changes: [] });
    expect(mutatingOperations(mocks.iam)).toEqual([]);
    expect(mocks.iam.commandCalls(GetRoleCommand)).toHaveLength(2);
  });
});
