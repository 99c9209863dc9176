/** The target group (type ip, as Fargate tasks register by IP): describe, plan, apply. */
import {
  CreateTargetGroupCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  type ProtocolEnum,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { StackContext } from '../../context.js';
import { stackTags, type StackNames } from '../../names.js';
import { ChangeSet, type Change } from '../../plan.js';
import { isNotFound } from '../../retry.js';
import {
  DEREGISTRATION_DELAY_SECONDS,
  HEALTH_CHECK,
  KIND,
  LoadBalancerError,
  type TargetHealth,
} from './types.js';

const DEREGISTRATION_DELAY_KEY = 'deregistration_delay.timeout_seconds';

export interface TargetGroupInfo {
  readonly group: TargetGroup & { TargetGroupArn: string };
  /** The attribute as AWS returns it, a string of seconds; undefined when not reported. */
  readonly deregistrationDelay: string | undefined;
}

export interface DesiredTargetGroup {
  readonly vpcId: string;
  readonly port: number;
  readonly healthCheckPath: string;
}

/** What ensureTargetGroup would do, split by the call that applies each part. */
export interface TargetGroupPlan {
  readonly create: boolean;
  /** Applied together by one ModifyTargetGroup. */
  readonly healthCheck: readonly Change[];
  /** Applied by ModifyTargetGroupAttributes (a new group always gets it). */
  readonly attributes: readonly Change[];
}

export function targetGroupChanges(plan: TargetGroupPlan, name: string, port: number): Change[] {
  if (!plan.create) return [...plan.healthCheck, ...plan.attributes];
  const detail =
    `ip, HTTP ${port}, health check every ${HEALTH_CHECK.intervalSeconds} s, ` +
    `deregistration delay ${DEREGISTRATION_DELAY_SECONDS} s`;
  return [...new ChangeSet().create(KIND.targetGroup, name, detail).list];
}

export async function findTargetGroup(
  ctx: StackContext,
): Promise<(TargetGroup & { TargetGroupArn: string }) | undefined> {
  try {
    const out = await ctx.clients.elbv2.send(
      new DescribeTargetGroupsCommand({ Names: [ctx.names.targetGroup] }),
    );
    const group = out.TargetGroups?.[0];
    return group?.TargetGroupArn === undefined
      ? undefined
      : { ...group, TargetGroupArn: group.TargetGroupArn };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Read-only: the stack's target group with the attribute the stack sets. */
export async function describeTargetGroup(ctx: StackContext): Promise<TargetGroupInfo | undefined> {
  const group = await findTargetGroup(ctx);
  if (group === undefined) return undefined;
  const attributes = await ctx.clients.elbv2.send(
    new DescribeTargetGroupAttributesCommand({ TargetGroupArn: group.TargetGroupArn }),
  );
  const delay = attributes.Attributes?.find((a) => a.Key === DEREGISTRATION_DELAY_KEY)?.Value;
  return { group, deregistrationDelay: delay };
}

function healthCheckSettings(path: string) {
  return {
    HealthCheckProtocol: 'HTTP' as ProtocolEnum,
    HealthCheckPort: 'traffic-port',
    HealthCheckPath: path,
    HealthCheckIntervalSeconds: HEALTH_CHECK.intervalSeconds,
    HealthCheckTimeoutSeconds: HEALTH_CHECK.timeoutSeconds,
    HealthyThresholdCount: HEALTH_CHECK.healthyThreshold,
    UnhealthyThresholdCount: HEALTH_CHECK.unhealthyThreshold,
    Matcher: { HttpCode: HEALTH_CHECK.matcher },
  };
}

/** Port, protocol, target type and VPC are fixed at creation; a mismatch needs `down` first. */
function assertReusable(name: string, group: TargetGroup, desired: DesiredTargetGroup): void {
  const fixed: string[] = [];
  if (group.VpcId !== desired.vpcId) fixed.push(`VPC ${group.VpcId} (want ${desired.vpcId})`);
  if (group.Port !== desired.port) fixed.push(`port ${group.Port} (want ${desired.port})`);
  if (group.Protocol !== 'HTTP') fixed.push(`protocol ${group.Protocol} (want HTTP)`);
  if (group.TargetType !== 'ip') fixed.push(`target type ${group.TargetType} (want ip)`);
  if (fixed.length > 0) {
    throw new LoadBalancerError(
      `Target group ${name} exists with ${fixed.join(', ')}; these cannot be changed in place. ` +
        `Run "npx iclinic-deploy down" and then "npx iclinic-deploy up" again to recreate it.`,
    );
  }
}

const text = (value: unknown, unit = ''): string =>
  value === undefined ? 'unset' : `${String(value)}${unit}`;

function planHealthCheck(name: string, group: TargetGroup, path: string): Change[] {
  const want = healthCheckSettings(path);
  const rows: [detail: string, have: unknown, want: unknown, unit?: string][] = [
    ['health check enabled', group.HealthCheckEnabled !== false, true],
    ['health check protocol', group.HealthCheckProtocol, want.HealthCheckProtocol],
    ['health check port', group.HealthCheckPort, want.HealthCheckPort],
    ['health check path', group.HealthCheckPath, want.HealthCheckPath],
    [
      'health check interval',
      group.HealthCheckIntervalSeconds,
      want.HealthCheckIntervalSeconds,
      ' s',
    ],
    ['health check timeout', group.HealthCheckTimeoutSeconds, want.HealthCheckTimeoutSeconds, ' s'],
    ['healthy threshold', group.HealthyThresholdCount, want.HealthyThresholdCount],
    ['unhealthy threshold', group.UnhealthyThresholdCount, want.UnhealthyThresholdCount],
    ['health check success codes', group.Matcher?.HttpCode, want.Matcher.HttpCode],
  ];
  const changes = new ChangeSet();
  for (const [detail, have, wanted, unit] of rows) {
    if (have !== wanted)
      changes.update(KIND.targetGroup, name, detail, text(have, unit), text(wanted, unit));
  }
  return [...changes.list];
}

/** Pure: what ensureTargetGroup would change. */
export function planTargetGroup(
  names: Pick<StackNames, 'targetGroup'>,
  current: TargetGroupInfo | undefined,
  desired: DesiredTargetGroup,
): TargetGroupPlan {
  const name = names.targetGroup;
  if (current === undefined) return { create: true, healthCheck: [], attributes: [] };
  assertReusable(name, current.group, desired);
  const delay = String(DEREGISTRATION_DELAY_SECONDS);
  const attributes =
    current.deregistrationDelay === delay
      ? []
      : new ChangeSet().update(
          KIND.targetGroup,
          name,
          'deregistration delay',
          text(current.deregistrationDelay, ' s'),
          `${delay} s`,
        ).list;
  return {
    create: false,
    healthCheck: planHealthCheck(name, current.group, desired.healthCheckPath),
    attributes,
  };
}

async function createTargetGroup(ctx: StackContext, desired: DesiredTargetGroup): Promise<string> {
  const out = await ctx.clients.elbv2.send(
    new CreateTargetGroupCommand({
      Name: ctx.names.targetGroup,
      TargetType: 'ip',
      Protocol: 'HTTP',
      Port: desired.port,
      VpcId: desired.vpcId,
      HealthCheckEnabled: true,
      ...healthCheckSettings(desired.healthCheckPath),
      Tags: stackTags(ctx.names.stack, ctx.names.targetGroup),
    }),
  );
  const arn = out.TargetGroups?.[0]?.TargetGroupArn;
  if (arn === undefined) throw new LoadBalancerError('CreateTargetGroup returned no ARN.');
  return arn;
}

/** Applies exactly the plan planTargetGroup returned; resolves to the group's ARN. */
export async function applyTargetGroup(
  ctx: StackContext,
  current: TargetGroupInfo | undefined,
  desired: DesiredTargetGroup,
  plan: TargetGroupPlan,
): Promise<string> {
  const elbv2 = ctx.clients.elbv2;
  const arn = current?.group.TargetGroupArn ?? (await createTargetGroup(ctx, desired));
  if (plan.healthCheck.length > 0) {
    await elbv2.send(
      new ModifyTargetGroupCommand({
        TargetGroupArn: arn,
        HealthCheckEnabled: true,
        ...healthCheckSettings(desired.healthCheckPath),
      }),
    );
  }
  // CreateTargetGroup takes no attributes, so a new group always needs this call.
  if (plan.create || plan.attributes.length > 0) {
    await elbv2.send(
      new ModifyTargetGroupAttributesCommand({
        TargetGroupArn: arn,
        Attributes: [
          { Key: DEREGISTRATION_DELAY_KEY, Value: String(DEREGISTRATION_DELAY_SECONDS) },
        ],
      }),
    );
  }
  return arn;
}

export async function describeTargetHealth(
  ctx: StackContext,
  targetGroupArn: string,
): Promise<TargetHealth[]> {
  try {
    const out = await ctx.clients.elbv2.send(
      new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }),
    );
    return (out.TargetHealthDescriptions ?? []).map((d) => {
      const health: TargetHealth = {
        id: d.Target?.Id ?? 'unknown',
        state: d.TargetHealth?.State ?? 'unknown',
      };
      if (d.Target?.Port !== undefined) health.port = d.Target.Port;
      if (d.TargetHealth?.Reason !== undefined) health.reason = d.TargetHealth.Reason;
      if (d.TargetHealth?.Description !== undefined)
        health.description = d.TargetHealth.Description;
      return health;
    });
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}
