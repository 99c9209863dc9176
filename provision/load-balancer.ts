/**
 * The internet-facing Application Load Balancer, its target group (type ip,
 * as Fargate tasks register by IP) and its listeners. Settings that AWS
 * ships with slow defaults (30 s health checks, 300 s deregistration delay)
 * are set explicitly so rollouts and `down` do not crawl.
 */
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteListenerCommand,
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ListenerNotFoundException,
  LoadBalancerNotFoundException,
  ModifyListenerCommand,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  SetSecurityGroupsCommand,
  SetSubnetsCommand,
  TargetGroupNotFoundException,
  type Action,
  type Listener,
  type LoadBalancer as AwsLoadBalancer,
  type ProtocolEnum,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  combineOutcomes,
  type Ensured,
  type Outcome,
  type Removed,
  type StackContext,
} from './context.js';
import { stackTags } from './names.js';
import type { Network } from './resources/network/index.js';
import { errorMessage, hasErrorCode, pollUntil, retry } from './retry.js';

export interface LoadBalancerSettings {
  containerPort: number;
  healthCheckPath: string;
  certificateArn?: string;
}

export interface LoadBalancer {
  loadBalancerArn: string;
  dnsName: string;
  /** Base URL without a trailing slash. */
  url: string;
  targetGroupArn: string;
  listenerArns: string[];
}

export interface LoadBalancerStatus {
  loadBalancerArn?: string;
  dnsName?: string;
  /** provisioning | active | active_impaired | failed */
  state?: string;
  targetGroupArn?: string;
  listeners: { port: number; protocol: string; arn: string }[];
}

export interface TargetHealth {
  id: string;
  port?: number;
  /** initial | healthy | unhealthy | unused | draining | unavailable */
  state: string;
  reason?: string;
  description?: string;
}

/** What the target group's health check and attributes must be. */
export const HEALTH_CHECK = {
  intervalSeconds: 10,
  timeoutSeconds: 5,
  healthyThreshold: 2,
  unhealthyThreshold: 3,
  matcher: '200',
} as const;
export const DEREGISTRATION_DELAY_SECONDS = 15;
const DEREGISTRATION_DELAY_KEY = 'deregistration_delay.timeout_seconds';

export class LoadBalancerNotPermittedError extends Error {
  constructor(region: string, awsMessage: string) {
    super(
      `AWS refused to create the load balancer in ${region}: "${awsMessage}". ` +
        `Some new AWS accounts are not yet allowed to create load balancers, and only AWS can lift this: ` +
        `open a case in AWS Support (Service limit increase / Account and billing) asking to enable ` +
        `Elastic Load Balancing for the account, then run "iclinic-deploy up" again. Retrying will not help.`,
    );
    this.name = 'LoadBalancerNotPermittedError';
  }
}

export class LoadBalancerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoadBalancerError';
  }
}

/** Lines for --dry-run: what ensureLoadBalancer would create. */
export function planLoadBalancer(
  ctx: Pick<StackContext, 'names'>,
  settings: LoadBalancerSettings,
): string[] {
  const { names } = ctx;
  return [
    `internet-facing application load balancer ${names.loadBalancer} in both public subnets`,
    `target group ${names.targetGroup} (ip, HTTP ${settings.containerPort}, health check ${settings.healthCheckPath} ` +
      `every ${HEALTH_CHECK.intervalSeconds} s, healthy after ${HEALTH_CHECK.healthyThreshold}, ` +
      `deregistration delay ${DEREGISTRATION_DELAY_SECONDS} s)`,
    ...(settings.certificateArn === undefined
      ? [`listener HTTP 80 -> ${names.targetGroup}`]
      : [
          `listener HTTPS 443 (certificate ${settings.certificateArn}) -> ${names.targetGroup}`,
          'listener HTTP 80 -> redirect to HTTPS (301)',
        ]),
  ];
}

// ---------------------------------------------------------------------------
// Lookups

function isLoadBalancerNotFound(error: unknown): boolean {
  return (
    error instanceof LoadBalancerNotFoundException ||
    hasErrorCode(error, 'LoadBalancerNotFound', 'LoadBalancerNotFoundException')
  );
}

function isTargetGroupNotFound(error: unknown): boolean {
  return (
    error instanceof TargetGroupNotFoundException ||
    hasErrorCode(error, 'TargetGroupNotFound', 'TargetGroupNotFoundException')
  );
}

function isListenerNotFound(error: unknown): boolean {
  return (
    error instanceof ListenerNotFoundException ||
    hasErrorCode(error, 'ListenerNotFound', 'ListenerNotFoundException')
  );
}

/** Every load balancer with our name (AWS allows one; moto may hold duplicates). */
async function findLoadBalancers(ctx: StackContext): Promise<AwsLoadBalancer[]> {
  try {
    const out = await ctx.clients.elbv2.send(
      new DescribeLoadBalancersCommand({ Names: [ctx.names.loadBalancer] }),
    );
    return (out.LoadBalancers ?? []).filter((lb) => lb.LoadBalancerArn !== undefined);
  } catch (error) {
    if (isLoadBalancerNotFound(error)) return [];
    throw error;
  }
}

async function findTargetGroup(ctx: StackContext): Promise<TargetGroup | undefined> {
  try {
    const out = await ctx.clients.elbv2.send(
      new DescribeTargetGroupsCommand({ Names: [ctx.names.targetGroup] }),
    );
    return out.TargetGroups?.[0];
  } catch (error) {
    if (isTargetGroupNotFound(error)) return undefined;
    throw error;
  }
}

async function findListeners(ctx: StackContext, loadBalancerArn: string): Promise<Listener[]> {
  try {
    const out = await ctx.clients.elbv2.send(
      new DescribeListenersCommand({ LoadBalancerArn: loadBalancerArn }),
    );
    return out.Listeners ?? [];
  } catch (error) {
    if (isLoadBalancerNotFound(error)) return [];
    throw error;
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((x) => right.has(x));
}

// ---------------------------------------------------------------------------
// Ensure

export async function ensureLoadBalancer(
  ctx: StackContext,
  network: Network,
  settings: LoadBalancerSettings,
): Promise<Ensured<LoadBalancer>> {
  validateSettings(settings);
  const changes: string[] = [];
  const outcomes: Outcome[] = [];
  const note = (outcome: Outcome, line: string) => {
    outcomes.push(outcome);
    changes.push(line);
  };

  // The load balancer first: an account that may not create one should find
  // out before anything slower happens.
  const lb = await ensureAlb(ctx, network, note);
  const targetGroupArn = await ensureTargetGroup(ctx, network, settings, note);
  const listenerArns = await ensureListeners(ctx, lb.arn, targetGroupArn, settings, note);
  const scheme = settings.certificateArn === undefined ? 'http' : 'https';
  return {
    outcome: combineOutcomes(outcomes),
    changes,
    value: {
      loadBalancerArn: lb.arn,
      dnsName: lb.dnsName,
      url: `${scheme}://${lb.dnsName}`,
      targetGroupArn,
      listenerArns,
    },
  };
}

function validateSettings(settings: LoadBalancerSettings): void {
  const port = settings.containerPort;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new LoadBalancerError(
      `Invalid container port ${port}: use an integer from 1 to 65535 (the port the service listens on).`,
    );
  }
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

type Note = (outcome: Outcome, line: string) => void;

async function ensureAlb(
  ctx: StackContext,
  network: Network,
  note: Note,
): Promise<{ arn: string; dnsName: string }> {
  const elbv2 = ctx.clients.elbv2;
  const found = await findLoadBalancers(ctx);
  if (found.length > 1) {
    ctx.report.warn(
      `Found ${found.length} load balancers named ${ctx.names.loadBalancer}; using the first.`,
    );
  }
  const existing = found[0];
  if (existing === undefined) {
    let created: AwsLoadBalancer | undefined;
    try {
      const out = await elbv2.send(
        new CreateLoadBalancerCommand({
          Name: ctx.names.loadBalancer,
          Type: 'application',
          Scheme: 'internet-facing',
          IpAddressType: 'ipv4',
          Subnets: network.subnetIds,
          SecurityGroups: [network.loadBalancerSecurityGroupId],
          Tags: stackTags(ctx.names.stack, ctx.names.loadBalancer),
        }),
      );
      created = out.LoadBalancers?.[0];
    } catch (error) {
      if (hasErrorCode(error, 'OperationNotPermitted', 'OperationNotPermittedException')) {
        throw new LoadBalancerNotPermittedError(ctx.region, errorMessage(error));
      }
      throw error;
    }
    if (created?.LoadBalancerArn === undefined || created.DNSName === undefined) {
      throw new LoadBalancerError('CreateLoadBalancer returned no load balancer ARN or DNS name.');
    }
    note('created', `created load balancer ${ctx.names.loadBalancer} (${created.DNSName})`);
    return { arn: created.LoadBalancerArn, dnsName: created.DNSName };
  }

  const arn = existing.LoadBalancerArn as string;
  if (existing.Scheme !== undefined && existing.Scheme !== 'internet-facing') {
    throw new LoadBalancerError(
      `Load balancer ${ctx.names.loadBalancer} exists with scheme "${existing.Scheme}", but the stack needs ` +
        `"internet-facing", which cannot be changed in place. Delete it (iclinic-deploy down) and run up again.`,
    );
  }
  if (existing.VpcId !== undefined && existing.VpcId !== network.vpcId) {
    throw new LoadBalancerError(
      `Load balancer ${ctx.names.loadBalancer} is in VPC ${existing.VpcId}, not in the stack's VPC ${network.vpcId}. ` +
        `Run "iclinic-deploy down" to remove the old one, then "up" again.`,
    );
  }
  const subnets = (existing.AvailabilityZones ?? [])
    .map((z) => z.SubnetId)
    .filter((s): s is string => s !== undefined);
  if (!sameSet(subnets, network.subnetIds)) {
    await elbv2.send(new SetSubnetsCommand({ LoadBalancerArn: arn, Subnets: network.subnetIds }));
    note('updated', `moved load balancer to subnets ${network.subnetIds.join(', ')}`);
  }
  if (!sameSet(existing.SecurityGroups ?? [], [network.loadBalancerSecurityGroupId])) {
    await elbv2.send(
      new SetSecurityGroupsCommand({
        LoadBalancerArn: arn,
        SecurityGroups: [network.loadBalancerSecurityGroupId],
      }),
    );
    note('updated', `set load balancer security group to ${network.loadBalancerSecurityGroupId}`);
  }
  return { arn, dnsName: existing.DNSName ?? '' };
}

async function ensureTargetGroup(
  ctx: StackContext,
  network: Network,
  settings: LoadBalancerSettings,
  note: Note,
): Promise<string> {
  const elbv2 = ctx.clients.elbv2;
  const healthCheck = {
    HealthCheckProtocol: 'HTTP' as ProtocolEnum,
    HealthCheckPort: 'traffic-port',
    HealthCheckPath: settings.healthCheckPath,
    HealthCheckIntervalSeconds: HEALTH_CHECK.intervalSeconds,
    HealthCheckTimeoutSeconds: HEALTH_CHECK.timeoutSeconds,
    HealthyThresholdCount: HEALTH_CHECK.healthyThreshold,
    UnhealthyThresholdCount: HEALTH_CHECK.unhealthyThreshold,
    Matcher: { HttpCode: HEALTH_CHECK.matcher },
  };
  const existing = await findTargetGroup(ctx);
  let arn = existing?.TargetGroupArn;
  if (existing === undefined || arn === undefined) {
    const out = await elbv2.send(
      new CreateTargetGroupCommand({
        Name: ctx.names.targetGroup,
        TargetType: 'ip',
        Protocol: 'HTTP',
        Port: settings.containerPort,
        VpcId: network.vpcId,
        HealthCheckEnabled: true,
        ...healthCheck,
        Tags: stackTags(ctx.names.stack, ctx.names.targetGroup),
      }),
    );
    arn = out.TargetGroups?.[0]?.TargetGroupArn;
    if (arn === undefined) throw new LoadBalancerError('CreateTargetGroup returned no ARN.');
    note('created', `created target group ${ctx.names.targetGroup}`);
  } else {
    // Port, protocol, type and VPC are fixed at creation.
    const fixed: string[] = [];
    if (existing.VpcId !== network.vpcId)
      fixed.push(`VPC ${existing.VpcId} (want ${network.vpcId})`);
    if (existing.Port !== settings.containerPort)
      fixed.push(`port ${existing.Port} (want ${settings.containerPort})`);
    if (existing.Protocol !== 'HTTP') fixed.push(`protocol ${existing.Protocol} (want HTTP)`);
    if (existing.TargetType !== 'ip') fixed.push(`target type ${existing.TargetType} (want ip)`);
    if (fixed.length > 0) {
      throw new LoadBalancerError(
        `Target group ${ctx.names.targetGroup} exists with ${fixed.join(', ')}; these cannot be changed in place. ` +
          `Run "iclinic-deploy down" and then "up" again to recreate it.`,
      );
    }
    const drift: string[] = [];
    const compare = (label: string, have: unknown, want: unknown) => {
      if (have !== want) drift.push(`${label} ${String(have)} -> ${String(want)}`);
    };
    compare('health check protocol', existing.HealthCheckProtocol, healthCheck.HealthCheckProtocol);
    compare('health check port', existing.HealthCheckPort, healthCheck.HealthCheckPort);
    compare('health check path', existing.HealthCheckPath, healthCheck.HealthCheckPath);
    compare(
      'interval',
      existing.HealthCheckIntervalSeconds,
      healthCheck.HealthCheckIntervalSeconds,
    );
    compare('timeout', existing.HealthCheckTimeoutSeconds, healthCheck.HealthCheckTimeoutSeconds);
    compare('healthy threshold', existing.HealthyThresholdCount, healthCheck.HealthyThresholdCount);
    compare(
      'unhealthy threshold',
      existing.UnhealthyThresholdCount,
      healthCheck.UnhealthyThresholdCount,
    );
    compare('matcher', existing.Matcher?.HttpCode, healthCheck.Matcher.HttpCode);
    if (existing.HealthCheckEnabled === false) drift.push('health check enabled false -> true');
    if (drift.length > 0) {
      await elbv2.send(
        new ModifyTargetGroupCommand({
          TargetGroupArn: arn,
          HealthCheckEnabled: true,
          ...healthCheck,
        }),
      );
      note('updated', `restored target group health check (${drift.join('; ')})`);
    }
  }

  const targetGroupArn = arn;
  const attributes = await elbv2.send(
    new DescribeTargetGroupAttributesCommand({ TargetGroupArn: targetGroupArn }),
  );
  const delay = attributes.Attributes?.find((a) => a.Key === DEREGISTRATION_DELAY_KEY)?.Value;
  if (delay !== String(DEREGISTRATION_DELAY_SECONDS)) {
    await elbv2.send(
      new ModifyTargetGroupAttributesCommand({
        TargetGroupArn: targetGroupArn,
        Attributes: [
          { Key: DEREGISTRATION_DELAY_KEY, Value: String(DEREGISTRATION_DELAY_SECONDS) },
        ],
      }),
    );
    // A brand-new group always lands here; say so only when it is drift.
    if (existing !== undefined) {
      note(
        'updated',
        `set deregistration delay ${delay ?? 'unset'} -> ${DEREGISTRATION_DELAY_SECONDS} s`,
      );
    }
  }
  return targetGroupArn;
}

interface DesiredListener {
  port: number;
  protocol: ProtocolEnum;
  certificateArn?: string;
  action: Action;
  label: string;
}

function desiredListeners(
  targetGroupArn: string,
  settings: LoadBalancerSettings,
): DesiredListener[] {
  const forward: Action = { Type: 'forward', TargetGroupArn: targetGroupArn };
  if (settings.certificateArn === undefined) {
    return [{ port: 80, protocol: 'HTTP', action: forward, label: 'HTTP 80 -> target group' }];
  }
  return [
    {
      port: 443,
      protocol: 'HTTPS',
      certificateArn: settings.certificateArn,
      action: forward,
      label: 'HTTPS 443 -> target group',
    },
    {
      port: 80,
      protocol: 'HTTP',
      action: {
        Type: 'redirect',
        RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' },
      },
      label: 'HTTP 80 -> redirect to HTTPS',
    },
  ];
}

function actionMatches(have: Action[] | undefined, want: Action): boolean {
  if (have === undefined || have.length !== 1) return false;
  const action = have[0];
  if (action === undefined || action.Type !== want.Type) return false;
  if (want.Type === 'forward') {
    if (action.TargetGroupArn !== undefined) return action.TargetGroupArn === want.TargetGroupArn;
    const groups = action.ForwardConfig?.TargetGroups ?? [];
    return groups.length === 1 && groups[0]?.TargetGroupArn === want.TargetGroupArn;
  }
  const r = action.RedirectConfig;
  const w = want.RedirectConfig;
  return (
    r !== undefined &&
    w !== undefined &&
    r.Protocol === w.Protocol &&
    r.Port === w.Port &&
    r.StatusCode === w.StatusCode &&
    (r.Host ?? '#{host}') === '#{host}' &&
    (r.Path ?? '/#{path}') === '/#{path}' &&
    (r.Query ?? '#{query}') === '#{query}'
  );
}

async function ensureListeners(
  ctx: StackContext,
  loadBalancerArn: string,
  targetGroupArn: string,
  settings: LoadBalancerSettings,
  note: Note,
): Promise<string[]> {
  const elbv2 = ctx.clients.elbv2;
  const existing = await findListeners(ctx, loadBalancerArn);
  const wanted = desiredListeners(targetGroupArn, settings);
  const arns: string[] = [];

  // A listener on a port we no longer serve (443 after dropping the
  // certificate) would keep sending traffic somewhere unintended.
  for (const listener of existing) {
    if (wanted.some((w) => w.port === listener.Port) || listener.ListenerArn === undefined)
      continue;
    await elbv2.send(new DeleteListenerCommand({ ListenerArn: listener.ListenerArn }));
    note('updated', `deleted listener on port ${listener.Port} that the stack no longer uses`);
  }

  for (const want of wanted) {
    const certificates =
      want.certificateArn === undefined ? undefined : [{ CertificateArn: want.certificateArn }];
    const have = existing.find((l) => l.Port === want.port);
    if (have?.ListenerArn === undefined) {
      const out = await elbv2.send(
        new CreateListenerCommand({
          LoadBalancerArn: loadBalancerArn,
          Port: want.port,
          Protocol: want.protocol,
          ...(certificates === undefined ? {} : { Certificates: certificates }),
          DefaultActions: [want.action],
          Tags: stackTags(ctx.names.stack),
        }),
      );
      const arn = out.Listeners?.[0]?.ListenerArn;
      if (arn === undefined) throw new LoadBalancerError('CreateListener returned no ARN.');
      note('created', `created listener ${want.label}`);
      arns.push(arn);
      continue;
    }
    const drift: string[] = [];
    if (have.Protocol !== want.protocol)
      drift.push(`protocol ${have.Protocol} -> ${want.protocol}`);
    if (!actionMatches(have.DefaultActions, want.action)) drift.push('default action');
    if (
      want.certificateArn !== undefined &&
      !(have.Certificates ?? []).some((c) => c.CertificateArn === want.certificateArn)
    ) {
      drift.push('certificate');
    }
    if (drift.length > 0) {
      await elbv2.send(
        new ModifyListenerCommand({
          ListenerArn: have.ListenerArn,
          Port: want.port,
          Protocol: want.protocol,
          ...(certificates === undefined ? {} : { Certificates: certificates }),
          DefaultActions: [want.action],
        }),
      );
      note('updated', `restored listener ${want.label} (${drift.join(', ')})`);
    }
    arns.push(have.ListenerArn);
  }
  return arns;
}

// ---------------------------------------------------------------------------
// Wait and describe

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
            `Run "iclinic-deploy down" and "up" again; if it fails again, check the ELB quotas of the account.`,
        );
      }
      // active_impaired still routes traffic; it only means a zone is degraded.
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

export async function describeLoadBalancer(ctx: StackContext): Promise<LoadBalancerStatus> {
  const [lb, tg] = await Promise.all([findLoadBalancers(ctx), findTargetGroup(ctx)]);
  const status: LoadBalancerStatus = { listeners: [] };
  const first = lb[0];
  if (tg?.TargetGroupArn !== undefined) status.targetGroupArn = tg.TargetGroupArn;
  if (first?.LoadBalancerArn === undefined) return status;
  status.loadBalancerArn = first.LoadBalancerArn;
  if (first.DNSName !== undefined) status.dnsName = first.DNSName;
  if (first.State?.Code !== undefined) status.state = first.State.Code;
  for (const l of await findListeners(ctx, first.LoadBalancerArn)) {
    if (l.ListenerArn === undefined) continue;
    status.listeners.push({
      port: l.Port ?? 0,
      protocol: l.Protocol ?? 'unknown',
      arn: l.ListenerArn,
    });
  }
  return status;
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
    if (isTargetGroupNotFound(error)) return [];
    throw error;
  }
}

// ---------------------------------------------------------------------------
// Remove

export async function removeLoadBalancer(
  ctx: StackContext,
  options: { timeoutMs?: number } = {},
): Promise<Removed> {
  const elbv2 = ctx.clients.elbv2;
  const timeoutMs = options.timeoutMs ?? 10 * 60_000;
  const removed: string[] = [];
  const found = await findLoadBalancers(ctx);
  for (const lb of found) {
    const arn = lb.LoadBalancerArn as string;
    for (const listener of await findListeners(ctx, arn)) {
      if (listener.ListenerArn === undefined) continue;
      try {
        await elbv2.send(new DeleteListenerCommand({ ListenerArn: listener.ListenerArn }));
        removed.push(
          `listener ${listener.Protocol ?? ''} ${listener.Port ?? ''} (${listener.ListenerArn})`,
        );
      } catch (error) {
        if (!isListenerNotFound(error)) throw error;
      }
    }
    try {
      await elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: arn }));
      removed.push(`load balancer ${lb.LoadBalancerName ?? ctx.names.loadBalancer} (${arn})`);
    } catch (error) {
      if (!isLoadBalancerNotFound(error)) throw error;
    }
  }
  if (found.length === 0) return { removed };

  // DeleteLoadBalancer returns at once; the security groups and subnets are
  // only free once AWS stops listing it.
  const arns = new Set(found.map((lb) => lb.LoadBalancerArn));
  await pollUntil(
    ctx.clock,
    {
      what: `waiting for load balancer ${ctx.names.loadBalancer} to be deleted`,
      timeoutMs,
      intervalMs: 5_000,
    },
    async () => {
      const left = (await findLoadBalancers(ctx)).filter((lb) => arns.has(lb.LoadBalancerArn));
      if (left.length > 0) {
        ctx.report.progress(
          `waiting for AWS to finish deleting load balancer ${ctx.names.loadBalancer}`,
        );
      }
      return {
        done: left.length === 0,
        state: left.map((lb) => lb.State?.Code ?? 'listed').join(', '),
      };
    },
  );
  return { removed };
}

export async function removeTargetGroup(
  ctx: StackContext,
  options: { timeoutMs?: number } = {},
): Promise<Removed> {
  const tg = await findTargetGroup(ctx);
  const arn = tg?.TargetGroupArn;
  if (arn === undefined) return { removed: [] };
  try {
    // Refused with ResourceInUse while a listener or a draining service still
    // uses it; both go away on their own shortly after removal started.
    await retry(
      ctx.clock,
      {
        what: `deleting target group ${ctx.names.targetGroup}`,
        isRetryable: (error) => hasErrorCode(error, 'ResourceInUse', 'ResourceInUseException'),
        timeoutMs: options.timeoutMs ?? 5 * 60_000,
        initialDelayMs: 5_000,
        onRetry: () =>
          ctx.report.progress(
            `waiting for target group ${ctx.names.targetGroup} to be released by its load balancer`,
          ),
      },
      () => ctx.clients.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn })),
    );
  } catch (error) {
    if (isTargetGroupNotFound(error)) return { removed: [] };
    throw error;
  }
  return { removed: [`target group ${ctx.names.targetGroup} (${arn})`] };
}
