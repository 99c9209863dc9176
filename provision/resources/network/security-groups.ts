/**
 * The two security groups: the load balancer's (web ports from anywhere, or
 * port 80 from CloudFront's origin-facing prefix list only when CloudFront is
 * in front) and the tasks' (container port from the load balancer group only). Rule
 * planning is pure: planSecurityGroup compares what the group has with what
 * it should have and names each rule to add or revoke.
 */
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  RevokeSecurityGroupIngressCommand,
  type IpPermission,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import type { Converged, StackContext } from '../../context.js';
import type { StackNames } from '../../names.js';
import { ChangeSet, isNotCreatedYet, NOT_CREATED_YET } from '../../plan.js';
import {
  CLOUDFRONT_PREFIX_LIST_NAME,
  CLOUDFRONT_RULE_DESCRIPTION,
  findCloudFrontPrefixList,
} from '../cloudfront/prefix-list.js';
import { findSecurityGroups } from './describe.js';
import {
  ANYWHERE,
  changesOf,
  NetworkError,
  onceVisible,
  tagSpec,
  type NetworkSettings,
  type Planned,
} from './shared.js';

/** Where traffic may come from; `label` is how a change names it (a group's name, not its id). */
export type Source =
  | { kind: 'cidr'; value: string; label?: string }
  | { kind: 'group'; value: string; label?: string }
  | { kind: 'prefix'; value: string; label?: string };

export interface IngressRule {
  port: number;
  source: Source;
}

export interface DesiredGroup {
  name: string;
  /** Fixed at creation, so it must not mention settings that can change later. */
  description: string;
  ingress: IngressRule[];
}

/**
 * Rules are compared as flat (protocol, ports, one source) entries because
 * AWS groups and splits IpPermissions differently from how they were authorized.
 */
export interface FlatRule {
  key: string;
  permission: IpPermission;
  description: string;
}

export type GroupAction =
  | { type: 'create' }
  | { type: 'revoke'; rule: FlatRule }
  | { type: 'authorize'; rule: FlatRule }
  | { type: 'restoreEgress' };

const ALLOW_ALL_EGRESS: IpPermission = { IpProtocol: '-1', IpRanges: [{ CidrIp: ANYWHERE }] };

/**
 * The load balancer group's inbound rules. Behind CloudFront: one rule, port
 * 80 from the origin-facing prefix list, and nothing else. That rule weighs
 * 55 of the group's 60 default inbound rules (cloudfront-prefix-list.ts), so
 * no 443 rule and no 0.0.0.0/0 rule stays beside it; AWS's recipe:
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/LocationsOfEdgeServers.html#managed-prefix-list
 */
function loadBalancerIngress(
  settings: NetworkSettings,
  prefixListId: string | undefined,
): IngressRule[] {
  if (settings.cloudFront === true && prefixListId !== undefined) {
    return [
      {
        port: 80,
        source: { kind: 'prefix', value: prefixListId, label: CLOUDFRONT_PREFIX_LIST_NAME },
      },
    ];
  }
  return (settings.https ? [80, 443] : [80]).map((port) => ({
    port,
    source: { kind: 'cidr', value: ANYWHERE },
  }));
}

export function desiredGroups(
  names: StackNames,
  settings: NetworkSettings,
  loadBalancerGroupId: string,
  prefixListId?: string,
): { loadBalancer: DesiredGroup; tasks: DesiredGroup } {
  return {
    loadBalancer: {
      name: names.loadBalancerSecurityGroup,
      // Not "from anywhere": behind CloudFront the group admits CloudFront only.
      description: `Load balancer of ${names.stack}`,
      ingress: loadBalancerIngress(settings, prefixListId),
    },
    tasks: {
      name: names.taskSecurityGroup,
      description: `Tasks of ${names.stack}: container port from the load balancer only`,
      ingress: [
        {
          port: settings.containerPort,
          source: {
            kind: 'group',
            value: loadBalancerGroupId,
            label: names.loadBalancerSecurityGroup,
          },
        },
      ],
    },
  };
}

export function ruleFromDesired(rule: IngressRule): FlatRule {
  const base = { IpProtocol: 'tcp', FromPort: rule.port, ToPort: rule.port };
  const sources: Record<Source['kind'], IpPermission> = {
    cidr: { IpRanges: [{ CidrIp: rule.source.value }] },
    group: { UserIdGroupPairs: [{ GroupId: rule.source.value }] },
    prefix: {
      PrefixListIds: [
        { PrefixListId: rule.source.value, Description: CLOUDFRONT_RULE_DESCRIPTION },
      ],
    },
  };
  const permission: IpPermission = { ...base, ...sources[rule.source.kind] };
  return {
    key: `tcp:${rule.port}-${rule.port}:${rule.source.kind}:${rule.source.value}`,
    permission,
    description: `ingress tcp ${rule.port} from ${rule.source.label ?? rule.source.value}`,
  };
}

export function flattenPermissions(permissions: readonly IpPermission[] | undefined): FlatRule[] {
  const rules: FlatRule[] = [];
  for (const p of permissions ?? []) {
    const base = { IpProtocol: p.IpProtocol, FromPort: p.FromPort, ToPort: p.ToPort };
    const head = `${p.IpProtocol ?? '?'}:${p.FromPort ?? ''}-${p.ToPort ?? ''}`;
    const ports = p.FromPort === p.ToPort ? `${p.FromPort}` : `${p.FromPort}-${p.ToPort}`;
    const label = `ingress ${p.IpProtocol === '-1' ? 'all traffic' : `${p.IpProtocol} ${ports}`}`;
    const add = (kind: string, value: string | undefined, permission: IpPermission) =>
      rules.push({
        key: `${head}:${kind}:${value}`,
        permission: { ...base, ...permission },
        description: `${label} from ${value}`,
      });
    for (const r of p.IpRanges ?? []) add('cidr', r.CidrIp, { IpRanges: [{ CidrIp: r.CidrIp }] });
    for (const r of p.Ipv6Ranges ?? [])
      add('cidr6', r.CidrIpv6, { Ipv6Ranges: [{ CidrIpv6: r.CidrIpv6 }] });
    for (const r of p.UserIdGroupPairs ?? [])
      add('group', r.GroupId, { UserIdGroupPairs: [{ GroupId: r.GroupId }] });
    for (const r of p.PrefixListIds ?? [])
      add('prefix', r.PrefixListId, { PrefixListIds: [{ PrefixListId: r.PrefixListId }] });
  }
  return rules;
}

function hasAllowAllEgress(group: SecurityGroup): boolean {
  return (group.IpPermissionsEgress ?? []).some(
    (p) => p.IpProtocol === '-1' && (p.IpRanges ?? []).some((r) => r.CidrIp === ANYWHERE),
  );
}

/** What a plan says of a new group: whom its rules admit, not a fixed description. */
function admits(desired: DesiredGroup): string {
  const rules = desired.ingress.map(
    (rule) => `tcp ${rule.port} from ${rule.source.label ?? rule.source.value}`,
  );
  return `admits only ${rules.join(' and ')}`;
}

/**
 * What it takes to turn `current` (undefined: the group does not exist)
 * into `desired`, in the order it is applied: create, revoke, authorize, egress.
 */
export function planSecurityGroup(
  current: SecurityGroup | undefined,
  desired: DesiredGroup,
): Planned<GroupAction>[] {
  const name = desired.name;
  const planned: Planned<GroupAction>[] = [];
  const want = desired.ingress.map(ruleFromDesired);
  if (current === undefined) {
    planned.push({
      change: { action: 'create', kind: 'security group', name, detail: admits(desired) },
      action: { type: 'create' },
    });
  }
  const have = flattenPermissions(current?.IpPermissions);
  const kind = 'security group rule';
  for (const rule of have.filter((h) => !want.some((w) => w.key === h.key))) {
    planned.push({
      change: { action: 'delete', kind, name, detail: rule.description },
      action: { type: 'revoke', rule },
    });
  }
  for (const rule of want.filter((w) => !have.some((h) => h.key === w.key))) {
    planned.push({
      change: { action: 'create', kind, name, detail: rule.description },
      action: { type: 'authorize', rule },
    });
  }
  // A new group starts with the allow-all egress rule ("Security group rules":
  // https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html).
  // Tasks pull the image and read the secret over HTTPS through the gateway.
  if (current !== undefined && !hasAllowAllEgress(current)) {
    planned.push({
      change: { action: 'create', kind, name, detail: `egress all traffic to ${ANYWHERE}` },
      action: { type: 'restoreEgress' },
    });
  }
  return planned;
}

async function applySecurityGroup(
  ctx: StackContext,
  vpcId: string,
  groupId: string | undefined,
  desired: DesiredGroup,
  planned: readonly Planned<GroupAction>[],
): Promise<string> {
  const ec2 = ctx.clients.ec2;
  const actions = planned.map((p) => p.action);
  const id = actions.some((a) => a.type === 'create')
    ? await createGroup(ctx, vpcId, desired)
    : groupId;
  if (id === undefined)
    throw new NetworkError(`No security group ${desired.name} after planning one.`);
  const rules = (type: 'revoke' | 'authorize') =>
    actions.flatMap((a) => (a.type === type ? [a.rule.permission] : []));
  const revoke = rules('revoke');
  if (revoke.length > 0) {
    await onceVisible(ctx, `revoking ingress on ${desired.name} (${id})`, () =>
      ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: revoke })),
    );
  }
  const authorize = rules('authorize');
  if (authorize.length > 0) {
    // A rule from the other new group fails while either group is not visible yet.
    await onceVisible(ctx, `allowing ingress on ${desired.name} (${id})`, () =>
      ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: authorize })),
    );
  }
  if (actions.some((a) => a.type === 'restoreEgress')) {
    await onceVisible(ctx, `restoring egress on ${desired.name} (${id})`, () =>
      ec2.send(
        new AuthorizeSecurityGroupEgressCommand({ GroupId: id, IpPermissions: [ALLOW_ALL_EGRESS] }),
      ),
    );
  }
  return id;
}

async function createGroup(ctx: StackContext, vpcId: string, desired: DesiredGroup) {
  const out = await onceVisible(
    ctx,
    `creating security group ${desired.name} in VPC ${vpcId}`,
    () =>
      ctx.clients.ec2.send(
        new CreateSecurityGroupCommand({
          GroupName: desired.name,
          Description: desired.description,
          VpcId: vpcId,
          TagSpecifications: tagSpec(ctx, 'security-group', desired.name),
        }),
      ),
  );
  if (out.GroupId === undefined)
    throw new NetworkError('CreateSecurityGroup returned no group id.');
  return out.GroupId;
}

async function ensureGroup(
  ctx: StackContext,
  vpcId: string,
  groups: readonly SecurityGroup[],
  desired: DesiredGroup,
  changes: ChangeSet,
): Promise<string> {
  const current = groups.find((g) => g.GroupName === desired.name);
  const planned = planSecurityGroup(current, desired);
  changes.add(...changesOf(planned));
  if (ctx.dryRun) return current?.GroupId ?? NOT_CREATED_YET;
  return applySecurityGroup(ctx, vpcId, current?.GroupId, desired, planned);
}

export interface SecurityGroupIds {
  loadBalancerSecurityGroupId: string;
  taskSecurityGroupId: string;
}

export async function ensureSecurityGroups(
  ctx: StackContext,
  vpcId: string,
  settings: NetworkSettings,
): Promise<Converged<SecurityGroupIds>> {
  const groups = isNotCreatedYet(vpcId) ? [] : await findSecurityGroups(ctx, vpcId);
  // Looked up by name every run: its id differs per region (read-only, also in a dry run).
  const prefixListId =
    settings.cloudFront === true ? (await findCloudFrontPrefixList(ctx)).id : undefined;
  const changes = new ChangeSet();
  const alb = desiredGroups(ctx.names, settings, NOT_CREATED_YET, prefixListId).loadBalancer;
  const loadBalancerSecurityGroupId = await ensureGroup(ctx, vpcId, groups, alb, changes);
  const { tasks } = desiredGroups(ctx.names, settings, loadBalancerSecurityGroupId);
  const taskSecurityGroupId = await ensureGroup(ctx, vpcId, groups, tasks, changes);
  return { changes: changes.list, value: { loadBalancerSecurityGroupId, taskSecurityGroupId } };
}
