import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  CreateServiceLinkedRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  PutRolePolicyCommand,
  TagRoleCommand,
  UpdateAssumeRolePolicyCommand,
  type Role,
} from '@aws-sdk/client-iam';
import {
  combineOutcomes,
  type Ensured,
  type Outcome,
  type Removed,
  type StackContext,
} from './context.js';
import { STACK_TAG_KEY, stackTags } from './names.js';
import { hasErrorCode, messageMatches, retry } from './retry.js';

export const TASK_EXECUTION_MANAGED_POLICY_ARN =
  'arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy';

/** The service-linked roles ECS and ELB need before the first cluster/load balancer. */
export const SERVICE_LINKED_ROLES = [
  { service: 'ecs.amazonaws.com', roleName: 'AWSServiceRoleForECS' },
  {
    service: 'elasticloadbalancing.amazonaws.com',
    roleName: 'AWSServiceRoleForElasticLoadBalancing',
  },
] as const;

// ---------------------------------------------------------------------------
// Service-linked roles
// ---------------------------------------------------------------------------

async function roleExists(ctx: StackContext, roleName: string): Promise<boolean> {
  try {
    await ctx.clients.iam.send(new GetRoleCommand({ RoleName: roleName }));
    return true;
  } catch (error) {
    if (hasErrorCode(error, 'NoSuchEntity', 'NoSuchEntityException')) return false;
    throw error;
  }
}

/**
 * A service-linked role always lives under /aws-service-role/SERVICE/.
 * Checking the path as well as the name keeps a second run read-only where
 * the role carries another name (moto spells it "AWSServiceRoleForecs").
 */
async function serviceLinkedRoleExists(
  ctx: StackContext,
  service: string,
  roleName: string,
): Promise<boolean> {
  if (await roleExists(ctx, roleName)) return true;
  const out = await ctx.clients.iam.send(
    new ListRolesCommand({ PathPrefix: `/aws-service-role/${service}/` }),
  );
  return (out.Roles ?? []).length > 0;
}

function meansServiceLinkedRoleExists(error: unknown): boolean {
  // IAM answers a duplicate CreateServiceLinkedRole with InvalidInput
  // "Service role name ... has been taken in this account".
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
 * because ECS/ELB have not yet created their service-linked roles; creating
 * them up front avoids that race. They are never removed by `down`: they are
 * shared by every ECS service and load balancer in the account, not owned by
 * this stack.
 */
export async function ensureServiceLinkedRoles(
  ctx: StackContext,
): Promise<Ensured<{ roleNames: string[] }>> {
  const changes: string[] = [];
  for (const { service, roleName } of SERVICE_LINKED_ROLES) {
    if (await serviceLinkedRoleExists(ctx, service, roleName)) continue;
    try {
      await ctx.clients.iam.send(new CreateServiceLinkedRoleCommand({ AWSServiceName: service }));
      changes.push(`service-linked role ${roleName}: created`);
    } catch (error) {
      if (!meansServiceLinkedRoleExists(error)) throw error;
    }
  }
  return {
    outcome: changes.length > 0 ? 'created' : 'unchanged',
    changes,
    value: { roleNames: SERVICE_LINKED_ROLES.map((r) => r.roleName) },
  };
}

// ---------------------------------------------------------------------------
// Policy documents
// ---------------------------------------------------------------------------

interface PolicyStatement {
  Effect: string;
  Action?: string | string[];
  Resource?: string | string[];
  Principal?: Record<string, string | string[]>;
  Sid?: string;
  Condition?: unknown;
}

interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatement | PolicyStatement[];
}

export function trustPolicyDocument(): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: 'ecs-tasks.amazonaws.com' },
        Action: 'sts:AssumeRole',
      },
    ],
  };
}

// Secrets Manager ARNs end in "-" plus 6 random characters that change on
// every re-creation, so the policy must use the ARN AWS returned; a name or
// a wildcard would either miss the secret or grant too much.
const SECRET_ARN_PATTERN =
  /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/;

export function validateSecretArn(secretArn: string): void {
  if (!SECRET_ARN_PATTERN.test(secretArn)) {
    throw new Error(
      `Invalid secret ARN ${JSON.stringify(secretArn)}: expected the full ARN Secrets Manager returned ` +
        `(arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX). Pass the ARN from CreateSecret/DescribeSecret, ` +
        `not the secret name.`,
    );
  }
}

export function readSecretPolicyDocument(secretArn: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: secretArn }],
  };
}

/** IAM returns policy documents URL-encoded; moto sometimes does not. */
export function decodePolicyDocument(raw: string | undefined): unknown {
  if (raw === undefined || raw === '') return undefined;
  const attempts = [raw];
  try {
    attempts.unshift(decodeURIComponent(raw));
  } catch {
    // Not URL-encoded (a literal "%" in JSON); try the raw text below.
  }
  for (const text of attempts) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // Try the next form.
    }
  }
  return undefined;
}

// Key order, list order and a one-element list versus a scalar mean nothing
// to IAM, so they must not count as drift either.
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(canonical);
    if (items.length === 1) return items[0];
    return items
      .map((item) => JSON.stringify(item))
      .sort()
      .map((text) => JSON.parse(text) as unknown);
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, item]) => [key, canonical(item)]),
    );
  }
  return value;
}

/** Semantic equality of two IAM policy documents (already decoded). */
export function policiesEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

// ---------------------------------------------------------------------------
// Task execution role
// ---------------------------------------------------------------------------

export interface ExecutionRoleSettings {
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

export async function describeExecutionRole(
  ctx: StackContext,
): Promise<ExecutionRoleState | undefined> {
  const roleName = ctx.names.executionRole;
  let role: Role | undefined;
  try {
    role = (await ctx.clients.iam.send(new GetRoleCommand({ RoleName: roleName }))).Role;
  } catch (error) {
    if (hasErrorCode(error, 'NoSuchEntity', 'NoSuchEntityException')) return undefined;
    throw error;
  }
  if (!role) return undefined;

  const attached: string[] = [];
  let marker: string | undefined;
  do {
    const page = await ctx.clients.iam.send(
      new ListAttachedRolePoliciesCommand({
        RoleName: roleName,
        ...(marker ? { Marker: marker } : {}),
      }),
    );
    for (const p of page.AttachedPolicies ?? []) if (p.PolicyArn) attached.push(p.PolicyArn);
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);

  let inlinePolicy: unknown;
  try {
    const out = await ctx.clients.iam.send(
      new GetRolePolicyCommand({ RoleName: roleName, PolicyName: ctx.names.executionRolePolicy }),
    );
    inlinePolicy = decodePolicyDocument(out.PolicyDocument);
  } catch (error) {
    if (!hasErrorCode(error, 'NoSuchEntity', 'NoSuchEntityException')) throw error;
  }

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

/** Pure: what ensureExecutionRole would do given the current state. */
export function planExecutionRole(
  ctx: Pick<StackContext, 'names'>,
  current: ExecutionRoleState | undefined,
  settings: ExecutionRoleSettings,
): string[] {
  const role = ctx.names.executionRole;
  const policy = ctx.names.executionRolePolicy;
  if (!current) {
    return [
      `create role ${role} (trusted by ecs-tasks.amazonaws.com)`,
      `attach AmazonECSTaskExecutionRolePolicy to ${role}`,
      `put inline policy ${policy}: secretsmanager:GetSecretValue on ${settings.secretArn}`,
    ];
  }
  const plan: string[] = [];
  if (!policiesEqual(current.trustPolicy, trustPolicyDocument())) {
    plan.push(`reset trust policy of ${role} to ecs-tasks.amazonaws.com`);
  }
  if (!current.tagged) plan.push(`tag role ${role}`);
  if (!current.attachedPolicyArns.includes(TASK_EXECUTION_MANAGED_POLICY_ARN)) {
    plan.push(`re-attach AmazonECSTaskExecutionRolePolicy to ${role}`);
  }
  if (current.inlinePolicy === undefined) {
    plan.push(
      `put missing inline policy ${policy}: secretsmanager:GetSecretValue on ${settings.secretArn}`,
    );
  } else if (!policiesEqual(current.inlinePolicy, readSecretPolicyDocument(settings.secretArn))) {
    plan.push(
      `rewrite drifted inline policy ${policy}: secretsmanager:GetSecretValue on ${settings.secretArn}`,
    );
  }
  return plan;
}

function isNoSuchEntity(error: unknown): boolean {
  return hasErrorCode(error, 'NoSuchEntity', 'NoSuchEntityException');
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

/** Calls `use` on a just-created role until IAM shows it everywhere. */
function whileRoleAppears<T>(ctx: StackContext, what: string, use: () => Promise<T>): Promise<T> {
  return retry(
    ctx.clock,
    {
      what: `waiting for IAM to show role ${ctx.names.executionRole} (${what})`,
      isRetryable: isNoSuchEntity,
      timeoutMs: IAM_PROPAGATION_TIMEOUT_MS,
      initialDelayMs: 1_000,
      maxDelayMs: 10_000,
      onRetry: () => ctx.report.progress(`waiting for IAM to show role ${ctx.names.executionRole}`),
    },
    use,
  );
}

/** The state of a role CreateRole has just made: nothing attached yet. */
function freshRole(roleArn: string): ExecutionRoleState {
  return {
    roleArn,
    trustPolicy: trustPolicyDocument(),
    attachedPolicyArns: [],
    inlinePolicy: undefined,
    tagged: true,
  };
}

async function describeVisibleRole(ctx: StackContext): Promise<ExecutionRoleState> {
  return whileRoleAppears(ctx, 'GetRole', async () => {
    const state = await describeExecutionRole(ctx);
    if (state === undefined || !state.roleArn.startsWith('arn:'))
      throw new RoleNotVisibleYet(ctx.names.executionRole);
    return state;
  });
}

export async function ensureExecutionRole(
  ctx: StackContext,
  settings: ExecutionRoleSettings,
): Promise<Ensured<{ roleArn: string }>> {
  validateSecretArn(settings.secretArn);
  const roleName = ctx.names.executionRole;
  const policyName = ctx.names.executionRolePolicy;
  const outcomes: Outcome[] = [];

  let current = await describeExecutionRole(ctx);
  let justCreated = false;
  if (!current) {
    try {
      const created = await ctx.clients.iam.send(
        new CreateRoleCommand({
          RoleName: roleName,
          AssumeRolePolicyDocument: JSON.stringify(trustPolicyDocument()),
          Description: `ECS task execution role of iclinic-deploy stack ${ctx.names.stack} in ${ctx.region}`,
          Tags: stackTags(ctx.names.stack, roleName),
        }),
      );
      outcomes.push('created');
      justCreated = true;
      // CreateRole's answer is the truth; a GetRole now may not see the role yet.
      current =
        created.Role?.Arn === undefined
          ? await describeVisibleRole(ctx)
          : freshRole(created.Role.Arn);
    } catch (error) {
      // Another run created it since the GetRole; converge that one.
      if (!hasErrorCode(error, 'EntityAlreadyExists', 'EntityAlreadyExistsException')) throw error;
      current = await describeVisibleRole(ctx);
    }
  }
  // Only calls on a role this run created can meet IAM's delay.
  const onRole = <T>(what: string, use: () => Promise<T>): Promise<T> =>
    justCreated ? whileRoleAppears(ctx, what, use) : use();

  const changes = planExecutionRole(ctx, current, settings);
  const iam = ctx.clients.iam;
  if (!policiesEqual(current.trustPolicy, trustPolicyDocument())) {
    await iam.send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: roleName,
        PolicyDocument: JSON.stringify(trustPolicyDocument()),
      }),
    );
  }
  if (!current.tagged) {
    await iam.send(
      new TagRoleCommand({ RoleName: roleName, Tags: stackTags(ctx.names.stack, roleName) }),
    );
  }
  if (!current.attachedPolicyArns.includes(TASK_EXECUTION_MANAGED_POLICY_ARN)) {
    await onRole('AttachRolePolicy', () =>
      iam.send(
        new AttachRolePolicyCommand({
          RoleName: roleName,
          PolicyArn: TASK_EXECUTION_MANAGED_POLICY_ARN,
        }),
      ),
    );
  }
  if (
    current.inlinePolicy === undefined ||
    !policiesEqual(current.inlinePolicy, readSecretPolicyDocument(settings.secretArn))
  ) {
    await onRole('PutRolePolicy', () =>
      iam.send(
        new PutRolePolicyCommand({
          RoleName: roleName,
          PolicyName: policyName,
          PolicyDocument: JSON.stringify(readSecretPolicyDocument(settings.secretArn)),
        }),
      ),
    );
  }

  const created = outcomes.includes('created');
  if (changes.length > 0 && !created) outcomes.push('updated');
  return {
    outcome: combineOutcomes(outcomes),
    changes: created ? [`role ${roleName}: created`] : changes.map((c) => `role ${roleName}: ${c}`),
    value: { roleArn: current.roleArn },
  };
}

/** Deletes a role with every policy on it; false when it was already gone. */
async function deleteRole(ctx: StackContext, roleName: string): Promise<boolean> {
  const iam = ctx.clients.iam;
  try {
    // DeleteRole refuses while any policy is attached or inline, so every
    // one goes first, including ones someone added by hand.
    const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName }));
    for (const p of attached.AttachedPolicies ?? []) {
      if (!p.PolicyArn) continue;
      try {
        await iam.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: p.PolicyArn }));
      } catch (error) {
        if (!isNoSuchEntity(error)) throw error;
      }
    }
    const inline = await iam.send(new ListRolePoliciesCommand({ RoleName: roleName }));
    for (const name of inline.PolicyNames ?? []) {
      try {
        await iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: name }));
      } catch (error) {
        if (!isNoSuchEntity(error)) throw error;
      }
    }
    await iam.send(new DeleteRoleCommand({ RoleName: roleName }));
    return true;
  } catch (error) {
    if (isNoSuchEntity(error)) return false;
    throw error;
  }
}

/** The regions whose secrets a role's inline policy names, read from the secret ARNs. */
function regionsOfSecrets(policy: unknown): Set<string> {
  const regions = new Set<string>();
  const statements = (policy as Partial<PolicyDocument> | undefined)?.Statement;
  for (const statement of [statements ?? []].flat()) {
    for (const resource of [statement.Resource ?? []].flat()) {
      const match = /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):/.exec(resource);
      if (match?.[1] !== undefined) regions.add(match[1]);
    }
  }
  return regions;
}

/**
 * Versions before the region was in the name made one role per stack name,
 * `${stack}-task-execution`, shared by every region and pointed at the
 * secret of whichever region ran `up` last. It belongs to this region only
 * when its inline policy names this region's secret; otherwise another
 * region's tasks may still use it, so it stays and the user is told.
 */
async function removeLegacyExecutionRole(ctx: StackContext): Promise<string[]> {
  const roleName = ctx.names.legacyExecutionRole;
  let policy: unknown;
  try {
    const out = await ctx.clients.iam.send(
      new GetRolePolicyCommand({
        RoleName: roleName,
        PolicyName: ctx.names.legacyExecutionRolePolicy,
      }),
    );
    policy = decodePolicyDocument(out.PolicyDocument);
  } catch (error) {
    if (!isNoSuchEntity(error)) throw error;
  }
  if (policy === undefined) {
    if (await roleExists(ctx, roleName)) {
      ctx.report.warn(
        `Left IAM role ${roleName} (made by an earlier version of iclinic-deploy): it has no ` +
          `inline policy ${ctx.names.legacyExecutionRolePolicy} telling which region uses it. ` +
          `Delete it by hand once no region's stack "${ctx.names.stack}" runs tasks with it.`,
      );
    }
    return [];
  }
  const regions = regionsOfSecrets(policy);
  if (!regions.has(ctx.region)) {
    ctx.report.warn(
      `Left IAM role ${roleName} (made by an earlier version of iclinic-deploy): it reads the ` +
        `token secret of ${[...regions].join(', ') || 'no region'}, not ${ctx.region}. ` +
        `\`down\` in that region removes it.`,
    );
    return [];
  }
  return (await deleteRole(ctx, roleName)) ? [`IAM role ${roleName}`] : [];
}

export async function removeExecutionRole(ctx: StackContext): Promise<Removed> {
  const removed: string[] = [];
  if (await deleteRole(ctx, ctx.names.executionRole))
    removed.push(`IAM role ${ctx.names.executionRole}`);
  removed.push(...(await removeLegacyExecutionRole(ctx)));
  return { removed };
}
