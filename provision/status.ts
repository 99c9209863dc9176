import type { StackContext } from './context.js';
import { describeLoadBalancer, describeTargetHealth, type TargetHealth } from './load-balancer.js';
import { describeLogGroup } from './logs.js';
import { describeNetwork } from './network.js';
import { describeRepository } from './registry.js';
import { describeExecutionRole } from './roles.js';
import { describeSecret, readTokenSecret } from './secret.js';
import { describeCluster, describeService, type ServiceStatus } from './resources/ecs/index.js';
import { stackFlags } from './names.js';
import { loadBalancerUrl } from './commands/set-token.js';

export interface ResourcePresence {
  readonly resource: string;
  readonly name: string;
  readonly present: boolean;
  readonly detail?: string;
}

export interface StackStatus {
  readonly stack: string;
  readonly region: string;
  readonly resources: readonly ResourcePresence[];
  readonly url: string | undefined;
  readonly service: ServiceStatus | undefined;
  readonly targets: readonly TargetHealth[];
  readonly token:
    | {
        readonly lastChanged: string | undefined;
        readonly previousTokenAccepted: boolean;
        readonly previousTokenValidUntil: string | undefined;
      }
    | undefined;
}

/** Read-only: every call here is a Describe/Get/List. The token value is never part of the result. */
export async function collectStatus(ctx: StackContext): Promise<StackStatus> {
  const n = ctx.names;
  const [network, lb, repository, secret, logGroup, role, cluster, service] = await Promise.all([
    describeNetwork(ctx),
    describeLoadBalancer(ctx),
    describeRepository(ctx),
    describeSecret(ctx),
    describeLogGroup(ctx),
    describeExecutionRole(ctx),
    describeCluster(ctx),
    describeService(ctx),
  ]);
  const targets =
    lb.targetGroupArn === undefined ? [] : await describeTargetHealth(ctx, lb.targetGroupArn);
  let token: StackStatus['token'];
  if (secret !== undefined) {
    const content = await readTokenSecret(ctx).catch(() => undefined);
    const until = content?.previousTokenValidUntil
      ? new Date(content.previousTokenValidUntil)
      : undefined;
    token = {
      lastChanged: secret.lastChanged?.toISOString(),
      previousTokenAccepted:
        content?.previousToken !== '' && until !== undefined && until.getTime() > ctx.clock.now(),
      previousTokenValidUntil: until?.toISOString(),
    };
  }
  const resources: ResourcePresence[] = [
    {
      resource: 'VPC',
      name: n.vpc,
      present: network.vpcId !== undefined,
      ...(network.vpcId ? { detail: network.vpcId } : {}),
    },
    {
      resource: 'Subnets',
      name: `${n.publicSubnet(0)}, ${n.publicSubnet(1)}`,
      present: (network.subnetIds?.length ?? 0) >= 2,
      detail: (network.subnetIds ?? []).join(', '),
    },
    {
      resource: 'Internet gateway',
      name: n.internetGateway,
      present: network.internetGatewayId !== undefined,
    },
    {
      resource: 'Security groups',
      name: `${n.loadBalancerSecurityGroup}, ${n.taskSecurityGroup}`,
      present:
        network.loadBalancerSecurityGroupId !== undefined &&
        network.taskSecurityGroupId !== undefined,
    },
    {
      resource: 'Load balancer',
      name: n.loadBalancer,
      present: lb.loadBalancerArn !== undefined,
      ...(lb.state ? { detail: lb.state } : {}),
    },
    { resource: 'Target group', name: n.targetGroup, present: lb.targetGroupArn !== undefined },
    {
      resource: 'Listeners',
      name: lb.listeners.map((l) => `${l.protocol}:${l.port}`).join(', ') || '-',
      present: lb.listeners.length > 0,
    },
    { resource: 'ECR repository', name: n.repository, present: repository !== undefined },
    { resource: 'Secret', name: n.secret, present: secret !== undefined },
    {
      resource: 'Log group',
      name: n.logGroup,
      present: logGroup !== undefined,
      ...(logGroup?.retentionDays ? { detail: `${logGroup.retentionDays} days` } : {}),
    },
    { resource: 'Execution role', name: n.executionRole, present: role !== undefined },
    {
      resource: 'ECS cluster',
      name: n.cluster,
      // A deleted cluster stays visible as INACTIVE for a while.
      present: cluster !== undefined && cluster.status !== 'INACTIVE',
    },
    {
      resource: 'ECS service',
      name: n.service,
      present: service !== undefined,
      ...(service ? { detail: `${service.runningCount}/${service.desiredCount} running` } : {}),
    },
  ];
  return {
    stack: n.stack,
    region: ctx.region,
    resources,
    url: lb.dnsName === undefined ? undefined : loadBalancerUrl(lb),
    service,
    targets,
    token,
  };
}

/** "3 h ago"-style age of an instant, for people. */
export function formatAge(instant: string, nowMs: number): string {
  const seconds = Math.max(0, Math.round((nowMs - Date.parse(instant)) / 1000));
  if (seconds < 90) return `${seconds} s ago`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}

export function formatStatus(status: StackStatus, nowMs: number = Date.now()): string {
  const flags = stackFlags(status.stack, status.region);
  const lines: string[] = [`Stack "${status.stack}" in ${status.region}`, ''];
  const width = Math.max(...status.resources.map((r) => r.resource.length));
  for (const r of status.resources) {
    const mark = r.present ? 'present' : 'MISSING';
    lines.push(
      `  ${r.resource.padEnd(width)}  ${mark.padEnd(8)} ${r.name}${r.detail ? `  (${r.detail})` : ''}`,
    );
  }
  lines.push('');
  const missing = status.resources.filter((r) => !r.present).length;
  if (missing === status.resources.length) {
    lines.push(`Nothing is deployed. Run "iclinic-deploy up${flags}" to create the stack.`);
    return lines.join('\n');
  }
  if (missing > 0)
    lines.push(`${missing} resource(s) missing: "iclinic-deploy up${flags}" creates them again.`);
  if (status.url) lines.push(`URL:      ${status.url}/`);
  if (status.service) {
    lines.push(
      `Tasks:    ${status.service.runningCount} running / ${status.service.desiredCount} desired (${status.service.pendingCount} pending)`,
    );
    if (status.service.image) lines.push(`Image:    ${status.service.image}`);
    for (const d of status.service.deployments)
      lines.push(`Deploy:   ${d.id} ${d.status} ${d.rolloutState ?? ''}`.trimEnd());
  }
  if (status.targets.length > 0) {
    lines.push(
      `Targets:  ${status.targets.map((t) => `${t.id}:${t.port ?? ''} ${t.state}${t.reason ? ` (${t.reason})` : ''}`).join(', ')}`,
    );
  } else if (status.url) {
    lines.push('Targets:  none registered yet');
  }
  if (status.token) {
    lines.push(
      status.token.lastChanged === undefined
        ? 'Token:    last changed: unknown'
        : `Token:    last changed ${formatAge(status.token.lastChanged, nowMs)} (${status.token.lastChanged})`,
    );
    lines.push(
      status.token.previousTokenAccepted
        ? `          the previous token is still accepted until ${status.token.previousTokenValidUntil ?? '?'}`
        : '          no previous token is accepted',
    );
  }
  return lines.join('\n');
}
