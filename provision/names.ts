/**
 * Every resource name and tag is derived from the stack name, so the CLI can
 * find everything again without a state file and a second copy of the stack
 * (`--name`) never collides with the first.
 */

export const DEFAULT_STACK_NAME = 'iclinic';

/** Tag key carried by every resource; its value is the stack name. */
export const STACK_TAG_KEY = 'iclinic-deploy:stack';

// ALB and target group names allow 32 characters; the longest suffix used is
// "-tg" / "-alb" plus room, so 24 keeps every derived name legal.
const STACK_NAME_PATTERN = /^[a-z][a-z0-9-]{0,22}[a-z0-9]$|^[a-z]$/;

export class InvalidStackNameError extends Error {
  constructor(received: string) {
    super(
      `Invalid stack name ${JSON.stringify(received)}: use 1-24 characters, lowercase letters, ` +
        `digits and hyphens, starting with a letter and not ending with a hyphen (e.g. "iclinic-staging").`,
    );
    this.name = 'InvalidStackNameError';
  }
}

/**
 * Prefixes AWS reserves in names derived from the stack name. A stack name
 * equal to the prefix's stem, or starting with the whole prefix, would give
 * `${stack}-alb` / `${stack}-tasks` a reserved start.
 */
const RESERVED_PREFIXES = [
  // "must not begin with internal-":
  // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html
  { prefix: 'internal-', names: 'load balancer names' },
  // "Names can't start with sg-":
  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html
  { prefix: 'sg-', names: 'security group names' },
] as const;

export class ReservedStackNameError extends Error {
  constructor(received: string, prefix: string, names: string) {
    super(
      `Invalid stack name ${JSON.stringify(received)}: it would make ${names} begin with ` +
        `"${prefix}", which AWS reserves. Choose a name that is not "${prefix.slice(0, -1)}" and ` +
        `does not begin with "${prefix}" (e.g. "iclinic-staging").`,
    );
    this.name = 'ReservedStackNameError';
  }
}

export function validateStackName(name: string): string {
  if (!STACK_NAME_PATTERN.test(name) || name.includes('--')) {
    throw new InvalidStackNameError(name);
  }
  for (const { prefix, names } of RESERVED_PREFIXES) {
    if (`${name}-`.startsWith(prefix)) throw new ReservedStackNameError(name, prefix, names);
  }
  return name;
}

// IAM role names allow 64 characters, inline policy names 128:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
export const ROLE_NAME_MAX_LENGTH = 64;
const EXECUTION_ROLE_SUFFIX = '-exec';

export class RegionTooLongError extends Error {
  constructor(region: string, roleName: string) {
    super(
      `Region ${JSON.stringify(region)} makes the IAM role name ${JSON.stringify(roleName)} longer ` +
        `than IAM's ${ROLE_NAME_MAX_LENGTH} characters; use a shorter --name (or check the region).`,
    );
    this.name = 'RegionTooLongError';
  }
}

export interface StackNames {
  readonly stack: string;
  readonly vpc: string;
  readonly publicSubnet: (zoneIndex: number) => string;
  readonly internetGateway: string;
  readonly routeTable: string;
  readonly loadBalancerSecurityGroup: string;
  readonly taskSecurityGroup: string;
  readonly repository: string;
  readonly secret: string;
  /**
   * IAM names are account-wide, not regional, so the role and its inline
   * policy carry the region: a stack of the same name in another region has
   * its own role pointing at its own secret.
   */
  readonly executionRole: string;
  readonly executionRolePolicy: string;
  /** What versions before the region was in the name called the role and its policy. */
  readonly legacyExecutionRole: string;
  readonly legacyExecutionRolePolicy: string;
  readonly logGroup: string;
  readonly loadBalancer: string;
  readonly targetGroup: string;
  readonly cluster: string;
  readonly taskFamily: string;
  readonly service: string;
  readonly containerName: string;
}

export function stackNames(stack: string, region: string): StackNames {
  validateStackName(stack);
  const executionRole = `${stack}-${region}${EXECUTION_ROLE_SUFFIX}`;
  if (executionRole.length > ROLE_NAME_MAX_LENGTH)
    throw new RegionTooLongError(region, executionRole);
  return {
    stack,
    vpc: `${stack}-vpc`,
    publicSubnet: (zoneIndex) => `${stack}-public-${zoneIndex + 1}`,
    internetGateway: `${stack}-igw`,
    routeTable: `${stack}-public`,
    loadBalancerSecurityGroup: `${stack}-alb`,
    taskSecurityGroup: `${stack}-tasks`,
    repository: `${stack}/api`,
    secret: `${stack}/api-token`,
    executionRole,
    executionRolePolicy: `${stack}-${region}-read-token`,
    legacyExecutionRole: `${stack}-task-execution`,
    legacyExecutionRolePolicy: `${stack}-read-token`,
    logGroup: `/ecs/${stack}/api`,
    loadBalancer: `${stack}-alb`,
    targetGroup: `${stack}-tg`,
    cluster: stack,
    taskFamily: `${stack}-api`,
    service: `${stack}-api`,
    containerName: 'api',
  };
}

export interface Tag {
  Key: string;
  Value: string;
}

/** Tags for a resource: the stack tag plus a human-readable Name. */
export function stackTags(stack: string, resourceName?: string): Tag[] {
  const tags: Tag[] = [
    { Key: STACK_TAG_KEY, Value: stack },
    { Key: 'managed-by', Value: 'iclinic-deploy' },
  ];
  if (resourceName !== undefined) tags.push({ Key: 'Name', Value: resourceName });
  return tags;
}

/** ECS spells tag fields in lower case. */
export function ecsTags(stack: string): { key: string; value: string }[] {
  return stackTags(stack).map((t) => ({ key: t.Key, value: t.Value }));
}

/** The flags that name a stack on a command line (" --name X" only when not the default). */
export function stackFlags(stack: string, region: string): string {
  return `${stack === DEFAULT_STACK_NAME ? '' : ` --name ${stack}`} --region ${region}`;
}
