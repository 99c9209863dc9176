import { describe, expect, it } from 'vitest';
import { stackNames } from '../../../../provision/names.js';
import { allPolicyActions, IMPLIED_PERMISSIONS } from '../../../../provision/policy/index.js';
import { distributionTags } from '../../../../provision/resources/cloudfront/config.js';
import { actionData } from '../../../support/iam-data.js';
import { simulate, type SimulatedRequest } from '../../../support/iam-simulate.js';
import { documentsOf, SCENARIOS } from './scenarios.js';

const ACCOUNT = '123456789012';

/** The condition keys AWS sets for a create that carries these tags. */
function tagContext(tags: readonly { Key: string; Value: string }[]): SimulatedRequest['context'] {
  return {
    ...Object.fromEntries(tags.map((tag) => [`aws:RequestTag/${tag.Key}`, tag.Value])),
    'aws:TagKeys': tags.map((tag) => tag.Key),
  };
}

describe.each(SCENARIOS)(
  'the deployer policy for $stack in $region, evaluated by IAM rules',
  (scenario) => {
    const documents = documentsOf(scenario);

    it('allows every permission AWS checks behind a call (IMPLIED_PERMISSIONS)', async () => {
      const refused: string[] = [];
      for (const row of IMPLIED_PERMISSIONS) {
        for (const check of row.checks({ ...scenario, account: ACCOUNT })) {
          const decision = await simulate(documents, check);
          if (decision !== 'Allowed')
            refused.push(`${row.call} needs ${check.action} on ${check.resource}: ${decision}`);
        }
      }
      expect(refused).toEqual([]);
    });

    it('allows CreateDistributionWithTags as AWS authorizes it: CreateDistribution and TagResource on "*", with the tags it sends', async () => {
      const tags = distributionTags(stackNames(scenario.stack, scenario.region), scenario.region);
      for (const action of ['cloudfront:CreateDistribution', 'cloudfront:TagResource']) {
        const request = { action, resource: '*', context: tagContext(tags) };
        expect(await simulate(documents, request), action).toBe('Allowed');
      }
    });
  },
);

describe('the deployer policy, evaluated by IAM rules', () => {
  const documents = documentsOf({ stack: 'iclinic-staging', region: 'sa-east-1' });
  const tags = distributionTags(stackNames('iclinic-staging', 'sa-east-1'), 'sa-east-1');

  it('refuses a distribution tagged for another stack, or carrying other tag keys', async () => {
    const otherStack = tags.map((t) =>
      t.Key === 'iclinic-deploy:stack' ? { ...t, Value: 'x' } : t,
    );
    const create = { action: 'cloudfront:CreateDistribution', resource: '*' };
    expect(await simulate(documents, { ...create, context: tagContext(otherStack) })).toBe(
      'ImplicitlyDenied',
    );
    const extraKey = [...tags, { Key: 'owner', Value: 'someone' }];
    expect(await simulate(documents, { ...create, context: tagContext(extraKey) })).toBe(
      'ImplicitlyDenied',
    );
    expect(await simulate(documents, { ...create, context: {} })).toBe('ImplicitlyDenied');
  });

  it('refuses a check whose region, resource or condition key does not fit (the referee is not vacuous)', async () => {
    const describeVpcs = { action: 'ec2:DescribeVpcs', resource: '*' };
    expect(
      await simulate(documents, {
        ...describeVpcs,
        context: { 'aws:RequestedRegion': 'us-east-1' },
      }),
    ).toBe('ImplicitlyDenied');
    expect(
      await simulate(documents, {
        action: 'ecr:BatchGetImage',
        resource: `arn:aws:ecr:sa-east-1:${ACCOUNT}:repository/other/api`,
        context: {},
      }),
    ).toBe('ImplicitlyDenied');
    const passRole = {
      action: 'iam:PassRole',
      resource: `arn:aws:iam::${ACCOUNT}:role/iclinic-staging-sa-east-1-exec`,
    };
    expect(
      await simulate(documents, {
        ...passRole,
        context: { 'iam:PassedToService': 'ec2.amazonaws.com' },
      }),
    ).toBe('ImplicitlyDenied');
    expect(
      await simulate(documents, {
        ...passRole,
        context: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
      }),
    ).toBe('Allowed');
  });

  it('lets PutScalingPolicy create only the target-tracking alarms of the stack service, not another stack', async () => {
    const alarm = (stack: string) => ({
      action: 'cloudwatch:PutMetricAlarm',
      resource: `arn:aws:cloudwatch:sa-east-1:${ACCOUNT}:alarm:TargetTracking-service/${stack}/${stack}-api-AlarmLow-1`,
      context: {},
    });
    expect(await simulate(documents, alarm('iclinic-staging'))).toBe('Allowed');
    expect(await simulate(documents, alarm('other'))).toBe('ImplicitlyDenied');
  });

  it('allows the Application Auto Scaling service-linked role for ECS and no other service', async () => {
    const role = (service: string) => ({
      action: 'iam:CreateServiceLinkedRole',
      resource: `arn:aws:iam::${ACCOUNT}:role/aws-service-role/${service}/Role`,
      context: { 'iam:AWSServiceName': service },
    });
    expect(await simulate(documents, role('ecs.application-autoscaling.amazonaws.com'))).toBe(
      'Allowed',
    );
    expect(await simulate(documents, role('dynamodb.application-autoscaling.amazonaws.com'))).toBe(
      'ImplicitlyDenied',
    );
  });
});

describe('IMPLIED_PERMISSIONS', () => {
  const request = { region: 'sa-east-1', stack: 'iclinic-staging', account: ACCOUNT };

  it('lists the EC2 checks ELB documents for CreateLoadBalancer and BatchGetImage for a push', () => {
    const actionsOf = (call: string) =>
      IMPLIED_PERMISSIONS.find((row) => row.call === call)
        ?.checks(request)
        .map((c) => c.action);
    expect(actionsOf('elasticloadbalancing:CreateLoadBalancer')).toEqual(
      expect.arrayContaining([
        'ec2:DescribeAccountAttributes',
        'ec2:DescribeAddresses',
        'ec2:DescribeInternetGateways',
        'ec2:DescribeSecurityGroups',
        'ec2:DescribeSubnets',
        'ec2:DescribeVpcs',
        'iam:CreateServiceLinkedRole',
      ]),
    );
    expect(actionsOf('docker push')).toContain('ecr:BatchGetImage');
  });

  it("holds only what AWS's authorization data lacks: the SAR lists none of its checks as dependent actions of the call", async () => {
    const known: string[] = [];
    for (const row of IMPLIED_PERMISSIONS) {
      const dependent = (await actionData(row.call))?.dependentActions ?? [];
      for (const check of row.checks(request))
        if (dependent.some((d) => d.toLowerCase() === check.action.toLowerCase()))
          known.push(`${row.call} → ${check.action}`);
    }
    expect(known).toEqual([]);
  });

  it('names an AWS source for every row and a call the CLI makes', () => {
    const allowed = allPolicyActions();
    for (const row of IMPLIED_PERMISSIONS) {
      expect(row.source, row.call).toMatch(/^https:\/\/docs\.aws\.amazon\.com\//);
      if (row.call !== 'docker push') expect(allowed, row.call).toContain(row.call);
    }
  });
});
