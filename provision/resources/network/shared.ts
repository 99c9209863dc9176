/**
 * What every part of the network module shares: the value ensureNetwork
 * returns, the fixed address plan, the module's error, and the retry that
 * reads EC2's NotFound right after a create as "not visible yet".
 */
import type { Filter, ResourceType } from '@aws-sdk/client-ec2';
import type { StackContext } from '../../context.js';
import { STACK_TAG_KEY, stackTags } from '../../names.js';
import type { Change } from '../../plan.js';
import { errorCode, errorMessage, hasErrorCode, retry, RetryTimeoutError } from '../../retry.js';

export const VPC_CIDR = '10.0.0.0/16';
export const SUBNET_CIDRS = ['10.0.0.0/24', '10.0.1.0/24'] as const;
export const ANYWHERE = '0.0.0.0/0';

export interface Network {
  vpcId: string;
  subnetIds: string[];
  availabilityZones: string[];
  loadBalancerSecurityGroupId: string;
  taskSecurityGroupId: string;
}

export interface NetworkSettings {
  containerPort: number;
  https: boolean;
  /**
   * With CloudFront in front, the load balancer's group admits port 80 from
   * CloudFront's origin-facing prefix list only, instead of from anywhere.
   */
  cloudFront?: boolean;
}

/** What exists of the network; every field is absent when that part is missing. */
export interface NetworkStatus extends Partial<Network> {
  internetGatewayId?: string;
  routeTableId?: string;
}

export class NetworkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NetworkError';
  }
}

/** A planned change with what its apply step needs to carry it out. */
export interface Planned<A> {
  readonly change: Change;
  readonly action: A;
}

export function changesOf<A>(planned: readonly Planned<A>[]): Change[] {
  return planned.map((p) => p.change);
}

// moto has a default VPC with subnets and groups, so every query is narrowed
// by the stack tag or by our VPC id.
export function stackFilter(ctx: StackContext): Filter {
  return { Name: `tag:${STACK_TAG_KEY}`, Values: [ctx.names.stack] };
}

export function vpcFilter(vpcId: string): Filter {
  return { Name: 'vpc-id', Values: [vpcId] };
}

export function tagSpec(ctx: StackContext, type: ResourceType, name: string) {
  return [{ ResourceType: type, Tags: stackTags(ctx.names.stack, name) }];
}

export function byString<T>(key: (item: T) => string | undefined): (a: T, b: T) => number {
  return (a, b) => (key(a) ?? '').localeCompare(key(b) ?? '');
}

/**
 * EC2 is eventually consistent: right after a create, a describe or modify
 * of the new id (or a call that names it, such as a route to a new gateway)
 * can answer that it does not exist (EC2 developer guide, "Eventual
 * consistency": https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html).
 * terraform-provider-aws retries these codes for its 2-minute propagation
 * timeout (AttachInternetGateway: hashicorp/terraform#7891; AssociateRouteTable:
 * RetryWhenAWSErrCodeEquals on InvalidRouteTableID.NotFound). Spellings from
 * terraform-provider-aws internal/service/ec2/errors.go, which also lists the
 * "Id" forms some operations answer.
 */
const NOT_YET_VISIBLE_CODES = [
  'InvalidVpcID.NotFound',
  'InvalidSubnetID.NotFound',
  'InvalidSubnetId.NotFound',
  'InvalidInternetGatewayID.NotFound',
  'InvalidRouteTableID.NotFound',
  'InvalidRouteTableId.NotFound',
  'InvalidGroup.NotFound',
  'InvalidSecurityGroupID.NotFound',
];
const VISIBILITY_TIMEOUT_MS = 2 * 60_000;

export function isNotYetVisible(error: unknown): boolean {
  return hasErrorCode(error, ...NOT_YET_VISIBLE_CODES);
}

/**
 * Runs a call that names ids ensureNetwork may have just created, reading
 * their NotFound as "not visible yet" for a bounded time.
 */
export async function onceVisible<T>(
  ctx: StackContext,
  what: string,
  call: () => Promise<T>,
): Promise<T> {
  let told = false;
  try {
    return await retry(
      ctx.clock,
      {
        what,
        isRetryable: isNotYetVisible,
        timeoutMs: VISIBILITY_TIMEOUT_MS,
        initialDelayMs: 1_000,
        maxDelayMs: 10_000,
        onRetry: (error) => {
          if (told) return;
          told = true;
          ctx.report.progress(
            `waiting for AWS to show what was just created before ${what} (${errorCode(error)})`,
          );
        },
      },
      call,
    );
  } catch (error) {
    if (!(error instanceof RetryTimeoutError)) throw error;
    throw new NetworkError(
      `AWS kept answering ${errorCode(error.lastError)} for ${Math.round(VISIBILITY_TIMEOUT_MS / 60_000)} min while ${what}: ` +
        `${errorMessage(error.lastError)}. A resource created moments ago is usually visible by then; ` +
        `if someone deleted it meanwhile, run "npx iclinic-deploy up" again to create it anew.`,
    );
  }
}
