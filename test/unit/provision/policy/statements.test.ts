// Which statement of the deployer policy grants each call the CLI makes,
// and which calls no statement grants: least privilege checked call by call,
// each statement evaluated alone by IAM's rules (iam-simulate).
import { describe, expect, it } from 'vitest';
import { deployerStatements, iamActionsOf } from '../../../../provision/policy/index.js';
import { simulate, type SimulatedRequest } from '../../../support/iam-simulate.js';

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
