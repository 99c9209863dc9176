/**
 * IAM's evaluation, as an independent referee of the deployer policy:
 * @cloud-copilot/iam-simulate evaluates identity policies by the IAM
 * evaluation logic with every condition operator, and validates each
 * request against AWS's authorization data (the action exists, the
 * resource is of a type the action takes or "*" where it takes none, the
 * context keys are ones the action supports; others are ignored, as IAM
 * ignores them).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { PolicyDocument } from '../../provision/policy/index.js';

export interface SimulatedRequest {
  readonly action: string;
  readonly resource: string;
  readonly context: Readonly<Record<string, string | readonly string[]>>;
}

const ACCOUNT = '123456789012';

/** 'Allowed', 'ImplicitlyDenied', 'ExplicitlyDenied', or `invalid: <why>` when the data refuses the request itself. */
export async function simulate(
  documents: readonly PolicyDocument[],
  request: SimulatedRequest,
): Promise<string> {
  const result = await runSimulation(
    {
      request: {
        principal: `arn:aws:iam::${ACCOUNT}:user/iclinic-deployer`,
        action: request.action,
        resource: { resource: request.resource, accountId: ACCOUNT },
        contextVariables: Object.fromEntries(
          Object.entries(request.context).map(([key, value]) => [
            key,
            typeof value === 'string' ? value : [...value],
          ]),
        ),
      },
      identityPolicies: documents.map((policy, index) => ({ name: `part-${index + 1}`, policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (result.resultType === 'error') return `invalid: ${JSON.stringify(result.errors)}`;
  return result.overallResult;
}
