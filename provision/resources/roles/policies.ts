import { partitionOf } from '../../partition.js';

/** The IAM policy documents of the execution role, and how to compare them (pure). */

export interface PolicyStatement {
  Effect: string;
  Action?: string | string[];
  Resource?: string | string[];
  Principal?: Record<string, string | string[]>;
  Sid?: string;
  Condition?: unknown;
}

export interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatement | PolicyStatement[];
}

/** AWS managed policies live in each partition: arn:aws-us-gov:iam::aws:policy/... in GovCloud. */
export function taskExecutionManagedPolicyArn(region: string): string {
  return `arn:${partitionOf(region)}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy`;
}

/** The commercial partition's ARN. */
export const TASK_EXECUTION_MANAGED_POLICY_ARN = taskExecutionManagedPolicyArn('us-east-1');

export const TASK_EXECUTION_MANAGED_POLICY_NAME = 'AmazonECSTaskExecutionRolePolicy';

export const ECS_TASKS_PRINCIPAL = 'ecs-tasks.amazonaws.com';

export function trustPolicyDocument(): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: ECS_TASKS_PRINCIPAL },
        Action: 'sts:AssumeRole',
      },
    ],
  };
}

// Secrets Manager ARNs end in "-" plus 6 random characters that change on
// every re-creation, so the policy must use the ARN AWS returned; a name or
// a wildcard would either miss the secret or grant too much
// (https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_iam-policies.html).
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

/**
 * IAM returns policy documents URL-encoded
 * (https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRolePolicy.html); moto sometimes does not.
 */
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

function statementsOf(policy: unknown): PolicyStatement[] {
  const statements = (policy as Partial<PolicyDocument> | undefined)?.Statement;
  return [statements ?? []].flat();
}

/** Every Resource the policy's statements name, in order. */
export function resourcesOf(policy: unknown): string[] {
  return statementsOf(policy).flatMap((statement) => [statement.Resource ?? []].flat());
}

/** The regions whose secrets a policy names, read from the secret ARNs. */
export function regionsOfSecrets(policy: unknown): Set<string> {
  const regions = new Set<string>();
  for (const resource of resourcesOf(policy)) {
    const match = /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):/.exec(resource);
    if (match?.[1] !== undefined) regions.add(match[1]);
  }
  return regions;
}

/** One short line per statement, "Allow secretsmanager:* on ARN", for a plan's from/to. */
export function summarizePolicy(policy: unknown): string {
  const lines = statementsOf(policy).map((statement) => {
    const actions = [statement.Action ?? []].flat().join(',') || 'no action';
    const resources = [statement.Resource ?? []].flat().join(',') || 'no resource';
    return `${statement.Effect} ${actions} on ${resources}`;
  });
  return lines.join('; ') || 'no statement';
}

/** The services a trust policy lets assume the role, for a plan's from. */
export function trustedServices(policy: unknown): string {
  const services = statementsOf(policy).flatMap((statement) =>
    [statement.Principal?.Service ?? []].flat(),
  );
  return services.join(', ') || 'no service';
}
