// Which statement of the deployer policy grants each call the CLI makes,
// and which calls no statement grants: least privilege checked call by call,
// each statement evaluated alone by IAM's rules (iam-simulate).
import { describe, expect, it } from 'vitest';
import {
  ACTIONS,
  deployerStatements,
  iamActionsOf,
  IMPLIED_PERMISSIONS,
} from '../../../provision/policy/index.js';
import { simulate, type SimulatedRequest } from '../../support/iam-simulate.js';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const statements = deployerStatements({ region: REGION, stack: 'iclinic' });

/** The ids of the statements that, each alone, allow the request. */
async function grantingSids(request: SimulatedRequest): Promise<string[]> {
  const sids: string[] = [];
  for (const statement of statements) {
    const alone = { Version: '2012-10-17' as const, Statement: [statement] };
    if ((await simulate([alone], request)) === 'Allowed') sids.push(statement.Sid);
  }
  return sids;
}
const inRegion = { 'aws:RequestedRegion': REGION };
const elsewhere = { 'aws:RequestedRegion': 'sa-east-1' };

describe('iamActionsOf', () => {
  it('maps CreateDistributionWithTags to the two actions CloudFront checks, any other call to itself', () => {
    expect(iamActionsOf('cloudfront:CreateDistributionWithTags')).toEqual([
      'cloudfront:CreateDistribution',
      'cloudfront:TagResource',
    ]);
    expect(iamActionsOf('ecs:UpdateService')).toEqual(['ecs:UpdateService']);
  });
});

describe('deployerPolicy statements', () => {
  it('each have an id of letters and digits, unique in the policy (IAM requires it)', () => {
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_sid.html
    const ids = statements.map((s) => s.Sid);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9]+$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  const alarm = (name: string) => `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${name}`;
  const logGroup = (name: string) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name}`;
  const scalableTarget = `arn:aws:application-autoscaling:${REGION}:${ACCOUNT}:scalable-target/0ec1`;
  const topic = (name: string) => `arn:aws:sns:${REGION}:${ACCOUNT}:${name}`;

  /**
   * [action, resource, condition keys, the statement that grants it (undefined: none)].
   * sts:GetCallerIdentity is not here: IAM allows it to every principal, whatever its policy.
   */
  const cases: [string, string, Record<string, string>, string | undefined][] = [
    ['logs:DescribeLogGroups', '*', inRegion, 'LogGroupList'],
    ['logs:CreateLogGroup', logGroup('/ecs/iclinic/api'), inRegion, 'LogGroup'],
    ['logs:PutRetentionPolicy', logGroup('/ecs/iclinic/api:*'), inRegion, 'LogGroup'],
    ['logs:DeleteLogGroup', logGroup('/ecs/other/api'), inRegion, undefined],
    [
      'logs:DeleteLogGroup',
      `arn:aws:logs:sa-east-1:${ACCOUNT}:log-group:/ecs/iclinic/api`,
      {},
      undefined,
    ],
    ['cloudfront:ListDistributions', '*', {}, 'CloudFrontList'],
    [
      'cloudfront:UpdateDistribution',
      `arn:aws:cloudfront::${ACCOUNT}:distribution/E2ABC`,
      {},
      'CloudFrontDistribution',
    ],
    ['cloudfront:DeleteDistribution', `arn:aws:cloudfront::${ACCOUNT}:function/f`, {}, undefined],
    ['application-autoscaling:DescribeScalableTargets', '*', inRegion, 'AutoscalingRead'],
    ['application-autoscaling:DescribeScalableTargets', '*', elsewhere, undefined],
    ['application-autoscaling:RegisterScalableTarget', scalableTarget, inRegion, 'Autoscaling'],
    ['cloudwatch:DescribeAlarms', '*', inRegion, 'AlarmsRead'],
    ['cloudwatch:DescribeAlarms', alarm('iclinic-unhealthy-targets'), elsewhere, undefined],
    ['cloudwatch:PutMetricAlarm', alarm('iclinic-unhealthy-targets'), inRegion, 'Alarms'],
    [
      'cloudwatch:PutMetricAlarm',
      alarm('TargetTracking-service/iclinic/iclinic-api-AlarmHigh-1'),
      inRegion,
      'Alarms',
    ],
    ['cloudwatch:PutMetricAlarm', alarm('other-unhealthy-targets'), inRegion, undefined],
    ['sns:ListTopics', '*', inRegion, 'AlarmTopicList'],
    ['sns:ListTopics', topic('iclinic-alarms'), elsewhere, undefined],
    ['sns:Subscribe', topic('iclinic-alarms'), inRegion, 'AlarmTopic'],
    ['sns:Subscribe', topic('other-alarms'), inRegion, undefined],
    [
      'iam:PassRole',
      `arn:aws:iam::${ACCOUNT}:role/iclinic-us-east-1-exec`,
      { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
      'PassExecutionRoleToEcs',
    ],
    [
      'iam:PassRole',
      `arn:aws:iam::${ACCOUNT}:role/iclinic-us-east-1-exec`,
      { 'iam:PassedToService': 'lambda.amazonaws.com' },
      undefined,
    ],
    [
      'iam:CreateServiceLinkedRole',
      `arn:aws:iam::${ACCOUNT}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS`,
      { 'iam:AWSServiceName': 'ecs.amazonaws.com' },
      'ServiceLinkedRoles',
    ],
    [
      'iam:CreateServiceLinkedRole',
      `arn:aws:iam::${ACCOUNT}:role/aws-service-role/rds.amazonaws.com/AWSServiceRoleForRDS`,
      { 'iam:AWSServiceName': 'rds.amazonaws.com' },
      undefined,
    ],
  ];
  it.each(cases)('%s on %s (%o) is granted by %s alone', async (action, resource, context, sid) => {
    expect(await grantingSids({ action, resource, context })).toEqual(
      sid === undefined ? [] : [sid],
    );
  });
});

describe('IMPLIED_PERMISSIONS rows', () => {
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
