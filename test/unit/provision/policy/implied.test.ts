import { describe, expect, it } from 'vitest';
import { stackNames } from '../../../../provision/names.js';
import {
  ACTIONS,
  allPolicyActions,
  IMPLIED_PERMISSIONS,
} from '../../../../provision/policy/index.js';
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

describe('IMPLIED_PERMISSIONS rows', () => {
  const REGION = 'us-east-1';
  const inRegion = { 'aws:RequestedRegion': REGION };
  const request = { region: REGION, stack: 'iclinic', account: ACCOUNT };
  const checksOf = (call: string) =>
    IMPLIED_PERMISSIONS.filter((row) => row.call === call).flatMap((row) => row.checks(request));
  const regional = (...actions: string[]) =>
    actions.map((action) => ({ action, resource: '*', context: inRegion }));
  const slr = (service: string, role: string) => ({
    action: 'iam:CreateServiceLinkedRole',
    resource: `arn:aws:iam::${ACCOUNT}:role/aws-service-role/${service}/${role}`,
    context: { 'iam:AWSServiceName': service },
  });
  const trackingAlarm = `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:TargetTracking-service/iclinic/iclinic-api-AlarmHigh-0b0c`;
  const onTrackingAlarm = (action: string) => ({
    action,
    resource: trackingAlarm,
    context: inRegion,
  });
  const repository = `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/iclinic/api`;

  const rows: [string, unknown[]][] = [
    [
      'iam:CreateOpenIDConnectProvider',
      ['iam:TagOpenIDConnectProvider', 'iam:ListOpenIDConnectProviderTags'].map((action) => ({
        action,
        resource: `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`,
        context: {},
      })),
    ],
    [
      'application-autoscaling:RegisterScalableTarget',
      [
        ...regional('ecs:DescribeServices', 'ecs:UpdateService'),
        slr(
          'ecs.application-autoscaling.amazonaws.com',
          'AWSServiceRoleForApplicationAutoScaling_ECSService',
        ),
      ],
    ],
    [
      'application-autoscaling:PutScalingPolicy',
      [onTrackingAlarm('cloudwatch:DescribeAlarms'), onTrackingAlarm('cloudwatch:PutMetricAlarm')],
    ],
    ['application-autoscaling:DeleteScalingPolicy', [onTrackingAlarm('cloudwatch:DeleteAlarms')]],
    [
      'application-autoscaling:DeregisterScalableTarget',
      [onTrackingAlarm('cloudwatch:DeleteAlarms')],
    ],
    [
      'elasticloadbalancing:CreateLoadBalancer',
      [
        ...regional(
          'ec2:DescribeAccountAttributes',
          'ec2:DescribeAddresses',
          'ec2:DescribeInternetGateways',
          'ec2:DescribeSecurityGroups',
          'ec2:DescribeSubnets',
          'ec2:DescribeVpcs',
        ),
        slr('elasticloadbalancing.amazonaws.com', 'AWSServiceRoleForElasticLoadBalancing'),
      ],
    ],
    [
      'elasticloadbalancing:CreateTargetGroup',
      regional('ec2:DescribeInternetGateways', 'ec2:DescribeVpcs'),
    ],
    ['elasticloadbalancing:SetSubnets', regional('ec2:DescribeSubnets')],
    ['elasticloadbalancing:SetSecurityGroups', []],
    ['ecs:CreateCluster', [slr('ecs.amazonaws.com', 'AWSServiceRoleForECS')]],
    [
      'ecs:RegisterTaskDefinition',
      [
        {
          action: 'iam:PassRole',
          resource: `arn:aws:iam::${ACCOUNT}:role/iclinic-us-east-1-exec`,
          context: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
        },
      ],
    ],
    [
      'docker push',
      [
        { action: 'ecr:GetAuthorizationToken', resource: '*', context: inRegion },
        ...[
          'ecr:BatchCheckLayerAvailability',
          'ecr:BatchGetImage',
          'ecr:CompleteLayerUpload',
          'ecr:InitiateLayerUpload',
          'ecr:PutImage',
          'ecr:UploadLayerPart',
        ].map((action) => ({ action, resource: repository, context: inRegion })),
      ],
    ],
  ];
  it.each(rows)('%s needs exactly the checks its AWS page lists', (call, expected) => {
    expect(checksOf(call)).toEqual(expected);
  });

  it('has a row for every load balancer call that creates, modifies or sets something, read from the ELB API permissions page', () => {
    // The page lists what each such call also needs; a new call without a row was not looked up.
    const writes = ACTIONS.elasticloadbalancing
      .filter((action) => /^(Create|Modify|Set)/.test(action))
      .map((action) => `elasticloadbalancing:${action}`);
    const read = IMPLIED_PERMISSIONS.filter((row) => row.source.includes('elb-api-permissions'));
    expect(read.map((row) => row.call).sort()).toEqual(writes.sort());
  });

  it('gives each row exactly one AWS source page or two', () => {
    for (const row of IMPLIED_PERMISSIONS) {
      const pages = row.source.split(', ');
      expect(pages.length, row.call).toBeLessThanOrEqual(2);
      for (const page of pages)
        expect(page, row.call).toMatch(/^https:\/\/docs\.aws\.amazon\.com\/\S+\.html$/);
    }
  });
});
