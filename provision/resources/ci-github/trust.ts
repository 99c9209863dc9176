/** The deploy role's trust policy, and reading one back (pure). */
import type { PolicyDocument } from '../roles/policies.js';
import { GITHUB_OIDC_HOST, STS_AUDIENCE, subjectOf, targetOfSubject } from './github.js';
import type { GitHubTarget } from './github.js';

export const AUDIENCE_KEY = `${GITHUB_OIDC_HOST}:aud`;
export const SUBJECT_KEY = `${GITHUB_OIDC_HOST}:sub`;

/**
 * In a policy of version 2012-10-17, "${" starts a policy variable in a
 * condition value even under StringEquals; "${$}" is a literal "$"
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-specialchars).
 * git allows "$" and "{" in branch names, so every "$" is written that way.
 */
export function iamLiteral(value: string): string {
  return value.replaceAll('$', '${$}');
}

/** The inverse of iamLiteral. */
function fromIamLiteral(value: string): string {
  return value.replaceAll('${$}', '$');
}

/**
 * Only web identities from GitHub's issuer, for STS's audience, whose
 * subject is exactly this repository's branch: StringEquals, so no pull
 * request, other branch or repository whose name merely begins the same
 * matches. IAM refuses a GitHub trust policy without a `sub` condition
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-idp_oidc.html#idp_oidc_Create_GitHub),
 * and configure-aws-credentials documents this shape
 * (https://github.com/aws-actions/configure-aws-credentials#configuring-iam-to-trust-github).
 */
export function deployTrustPolicy(providerArn: string, target: GitHubTarget): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: providerArn },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            [AUDIENCE_KEY]: STS_AUDIENCE,
            [SUBJECT_KEY]: iamLiteral(subjectOf(target)),
          },
        },
      },
    ],
  };
}

interface TrustStatement {
  readonly Principal?: { readonly Federated?: string | readonly string[] };
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

function statementsOf(policy: unknown): TrustStatement[] {
  const statements = (policy as { Statement?: unknown } | undefined)?.Statement;
  if (statements === undefined) return [];
  return (Array.isArray(statements) ? statements : [statements]) as TrustStatement[];
}

/** Whether any statement of the trust policy names the provider as its federated principal. */
export function trustsProvider(policy: unknown, providerArn: string): boolean {
  return statementsOf(policy).some((statement) =>
    [statement.Principal?.Federated ?? []].flat().includes(providerArn),
  );
}

/**
 * The repository and branch a trust policy written by deployTrustPolicy
 * admits; undefined when it admits something else (edited by hand).
 */
export function trustedTarget(policy: unknown): GitHubTarget | undefined {
  const [statement, ...others] = statementsOf(policy);
  if (statement === undefined || others.length > 0) return undefined;
  const subject = statement.Condition?.StringEquals?.[SUBJECT_KEY];
  if (typeof subject !== 'string') return undefined;
  return targetOfSubject(fromIamLiteral(subject));
}
