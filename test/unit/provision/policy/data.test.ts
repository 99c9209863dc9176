import { describe, expect, it } from 'vitest';
import type { Statement } from '../../../../provision/policy/index.js';
import { partitionOf } from '../../../../provision/partition.js';
import {
  actionData,
  resourceCanBeOfFormat,
  supportsConditionKey,
} from '../../../support/iam-data.js';
import { resourcesOf, SCENARIOS, statementsOf } from './scenarios.js';

/** What AWS's authorization data (the SAR as data) finds wrong in these statements. */
async function dataFindings(statements: readonly Statement[]): Promise<string[]> {
  const findings: string[] = [];
  for (const statement of statements) {
    const keys = Object.values(statement.Condition ?? {}).flatMap((byKey) => Object.keys(byKey));
    for (const action of statement.Action) {
      const info = await actionData(action);
      if (info === undefined) {
        findings.push(`${statement.Sid}: AWS has no action ${action}`);
        continue;
      }
      const arns = resourcesOf(statement).filter((resource) => resource !== '*');
      if (arns.length > 0 && arns.length === resourcesOf(statement).length) {
        // A statement grants an action only on resources of a type it takes.
        const types = info.resourceTypes;
        if (types.length === 0) {
          findings.push(
            `${statement.Sid}: ${action} takes no resource type, only "*"; ${arns.join(', ')} grants nothing`,
          );
        } else if (
          !arns.some((arn) => types.some((t) => resourceCanBeOfFormat(arn, t.arnFormat)))
        ) {
          const names = types.map((t) => t.name).join(', ');
          findings.push(
            `${statement.Sid}: ${action} takes ${names}; ${arns.join(', ')} is none of them`,
          );
        }
      }
      for (const key of keys) {
        if (!supportsConditionKey(info, key))
          findings.push(`${statement.Sid}: ${action} does not support the condition key ${key}`);
      }
    }
  }
  return findings;
}

describe.each(SCENARIOS)(
  'the deployer policy for $stack in $region, judged by AWS authorization data',
  (scenario) => {
    const statements = statementsOf(scenario);

    it('names only actions AWS has, each with a resource of a type it takes ("*" where it takes none) and condition keys it supports', async () => {
      expect(await dataFindings(statements)).toEqual([]);
    });

    it('names every resource in the partition of its region', () => {
      const prefix = `arn:${partitionOf(scenario.region)}:`;
      const elsewhere = statements
        .flatMap(resourcesOf)
        .filter((resource) => resource !== '*' && !resource.startsWith(prefix));
      expect(elsewhere).toEqual([]);
    });
  },
);

describe('the data check', () => {
  it('finds an action granted on an ARN it does not take, an unknown action and an unsupported condition key (it is not vacuous)', async () => {
    const wrong: Statement[] = [
      {
        Sid: 'CreateOnArn',
        Effect: 'Allow',
        Action: ['cloudfront:CreateDistribution', 'cloudfront:GetDistribution'],
        Resource: 'arn:aws:cloudfront::*:distribution/*',
      },
      {
        Sid: 'WrongType',
        Effect: 'Allow',
        Action: ['ecr:PutImage'],
        Resource: 'arn:aws:ecr:us-east-1:*:registry/x',
      },
      {
        Sid: 'Unknown',
        Effect: 'Allow',
        Action: ['ec2:CreateVpcs', 'sts:GetCallerIdentity'],
        Resource: '*',
        Condition: { StringEquals: { 'aws:RequestTag/k': 'v', 'aws:RequestedRegion': 'x' } },
      },
    ];
    expect(await dataFindings(wrong)).toEqual([
      'CreateOnArn: cloudfront:CreateDistribution takes no resource type, only "*"; arn:aws:cloudfront::*:distribution/* grants nothing',
      'WrongType: ecr:PutImage takes repository; arn:aws:ecr:us-east-1:*:registry/x is none of them',
      'Unknown: AWS has no action ec2:CreateVpcs',
      'Unknown: sts:GetCallerIdentity does not support the condition key aws:RequestTag/k',
    ]);
  });
});
