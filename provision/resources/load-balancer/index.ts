/**
 * The internet-facing Application Load Balancer, its target group and its
 * listeners, converged in that order: an account that may not create a load
 * balancer finds out before anything slower happens.
 */
import type { Converged, StackContext } from '../../context.js';
import type { StackNames } from '../../names.js';
import { isNotCreatedYet, NOT_CREATED_YET, type Change } from '../../plan.js';
import { validatePort } from '../shared.js';
import { applyAlb, describeAlb, findLoadBalancers, planAlb, type AlbInfo } from './alb.js';
import {
  applyListeners,
  desiredListeners,
  findListeners,
  listenerArns,
  planListeners,
  type ListenerStep,
} from './listeners.js';
import {
  applyTargetGroup,
  describeTargetGroup,
  findTargetGroup,
  planTargetGroup,
  targetGroupChanges,
  type TargetGroupInfo,
  type TargetGroupPlan,
} from './target-group.js';
import {
  LoadBalancerError,
  type LoadBalancer,
  type LoadBalancerNetwork,
  type LoadBalancerSettings,
  type LoadBalancerStatus,
} from './types.js';
import type { Listener } from '@aws-sdk/client-elastic-load-balancing-v2';

export { waitForLoadBalancerActive } from './alb.js';
export { removeLoadBalancer, removeTargetGroup } from './remove.js';
export {
  describeListenerRules,
  ensureOriginRule,
  planOriginRule,
  type OriginRuleSettings,
} from './origin-rule.js';
export { describeTargetHealth } from './target-group.js';
export * from './types.js';

/** What the account holds, read-only. */
export interface CurrentLoadBalancer {
  readonly alb: AlbInfo | undefined;
  readonly targetGroup: TargetGroupInfo | undefined;
  readonly listeners: readonly Listener[];
}

export interface LoadBalancerPlan {
  readonly alb: readonly Change[];
  readonly targetGroup: TargetGroupPlan;
  readonly listeners: readonly ListenerStep[];
  /** Every change in the order ensureLoadBalancer applies them. */
  readonly changes: readonly Change[];
}

/** The base URL (no trailing slash): https when a listener serves HTTPS. */
export function loadBalancerUrl(lb: {
  readonly dnsName?: string | undefined;
  readonly listeners: readonly { readonly protocol: string }[];
}): string {
  if (isNotCreatedYet(lb.dnsName)) return NOT_CREATED_YET;
  const https = lb.listeners.some((l) => l.protocol === 'HTTPS');
  return `${https ? 'https' : 'http'}://${lb.dnsName ?? ''}`;
}

function validateSettings(settings: LoadBalancerSettings): void {
  validatePort(settings.containerPort);
  if (!settings.healthCheckPath.startsWith('/')) {
    throw new LoadBalancerError(
      `Invalid health check path ${JSON.stringify(settings.healthCheckPath)}: it must start with "/" (e.g. "/healthz").`,
    );
  }
  const cert = settings.certificateArn;
  if (cert !== undefined && !/^arn:aws[a-z-]*:(acm|iam):/.test(cert)) {
    throw new LoadBalancerError(
      `Invalid certificate ARN ${JSON.stringify(cert)}: expected an ACM certificate ARN such as ` +
        `arn:aws:acm:us-east-1:123456789012:certificate/..., in the same region as the stack.`,
    );
  }
}

/** Read-only: the load balancer, the target group with its attributes, the listeners. */
export async function describeCurrentLoadBalancer(ctx: StackContext): Promise<CurrentLoadBalancer> {
  const [alb, targetGroup] = await Promise.all([describeAlb(ctx), describeTargetGroup(ctx)]);
  const listeners = alb === undefined ? [] : await findListeners(ctx, alb.arn);
  return { alb, targetGroup, listeners };
}

/** Pure: what ensureLoadBalancer would change, given what the account holds. */
export function planLoadBalancer(
  names: Pick<StackNames, 'loadBalancer' | 'targetGroup'>,
  current: CurrentLoadBalancer,
  network: LoadBalancerNetwork,
  settings: LoadBalancerSettings,
): LoadBalancerPlan {
  const alb = planAlb(names, current.alb, network);
  const desiredGroup = {
    vpcId: network.vpcId,
    port: settings.containerPort,
    healthCheckPath: settings.healthCheckPath,
  };
  const targetGroup = planTargetGroup(names, current.targetGroup, desiredGroup);
  const targetGroupArn = current.targetGroup?.group.TargetGroupArn ?? NOT_CREATED_YET;
  const wanted = desiredListeners(targetGroupArn, settings);
  const listeners = planListeners(current.listeners, wanted, names.targetGroup);
  const changes = [
    ...alb,
    ...targetGroupChanges(targetGroup, names.targetGroup, settings.containerPort),
    ...listeners.flatMap((step) => step.changes),
  ];
  return { alb, targetGroup, listeners, changes };
}

function valueOf(
  alb: { arn: string; dnsName: string },
  targetGroupArn: string,
  settings: LoadBalancerSettings,
  arns: string[],
): LoadBalancer {
  const listeners = desiredListeners(targetGroupArn, settings);
  return {
    loadBalancerArn: alb.arn,
    dnsName: alb.dnsName,
    url: loadBalancerUrl({ dnsName: alb.dnsName, listeners }),
    targetGroupArn,
    listenerArns: arns,
  };
}

export async function ensureLoadBalancer(
  ctx: StackContext,
  network: LoadBalancerNetwork,
  settings: LoadBalancerSettings,
): Promise<Converged<LoadBalancer>> {
  validateSettings(settings);
  const current = await describeCurrentLoadBalancer(ctx);
  const plan = planLoadBalancer(ctx.names, current, network, settings);
  if (ctx.dryRun) {
    const alb = current.alb ?? { arn: NOT_CREATED_YET, dnsName: NOT_CREATED_YET };
    const targetGroupArn = current.targetGroup?.group.TargetGroupArn ?? NOT_CREATED_YET;
    const wanted = desiredListeners(targetGroupArn, settings);
    const arns = listenerArns(current.listeners, wanted);
    return { changes: plan.changes, value: valueOf(alb, targetGroupArn, settings, arns) };
  }
  const alb = await applyAlb(ctx, current.alb, network, plan.alb);
  const desiredGroup = {
    vpcId: network.vpcId,
    port: settings.containerPort,
    healthCheckPath: settings.healthCheckPath,
  };
  const targetGroupArn = await applyTargetGroup(
    ctx,
    current.targetGroup,
    desiredGroup,
    plan.targetGroup,
  );
  const wanted = desiredListeners(targetGroupArn, settings);
  const arns = await applyListeners(ctx, alb.arn, current.listeners, wanted, plan.listeners);
  return { changes: plan.changes, value: valueOf(alb, targetGroupArn, settings, arns) };
}

/** Read-only, for `status` and `set-token`: what exists, without failing on what does not. */
export async function describeLoadBalancer(ctx: StackContext): Promise<LoadBalancerStatus> {
  const [lbs, tg] = await Promise.all([findLoadBalancers(ctx), findTargetGroup(ctx)]);
  const status: LoadBalancerStatus = { listeners: [] };
  const first = lbs[0];
  if (tg !== undefined) status.targetGroupArn = tg.TargetGroupArn;
  if (first === undefined) return status;
  status.loadBalancerArn = first.arn;
  if (first.dnsName !== '') status.dnsName = first.dnsName;
  if (first.state !== undefined) status.state = first.state;
  for (const l of await findListeners(ctx, first.arn)) {
    if (l.ListenerArn === undefined) continue;
    status.listeners.push({
      port: l.Port ?? 0,
      protocol: l.Protocol ?? 'unknown',
      arn: l.ListenerArn,
    });
  }
  return status;
}
