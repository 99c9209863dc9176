import { describe, expect, it } from 'vitest';
import { deployerStatements } from '../../../provision/policy/index.js';
import type { TestClients } from '../../support/aws.js';
import { evaluate, type Policy } from '../../support/strict-aws/rules/iam-eval.js';
import {
  authorizationsFor,
  permissionRule,
  printedPolicy,
} from '../../support/strict-aws/rules/permissions.js';
import type { AwsRequest, RuleEnv, WireProtocol } from '../../support/strict-aws/types.js';

/** moto has no role: lookups fall back to the ARN AWS derives from the name. */
const env: RuleEnv = {
  moto: () =>
    ({ iam: { send: () => Promise.reject(new Error('NoSuchEntity')) } }) as unknown as TestClients,
  random: () => 0.5,
  now: () => 0,
};

const policy = (stack: string, region: string): Policy => ({
  Statement: deployerStatements({ stack, region }),
});

function request(
  service: string,
  operation: string,
  params: Record<string, unknown> = {},
  extra: Partial<AwsRequest> = {},
): AwsRequest {
  const protocol: WireProtocol =
    service === 'ec2'
      ? 'ec2'
      : ['iam', 'sts', 'elasticloadbalancing'].includes(service)
        ? 'query'
        : 'json';
  return { service, operation, region: 'us-east-1', protocol, params, stack: 'iclinic', ...extra };
}

async function check(req: AwsRequest, policyFor = policy) {
  return permissionRule({ policyFor }).before?.(req, env);
}

describe('the permission rule', () => {
  it('allows a call the deployer policy grants', async () => {
    expect(await check(request('ec2', 'CreateVpc', { CidrBlock: '10.0.0.0/16' }))).toBeUndefined();
  });

  it('denies a call missing from the policy with EC2 UnauthorizedOperation', async () => {
    const reply = await check(request('ec2', 'RunInstances'));
    expect(reply).toMatchObject({ status: 403, code: 'UnauthorizedOperation' });
    // RunInstances takes instances among others: the data names the resource.
    expect(reply?.message).toContain(
      'is not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:us-east-1:',
    );
  });

  it('denies the documented extra permission CreateLoadBalancer needs when the policy lacks it', async () => {
    const lacking = (): Policy => ({
      Statement: [
        {
          Effect: 'Allow',
          Action: [
            'elasticloadbalancing:*',
            'iam:CreateServiceLinkedRole',
            'ec2:DescribeAccountAttributes',
            'ec2:DescribeInternetGateways',
            'ec2:DescribeSecurityGroups',
            'ec2:DescribeSubnets',
            'ec2:DescribeVpcs',
          ],
          Resource: '*',
        },
      ],
    });
    const reply = await check(
      request('elasticloadbalancing', 'CreateLoadBalancer', { Name: 'x' }),
      lacking,
    );
    expect(reply).toMatchObject({ status: 403, code: 'AccessDenied' });
    expect(reply?.message).toContain('ec2:DescribeAddresses');
    expect(reply?.message).toContain('elb-api-permissions');
  });

  it('denies a secret of another stack: wrong resource, AccessDeniedException for JSON services', async () => {
    const reply = await check(
      request('secretsmanager', 'GetSecretValue', { SecretId: 'other/api-token' }),
    );
    expect(reply).toMatchObject({ status: 400, code: 'AccessDeniedException' });
    expect(reply?.message).toContain(
      'on resource: arn:aws:secretsmanager:us-east-1:123456789012:secret:other/api-token-',
    );
  });

  it('allows the stack secret by name and by ARN with the six-character suffix', async () => {
    expect(
      await check(request('secretsmanager', 'DescribeSecret', { SecretId: 'iclinic/api-token' })),
    ).toBeUndefined();
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:iclinic/api-token-Ab12Cd';
    expect(
      await check(request('secretsmanager', 'PutSecretValue', { SecretId: arn })),
    ).toBeUndefined();
  });

  it('denies a region-scoped call in another region (aws:RequestedRegion condition)', async () => {
    const reply = await check(
      request('ec2', 'CreateVpc', {}, { region: 'eu-west-1', cliRegion: 'us-east-1' }),
    );
    expect(reply?.code).toBe('UnauthorizedOperation');
  });

  it('requires iam:PassRole with iam:PassedToService when a task definition names an execution role', async () => {
    const req = request('ecs', 'RegisterTaskDefinition', {
      family: 'iclinic-api',
      executionRoleArn: 'arn:aws:iam::123456789012:role/someone-else',
    });
    const auths = await authorizationsFor(req, env);
    expect(auths).toContainEqual(
      expect.objectContaining({
        action: 'iam:PassRole',
        context: expect.objectContaining({ 'iam:PassedToService': 'ecs-tasks.amazonaws.com' }),
      }),
    );
    expect((await check(req))?.message).toContain(
      'iam:PassRole on resource: arn:aws:iam::123456789012:role/someone-else',
    );
  });

  it('requires the tagging permission when a create call carries tags', async () => {
    const auths = await authorizationsFor(
      request('ec2', 'CreateSubnet', { 'TagSpecification.1.ResourceType': 'subnet' }),
      env,
    );
    // CreateSubnet takes the subnet and its VPC; the tags go on the subnet it creates.
    expect(auths.map((a) => `${a.action} ${a.resource}`)).toEqual([
      'ec2:CreateSubnet arn:aws:ec2:us-east-1:123456789012:subnet/*',
      'ec2:CreateSubnet arn:aws:ec2:us-east-1:123456789012:vpc/*',
      'ec2:CreateTags arn:aws:ec2:us-east-1:123456789012:subnet/*',
    ]);
    const untagged = await authorizationsFor(
      request('logs', 'CreateLogGroup', { logGroupName: '/ecs/x' }),
      env,
    );
    expect(untagged.map((a) => a.action)).toEqual(['logs:CreateLogGroup']);
    const tagged = await authorizationsFor(
      request('logs', 'CreateLogGroup', { logGroupName: '/ecs/x', tags: { k: 'v' } }),
      env,
    );
    expect(tagged.map((a) => a.action)).toEqual(['logs:CreateLogGroup', 'logs:TagResource']);
  });

  it('creates a service-linked role under its /aws-service-role/ path, for the three services the policy names', async () => {
    expect(
      await check(
        request('iam', 'CreateServiceLinkedRole', { AWSServiceName: 'ecs.amazonaws.com' }),
      ),
    ).toBeUndefined();
    const other = await check(
      request('iam', 'CreateServiceLinkedRole', { AWSServiceName: 'rds.amazonaws.com' }),
    );
    expect(other?.code).toBe('AccessDenied');
  });

  it('evaluates GetRole of a role that does not exist as role/NAME, with no path IAM could know (aws-review finding 3)', async () => {
    const auths = await authorizationsFor(
      request('iam', 'GetRole', { RoleName: 'AWSServiceRoleForECS' }),
      env,
    );
    expect(auths.map((a) => a.resource)).toEqual([
      'arn:aws:iam::123456789012:role/AWSServiceRoleForECS',
    ]);
    expect(
      (await check(request('iam', 'GetRole', { RoleName: 'AWSServiceRoleForECS' })))?.code,
    ).toBe('AccessDenied');
  });

  it('authorizes CreateDistributionWithTags on "*", as CreateDistribution takes no resource type, with the tags it sends (aws-review finding 1)', async () => {
    const body =
      '<DistributionConfigWithTags><Tags><Items>' +
      '<Tag><Key>iclinic-deploy:stack</Key><Value>iclinic</Value></Tag>' +
      '<Tag><Key>managed-by</Key><Value>iclinic-deploy</Value></Tag>' +
      '<Tag><Key>iclinic-deploy:region</Key><Value>us-east-1</Value></Tag>' +
      '</Items></Tags></DistributionConfigWithTags>';
    const create = request('cloudfront', 'CreateDistributionWithTags', {
      WithTags: '',
      Body: body,
    });
    const auths = await authorizationsFor(create, env);
    expect(auths.map((a) => `${a.action} ${a.resource}`)).toEqual([
      'cloudfront:CreateDistribution *',
      'cloudfront:TagResource *',
    ]);
    expect(auths[0]?.context).toMatchObject({
      'aws:RequestTag/iclinic-deploy:stack': 'iclinic',
      'aws:TagKeys': ['iclinic-deploy:stack', 'managed-by', 'iclinic-deploy:region'],
    });
    expect(await check(create)).toBeUndefined();
    const otherStack = { ...create, params: { Body: body.replace('>iclinic<', '>other<') } };
    expect((await check(otherStack))?.message).toContain(
      'cloudfront:CreateDistribution on resource: *',
    );
  });

  it('refuses an action granted only on an ARN when AWS authorizes it on "*" (it takes no resource type)', async () => {
    const onArn = (): Policy => ({
      Statement: [
        {
          Effect: 'Allow',
          Action: ['cloudfront:CreateDistribution', 'cloudfront:TagResource'],
          Resource: 'arn:aws:cloudfront::*:distribution/*',
        },
      ],
    });
    const reply = await check(request('cloudfront', 'CreateDistributionWithTags', {}), onArn);
    expect(reply?.message).toContain('cloudfront:CreateDistribution on resource: *');
  });

  it('refuses an action AWS does not have, saying the authorization data lacks it', async () => {
    const reply = await check(request('ecs', 'CreateClusters', {}), () => ({
      Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
    }));
    expect(reply?.message).toContain('has no action ecs:CreateClusters');
  });

  it('names resources by the data: a log stream for GetLogEvents, the service of its cluster for UpdateService', async () => {
    const events = await authorizationsFor(
      request('logs', 'GetLogEvents', { logGroupName: '/ecs/x', logStreamName: 'api/1' }),
      env,
    );
    expect(events.map((a) => a.resource)).toEqual([
      'arn:aws:logs:us-east-1:123456789012:log-group:/ecs/x:log-stream:api/1',
    ]);
    const update = await authorizationsFor(
      request('ecs', 'UpdateService', { cluster: 'c', service: 's' }),
      env,
    );
    expect(update.map((a) => a.resource)).toEqual([
      'arn:aws:ecs:us-east-1:123456789012:service/c/s',
    ]);
  });

  it('refuses a request that names no stack', async () => {
    const reply = await check(request('ecs', 'ListClusters', {}, { stack: undefined }));
    expect(reply?.message).toMatch(/names no stack/);
  });

  it('refuses an action a test withheld until the rule is reset', async () => {
    const rule = permissionRule({ policyFor: policy });
    expect(rule.control?.('withhold', { action: 'ec2:CreateVpc' })).toBe(true);
    expect((await rule.before?.(request('ec2', 'CreateVpc'), env))?.message).toContain('withheld');
    rule.reset?.();
    expect(await rule.before?.(request('ec2', 'CreateVpc'), env)).toBeUndefined();
  });

  it('reads the policy the built CLI prints', { timeout: 60_000 }, () => {
    const printed = printedPolicy('demo', 'sa-east-1');
    expect(JSON.stringify(printed)).toContain(
      'arn:aws:secretsmanager:sa-east-1:*:secret:demo/api-token-??????',
    );
  });
});

describe('policy evaluation', () => {
  const base = {
    action: 's3:GetObject',
    resource: 'arn:aws:s3:::b/k',
    context: { 'aws:RequestedRegion': 'us-east-1' },
  };

  it('matches action wildcards case-insensitively and resource wildcards exactly', () => {
    const p: Policy = {
      Statement: [{ Effect: 'Allow', Action: 'S3:Get*', Resource: 'arn:aws:s3:::b/?' }],
    };
    expect(evaluate(p, base).allowed).toBe(true);
    expect(evaluate(p, { ...base, resource: 'arn:aws:s3:::b/kk' }).allowed).toBe(false);
  });

  it('lets an explicit Deny win over an Allow', () => {
    const p: Policy = {
      Statement: [
        { Effect: 'Allow', Action: '*', Resource: '*' },
        { Sid: 'No', Effect: 'Deny', Action: 's3:*', Resource: '*' },
      ],
    };
    expect(evaluate(p, base)).toEqual({
      allowed: false,
      reason: 'an explicit deny in statement No',
    });
  });

  it('evaluates StringLike and treats an absent key as not matching', () => {
    const p: Policy = {
      Statement: [
        {
          Effect: 'Allow',
          Action: '*',
          Resource: '*',
          Condition: { StringLike: { 'iam:PassedToService': 'ecs-*' } },
        },
      ],
    };
    expect(evaluate(p, base).allowed).toBe(false);
    expect(
      evaluate(p, { ...base, context: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } })
        .allowed,
    ).toBe(true);
  });

  it('fails closed on an operator or key it does not know, saying so', () => {
    const operator: Policy = {
      Statement: [
        {
          Sid: 'Ip',
          Effect: 'Allow',
          Action: '*',
          Resource: '*',
          Condition: { IpAddress: { 'aws:SourceIp': '1.2.3.4' } },
        },
      ],
    };
    expect(evaluate(operator, base)).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/condition operator IpAddress.*fail closed/),
    });
    const key: Policy = {
      Statement: [
        {
          Effect: 'Allow',
          Action: '*',
          Resource: '*',
          Condition: { StringEquals: { 'aws:PrincipalTag/team': 'x' } },
        },
      ],
    };
    expect(evaluate(key, base)).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/condition key aws:PrincipalTag\/team/),
    });
  });

  it('evaluates CloudWatch, signed as "monitoring", as cloudwatch actions on the named alarms', async () => {
    const own = request('monitoring', 'PutMetricAlarm', { AlarmName: 'iclinic-target-5xx-rate' });
    expect(await check(own)).toBeUndefined();
    const other = request('monitoring', 'DeleteAlarms', { AlarmNames: ['other-target-5xx-rate'] });
    expect((await check(other))?.message).toContain(
      'cloudwatch:DeleteAlarms on resource: arn:aws:cloudwatch:us-east-1:123456789012:alarm:other-target-5xx-rate',
    );
  });

  it('scopes SNS calls to the stack alarm topic by name or ARN', async () => {
    expect(await check(request('sns', 'CreateTopic', { Name: 'iclinic-alarms' }))).toBeUndefined();
    const topic = 'arn:aws:sns:us-east-1:123456789012:iclinic-alarms';
    expect(await check(request('sns', 'Subscribe', { TopicArn: topic }))).toBeUndefined();
    expect(await check(request('sns', 'DeleteTopic', { TopicArn: `${topic}-x` }))).toMatchObject({
      code: 'AccessDeniedException',
    });
  });

  it('checks what RegisterScalableTarget and PutScalingPolicy do with the caller permissions', async () => {
    const scope = { ResourceId: 'service/iclinic/iclinic-api' };
    const register = await authorizationsFor(
      request('application-autoscaling', 'RegisterScalableTarget', scope),
      env,
    );
    expect(register.map((a) => a.action)).toEqual([
      'application-autoscaling:RegisterScalableTarget',
      'ecs:DescribeServices',
      'ecs:UpdateService',
      'iam:CreateServiceLinkedRole',
    ]);
    const put = await authorizationsFor(
      request('application-autoscaling', 'PutScalingPolicy', scope),
      env,
    );
    expect(put.slice(1).map((a) => `${a.action} ${a.resource}`)).toEqual([
      'cloudwatch:DescribeAlarms arn:aws:cloudwatch:us-east-1:123456789012:alarm:TargetTracking-service/iclinic/iclinic-api-AlarmHigh-0b0c',
      'cloudwatch:PutMetricAlarm arn:aws:cloudwatch:us-east-1:123456789012:alarm:TargetTracking-service/iclinic/iclinic-api-AlarmHigh-0b0c',
    ]);
    for (const req of [
      request('application-autoscaling', 'RegisterScalableTarget', scope),
      request('application-autoscaling', 'PutScalingPolicy', scope),
    ]) {
      expect(await check(req)).toBeUndefined();
    }
  });
});
