/**
 * The stack's deploy role: assumed by GitHub Actions runs of one repository
 * and branch, with the deployer policy as inline policies and nothing else.
 */
import {
  CreateRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  paginateListAttachedRolePolicies,
  paginateListRolePolicies,
  PutRolePolicyCommand,
  TagRoleCommand,
  UpdateAssumeRolePolicyCommand,
  type Role,
} from '@aws-sdk/client-iam';
import type { Converged, Removal, StackContext } from '../../context.js';
import { STACK_TAG_KEY, stackTags } from '../../names.js';
import { ChangeSet, NOT_CREATED_YET, type Change } from '../../plan.js';
import { hasErrorCode, isNotFound, retry } from '../../retry.js';
import { inlinePolicyOf } from '../roles/execution.js';
import { decodePolicyDocument, policiesEqual, type PolicyDocument } from '../roles/policies.js';
import { deleteRole, ROLE_SECOND_LOOK_MS } from '../roles/remove.js';
import { roleExists } from '../roles/service-linked.js';
import { describeTarget, type GitHubTarget } from './github.js';
import { deployRoleName } from './names.js';
import { deployTrustPolicy, trustedTarget } from './trust.js';

export const DEPLOY_ROLE = 'IAM role';
export const INLINE_POLICY = 'inline policy';
export const MANAGED_POLICY_ATTACHMENT = 'managed policy attachment';
const TRUST = 'trust';
const STACK_TAG = 'stack tag';

/**
 * IAM's quota on a role's inline policies, all together: 10,240 characters,
 * whitespace not counted
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
 * Inline rather than customer managed policies: PutRolePolicy replaces a
 * document in one call, where a managed policy keeps at most 5 versions that
 * an update would have to prune, and the deployer policy fits: 7,115
 * characters at most without the ci github statements (the longest stack
 * name in us-gov-west-1; a unit test holds it under the quota).
 */
export const INLINE_POLICIES_MAX_CHARS = 10_240;

/** One inline policy of the deploy role: provision/policy/deploy-role.ts builds them. */
export interface DeployPolicy {
  readonly name: string;
  readonly document: PolicyDocument;
}

export class InlinePolicyQuotaError extends Error {
  constructor(size: number) {
    super(
      `The deployer policy is ${size} characters, more than the ${INLINE_POLICIES_MAX_CHARS} IAM allows in a role's inline policies ` +
        '(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html). This is a bug in iclinic-deploy: please report it.',
    );
    this.name = 'InlinePolicyQuotaError';
  }
}

/** Throws when the documents together pass IAM's inline quota (JSON.stringify writes no whitespace). */
export function checkInlineQuota(policies: readonly DeployPolicy[]): void {
  const size = policies.reduce((sum, p) => sum + JSON.stringify(p.document).length, 0);
  if (size > INLINE_POLICIES_MAX_CHARS) throw new InlinePolicyQuotaError(size);
}

export interface DeployRoleState {
  readonly arn: string;
  readonly trust: unknown;
  readonly inline: ReadonlyMap<string, unknown>;
  readonly attached: readonly string[];
  readonly tagged: boolean;
}

async function getRole(ctx: StackContext, roleName: string): Promise<Role | undefined> {
  try {
    return (await ctx.clients.iam.send(new GetRoleCommand({ RoleName: roleName }))).Role;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

async function inlinePolicies(ctx: StackContext, roleName: string): Promise<Map<string, unknown>> {
  const names: string[] = [];
  const pages = paginateListRolePolicies({ client: ctx.clients.iam }, { RoleName: roleName });
  for await (const page of pages) names.push(...(page.PolicyNames ?? []));
  const documents = await Promise.all(names.map((name) => inlinePolicyOf(ctx, roleName, name)));
  return new Map(names.map((name, index) => [name, documents[index]]));
}

async function attachedPolicies(ctx: StackContext, roleName: string): Promise<string[]> {
  const arns: string[] = [];
  const pages = paginateListAttachedRolePolicies(
    { client: ctx.clients.iam },
    { RoleName: roleName },
  );
  for await (const page of pages)
    for (const p of page.AttachedPolicies ?? []) if (p.PolicyArn) arns.push(p.PolicyArn);
  return arns;
}

/** Read-only: the deploy role with its trust and policies, undefined when it does not exist. */
export async function describeDeployRole(ctx: StackContext): Promise<DeployRoleState | undefined> {
  const roleName = deployRoleName(ctx.names.stack, ctx.region);
  const role = await getRole(ctx, roleName);
  if (role === undefined) return undefined;
  const [inline, attached] = await Promise.all([
    inlinePolicies(ctx, roleName),
    attachedPolicies(ctx, roleName),
  ]);
  return {
    arn: role.Arn ?? '',
    trust: decodePolicyDocument(role.AssumeRolePolicyDocument),
    inline,
    attached,
    // As for the execution role: a GetRole that returns no tags at all is not drift.
    tagged: role.Tags === undefined || role.Tags.some((t) => t.Key === STACK_TAG_KEY),
  };
}

export interface DeployRoleSettings {
  readonly providerArn: string;
  readonly target: GitHubTarget;
  readonly policies: readonly DeployPolicy[];
}

function trustText(trust: unknown): string {
  const target = trustedTarget(trust);
  return target === undefined ? 'a trust policy edited by hand' : describeTarget(target);
}

/** Pure: the policies to put, and those (inline or attached) that are not the deployer's. */
function planPolicies(
  changes: ChangeSet,
  current: DeployRoleState | undefined,
  policies: readonly DeployPolicy[],
): void {
  for (const { name, document } of policies) {
    const found = current?.inline.get(name);
    const part = `part ${name.split('-').pop() ?? ''} of the deployer policy`;
    if (found === undefined) changes.create(INLINE_POLICY, name, part);
    else if (!policiesEqual(found, document))
      changes.update(INLINE_POLICY, name, `${part}: statements`);
  }
  const wanted = new Set(policies.map((p) => p.name));
  for (const name of current?.inline.keys() ?? [])
    if (!wanted.has(name)) changes.delete(INLINE_POLICY, name, 'not part of the deployer policy');
  for (const arn of current?.attached ?? [])
    changes.delete(MANAGED_POLICY_ATTACHMENT, arn, 'not part of the deployer policy');
}

/** Pure: what ensureDeployRole applies, in order. */
export function planDeployRole(
  roleName: string,
  stack: string,
  current: DeployRoleState | undefined,
  settings: DeployRoleSettings,
): Change[] {
  const changes = new ChangeSet();
  const trust = deployTrustPolicy(settings.providerArn, settings.target);
  if (current === undefined) {
    changes.create(DEPLOY_ROLE, roleName, `trusts ${describeTarget(settings.target)}`);
  } else {
    if (!policiesEqual(current.trust, trust))
      changes.update(
        DEPLOY_ROLE,
        roleName,
        TRUST,
        trustText(current.trust),
        describeTarget(settings.target),
      );
    if (!current.tagged)
      changes.update(DEPLOY_ROLE, roleName, STACK_TAG, 'none', `${STACK_TAG_KEY}=${stack}`);
  }
  planPolicies(changes, current, settings.policies);
  return [...changes.list];
}

// Right after CreateRole IAM may answer NoSuchEntity for the new role for a
// while; the execution role waits up to 2 minutes, as terraform-provider-aws
// does (roles/execution.ts).
const IAM_PROPAGATION_TIMEOUT_MS = 120_000;

function onNewRole<T>(ctx: StackContext, roleName: string, what: string, use: () => Promise<T>) {
  return retry(
    ctx.clock,
    {
      what: `waiting for IAM to show role ${roleName} (${what})`,
      isRetryable: (error) => hasErrorCode(error, 'NoSuchEntity', 'NoSuchEntityException'),
      timeoutMs: IAM_PROPAGATION_TIMEOUT_MS,
      initialDelayMs: 1_000,
      maxDelayMs: 10_000,
      onRetry: () => ctx.report.progress(`waiting for IAM to show role ${roleName}`),
    },
    use,
  );
}

class RoleNotVisibleYet extends Error {
  constructor(roleName: string) {
    super(`IAM does not show role ${roleName} yet`);
    this.name = 'NoSuchEntity';
  }
}

/**
 * Creates the role and waits until GetRole shows it: the workflow written
 * next names it, and its first run must find it.
 */
async function createRole(
  ctx: StackContext,
  roleName: string,
  trust: ReturnType<typeof deployTrustPolicy>,
): Promise<string> {
  let arn: string | undefined;
  try {
    const created = await ctx.clients.iam.send(
      new CreateRoleCommand({
        RoleName: roleName,
        AssumeRolePolicyDocument: JSON.stringify(trust),
        Description: `Deploys iclinic-deploy stack ${ctx.names.stack} in ${ctx.region} from GitHub Actions`,
        Tags: stackTags(ctx.names.stack, roleName),
      }),
    );
    arn = created.Role?.Arn;
  } catch (error) {
    // Another run created it since the look: the trust is put below.
    if (!hasErrorCode(error, 'EntityAlreadyExists', 'EntityAlreadyExistsException')) throw error;
    await ctx.clients.iam.send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: roleName,
        PolicyDocument: JSON.stringify(trust),
      }),
    );
  }
  const shown = await onNewRole(ctx, roleName, 'GetRole', async () => {
    const role = await getRole(ctx, roleName);
    if (role?.Arn === undefined) throw new RoleNotVisibleYet(roleName);
    return role.Arn;
  });
  return arn ?? shown;
}

/** Sends the one call that makes `change` true (the role exists by then). */
async function applyPolicyChange(
  ctx: StackContext,
  roleName: string,
  change: Change,
  policies: readonly DeployPolicy[],
): Promise<void> {
  const iam = ctx.clients.iam;
  if (change.kind === INLINE_POLICY && change.action !== 'delete') {
    const policy = policies.find((p) => p.name === change.name);
    if (policy === undefined) throw new Error(`No deployer policy named ${change.name}.`);
    const input = {
      RoleName: roleName,
      PolicyName: policy.name,
      PolicyDocument: JSON.stringify(policy.document),
    };
    await onNewRole(ctx, roleName, 'PutRolePolicy', () =>
      iam.send(new PutRolePolicyCommand(input)),
    );
  } else if (change.kind === INLINE_POLICY) {
    await iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: change.name }));
  } else if (change.kind === MANAGED_POLICY_ATTACHMENT) {
    await iam.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: change.name }));
  } else {
    throw new Error(`No way to apply ${change.action} ${change.kind} ${change.name}.`);
  }
}

export interface DeployRoleValue {
  /** NOT_CREATED_YET in a dry run that would create it. */
  readonly arn: string;
  readonly name: string;
}

export async function ensureDeployRole(
  ctx: StackContext,
  settings: DeployRoleSettings,
): Promise<Converged<DeployRoleValue>> {
  checkInlineQuota(settings.policies);
  const roleName = deployRoleName(ctx.names.stack, ctx.region);
  const current = await describeDeployRole(ctx);
  const changes = planDeployRole(roleName, ctx.names.stack, current, settings);
  if (ctx.dryRun)
    return { changes, value: { arn: current?.arn ?? NOT_CREATED_YET, name: roleName } };
  const trust = deployTrustPolicy(settings.providerArn, settings.target);
  let arn = current?.arn;
  for (const change of changes) {
    if (change.kind === DEPLOY_ROLE && change.action === 'create')
      arn = await createRole(ctx, roleName, trust);
    else if (change.kind === DEPLOY_ROLE && change.detail === TRUST) {
      const PolicyDocument = JSON.stringify(trust);
      await ctx.clients.iam.send(
        new UpdateAssumeRolePolicyCommand({ RoleName: roleName, PolicyDocument }),
      );
    } else if (change.kind === DEPLOY_ROLE && change.detail === STACK_TAG) {
      await ctx.clients.iam.send(
        new TagRoleCommand({ RoleName: roleName, Tags: stackTags(ctx.names.stack, roleName) }),
      );
    } else await applyPolicyChange(ctx, roleName, change, settings.policies);
  }
  if (arn === undefined) throw new Error(`IAM returned no ARN for role ${roleName}.`);
  return { changes, value: { arn, name: roleName } };
}

/** Whether the role exists, with a second look for a role created a moment ago (roles/remove.ts). */
async function deployRoleExists(ctx: StackContext, roleName: string): Promise<boolean> {
  if (await roleExists(ctx, roleName)) return true;
  await ctx.clock.sleep(ROLE_SECOND_LOOK_MS);
  return roleExists(ctx, roleName);
}

/** Deletes the deploy role with its policies; looks first, so a repeat makes no mutating call. */
export async function removeDeployRole(ctx: StackContext): Promise<Removal> {
  const roleName = deployRoleName(ctx.names.stack, ctx.region);
  if (!(await deployRoleExists(ctx, roleName))) return { changes: [] };
  const changes = [...new ChangeSet().delete(DEPLOY_ROLE, roleName, 'with its policies').list];
  if (ctx.dryRun || (await deleteRole(ctx, roleName))) return { changes };
  return { changes: [] };
}
