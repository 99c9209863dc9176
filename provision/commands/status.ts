import { serviceUrlOf } from './service-url.js';
import type { StackContext } from '../context.js';
import { describeDistribution } from '../resources/cloudfront/index.js';
import {
  describeLoadBalancer,
  describeTargetHealth,
  type TargetHealth,
} from '../resources/load-balancer/index.js';
import { describeLogGroup } from '../resources/logs/index.js';
import { describeNetwork } from '../resources/network/index.js';
import { describeRepository } from '../resources/registry.js';
import { describeExecutionRole } from '../resources/roles/index.js';
import { describeSecret, readTokenSecret } from '../resources/secret.js';
import { describeCluster, describeService, type ServiceStatus } from '../resources/ecs/index.js';
import { describeAlarms } from '../resources/alarms/index.js';
import { describeAutoscaling } from '../resources/autoscaling.js';
import { describeDomain, type DomainStatus } from '../resources/domain/index.js';
import { describeCi, type CiStatus } from './ci-github.js';
import { listRevisions } from './rollback.js';

/** How many task definition revisions `status` lists (rollback --to takes any of them). */
export const REVISIONS_SHOWN = 5;

export interface ScalingStatus {
  readonly minTasks: number;
  readonly maxTasks: number;
  readonly policies: readonly { name: string; metric: string; targetValue: number | undefined }[];
}

export interface AlarmStatus {
  readonly name: string;
  /** OK, ALARM or INSUFFICIENT_DATA (no traffic yet). */
  readonly state: string;
}

export interface OperateStatus {
  /** undefined when no scalable target is registered. */
  readonly scaling?: ScalingStatus | undefined;
  readonly alarms?: readonly AlarmStatus[];
  readonly alarmEmails?: readonly { address: string; pendingConfirmation: boolean }[];
  readonly revisions?: readonly {
    revision: number;
    image: string | undefined;
    registeredAt: string | undefined;
    running: boolean;
  }[];
}

export interface ResourcePresence {
  readonly resource: string;
  readonly name: string;
  readonly present: boolean;
  readonly detail?: string;
}

export interface StackStatus extends OperateStatus {
  readonly stack: string;
  /** The GitHub Actions wiring (ci github): provider, deploy role and what it trusts. */
  readonly ci?: CiStatus;
  readonly region: string;
  readonly resources: readonly ResourcePresence[];
  readonly url: string | undefined;
  /** The CloudFront distribution in front of the load balancer, when there is one. */
  readonly distribution?: {
    readonly id: string;
    readonly domainName: string;
    readonly status: string;
  };
  /** up --domain: the name, its certificate and its records. */
  readonly domain?: DomainStatus;
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
type Found = {
  readonly network: Awaited<ReturnType<typeof describeNetwork>>;
  readonly lb: Awaited<ReturnType<typeof describeLoadBalancer>>;
  readonly repository: Awaited<ReturnType<typeof describeRepository>>;
  readonly secret: Awaited<ReturnType<typeof describeSecret>>;
  readonly logGroup: Awaited<ReturnType<typeof describeLogGroup>>;
  readonly role: Awaited<ReturnType<typeof describeExecutionRole>>;
  readonly cluster: Awaited<ReturnType<typeof describeCluster>>;
  readonly service: Awaited<ReturnType<typeof describeService>>;
  readonly distribution: Awaited<ReturnType<typeof describeDistribution>>;
};

/** Read-only: what the token secret says about the current and the previous token. */
async function tokenStatus(
  ctx: StackContext,
  secret: Found['secret'],
): Promise<StackStatus['token']> {
  if (secret === undefined) return undefined;
  const content = await readTokenSecret(ctx).catch(() => undefined);
  const until = content?.previousTokenValidUntil
    ? new Date(content.previousTokenValidUntil)
    : undefined;
  return {
    lastChanged: secret.lastChanged?.toISOString(),
    previousTokenAccepted:
      content?.previousToken !== '' && until !== undefined && until.getTime() > ctx.clock.now(),
    previousTokenValidUntil: until?.toISOString(),
  };
}

/** The network, CloudFront and load balancer rows. */
function edgeRows(n: StackContext['names'], found: Found): ResourcePresence[] {
  const { network, lb, distribution } = found;
  return [
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
    // Only with CloudFront in front (not with --plain-http or --certificate-arn).
    ...(distribution === undefined
      ? []
      : [
          {
            resource: 'CloudFront distribution',
            name: distribution.id,
            present: true,
            detail: `${distribution.domainName}, ${distribution.status}`,
          },
        ]),
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
  ];
}

/** The image, secret, logs, role and ECS rows. */
function serviceRows(n: StackContext['names'], found: Found): ResourcePresence[] {
  const { repository, secret, logGroup, role, cluster, service } = found;
  return [
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
}

export async function collectStatus(ctx: StackContext): Promise<StackStatus> {
  const [network, lb, repository, secret, logGroup, role, cluster, service, distribution, ci] =
    await Promise.all([
      describeNetwork(ctx),
      describeLoadBalancer(ctx),
      describeRepository(ctx),
      describeSecret(ctx),
      describeLogGroup(ctx),
      describeExecutionRole(ctx),
      describeCluster(ctx),
      describeService(ctx),
      describeDistribution(ctx),
      describeCi(ctx),
    ]);
  const found: Found = {
    network,
    lb,
    repository,
    secret,
    logGroup,
    role,
    cluster,
    service,
    distribution,
  };
  const targets =
    lb.targetGroupArn === undefined ? [] : await describeTargetHealth(ctx, lb.targetGroupArn);
  const viewer = distribution?.config.ViewerCertificate;
  const domain = await describeDomain(
    ctx,
    distribution === undefined
      ? undefined
      : {
          domainName: distribution.domainName,
          aliases: distribution.config.Aliases?.Items ?? [],
          ...(viewer?.ACMCertificateArn ? { certificateArn: viewer.ACMCertificateArn } : {}),
        },
  );
  return {
    ...(await collectOperateStatus(ctx)),
    stack: ctx.names.stack,
    region: ctx.region,
    resources: [...edgeRows(ctx.names, found), ...serviceRows(ctx.names, found)],
    url: serviceUrlOf(lb, distribution),
    ...(distribution === undefined
      ? {}
      : {
          distribution: {
            id: distribution.id,
            domainName: distribution.domainName,
            status: distribution.status,
          },
        }),
    ...(domain === undefined ? {} : { domain }),
    service,
    targets,
    token: await tokenStatus(ctx, secret),
    ci,
  };
}

/** Read-only: the scaler, the alarms and the recent revisions. */
export async function collectOperateStatus(ctx: StackContext): Promise<OperateStatus> {
  const [autoscaling, alarms, revisions] = await Promise.all([
    describeAutoscaling(ctx),
    describeAlarms(ctx),
    listRevisions(ctx, REVISIONS_SHOWN),
  ]);
  const target = autoscaling.target;
  return {
    scaling:
      target === undefined
        ? undefined
        : {
            minTasks: target.minTasks,
            maxTasks: target.maxTasks,
            policies: autoscaling.policies.map((p) => ({
              name: p.name,
              metric: p.metric ?? 'unknown',
              targetValue: p.targetValue,
            })),
          },
    alarms: alarms.alarms.map((a) => ({
      name: a.AlarmName ?? '',
      state: a.StateValue ?? 'UNKNOWN',
    })),
    alarmEmails: alarms.emails,
    revisions: revisions.map((r) => ({
      revision: r.revision,
      image: r.image,
      registeredAt: r.registeredAt?.toISOString(),
      running: r.running,
    })),
  };
}
