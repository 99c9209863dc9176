import { describe, expect, it } from 'vitest';
import {
  CONSISTENCY_WINDOW_MS,
  ec2NotFoundAfterCreate,
  ecsDescribeServicesLag,
  iamNoSuchEntityAfterCreate,
} from '../../support/strict-aws/rules/consistency.js';
import { noMoto, ok, request } from './rules-env.js';

const VPC_XML =
  '<CreateVpcResponse><vpc><vpcId>vpc-0abc</vpcId><state>available</state></vpc></CreateVpcResponse>';

describe('ec2 eventual consistency', () => {
  it('answers InvalidVpcID.NotFound to the first describe naming a new VPC, then lets it through', async () => {
    const rule = ec2NotFoundAfterCreate();
    await rule.after?.(request('ec2', 'CreateVpc'), ok(VPC_XML), noMoto);
    const describe = request('ec2', 'DescribeVpcs', { 'VpcId.1': 'vpc-0abc' });
    expect(await rule.before?.(describe, noMoto)).toEqual({
      status: 400,
      code: 'InvalidVpcID.NotFound',
      message: "The vpc ID 'vpc-0abc' does not exist",
    });
    expect(await rule.before?.(describe, noMoto)).toBeUndefined();
  });

  it('lets a read through once the consistency window after the create has passed', async () => {
    const rule = ec2NotFoundAfterCreate();
    await rule.after?.(request('ec2', 'CreateVpc'), ok(VPC_XML), noMoto);
    const later = { ...noMoto, now: () => CONSISTENCY_WINDOW_MS + 1 };
    const describe = request('ec2', 'DescribeVpcs', { 'VpcId.1': 'vpc-0abc' });
    expect(await rule.before?.(describe, later)).toBeUndefined();
  });

  it('never refuses a filter that names the new id', async () => {
    const rule = ec2NotFoundAfterCreate();
    await rule.after?.(request('ec2', 'CreateVpc'), ok(VPC_XML), noMoto);
    const filtered = request('ec2', 'DescribeSubnets', {
      'Filter.1.Name': 'vpc-id',
      'Filter.1.Value.1': 'vpc-0abc',
    });
    expect(await rule.before?.(filtered, noMoto)).toBeUndefined();
  });

  it('answers InvalidGroup.NotFound to the first ingress rule on a new security group', async () => {
    const rule = ec2NotFoundAfterCreate();
    await rule.after?.(
      request('ec2', 'CreateSecurityGroup'),
      ok('<groupId>sg-1</groupId>'),
      noMoto,
    );
    const reply = await rule.before?.(
      request('ec2', 'AuthorizeSecurityGroupIngress', { GroupId: 'sg-1' }),
      noMoto,
    );
    expect(reply?.code).toBe('InvalidGroup.NotFound');
  });
});

describe('iam eventual consistency', () => {
  it('answers NoSuchEntity to the first GetRole after CreateRole only', async () => {
    const rule = iamNoSuchEntityAfterCreate();
    await rule.after?.(
      request('iam', 'CreateRole', { RoleName: 'r' }),
      ok('<Arn>arn</Arn>'),
      noMoto,
    );
    const get = request('iam', 'GetRole', { RoleName: 'r' });
    expect(await rule.before?.(get, noMoto)).toEqual({
      status: 404,
      code: 'NoSuchEntity',
      message: 'The role with name r cannot be found.',
    });
    expect(await rule.before?.(get, noMoto)).toBeUndefined();
  });
});

describe('ecs DescribeServices lag', () => {
  const arn = 'arn:aws:ecs:us-east-1:123456789012:service/c/web';
  const oldDeployment = { id: 'ecs-svc/1', status: 'ACTIVE', taskDefinition: 'td:1', createdAt: 1 };
  const newDeployment = {
    id: 'ecs-svc/2',
    status: 'PRIMARY',
    taskDefinition: 'td:2',
    createdAt: 2,
  };
  const service = {
    serviceArn: arn,
    serviceName: 'web',
    taskDefinition: 'td:2',
    deployments: [newDeployment, oldDeployment],
  };
  const describe = request('ecs', 'DescribeServices', { cluster: 'c', services: ['web'] });

  it('answers the first DescribeServices after CreateService with the service MISSING', async () => {
    const rule = ecsDescribeServicesLag();
    await rule.after?.(request('ecs', 'CreateService', { cluster: 'c' }), ok({ service }), noMoto);
    const first = await rule.after?.(describe, ok({ services: [service], failures: [] }), noMoto);
    expect(JSON.parse((first as { body: string }).body)).toEqual({
      services: [],
      failures: [{ arn, reason: 'MISSING' }],
    });
    expect(
      await rule.after?.(describe, ok({ services: [service], failures: [] }), noMoto),
    ).toBeUndefined();
  });

  it('answers the first DescribeServices after UpdateService without the new deployment', async () => {
    const rule = ecsDescribeServicesLag();
    await rule.after?.(request('ecs', 'UpdateService', { cluster: 'c' }), ok({ service }), noMoto);
    const first = await rule.after?.(describe, ok({ services: [service], failures: [] }), noMoto);
    const body = JSON.parse((first as { body: string }).body) as { services: (typeof service)[] };
    expect(body.services[0]?.deployments).toEqual([{ ...oldDeployment, status: 'PRIMARY' }]);
    expect(body.services[0]?.taskDefinition).toBe('td:1');
  });
});
