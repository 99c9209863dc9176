import {
  CreateServiceLinkedRoleCommand,
  GetRoleCommand,
  paginateListRoles,
} from '@aws-sdk/client-iam';
import type { Converged, StackContext } from '../../context.js';
import { ChangeSet, type Change } from '../../plan.js';
import { hasErrorCode, isNotFound, messageMatches } from '../../retry.js';

/** The service-linked roles ECS and ELB need before the first cluster/load balancer. */
export const SERVICE_LINKED_ROLES = [
  { service: 'ecs.amazonaws.com', roleName: 'AWSServiceRoleForECS' },
  {
    service: 'elasticloadbalancing.amazonaws.com',
    roleName: 'AWSServiceRoleForElasticLoadBalancing',
  },
] as const;

export type ServiceLinkedRole = (typeof SERVICE_LINKED_ROLES)[number];

export async function roleExists(ctx: StackContext, roleName: string): Promise<boolean> {
  try {
    await ctx.clients.iam.send(new GetRoleCommand({ RoleName: roleName }));
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/**
 * A service-linked role always lives under /aws-service-role/SERVICE/
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html),
 * so listing that path finds it whatever its name (moto spells it
 * "AWSServiceRoleForecs"). ListRoles, not GetRole: IAM authorizes GetRole
 * on the role's ARN, which holds the path, and a role that does not exist
 * yet can only be matched as role/NAME, outside the policy's
 * role/aws-service-role/*: a brand-new account would get AccessDenied
 * instead of NoSuchEntity. ListRoles takes no resource ("*", Service
 * Authorization Reference for IAM:
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html).
 */
async function serviceLinkedRoleExists(
  ctx: StackContext,
  { service }: ServiceLinkedRole,
): Promise<boolean> {
  const pages = paginateListRoles(
    { client: ctx.clients.iam },
    { PathPrefix: `/aws-service-role/${service}/` },
  );
  for await (const page of pages) if ((page.Roles ?? []).length > 0) return true;
  return false;
}

/** Read-only: the service-linked roles the account lacks. */
export async function describeMissingServiceLinkedRoles(
  ctx: StackContext,
): Promise<ServiceLinkedRole[]> {
  const present = await Promise.all(
    SERVICE_LINKED_ROLES.map((role) => serviceLinkedRoleExists(ctx, role)),
  );
  return SERVICE_LINKED_ROLES.filter((_, index) => present[index] !== true);
}

const SERVICE_LINKED_ROLE = 'service-linked role';

/** Pure: one creation per missing role. */
export function planServiceLinkedRoles(missing: readonly ServiceLinkedRole[]): Change[] {
  const changes = new ChangeSet();
  for (const { service, roleName } of missing)
    changes.create(SERVICE_LINKED_ROLE, roleName, `for ${service}`);
  return [...changes.list];
}

function meansServiceLinkedRoleExists(error: unknown): boolean {
  // IAM answers a duplicate CreateServiceLinkedRole with InvalidInput
  // "Service role name ... has been taken in this account"
  // (seen by terraform users: https://github.com/bcgov/startup-sample-project-aws-containers/issues/13).
  return (
    hasErrorCode(
      error,
      'InvalidInput',
      'InvalidInputException',
      'EntityAlreadyExists',
      'EntityAlreadyExistsException',
    ) && messageMatches(error, /has been taken|already exists/i)
  );
}

/**
 * In a brand-new account the first CreateService/CreateLoadBalancer can fail
 * because ECS/ELB have not yet created their service-linked roles
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using-service-linked-roles.html);
 * creating them up front avoids that race. They are never removed by `down`:
 * they are shared by every ECS service and load balancer in the account, not
 * owned by this stack.
 */
export async function ensureServiceLinkedRoles(
  ctx: StackContext,
): Promise<Converged<{ roleNames: string[] }>> {
  const missing = await describeMissingServiceLinkedRoles(ctx);
  const value = { roleNames: SERVICE_LINKED_ROLES.map((r) => r.roleName) };
  const planned = planServiceLinkedRoles(missing);
  if (ctx.dryRun) return { changes: planned, value };
  const applied: Change[] = [];
  for (const role of missing) {
    try {
      await ctx.clients.iam.send(
        new CreateServiceLinkedRoleCommand({ AWSServiceName: role.service }),
      );
      applied.push(...planServiceLinkedRoles([role]));
    } catch (error) {
      // Made since the look (another run, or ECS itself): nothing was changed.
      if (!meansServiceLinkedRoleExists(error)) throw error;
    }
  }
  return { changes: applied, value };
}
