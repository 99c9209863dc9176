import {
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  paginateListAttachedRolePolicies,
  paginateListRolePolicies,
} from '@aws-sdk/client-iam';
import type { Removal, StackContext } from '../../context.js';
import { ChangeSet } from '../../plan.js';
import { isNotFound } from '../../retry.js';
import { regionsOfSecrets } from './policies.js';
import { roleExists } from './service-linked.js';
import { IAM_ROLE, inlinePolicyOf } from './execution.js';

/** Runs a delete; false when IAM says the thing is already gone. */
async function deleted(remove: () => Promise<unknown>): Promise<boolean> {
  try {
    await remove();
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

async function listPolicies(ctx: StackContext, roleName: string) {
  const client = { client: ctx.clients.iam };
  const attached: string[] = [];
  for await (const page of paginateListAttachedRolePolicies(client, { RoleName: roleName }))
    for (const p of page.AttachedPolicies ?? []) if (p.PolicyArn) attached.push(p.PolicyArn);
  const inline: string[] = [];
  for await (const page of paginateListRolePolicies(client, { RoleName: roleName }))
    inline.push(...(page.PolicyNames ?? []));
  return { attached, inline };
}

/**
 * Deletes a role with every policy on it; false when it was already gone.
 * DeleteRole refuses while any policy is attached or inline
 * (https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRole.html), so every one
 * goes first, including ones someone added by hand. The lists are read in
 * full before deleting, so deletions cannot shift a page under the marker.
 */
export async function deleteRole(ctx: StackContext, roleName: string): Promise<boolean> {
  const iam = ctx.clients.iam;
  let policies: Awaited<ReturnType<typeof listPolicies>>;
  try {
    policies = await listPolicies(ctx, roleName);
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
  for (const PolicyArn of policies.attached)
    await deleted(() => iam.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn })));
  for (const PolicyName of policies.inline)
    await deleted(() => iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName })));
  return deleted(() => iam.send(new DeleteRoleCommand({ RoleName: roleName })));
}

/** Whether the legacy role is this region's to delete; warns when it is not. */
async function legacyRoleIsOurs(ctx: StackContext): Promise<boolean> {
  const roleName = ctx.names.legacyExecutionRole;
  const policy = await inlinePolicyOf(ctx, roleName, ctx.names.legacyExecutionRolePolicy);
  if (policy === undefined) {
    if (await roleExists(ctx, roleName)) {
      ctx.report.warn(
        `Left IAM role ${roleName} (made by an earlier version of iclinic-deploy): it has no ` +
          `inline policy ${ctx.names.legacyExecutionRolePolicy} telling which region uses it. ` +
          `Delete it by hand once no region's stack "${ctx.names.stack}" runs tasks with it.`,
      );
    }
    return false;
  }
  const regions = regionsOfSecrets(policy);
  if (regions.has(ctx.region)) return true;
  ctx.report.warn(
    `Left IAM role ${roleName} (made by an earlier version of iclinic-deploy): it reads the ` +
      `token secret of ${[...regions].join(', ') || 'no region'}, not ${ctx.region}. ` +
      `\`down\` in that region removes it.`,
  );
  return false;
}

/**
 * Versions before the region was in the name made one role per stack name,
 * `${stack}-task-execution`, shared by every region and pointed at the
 * secret of whichever region ran `up` last. It belongs to this region only
 * when its inline policy names this region's secret; otherwise another
 * region's tasks may still use it, so it stays and the user is told.
 */
async function removeLegacyExecutionRole(ctx: StackContext, changes: ChangeSet): Promise<void> {
  if (!(await legacyRoleIsOurs(ctx))) return;
  const roleName = ctx.names.legacyExecutionRole;
  if (ctx.dryRun || (await deleteRole(ctx, roleName)))
    changes.delete(IAM_ROLE, roleName, 'made by an earlier version of iclinic-deploy');
}

/** Describes first, so a repeated `down` (and any dry run) makes no mutating call. */
/**
 * IAM is eventually consistent: a role created seconds ago (by an `up` that
 * was interrupted just before this `down`) can still answer NoSuchEntity
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
 * One more look a moment later keeps `down` from leaving it behind.
 */
export const ROLE_SECOND_LOOK_MS = 3_000;

async function executionRoleExists(ctx: StackContext, roleName: string): Promise<boolean> {
  if (await roleExists(ctx, roleName)) return true;
  await ctx.clock.sleep(ROLE_SECOND_LOOK_MS);
  return roleExists(ctx, roleName);
}

export async function removeExecutionRole(ctx: StackContext): Promise<Removal> {
  const changes = new ChangeSet();
  const roleName = ctx.names.executionRole;
  if (await executionRoleExists(ctx, roleName)) {
    if (ctx.dryRun || (await deleteRole(ctx, roleName)))
      changes.delete(IAM_ROLE, roleName, 'with its policies');
  }
  await removeLegacyExecutionRole(ctx, changes);
  return { changes: [...changes.list] };
}
