import { describe, expect, it } from 'vitest';
import {
  ecsCannotAssumeNewRole,
  ecsServiceLinkedRoleOnFirstCluster,
  loadBalancerProvisioning,
  targetGroupNotYetAssociated,
} from '../../support/strict-aws/rules/lifecycle.js';
import { noMoto, ok, request } from './rules-env.js';

const TRUST = '{"Statement":[{"Principal":{"Service":"ecs-tasks.amazonaws.com"}}]}';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/exec';

describe('lifecycle rules', () => {
  it('refuses the first CreateCluster after a reset with the service-linked-role error, once', async () => {
    const rule = ecsServiceLinkedRoleOnFirstCluster();
    const create = request('ecs', 'CreateCluster', { clusterName: 'c' });
    expect((await rule.before?.(create, noMoto))?.message).toBe(
      'Unable to assume the service linked role. Please verify that the ECS service linked role exists.',
    );
    expect(await rule.before?.(create, noMoto)).toBeUndefined();
    rule.reset?.();
    expect((await rule.before?.(create, noMoto))?.code).toBe('InvalidParameterException');
  });

  it('refuses the first two CreateService attempts after the execution role is created', async () => {
    const rule = ecsCannotAssumeNewRole(2);
    const createService = request('ecs', 'CreateService', { serviceName: 's' });
    expect(await rule.before?.(createService, noMoto)).toBeUndefined();
    await rule.after?.(
      request('iam', 'CreateRole', { RoleName: 'exec', AssumeRolePolicyDocument: TRUST }),
      ok(`<CreateRoleResponse><Role><Arn>${ROLE_ARN}</Arn></Role></CreateRoleResponse>`),
      noMoto,
    );
    const first = await rule.before?.(createService, noMoto);
    expect(first?.message).toContain(`ECS was unable to assume the role '${ROLE_ARN}'`);
    expect((await rule.before?.(createService, noMoto))?.code).toBe('InvalidParameterException');
    expect(await rule.before?.(createService, noMoto)).toBeUndefined();
  });

  it('refuses CreateService right after CreateListener for its target group, once', async () => {
    const rule = targetGroupNotYetAssociated();
    const tg = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t/1';
    await rule.after?.(
      request('elasticloadbalancing', 'CreateListener', {
        'DefaultActions.member.1.TargetGroupArn': tg,
      }),
      ok('<CreateListenerResponse/>'),
      noMoto,
    );
    const create = request('ecs', 'CreateService', { loadBalancers: [{ targetGroupArn: tg }] });
    expect((await rule.before?.(create, noMoto))?.message).toBe(
      `The target group with targetGroupArn ${tg} does not have an associated load balancer.`,
    );
    expect(await rule.before?.(create, noMoto)).toBeUndefined();
  });

  it('shows a new load balancer as provisioning for the first describes only', async () => {
    const rule = loadBalancerProvisioning(2);
    const lb = (code: string) =>
      `<member><LoadBalancerArn>arn:lb</LoadBalancerArn><State><Code>${code}</Code></State></member>`;
    const created = await rule.after?.(
      request('elasticloadbalancing', 'CreateLoadBalancer'),
      ok(lb('active')),
      noMoto,
    );
    expect((created as { body: string }).body).toBe(lb('provisioning'));
    const describe = request('elasticloadbalancing', 'DescribeLoadBalancers');
    for (let i = 0; i < 2; i++) {
      const answer = await rule.after?.(describe, ok(lb('active')), noMoto);
      expect((answer as { body: string }).body).toBe(lb('provisioning'));
    }
    expect(await rule.after?.(describe, ok(lb('active')), noMoto)).toBeUndefined();
  });
});
