import { CreateSubnetCommand, CreateVpcCommand } from '@aws-sdk/client-ec2';
import { CreateTargetGroupCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testClients, type TestClients } from '../../support/aws.js';
import { startMoto, type Moto } from '../../support/moto.js';
import { targetGroupNameIdempotent } from '../../support/strict-aws/rules/names.js';
import type { RuleEnv } from '../../support/strict-aws/types.js';
import { motoEnv, request } from './rules-env.js';

let moto: Moto;
let clients: TestClients;
let env: RuleEnv;
let vpcId: string;

beforeAll(async () => {
  moto = await startMoto();
  clients = testClients(moto.endpoint);
  env = motoEnv(moto.endpoint);
  vpcId =
    (await clients.ec2.send(new CreateVpcCommand({ CidrBlock: '10.8.0.0/16' }))).Vpc?.VpcId ?? '';
  await clients.ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.8.1.0/24' }));
  await clients.elbv2.send(
    new CreateTargetGroupCommand({
      Name: 'tg',
      Protocol: 'HTTP',
      Port: 8080,
      VpcId: vpcId,
      TargetType: 'ip',
    }),
  );
}, 90_000);
afterAll(() => moto?.stop());

describe('target group names', { timeout: 30_000 }, () => {
  const params = () => ({
    Name: 'tg',
    Protocol: 'HTTP',
    Port: '8080',
    VpcId: vpcId,
    TargetType: 'ip',
  });

  it('answers CreateTargetGroup with the same settings with the existing target group', async () => {
    const rule = targetGroupNameIdempotent();
    const create = request('elasticloadbalancing', 'CreateTargetGroup', params());
    expect(await rule.before?.(create, env)).toBeUndefined();
    const motoRefusal = {
      status: 400,
      headers: {},
      body: '<ErrorResponse><Error><Code>DuplicateTargetGroupName</Code></Error></ErrorResponse>',
    };
    const answer = (await rule.after?.(create, motoRefusal, env)) as {
      status: number;
      body: string;
    };
    expect(answer.status).toBe(200);
    expect(answer.body).toMatch(/<TargetGroupName>tg<\/TargetGroupName>/);
    expect(answer.body).toMatch(
      /<TargetGroupArn>arn:aws:elasticloadbalancing:[^<]+targetgroup\/tg\//,
    );
  });

  it('refuses CreateTargetGroup with the same name and another port with DuplicateTargetGroupName', async () => {
    const rule = targetGroupNameIdempotent();
    const create = request('elasticloadbalancing', 'CreateTargetGroup', {
      ...params(),
      Port: '9090',
    });
    expect(await rule.before?.(create, env)).toEqual({
      status: 400,
      code: 'DuplicateTargetGroupName',
      message: "A target group with the same name 'tg' exists, but with different settings",
    });
  });
});
