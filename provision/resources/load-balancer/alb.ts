/** The internet-facing Application Load Balancer itself: describe, plan, apply, wait. */
import {
  CreateLoadBalancerCommand,
  DescribeLoadBalancersCommand,
  SetSecurityGroupsCommand,
  SetSubnetsCommand,
  type LoadBalancer as AwsLoadBalancer,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { StackContext } from '../../context.js';
import { stackTags, type StackNames } from '../../names.js';
import { ChangeSet, isNotCreatedYet, type Change } from '../../plan.js';
import { errorMessage, hasErrorCode, isNotFound, pollUntil } from '../../retry.js';
import { sameSet } from '../shared.js';
import {
  KIND,
  LoadBalancerError,
  LoadBalancerNotPermittedError,
  type LoadBalancerNetwork,
} from './types.js';

export interface AlbInfo {
  readonly arn: string;
  readonly name: string;
  readonly dnsName: string;
  readonly scheme: string | undefined;
  readonly vpcId: string | undefined;
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
  readonly state: string | undefined;
}

const DETAIL = { subnets: 'subnets', securityGroups: 'security groups' } as const;

function toInfo(lb: AwsLoadBalancer, name: string): AlbInfo {
  return {
    arn: lb.LoadBalancerArn ?? '',
    name: lb.LoadBalancerName ?? name,
    dnsName: lb.DNSName ?? '',
    scheme: lb.Scheme,
    vpcId: lb.VpcId,
    subnetIds: (lb.AvailabilityZones ?? [])
      .map((z) => z.SubnetId)
      .filter((s): s is string => s !== undefined),
    securityGroupIds: lb.SecurityGroups ?? [],
    state: lb.State?.Code,
  };
}

/** Every load balancer with our name (AWS allows one; moto may hold duplicates). */
export async function findLoadBalancers(ctx: StackContext): Promise<AlbInfo[]> {
  try {
    const out = await ctx.clients.elbv2.send(
      new DescribeLoadBalancersCommand({ Names: [ctx.names.loadBalancer] }),
    );
    return (out.LoadBalancers ?? [])
      .filter((lb) => lb.LoadBalancerArn !== undefined)
      .map((lb) => toInfo(lb, ctx.names.loadBalancer));
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}

/** Read-only: the stack's load balancer, or undefined. */
export async function describeAlb(ctx: StackContext): Promise<AlbInfo | undefined> {
  const found = await findLoadBalancers(ctx);
  if (found.length > 1) {
    ctx.report.warn(
      `Found ${found.length} load balancers named ${ctx.names.loadBalancer}; using the first.`,
    );
  }
  return found[0];
}

function list(ids: readonly string[]): string {
  return ids.length === 0 ? '(none)' : ids.join(', ');
}

/** The scheme and the VPC are fixed at creation; a mismatch needs `down` first. */
function assertReusable(name: string, current: AlbInfo, network: LoadBalancerNetwork): void {
  if (current.scheme !== undefined && current.scheme !== 'internet-facing') {
    throw new LoadBalancerError(
      `Load balancer ${name} exists with scheme "${current.scheme}", but the stack needs ` +
        `"internet-facing", which cannot be changed in place. Delete it with "npx iclinic-deploy down" and run "npx iclinic-deploy up" again.`,
    );
  }
  if (current.vpcId !== undefined && current.vpcId !== network.vpcId) {
    throw new LoadBalancerError(
      `Load balancer ${name} is in VPC ${current.vpcId}, not in the stack's VPC ${network.vpcId}. ` +
        `Run "npx iclinic-deploy down" to remove the old one, then "npx iclinic-deploy up" again.`,
    );
  }
}

/** Pure: what ensureAlb would change. */
export function planAlb(
  names: Pick<StackNames, 'loadBalancer'>,
  current: AlbInfo | undefined,
  network: LoadBalancerNetwork,
): Change[] {
  const name = names.loadBalancer;
  const changes = new ChangeSet();
  if (current === undefined) {
    const where = network.subnetIds.some(isNotCreatedYet)
      ? "the stack's public subnets"
      : `subnets ${list(network.subnetIds)}`;
    return [...changes.create(KIND.loadBalancer, name, `internet-facing, in ${where}`).list];
  }
  assertReusable(name, current, network);
  if (!sameSet(current.subnetIds, network.subnetIds)) {
    changes.update(
      KIND.loadBalancer,
      name,
      DETAIL.subnets,
      list(current.subnetIds),
      list(network.subnetIds),
    );
  }
  const groups = [network.loadBalancerSecurityGroupId];
  if (!sameSet(current.securityGroupIds, groups)) {
    changes.update(
      KIND.loadBalancer,
      name,
      DETAIL.securityGroups,
      list(current.securityGroupIds),
      list(groups),
    );
  }
  return [...changes.list];
}

async function createAlb(
  ctx: StackContext,
  network: LoadBalancerNetwork,
): Promise<{ arn: string; dnsName: string }> {
  let created: AwsLoadBalancer | undefined;
  try {
    const out = await ctx.clients.elbv2.send(
      new CreateLoadBalancerCommand({
        Name: ctx.names.loadBalancer,
        Type: 'application',
        Scheme: 'internet-facing',
        IpAddressType: 'ipv4',
        Subnets: [...network.subnetIds],
        SecurityGroups: [network.loadBalancerSecurityGroupId],
        Tags: stackTags(ctx.names.stack, ctx.names.loadBalancer),
      }),
    );
    created = out.LoadBalancers?.[0];
  } catch (error) {
    // Some new accounts are refused until AWS Support enables ELB; retrying
    // does not help (the spec's AWS-NOTES.md, note 2; no public AWS page found).
    if (hasErrorCode(error, 'OperationNotPermitted', 'OperationNotPermittedException')) {
      throw new LoadBalancerNotPermittedError(ctx.region, errorMessage(error));
    }
    throw error;
  }
  if (created?.LoadBalancerArn === undefined || created.DNSName === undefined) {
    throw new LoadBalancerError('CreateLoadBalancer returned no load balancer ARN or DNS name.');
  }
  return { arn: created.LoadBalancerArn, dnsName: created.DNSName };
}

/** Applies exactly the changes planAlb returned. */
export async function applyAlb(
  ctx: StackContext,
  current: AlbInfo | undefined,
  network: LoadBalancerNetwork,
  changes: readonly Change[],
): Promise<{ arn: string; dnsName: string }> {
  if (current === undefined) return createAlb(ctx, network);
  const elbv2 = ctx.clients.elbv2;
  const arn = current.arn;
  for (const change of changes) {
    if (change.detail === DETAIL.subnets) {
      await elbv2.send(
        new SetSubnetsCommand({ LoadBalancerArn: arn, Subnets: [...network.subnetIds] }),
      );
    } else if (change.detail === DETAIL.securityGroups) {
      await elbv2.send(
        new SetSecurityGroupsCommand({
          LoadBalancerArn: arn,
          SecurityGroups: [network.loadBalancerSecurityGroupId],
        }),
      );
    }
  }
  return { arn, dnsName: current.dnsName };
}

export async function waitForLoadBalancerActive(
  ctx: StackContext,
  arn: string,
  timeoutMs: number,
): Promise<void> {
  let reported = '';
  await pollUntil(
    ctx.clock,
    {
      what: `waiting for load balancer ${ctx.names.loadBalancer} to become active`,
      timeoutMs,
      intervalMs: 5_000,
    },
    async () => {
      const out = await ctx.clients.elbv2.send(
        new DescribeLoadBalancersCommand({ LoadBalancerArns: [arn] }),
      );
      const state = out.LoadBalancers?.[0]?.State;
      const code = state?.Code ?? 'unknown';
      if (code === 'failed') {
        throw new LoadBalancerError(
          `Load balancer ${ctx.names.loadBalancer} failed to provision: ${state?.Reason ?? 'no reason given'}. ` +
            `Run "npx iclinic-deploy down" and "npx iclinic-deploy up" again; if it fails again, check the ELB quotas of the account.`,
        );
      }
      // active_impaired still routes traffic; it only means a zone is degraded
      // (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_LoadBalancerState.html).
      const done = code === 'active' || code === 'active_impaired';
      if (!done && code !== reported) {
        ctx.report.progress(
          `waiting for load balancer ${ctx.names.loadBalancer} to become active (now ${code})`,
        );
        reported = code;
      }
      return { done, state: code };
    },
  );
}
