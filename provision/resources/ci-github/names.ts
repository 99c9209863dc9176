/** The names `ci github` gives its IAM resources (pure). */
import { ROLE_NAME_MAX_LENGTH, RegionTooLongError, stackNames } from '../../names.js';

/**
 * One deploy role per stack and region, named like the execution role: IAM
 * names are account-wide, so the region is part of it.
 */
export function deployRoleName(stack: string, region: string): string {
  stackNames(stack, region);
  const name = `${stack}-${region}-deploy`;
  // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
  if (name.length > ROLE_NAME_MAX_LENGTH) throw new RegionTooLongError(region, name);
  return name;
}

/** The deploy role's inline policies: one per document of the deployer policy. */
export function deployPolicyName(index: number): string {
  return `deployer-policy-${index + 1}`;
}
