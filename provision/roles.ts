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
import { hasErrorCode, messageMatches } from './retry.js';

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

export async function ensureExecutionRole(
  ctx: StackContext,
  settings: ExecutionRoleSettings,
): Promise<Ensured<{ roleArn: string }>> {
  validateSecretArn(settings.secretArn);
  const roleName = ctx.names.executionRole;
  const policyName = ctx.names.executionRolePolicy;
  const outcomes: Outcome[] = [];

  let current = await describeExecutionRole(ctx);
  if (!current) {
    try {
      await ctx.clients.iam.send(
        new CreateRoleCommand({
          RoleName: roleName,
          AssumeRolePolicyDocument: JSON.stringify(trustPolicyDocument()),
          Description: `ECS task execution role of iclinic-deploy stack ${ctx.names.stack}`,
          Tags: stackTags(ctx.names.stack, roleName),
        }),
      );
      outcomes.push('created');
    } catch (error) {
      // Another run created it since the GetRole; converge that one.
      if (!hasErrorCode(error, 'EntityAlreadyExists', 'EntityAlreadyExistsException')) throw error;
    }
    current = await describeExecutionRole(ctx);
    if (!current) {
      throw new Error(
        `Role ${roleName} was created but GetRole cannot find it; run the command again.`,
      );
    }
  }

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
    await iam.send(
      new AttachRolePolicyCommand({
        RoleName: roleName,
        PolicyArn: TASK_EXECUTION_MANAGED_POLICY_ARN,
      }),
    );
  }
  if (
    current.inlinePolicy === undefined ||
    !policiesEqual(current.inlinePolicy, readSecretPolicyDocument(settings.secretArn))
  ) {
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: roleName,
        PolicyName: policyName,
        PolicyDocument: JSON.stringify(readSecretPolicyDocument(settings.secretArn)),
      }),
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

export async function removeExecutionRole(ctx: StackContext): Promise<Removed> {
  const roleName = ctx.names.executionRole;
  const iam = ctx.clients.iam;
  const gone = (error: unknown): boolean =>
    hasErrorCode(error, 'NoSuchEntity', 'NoSuchEntityException');
  try {
    // DeleteRole refuses while any policy is attached or inline, so every
    // one goes first, including ones someone added by hand.
    const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName }));
    for (const p of attached.AttachedPolicies ?? []) {
      if (!p.PolicyArn) continue;
      try {
        await iam.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: p.PolicyArn }));
      } catch (error) {
        if (!gone(error)) throw error;
      }
    }
    const inline = await iam.send(new ListRolePoliciesCommand({ RoleName: roleName }));
    for (const name of inline.PolicyNames ?? []) {
      try {
        await iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: name }));
      } catch (error) {
        if (!gone(error)) throw error;
      }
    }
    await iam.send(new DeleteRoleCommand({ RoleName: roleName }));
    return { removed: [`IAM role ${roleName}`] };
  } catch (error) {
    if (gone(error)) return { removed: [] };
    throw error;
  }
}
