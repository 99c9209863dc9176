import { describe, expect, it } from 'vitest';
import {
  deployTrustPolicy,
  trustedTarget,
} from '../../../../../provision/resources/ci-github/trust.js';
import { webIdentityAllowed } from '../../../../support/trust-eval.js';

const PROVIDER = 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com';
const target = { repo: 'acme/api', branch: 'main' };
const trust = deployTrustPolicy(PROVIDER, target);

/** A GitHub Actions token as STS sees it: its provider and its claims. */
function token(sub: string, overrides: { aud?: string; provider?: string } = {}) {
  return {
    providerArn: overrides.provider ?? PROVIDER,
    claims: {
      'token.actions.githubusercontent.com:aud': overrides.aud ?? 'sts.amazonaws.com',
      'token.actions.githubusercontent.com:sub': sub,
    },
  };
}

describe('deployTrustPolicy, evaluated as STS evaluates a web identity', () => {
  it('lets a run on the branch of the repository assume the role', () => {
    expect(webIdentityAllowed(trust, token('repo:acme/api:ref:refs/heads/main'))).toBe(true);
  });

  it.each([
    ['another branch', 'repo:acme/api:ref:refs/heads/dev'],
    ['a branch that only begins like it', 'repo:acme/api:ref:refs/heads/main-old'],
    ['a tag of the same name', 'repo:acme/api:ref:refs/tags/main'],
    ['another repository of the owner', 'repo:acme/web:ref:refs/heads/main'],
    ['the same name under another owner', 'repo:evil/api:ref:refs/heads/main'],
    ['a repository whose name only begins with it', 'repo:acme/api-fork:ref:refs/heads/main'],
    ['an owner whose name only begins with it', 'repo:acme-evil/api:ref:refs/heads/main'],
    ['a pull request', 'repo:acme/api:pull_request'],
    ['a job in an environment', 'repo:acme/api:environment:production'],
    ['the immutable-id form of the repository', 'repo:acme@1/api@2:ref:refs/heads/main'],
  ])('refuses %s', (_what, sub) => {
    expect(webIdentityAllowed(trust, token(sub))).toBe(false);
  });

  it('refuses a token for another audience or from another provider', () => {
    const sub = 'repo:acme/api:ref:refs/heads/main';
    expect(webIdentityAllowed(trust, token(sub, { aud: 'https://github.com/acme' }))).toBe(false);
    const gitlab = 'arn:aws:iam::123456789012:oidc-provider/gitlab.com';
    expect(webIdentityAllowed(trust, token(sub, { provider: gitlab }))).toBe(false);
  });

  it('admits exactly the immutable-id subject when the repository is given with its ids', () => {
    const withIds = deployTrustPolicy(PROVIDER, { repo: 'acme@1/api@2', branch: 'main' });
    expect(webIdentityAllowed(withIds, token('repo:acme@1/api@2:ref:refs/heads/main'))).toBe(true);
    expect(webIdentityAllowed(withIds, token('repo:acme/api:ref:refs/heads/main'))).toBe(false);
    expect(webIdentityAllowed(withIds, token('repo:acme@1/api@3:ref:refs/heads/main'))).toBe(false);
  });

  it('takes "$" in a branch name literally, not as the start of a policy variable', () => {
    const dollar = deployTrustPolicy(PROVIDER, { repo: 'acme/api', branch: 'v${aws:username}' });
    expect(webIdentityAllowed(dollar, token('repo:acme/api:ref:refs/heads/v${aws:username}'))).toBe(
      true,
    );
    expect(webIdentityAllowed(dollar, token('repo:acme/api:ref:refs/heads/vbob'))).toBe(false);
  });

  it('uses StringEquals only: no wildcard a stranger could fill in', () => {
    const [statement] = [trust.Statement].flat() as { Condition?: Record<string, unknown> }[];
    expect(Object.keys(statement?.Condition ?? {})).toEqual(['StringEquals']);
    expect(JSON.stringify(trust)).not.toMatch(/[*?]/);
  });

  it('is an evaluator that can say yes to a wildcard (the refusals above are not vacuous)', () => {
    const loose = {
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: PROVIDER },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: { StringLike: { 'token.actions.githubusercontent.com:sub': 'repo:acme/*' } },
        },
      ],
    };
    expect(webIdentityAllowed(loose, token('repo:acme/web:pull_request'))).toBe(true);
  });
});

describe('trustedTarget', () => {
  it('reads the repository and branch back from the trust policy, "$" included', () => {
    expect(trustedTarget(trust)).toEqual(target);
    const dollar = { repo: 'acme/api', branch: 'a$b' };
    expect(trustedTarget(deployTrustPolicy(PROVIDER, dollar))).toEqual(dollar);
  });

  it('is undefined for a trust policy edited by hand', () => {
    expect(trustedTarget({ Statement: [] })).toBeUndefined();
    expect(trustedTarget({ Statement: [{ Condition: { StringLike: {} } }] })).toBeUndefined();
  });
});
