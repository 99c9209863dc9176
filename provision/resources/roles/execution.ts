import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  paginateListAttachedRolePolicies,
  PutRolePolicyCommand,
  TagRoleCommand,
  UpdateAssumeRolePolicyCommand,
  type Role,
} from '@aws-sdk/client-iam';
import type { Converged, StackContext } from '../../context.js';
import { STACK_TAG_KEY, stackTags } from '../../names.js';
import { ChangeSet, isNotCreatedYet, NOT_CREATED_YET, type Change } from '../../plan.js';
import { errorMessage, hasErrorCode, isNotFound, messageMatches, retry } from '../../retry.js';
import {
  decodePolicyDocument,
  ECS_TASKS_PRINCIPAL,
  policiesEqual,
  readSecretPolicyDocument,
  resourcesOf,
  summarizePolicy,
  taskExecutionManagedPolicyArn,
  TASK_EXECUTION_MANAGED_POLICY_NAME,
  trustedServices,
  trustPolicyDocument,
  validateSecretArn,
} from './policies.js';

/** Change kinds of this module, as the CLI shows them. */
export const IAM_ROLE = 'IAM role';
export const INLINE_POLICY = 'inline policy';
export const MANAGED_POLICY_ATTACHMENT = 'managed policy attachment';
const TRUST_POLICY = 'trust policy';
const STACK_TAG = 'stack tag';
const SECRET_ARN = 'secret ARN';

export interface ExecutionRoleSettings {
  /** NOT_CREATED_YET in a dry run where the secret would be created. */
  readonly secretArn: string;
  /**
   * Accepted for callers that know it; the managed execution policy already
   * grants log writes, so it is not used to scope an extra statement.
   */
  readonly logGroupArn?: string;
}

export interface ExecutionRoleState {
  readonly roleArn: string;
  readonly trustPolicy: unknown;
  readonly attachedPolicyArns: readonly string[];
  /** Decoded inline policy names.executionRolePolicy, undefined when missing. */
  readonly inlinePolicy: unknown;
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

async function attachedPolicyArns(ctx: StackContext, roleName: string): Promise<string[]> {
  const arns: string[] = [];
  const pages = paginateListAttachedRolePolicies(
    { client: ctx.clients.iam },
    { RoleName: roleName },
  );
  for await (const page of pages)
    for (const p of page.AttachedPolicies ?? []) if (p.PolicyArn) arns.push(p.PolicyArn);
  return arns;
}

/** The decoded inline policy, undefined when the role has none of that name. */
export async function inlinePolicyOf(
  ctx: StackContext,
  roleName: string,
  policyName: string,
): Promise<unknown> {
  try {
    const out = await ctx.clients.iam.send(
      new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }),
    );
    return decodePolicyDocument(out.PolicyDocument);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Read-only: the execution role and its policies, undefined when it does not exist. */
export async function describeExecutionRole(
  ctx: StackContext,
): Promise<ExecutionRoleState | undefined> {
  const roleName = ctx.names.executionRole;
  const role = await getRole(ctx, roleName);
  if (!role) return undefined;
  const [attached, inlinePolicy] = await Promise.all([
    attachedPolicyArns(ctx, roleName),
    inlinePolicyOf(ctx, roleName, ctx.names.executionRolePolicy),
  ]);
  return {
    roleArn: role.Arn ?? '',
    trustPolicy: decodePolicyDocument(role.AssumeRolePolicyDocument),
    attachedPolicyArns: attached,
    inlinePolicy,
    // GetRole returns tags on AWS; when it returns none at all (older
    // emulators) re-tagging is harmless but would break "second run is
    // read-only", so only an explicit mismatch counts as drift.
    tagged: role.Tags === undefined || role.Tags.some((t) => t.Key === STACK_TAG_KEY),
  };
}

function grantLine(secretArn: string): string {
  return `secretsmanager:GetSecretValue on ${secretArn}`;
}

/** Pure: the inline policy's change, if it is missing or differs. */
function planInlinePolicy(
  changes: ChangeSet,
  policyName: string,
  current: unknown,
  secretArn: string,
): void {
  const desired = readSecretPolicyDocument(secretArn);
  if (current === undefined) {
    changes.create(INLINE_POLICY, policyName, grantLine(secretArn));
    return;
  }
  if (policiesEqual(current, desired)) return;
  // The common drift: the same grant on the ARN of an earlier secret (the
  // ARN's random suffix changes whenever the secret is re-created).
  const [oldArn, ...others] = resourcesOf(current);
  if (oldArn !== undefined && others.length === 0) {
    if (policiesEqual(current, readSecretPolicyDocument(oldArn))) {
      changes.update(INLINE_POLICY, policyName, SECRET_ARN, oldArn, secretArn);
      return;
    }
  }
  changes.update(
    INLINE_POLICY,
    policyName,
    'statements',
    summarizePolicy(current),
    summarizePolicy(desired),
  );
}

/** Pure: what ensureExecutionRole applies, in order, given the current state. */
export function planExecutionRole(
  ctx: Pick<StackContext, 'names' | 'region'>,
  current: ExecutionRoleState | undefined,
  settings: ExecutionRoleSettings,
): Change[] {
  const role = ctx.names.executionRole;
  const changes = new ChangeSet();
  if (!current) {
    changes.create(IAM_ROLE, role, `trusted by ${ECS_TASKS_PRINCIPAL}`);
  } else {
    if (!policiesEqual(current.trustPolicy, trustPolicyDocument())) {
      const from = trustedServices(current.trustPolicy);
      changes.update(IAM_ROLE, role, TRUST_POLICY, from, ECS_TASKS_PRINCIPAL);
    }
    if (!current.tagged) {
      changes.update(IAM_ROLE, role, STACK_TAG, 'none', `${STACK_TAG_KEY}=${ctx.names.stack}`);
    }
  }
  if (!current?.attachedPolicyArns.includes(taskExecutionManagedPolicyArn(ctx.region))) {
    changes.create(MANAGED_POLICY_ATTACHMENT, TASK_EXECUTION_MANAGED_POLICY_NAME, `on ${role}`);
  }
  const policy = ctx.names.executionRolePolicy;
  planInlinePolicy(changes, policy, current?.inlinePolicy, settings.secretArn);
  return [...changes.list];
}

// Right after CreateRole, IAM can answer NoSuchEntity for the new role, or
// GetRole can return its unique id (AROA...) where the ARN belongs;
// terraform-provider-aws retries for its propagation timeout of 2 minutes
// (internal/service/iam/role.go: RetryWhenNewResourceNotFound,
// waitRoleARNIsNotUniqueID).
const IAM_PROPAGATION_TIMEOUT_MS = 120_000;

class RoleNotVisibleYet extends Error {
  constructor(roleName: string) {
    super(`IAM does not show role ${roleName} with its ARN yet`);
    this.name = 'NoSuchEntity';
  }
}

/**
 * AttachRolePolicy answers NoSuchEntity for a missing role and for a policy
 * that does not exist ("Policy arn:... does not exist or is not attachable.",
 * the text AWS returns: https://github.com/getmoto/moto/pull/6482). Only the
 * role can appear by waiting; a missing policy fails at once, with its cause.
 */
export function isRoleNotVisibleYet(error: unknown): boolean {
  return (
    hasErrorCode(error, 'NoSuchEntity', 'NoSuchEntityException') &&
    !messageMatches(error, /^Policy arn:\S+ (version \S+ )?does not exist/)
  );
}

/** Calls `use` on a just-created role until IAM shows it everywhere. */
function whileRoleAppears<T>(ctx: StackContext, what: string, use: () => Promise<T>): Promise<T> {
  return retry(
    ctx.clock,
    {
      what: `waiting for IAM to show role ${ctx.names.executionRole} (${what})`,
      isRetryable: isRoleNotVisibleYet,
      timeoutMs: IAM_PROPAGATION_TIMEOUT_MS,
      initialDelayMs: 1_000,
      maxDelayMs: 10_000,
      onRetry: (error) =>
        ctx.report.progress(
          `waiting for IAM to show role ${ctx.names.executionRole} (${what}: ${errorMessage(error)})`,
        ),
    },
    use,
  );
}

async function visibleRoleArn(ctx: StackContext): Promise<string> {
  return whileRoleAppears(ctx, 'GetRole', async () => {
    const arn = (await getRole(ctx, ctx.names.executionRole))?.Arn;
    if (arn === undefined || !arn.startsWith('arn:'))
      throw new RoleNotVisibleYet(ctx.names.executionRole);
    return arn;
  });
}

/** The role being converged: its ARN once known, and whether this run made it. */
interface RoleHandle {
  roleArn: string | undefined;
  justCreated: boolean;
}

async function createRole(ctx: StackContext, handle: RoleHandle): Promise<void> {
  const roleName = ctx.names.executionRole;
  try {
    const created = await ctx.clients.iam.send(
      new CreateRoleCommand({
        RoleName: roleName,
        AssumeRolePolicyDocument: JSON.stringify(trustPolicyDocument()),
        Description: `ECS task execution role of iclinic-deploy stack ${ctx.names.stack} in ${ctx.region}`,
        Tags: stackTags(ctx.names.stack, roleName),
      }),
    );
    handle.justCreated = true;
    // CreateRole's answer is the truth; a GetRole now may not see the role yet.
    handle.roleArn = created.Role?.Arn ?? (await visibleRoleArn(ctx));
  } catch (error) {
    // Another run created it since the GetRole: the rest of the plan
    // (attach, put) converges that one too.
    if (!hasErrorCode(error, 'EntityAlreadyExists', 'EntityAlreadyExistsException')) throw error;
    handle.roleArn = await visibleRoleArn(ctx);
  }
}

/** Sends the one call that makes `change` true. */
async function applyRoleChange(
  ctx: StackContext,
  change: Change,
  settings: ExecutionRoleSettings,
  handle: RoleHandle,
): Promise<void> {
  const iam = ctx.clients.iam;
  const RoleName = ctx.names.executionRole;
  // Only calls on a role this run created can meet IAM's delay.
  const onRole = <T>(what: string, use: () => Promise<T>): Promise<T> =>
    handle.justCreated ? whileRoleAppears(ctx, what, use) : use();
  if (change.kind === IAM_ROLE && change.action === 'create') return createRole(ctx, handle);
  if (change.kind === IAM_ROLE && change.detail === TRUST_POLICY) {
    const PolicyDocument = JSON.stringify(trustPolicyDocument());
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName, PolicyDocument }));
  } else if (change.kind === IAM_ROLE && change.detail === STACK_TAG) {
    await iam.send(new TagRoleCommand({ RoleName, Tags: stackTags(ctx.names.stack, RoleName) }));
  } else if (change.kind === MANAGED_POLICY_ATTACHMENT) {
    const PolicyArn = taskExecutionManagedPolicyArn(ctx.region);
    await onRole('AttachRolePolicy', () =>
      iam.send(new AttachRolePolicyCommand({ RoleName, PolicyArn })),
    );
  } else if (change.kind === INLINE_POLICY) {
    const input = {
      RoleName,
      PolicyName: ctx.names.executionRolePolicy,
      PolicyDocument: JSON.stringify(readSecretPolicyDocument(settings.secretArn)),
    };
    await onRole('PutRolePolicy', () => iam.send(new PutRolePolicyCommand(input)));
  } else {
    throw new Error(`No way to apply ${change.action} ${change.kind} ${change.name}.`);
  }
}

/**
 * The role ECS uses to pull the image, write logs and read the token secret.
 * In a dry run the secret ARN may be NOT_CREATED_YET: the inline policy is
 * then planned without an ARN to compare.
 */
export async function ensureExecutionRole(
  ctx: StackContext,
  settings: ExecutionRoleSettings,
): Promise<Converged<{ roleArn: string }>> {
  if (!(ctx.dryRun === true && isNotCreatedYet(settings.secretArn)))
    validateSecretArn(settings.secretArn);
  const current = await describeExecutionRole(ctx);
  const changes = planExecutionRole(ctx, current, settings);
  if (ctx.dryRun) return { changes, value: { roleArn: current?.roleArn ?? NOT_CREATED_YET } };
  const handle: RoleHandle = { roleArn: current?.roleArn, justCreated: false };
  for (const change of changes) await applyRoleChange(ctx, change, settings, handle);
  if (handle.roleArn === undefined)
    throw new Error(`IAM returned no ARN for role ${ctx.names.executionRole}.`);
  return { changes, value: { roleArn: handle.roleArn } };
}
