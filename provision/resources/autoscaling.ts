/**
 * Service auto scaling: an Application Auto Scaling scalable target on the
 * ECS service's desired count and two target-tracking policies, one on the
 * load balancer's requests per target and one on average CPU.
 *
 * Two rules for the modules around this one, since they meet the scaler:
 *
 * - The ECS service must stop fighting the scaler over desiredCount. Once a
 *   scalable target exists, Application Auto Scaling owns the count; an
 *   UpdateService that sends desiredCount resets it (the same bug as
 *   https://github.com/aws/aws-cdk/issues/3919 and
 *   https://github.com/hashicorp/terraform/issues/10308, whose fix is
 *   `ignore_changes = [desired_count]`). So the service's ensure sends
 *   desiredCount in CreateService (the minimum), and in UpdateService only
 *   when the count is below the minimum (set by hand: the scaler does not
 *   notice until a policy fires, see countBelowMinimum in ecs/service.ts);
 *   a count at or above it is no drift. ECS keeps the current count when
 *   UpdateService omits it
 *   (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateService.html#ECS-UpdateService-request-desiredCount),
 *   and a count below a raised minimum is raised by the scaler itself when
 *   the target is registered again
 *   (https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-scalable-target.html).
 * - The Fargate vCPU quota check must use the maximum: a rolling deploy
 *   with maximumPercent 200 at full scale runs 2 × maxTasks tasks.
 */
import {
  DeleteScalingPolicyCommand,
  DeregisterScalableTargetCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
  paginateDescribeScalableTargets,
  paginateDescribeScalingPolicies,
  type MetricType,
  type ScalingPolicy,
  type TargetTrackingScalingPolicyConfiguration,
} from '@aws-sdk/client-application-auto-scaling';
import type { Converged, Removal, StackContext } from '../context.js';
import { ChangeSet, isNotCreatedYet, type Change } from '../plan.js';
import { isNotFound } from '../retry.js';

const SERVICE_NAMESPACE = 'ecs';
const SCALABLE_DIMENSION = 'ecs:service:DesiredCount';

/**
 * Cooldowns (https://docs.aws.amazon.com/autoscaling/application/userguide/target-tracking-scaling-policy-overview.html#target-tracking-cooldown):
 * scale out after 60 s, so a burst is met within about two minutes (the
 * policy's alarms need 3 one-minute data points above target); scale in
 * only 300 s after the last scale-in, the ECS default, on top of the 15
 * one-minute points below target the scale-in alarm already waits for.
 * Adding tasks quickly and removing them slowly is what AWS recommends
 * ("scale in conservatively to protect your application's availability",
 * https://docs.aws.amazon.com/autoscaling/application/APIReference/API_TargetTrackingScalingPolicyConfiguration.html),
 * and with two policies the service scales in only when both are below
 * target, so a CPU-bound spike with few requests does not flap
 * (https://docs.aws.amazon.com/autoscaling/application/userguide/target-tracking-scaling-policy-overview.html#target-tracking-multiple-scaling-policies).
 */
export const SCALE_OUT_COOLDOWN_SECONDS = 60;
export const SCALE_IN_COOLDOWN_SECONDS = 300;

/**
 * Defaults: 60 % CPU leaves a 0.25 vCPU task headroom while a new one
 * starts (about a minute on Fargate). ALBRequestCountPerTarget is a
 * per-minute sum per target; 3000 (50 requests/s per task) is far below
 * what one task serves (npm run bench), so it scales on request bursts
 * before CPU averages catch up.
 */
export const DEFAULT_CPU_TARGET_PERCENT = 60;
export const DEFAULT_REQUESTS_PER_TARGET = 3000;

export interface AutoscalingSettings {
  readonly minTasks: number;
  readonly maxTasks: number;
  readonly cpuTargetPercent?: number;
  readonly requestsPerTarget?: number;
  /** ARNs of the stack's load balancer and target group (may be NOT_CREATED_YET in a dry run). */
  readonly loadBalancerArn: string;
  readonly targetGroupArn: string;
}

export interface PolicyInfo {
  readonly name: string;
  readonly metric: string | undefined;
  readonly resourceLabel: string | undefined;
  readonly targetValue: number | undefined;
  readonly scaleInCooldown: number | undefined;
  readonly scaleOutCooldown: number | undefined;
  readonly disableScaleIn: boolean;
}

export interface AutoscalingInfo {
  readonly resourceId: string;
  /** undefined when no scalable target is registered. */
  readonly target: { readonly minTasks: number; readonly maxTasks: number } | undefined;
  readonly policies: readonly PolicyInfo[];
}

export interface AutoscalingRef {
  readonly resourceId: string;
  readonly minTasks: number;
  readonly maxTasks: number;
  readonly policyNames: readonly string[];
}

export class InvalidTaskRangeError extends Error {
  constructor(min: number, max: number) {
    super(
      `Invalid task range: --min-tasks ${min}, --max-tasks ${max}. Use whole numbers with ` +
        `1 <= min <= max (e.g. --min-tasks 2 --max-tasks 6).`,
    );
    this.name = 'InvalidTaskRangeError';
  }
}

export function validateTaskRange(min: number, max: number): void {
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max < min) {
    throw new InvalidTaskRangeError(min, max);
  }
}

export function scalableResourceId(ctx: Pick<StackContext, 'names'>): string {
  return `service/${ctx.names.cluster}/${ctx.names.service}`;
}

export function policyNames(ctx: Pick<StackContext, 'names'>): {
  requests: string;
  cpu: string;
} {
  return { requests: `${ctx.names.stack}-requests-per-task`, cpu: `${ctx.names.stack}-cpu` };
}

/**
 * ALBRequestCountPerTarget needs "app/<lb-name>/<lb-id>/targetgroup/<tg-name>/<tg-id>"
 * (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PredefinedMetricSpecification.html);
 * undefined while either ARN is not created yet (dry run).
 */
export function requestCountResourceLabel(
  loadBalancerArn: string,
  targetGroupArn: string,
): string | undefined {
  if (isNotCreatedYet(loadBalancerArn) || isNotCreatedYet(targetGroupArn)) return undefined;
  const lb = /:loadbalancer\/(app\/[^/]+\/[^/]+)$/.exec(loadBalancerArn)?.[1];
  const tg = /:(targetgroup\/[^/]+\/[^/]+)$/.exec(targetGroupArn)?.[1];
  if (lb === undefined || tg === undefined) {
    throw new Error(
      `Cannot build the request-count label from load balancer ${loadBalancerArn} and target ` +
        `group ${targetGroupArn}: expected ARNs ending in loadbalancer/app/NAME/ID and targetgroup/NAME/ID.`,
    );
  }
  return `${lb}/${tg}`;
}

interface DesiredPolicy {
  readonly name: string;
  readonly metric: MetricType;
  readonly resourceLabel: string | undefined;
  readonly targetValue: number;
}

function desiredPolicies(
  ctx: Pick<StackContext, 'names'>,
  s: AutoscalingSettings,
): DesiredPolicy[] {
  const names = policyNames(ctx);
  return [
    {
      name: names.requests,
      metric: 'ALBRequestCountPerTarget',
      resourceLabel: requestCountResourceLabel(s.loadBalancerArn, s.targetGroupArn),
      targetValue: s.requestsPerTarget ?? DEFAULT_REQUESTS_PER_TARGET,
    },
    {
      name: names.cpu,
      metric: 'ECSServiceAverageCPUUtilization',
      resourceLabel: undefined,
      targetValue: s.cpuTargetPercent ?? DEFAULT_CPU_TARGET_PERCENT,
    },
  ];
}

function toPolicyInfo(policy: ScalingPolicy): PolicyInfo {
  const config = policy.TargetTrackingScalingPolicyConfiguration;
  return {
    name: policy.PolicyName ?? '',
    metric: config?.PredefinedMetricSpecification?.PredefinedMetricType,
    resourceLabel: config?.PredefinedMetricSpecification?.ResourceLabel,
    targetValue: config?.TargetValue,
    scaleInCooldown: config?.ScaleInCooldown,
    scaleOutCooldown: config?.ScaleOutCooldown,
    disableScaleIn: config?.DisableScaleIn ?? false,
  };
}

/** Read-only: the scalable target and the stack's two policies, as registered. */
export async function describeAutoscaling(ctx: StackContext): Promise<AutoscalingInfo> {
  const resourceId = scalableResourceId(ctx);
  const scope = {
    ServiceNamespace: SERVICE_NAMESPACE,
    ScalableDimension: SCALABLE_DIMENSION,
  } as const;
  let target: AutoscalingInfo['target'];
  for await (const page of paginateDescribeScalableTargets(
    { client: ctx.clients.autoscaling },
    { ...scope, ResourceIds: [resourceId] },
  )) {
    const found = page.ScalableTargets?.find((t) => t.ResourceId === resourceId);
    if (found) target = { minTasks: found.MinCapacity ?? 0, maxTasks: found.MaxCapacity ?? 0 };
  }
  const wanted = Object.values(policyNames(ctx));
  const policies: PolicyInfo[] = [];
  for await (const page of paginateDescribeScalingPolicies(
    { client: ctx.clients.autoscaling },
    { ...scope, ResourceId: resourceId, PolicyNames: wanted },
  )) {
    for (const policy of page.ScalingPolicies ?? []) {
      if (wanted.includes(policy.PolicyName ?? '')) policies.push(toPolicyInfo(policy));
    }
  }
  return { resourceId, target, policies };
}

const KIND_TARGET = 'scalable target';
const KIND_POLICY = 'scaling policy';
const range = (min: number, max: number): string => `${min}-${max} tasks`;

function policyDrift(current: PolicyInfo, desired: DesiredPolicy): Change[] {
  const changes = new ChangeSet();
  const update = (detail: string, from: unknown, to: unknown): void => {
    if (from !== to) changes.update(KIND_POLICY, desired.name, detail, String(from), String(to));
  };
  update('metric', current.metric ?? 'none', desired.metric);
  // Unknown before the load balancer exists (dry run): nothing to compare.
  if (desired.resourceLabel !== undefined) {
    update('resource label', current.resourceLabel ?? 'none', desired.resourceLabel);
  }
  update('target value', current.targetValue ?? 'none', desired.targetValue);
  update(
    'scale-in cooldown',
    `${current.scaleInCooldown ?? 0} s`,
    `${SCALE_IN_COOLDOWN_SECONDS} s`,
  );
  update(
    'scale-out cooldown',
    `${current.scaleOutCooldown ?? 0} s`,
    `${SCALE_OUT_COOLDOWN_SECONDS} s`,
  );
  update('scale-in', current.disableScaleIn ? 'disabled' : 'enabled', 'enabled');
  return [...changes.list];
}

/** Pure: what ensureAutoscaling would change, in the order it applies it. */
export function planAutoscaling(
  ctx: Pick<StackContext, 'names'>,
  current: AutoscalingInfo | undefined,
  settings: AutoscalingSettings,
): Change[] {
  const changes = new ChangeSet();
  const resourceId = scalableResourceId(ctx);
  const wanted = range(settings.minTasks, settings.maxTasks);
  if (current?.target === undefined) {
    changes.create(KIND_TARGET, resourceId, wanted);
  } else if (
    current.target.minTasks !== settings.minTasks ||
    current.target.maxTasks !== settings.maxTasks
  ) {
    const found = range(current.target.minTasks, current.target.maxTasks);
    changes.update(KIND_TARGET, resourceId, 'task range', found, wanted);
  }
  for (const desired of desiredPolicies(ctx, settings)) {
    const existing = current?.policies.find((p) => p.name === desired.name);
    if (existing === undefined) {
      changes.create(KIND_POLICY, desired.name, `${desired.metric} at ${desired.targetValue}`);
    } else {
      changes.add(...policyDrift(existing, desired));
    }
  }
  return [...changes.list];
}

function policyConfiguration(desired: DesiredPolicy): TargetTrackingScalingPolicyConfiguration {
  return {
    TargetValue: desired.targetValue,
    PredefinedMetricSpecification: {
      PredefinedMetricType: desired.metric,
      ...(desired.resourceLabel === undefined ? {} : { ResourceLabel: desired.resourceLabel }),
    },
    ScaleInCooldown: SCALE_IN_COOLDOWN_SECONDS,
    ScaleOutCooldown: SCALE_OUT_COOLDOWN_SECONDS,
    DisableScaleIn: false,
  };
}

/**
 * Registers the scalable target and puts the policies that are missing or
 * drifted; both calls are upserts. No RoleARN: Application Auto Scaling
 * then uses (and on first use creates) its service-linked role
 * AWSServiceRoleForApplicationAutoScaling_ECSService
 * (https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-service-linked-roles.html).
 */
export async function ensureAutoscaling(
  ctx: StackContext,
  settings: AutoscalingSettings,
): Promise<Converged<AutoscalingRef>> {
  validateTaskRange(settings.minTasks, settings.maxTasks);
  const current = await describeAutoscaling(ctx);
  const changes = planAutoscaling(ctx, current, settings);
  const resourceId = scalableResourceId(ctx);
  const policies = desiredPolicies(ctx, settings);
  const value: AutoscalingRef = {
    resourceId,
    minTasks: settings.minTasks,
    maxTasks: settings.maxTasks,
    policyNames: policies.map((p) => p.name),
  };
  if (ctx.dryRun || changes.length === 0) return { changes, value };

  const scope = {
    ServiceNamespace: SERVICE_NAMESPACE,
    ScalableDimension: SCALABLE_DIMENSION,
    ResourceId: resourceId,
  } as const;
  if (changes.some((c) => c.kind === KIND_TARGET)) {
    await ctx.clients.autoscaling.send(
      new RegisterScalableTargetCommand({
        ...scope,
        MinCapacity: settings.minTasks,
        MaxCapacity: settings.maxTasks,
      }),
    );
  }
  for (const desired of policies) {
    if (!changes.some((c) => c.kind === KIND_POLICY && c.name === desired.name)) continue;
    await ctx.clients.autoscaling.send(
      new PutScalingPolicyCommand({
        ...scope,
        PolicyName: desired.name,
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: policyConfiguration(desired),
      }),
    );
  }
  return { changes, value };
}

/**
 * Policies first, then the target. Deregistering the target alone would
 * delete its policies too (API_DeregisterScalableTarget), but deleting them
 * by name keeps the removal explicit and one change per resource. Run it
 * before the ECS service goes, so the scaler never acts on a draining one.
 */
export async function removeAutoscaling(ctx: StackContext): Promise<Removal> {
  const current = await describeAutoscaling(ctx);
  const changes = new ChangeSet();
  for (const policy of current.policies) changes.delete(KIND_POLICY, policy.name);
  if (current.target !== undefined) changes.delete(KIND_TARGET, current.resourceId);
  if (ctx.dryRun) return { changes: changes.list };

  const scope = {
    ServiceNamespace: SERVICE_NAMESPACE,
    ScalableDimension: SCALABLE_DIMENSION,
    ResourceId: current.resourceId,
  } as const;
  const ignoreGone = (error: unknown): void => {
    if (!isNotFound(error)) throw error;
  };
  for (const policy of current.policies) {
    await ctx.clients.autoscaling
      .send(new DeleteScalingPolicyCommand({ ...scope, PolicyName: policy.name }))
      .catch(ignoreGone);
  }
  if (current.target !== undefined) {
    await ctx.clients.autoscaling
      .send(new DeregisterScalableTargetCommand(scope))
      .catch(ignoreGone);
  }
  return { changes: changes.list };
}
