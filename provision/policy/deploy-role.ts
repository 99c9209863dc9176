import { deployPolicyName } from '../resources/ci-github/names.js';
import type { PolicyDocument } from './document.js';
import { deployerPolicy, GITHUB_DEPLOY_SIDS } from './index.js';

export interface DeployRolePolicy {
  readonly name: string;
  readonly document: PolicyDocument;
}

/**
 * What `policy` prints for the stack and region, as one inline policy per
 * document of the GitHub Actions deploy role, less the statements that manage
 * the CI wiring itself: a role that could rewrite its own policy or trust
 * would give whoever can push to the branch every permission.
 */
export function deployRolePolicies(stack: string, region: string): DeployRolePolicy[] {
  return deployerPolicy({ stack, region }).map((document, index) => ({
    name: deployPolicyName(index),
    document: {
      ...document,
      Statement: document.Statement.filter((s) => !GITHUB_DEPLOY_SIDS.includes(s.Sid)),
    },
  }));
}
