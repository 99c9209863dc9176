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

export function validateStackName(name: string): string {
  if (!STACK_NAME_PATTERN.test(name) || name.includes('--')) {
    throw new InvalidStackNameError(name);
  }
  return name;
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
  readonly executionRole: string;
  readonly executionRolePolicy: string;
  readonly logGroup: string;
  readonly loadBalancer: string;
  readonly targetGroup: string;
  readonly cluster: string;
  readonly taskFamily: string;
  readonly service: string;
  readonly containerName: string;
}

export function stackNames(stack: string): StackNames {
  validateStackName(stack);
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
    executionRole: `${stack}-task-execution`,
    executionRolePolicy: `${stack}-read-token`,
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
