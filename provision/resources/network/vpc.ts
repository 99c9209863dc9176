/**
 * The VPC and its internet gateway: describe → plan (pure) → apply, each
 * applying exactly the changes it planned. In a dry run a VPC that does not
 * exist yet is NOT_CREATED_YET, and what hangs off it is planned as new.
 */
import {
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateVpcCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcsCommand,
  ModifyVpcAttributeCommand,
} from '@aws-sdk/client-ec2';
import type { Converged, StackContext } from '../../context.js';
import { STACK_TAG_KEY, type StackNames } from '../../names.js';
import { isNotCreatedYet, NOT_CREATED_YET } from '../../plan.js';
import { pollUntil } from '../../retry.js';
import { findAttachedGateways, findStackGateways, findStackVpcs } from './describe.js';
import {
  changesOf,
  isNotYetVisible,
  NetworkError,
  onceVisible,
  tagSpec,
  VPC_CIDR,
  type Planned,
} from './shared.js';

type DnsAttribute = 'enableDnsSupport' | 'enableDnsHostnames';

// Load balancers and ECR/Secrets Manager lookups need DNS.
const DNS_SETTINGS: readonly { attribute: DnsAttribute; label: string }[] = [
  { attribute: 'enableDnsSupport', label: 'DNS support' },
  { attribute: 'enableDnsHostnames', label: 'DNS hostnames' },
];

export interface VpcInfo {
  readonly vpcId: string;
  readonly cidr: string | undefined;
  readonly dns: Readonly<Record<DnsAttribute, boolean>>;
}

export type VpcAction = { type: 'create' } | { type: 'turnOn'; attribute: DnsAttribute };

/** The stack's VPC (the first by id if there are several, with a warning). */
export async function describeVpc(ctx: StackContext): Promise<VpcInfo | undefined> {
  const vpcs = await findStackVpcs(ctx);
  const vpcId = vpcs[0]?.VpcId;
  if (vpcId === undefined) return undefined;
  if (vpcs.length > 1) {
    ctx.report.warn(
      `Found ${vpcs.length} VPCs tagged ${STACK_TAG_KEY}=${ctx.names.stack} (${vpcs
        .map((v) => v.VpcId)
        .join(', ')}); using ${vpcId}. "down" removes them all.`,
    );
  }
  const read = async (attribute: DnsAttribute) => {
    const out = await onceVisible(ctx, `reading ${attribute} of VPC ${vpcId}`, () =>
      ctx.clients.ec2.send(new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: attribute })),
    );
    const value = attribute === 'enableDnsSupport' ? out.EnableDnsSupport : out.EnableDnsHostnames;
    return value?.Value === true;
  };
  const [support, hostnames] = await Promise.all([
    read('enableDnsSupport'),
    read('enableDnsHostnames'),
  ]);
  return {
    vpcId,
    cidr: vpcs[0]?.CidrBlock,
    dns: { enableDnsSupport: support, enableDnsHostnames: hostnames },
  };
}

export function planVpc(current: VpcInfo | undefined, names: StackNames): Planned<VpcAction>[] {
  if (current === undefined) {
    const detail = `${VPC_CIDR}, DNS support and hostnames on`;
    return [
      {
        change: { action: 'create', kind: 'VPC', name: names.vpc, detail },
        action: { type: 'create' },
      },
    ];
  }
  if (current.cidr !== undefined && current.cidr !== VPC_CIDR) {
    throw new NetworkError(
      `VPC ${current.vpcId} tagged ${STACK_TAG_KEY}=${names.stack} has CIDR ${current.cidr}, expected ${VPC_CIDR}. ` +
        `Run "npx iclinic-deploy down" to remove it, or use --name for a separate stack.`,
    );
  }
  return DNS_SETTINGS.filter(({ attribute }) => !current.dns[attribute]).map(
    ({ attribute, label }) => ({
      change: {
        action: 'update',
        kind: 'VPC',
        name: names.vpc,
        detail: label,
        from: 'off',
        to: 'on',
      },
      action: { type: 'turnOn', attribute },
    }),
  );
}

export async function ensureVpc(ctx: StackContext): Promise<Converged<string>> {
  const current = await describeVpc(ctx);
  const planned = planVpc(current, ctx.names);
  const changes = changesOf(planned);
  if (ctx.dryRun) return { changes, value: current?.vpcId ?? NOT_CREATED_YET };
  let vpcId = current?.vpcId;
  for (const { action } of planned) {
    if (action.type === 'create') {
      vpcId = await createVpc(ctx);
      // A new VPC has DNS support on and DNS hostnames off ("DNS attributes
      // for your VPC": https://docs.aws.amazon.com/vpc/latest/userguide/AmazonDNS-concepts.html#vpc-dns-support).
      await turnOnDns(ctx, vpcId, 'enableDnsHostnames');
    } else if (vpcId !== undefined) {
      await turnOnDns(ctx, vpcId, action.attribute);
    }
  }
  if (vpcId === undefined) throw new NetworkError('No VPC after planning one.');
  return { changes, value: vpcId };
}

async function createVpc(ctx: StackContext): Promise<string> {
  const ec2 = ctx.clients.ec2;
  const out = await ec2.send(
    new CreateVpcCommand({
      CidrBlock: VPC_CIDR,
      TagSpecifications: tagSpec(ctx, 'vpc', ctx.names.vpc),
    }),
  );
  const vpcId = out.Vpc?.VpcId;
  if (vpcId === undefined) throw new NetworkError('CreateVpc returned no VPC id.');
  // Subnets cannot be created while the VPC is still "pending".
  await pollUntil(
    ctx.clock,
    { what: `waiting for VPC ${vpcId} to become available`, timeoutMs: 120_000, intervalMs: 2_000 },
    async () => {
      const d = await ec2
        .send(new DescribeVpcsCommand({ VpcIds: [vpcId] }))
        .catch((error: unknown) => {
          if (isNotYetVisible(error)) return undefined;
          throw error;
        });
      if (d === undefined) return { done: false, state: 'not visible yet (InvalidVpcID.NotFound)' };
      const state = d.Vpcs?.[0]?.State ?? 'unknown';
      return { done: state === 'available', state };
    },
  );
  return vpcId;
}

async function turnOnDns(ctx: StackContext, vpcId: string, attribute: DnsAttribute) {
  await onceVisible(ctx, `turning on ${attribute} of VPC ${vpcId}`, () =>
    ctx.clients.ec2.send(
      new ModifyVpcAttributeCommand({
        VpcId: vpcId,
        ...(attribute === 'enableDnsSupport'
          ? { EnableDnsSupport: { Value: true } }
          : { EnableDnsHostnames: { Value: true } }),
      }),
    ),
  );
}

export interface GatewayInfo {
  /** Attached to the stack's VPC. */
  readonly attachedId?: string;
  /** Tagged for the stack but attached to nothing: a run stopped between create and attach. */
  readonly detachedId?: string;
}

export type GatewayAction = { type: 'create' } | { type: 'attach'; gatewayId: string };

export async function describeInternetGateway(
  ctx: StackContext,
  vpcId: string,
): Promise<GatewayInfo> {
  if (!isNotCreatedYet(vpcId)) {
    const attachedId = (await findAttachedGateways(ctx, vpcId))[0]?.InternetGatewayId;
    if (attachedId !== undefined) return { attachedId };
  }
  const detached = (await findStackGateways(ctx)).find((g) => (g.Attachments ?? []).length === 0);
  return detached?.InternetGatewayId === undefined
    ? {}
    : { detachedId: detached.InternetGatewayId };
}

export function planInternetGateway(
  current: GatewayInfo,
  names: StackNames,
): Planned<GatewayAction>[] {
  if (current.attachedId !== undefined) return [];
  const name = names.internetGateway;
  const attached = `attached to ${names.vpc}`;
  // Reuse a detached gateway rather than leak one per interrupted run.
  if (current.detachedId !== undefined) {
    return [
      {
        change: {
          action: 'update',
          kind: 'internet gateway',
          name,
          detail: 'attachment',
          from: 'detached',
          to: attached,
        },
        action: { type: 'attach', gatewayId: current.detachedId },
      },
    ];
  }
  return [
    {
      change: { action: 'create', kind: 'internet gateway', name, detail: attached },
      action: { type: 'create' },
    },
  ];
}

export async function ensureInternetGateway(
  ctx: StackContext,
  vpcId: string,
): Promise<Converged<string>> {
  const current = await describeInternetGateway(ctx, vpcId);
  const planned = planInternetGateway(current, ctx.names);
  const changes = changesOf(planned);
  const existing = current.attachedId ?? current.detachedId;
  if (ctx.dryRun) return { changes, value: existing ?? NOT_CREATED_YET };
  let gatewayId = current.attachedId;
  for (const { action } of planned) {
    gatewayId = action.type === 'attach' ? action.gatewayId : await createGateway(ctx);
    const attaching = gatewayId;
    await onceVisible(ctx, `attaching internet gateway ${attaching} to VPC ${vpcId}`, () =>
      ctx.clients.ec2.send(
        new AttachInternetGatewayCommand({ InternetGatewayId: attaching, VpcId: vpcId }),
      ),
    );
  }
  if (gatewayId === undefined) throw new NetworkError('No internet gateway after planning one.');
  return { changes, value: gatewayId };
}

async function createGateway(ctx: StackContext): Promise<string> {
  const out = await ctx.clients.ec2.send(
    new CreateInternetGatewayCommand({
      TagSpecifications: tagSpec(ctx, 'internet-gateway', ctx.names.internetGateway),
    }),
  );
  const gatewayId = out.InternetGateway?.InternetGatewayId;
  if (gatewayId === undefined) throw new NetworkError('CreateInternetGateway returned no id.');
  return gatewayId;
}
