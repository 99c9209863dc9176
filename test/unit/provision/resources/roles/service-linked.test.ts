import { GetRoleCommand, ListRolesCommand } from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { describeMissingServiceLinkedRoles } from '../../../../../provision/resources/roles/service-linked.js';
import { awsError, testContext } from '../../../support/context.js';

const slr = (service: string, name: string) => ({
  RoleName: name,
  Path: `/aws-service-role/${service}/`,
  Arn: `arn:aws:iam::123456789012:role/aws-service-role/${service}/${name}`,
  RoleId: 'AROA',
  CreateDate: new Date(),
});

describe('describeMissingServiceLinkedRoles', () => {
  it('finds both roles missing in a new account where IAM refuses GetRole on a role that does not exist', async () => {
    const { ctx, mocks } = testContext();
    // What IAM answers the deployer policy for role/AWSServiceRoleForECS,
    // which is not under role/aws-service-role/* (aws-review finding 3).
    mocks.iam.on(GetRoleCommand).rejects(awsError('AccessDenied', 'not authorized'));
    mocks.iam.on(ListRolesCommand).resolves({ Roles: [] });
    const missing = await describeMissingServiceLinkedRoles(ctx);
    expect(missing.map((role) => role.roleName)).toEqual([
      'AWSServiceRoleForECS',
      'AWSServiceRoleForElasticLoadBalancing',
    ]);
  });

  it('finds a role by its /aws-service-role/SERVICE/ path, whatever its name', async () => {
    const { ctx, mocks } = testContext();
    mocks.iam
      .on(ListRolesCommand, { PathPrefix: '/aws-service-role/ecs.amazonaws.com/' })
      .resolves({ Roles: [slr('ecs.amazonaws.com', 'AWSServiceRoleForecs')] })
      .on(ListRolesCommand, { PathPrefix: '/aws-service-role/elasticloadbalancing.amazonaws.com/' })
      .resolves({ Roles: [] });
    const missing = await describeMissingServiceLinkedRoles(ctx);
    expect(missing.map((role) => role.roleName)).toEqual(['AWSServiceRoleForElasticLoadBalancing']);
  });
});
