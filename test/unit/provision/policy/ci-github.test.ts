import { describe, expect, it } from 'vitest';
import { simulate } from '../../../support/iam-simulate.js';
import { documentsOf, statementsOf } from './scenarios.js';

const ACCOUNT = '123456789012';
const PROVIDER = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;

describe('the deployer policy for ci github, evaluated by IAM rules', () => {
  const documents = documentsOf({ region: 'sa-east-1', stack: 'iclinic-staging' });
  const decide = (action: string, resource: string) =>
    simulate(documents, { action, resource, context: {} });

  it('lets ci github manage the deploy role of the stack and region, by its name only', async () => {
    const own = role('iclinic-staging-sa-east-1-deploy');
    // What ci github and down call on it: create or update it, read it back, remove it.
    for (const action of [
      'iam:CreateRole',
      'iam:TagRole',
      'iam:GetRole',
      'iam:PutRolePolicy',
      'iam:GetRolePolicy',
      'iam:ListRolePolicies',
      'iam:ListAttachedRolePolicies',
      'iam:UpdateAssumeRolePolicy',
      'iam:DeleteRolePolicy',
      'iam:DetachRolePolicy',
      'iam:DeleteRole',
    ])
      expect(await decide(action, own), action).toBe('Allowed');
    for (const other of ['iclinic-staging-us-east-1-deploy', 'other-sa-east-1-deploy', 'admin'])
      expect(await decide('iam:PutRolePolicy', role(other)), other).toBe('ImplicitlyDenied');
  });

  it('neither attaches managed policies to the deploy role nor passes it to a service', async () => {
    const own = role('iclinic-staging-sa-east-1-deploy');
    expect(await decide('iam:AttachRolePolicy', own)).toBe('ImplicitlyDenied');
    expect(await decide('iam:PassRole', own)).toBe('ImplicitlyDenied');
  });

  it("grants the OIDC provider actions on GitHub's provider and no other provider", async () => {
    for (const action of [
      'iam:CreateOpenIDConnectProvider',
      'iam:GetOpenIDConnectProvider',
      'iam:TagOpenIDConnectProvider',
      'iam:ListOpenIDConnectProviderTags',
      'iam:DeleteOpenIDConnectProvider',
    ])
      expect(await decide(action, PROVIDER), action).toBe('Allowed');
    const gitlab = `arn:aws:iam::${ACCOUNT}:oidc-provider/gitlab.com`;
    expect(await decide('iam:DeleteOpenIDConnectProvider', gitlab)).toBe('ImplicitlyDenied');
    expect(await decide('iam:UpdateOpenIDConnectProviderThumbprint', PROVIDER)).toBe(
      'ImplicitlyDenied',
    );
  });

  it('grants the OIDC provider actions in one statement of their own', () => {
    const granting = statementsOf({ region: 'sa-east-1', stack: 'iclinic-staging' }).filter((s) =>
      s.Action.some((a) => a.includes('OpenIDConnectProvider')),
    );
    expect(granting.map((s) => s.Sid)).toEqual(['GitHubOidcProvider']);
  });
});
