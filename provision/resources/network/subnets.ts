/** The two public subnets, one per availability zone, with public IPs on launch. */
import {
  CreateSubnetCommand,
  ModifySubnetAttributeCommand,
  type Subnet,
} from '@aws-sdk/client-ec2';
import type { Converged, StackContext } from '../../context.js';
import type { StackNames } from '../../names.js';
import { isNotCreatedYet, NOT_CREATED_YET } from '../../plan.js';
import { findSubnets } from './describe.js';
import {
  changesOf,
  NetworkError,
  onceVisible,
  SUBNET_CIDRS,
  tagSpec,
  type Planned,
} from './shared.js';
import { ZoneChooser, zoneLabel, zonesAllowedBySubnetRefusal } from './zones.js';

export interface SubnetRef {
  readonly subnetId: string;
  readonly zone: string;
  /** The Name tag, which is how changes name it before it has an id. */
  readonly name: string;
}

export type SubnetAction =
  | { type: 'create'; index: number; cidr: string }
  | { type: 'publicIps'; index: number; subnetId: string };

// CreateSubnet has no parameter for this; Fargate tasks in a public subnet
// need a public IP to pull the image without a NAT gateway
// (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html).
const PUBLIC_IPS = 'public IP on launch';

export function planSubnets(
  existing: readonly Subnet[],
  names: StackNames,
): Planned<SubnetAction>[] {
  const planned: Planned<SubnetAction>[] = [];
  for (const [index, cidr] of SUBNET_CIDRS.entries()) {
    const name = names.publicSubnet(index);
    const found = existing.find((s) => s.CidrBlock === cidr);
    if (found?.SubnetId === undefined || found.AvailabilityZone === undefined) {
      planned.push({
        change: { action: 'create', kind: 'subnet', name, detail: `${cidr}, ${PUBLIC_IPS}` },
        action: { type: 'create', index, cidr },
      });
    } else if (found.MapPublicIpOnLaunch !== true) {
      planned.push({
        change: {
          action: 'update',
          kind: 'subnet',
          name,
          detail: PUBLIC_IPS,
          from: 'off',
          to: 'on',
        },
        action: { type: 'publicIps', index, subnetId: found.SubnetId },
      });
    }
  }
  return planned;
}

/** The subnets in CIDR order; in a dry run a missing one has NOT_CREATED_YET for id and zone. */
export async function ensureSubnets(
  ctx: StackContext,
  vpcId: string,
): Promise<Converged<SubnetRef[]>> {
  const existing = isNotCreatedYet(vpcId) ? [] : await findSubnets(ctx, vpcId);
  const planned = planSubnets(existing, ctx.names);
  const refs: SubnetRef[] = SUBNET_CIDRS.map((cidr, index) => {
    const found = existing.find((s) => s.CidrBlock === cidr);
    return {
      subnetId: found?.SubnetId ?? NOT_CREATED_YET,
      zone: found?.AvailabilityZone ?? NOT_CREATED_YET,
      name: ctx.names.publicSubnet(index),
    };
  });
  const changes = changesOf(planned);
  if (ctx.dryRun) return { changes, value: refs };
  let chooser: ZoneChooser | undefined;
  for (const { action } of planned) {
    if (action.type === 'publicIps') {
      await turnOnPublicIps(ctx, action.subnetId);
      continue;
    }
    chooser ??= await ZoneChooser.start(ctx, existing);
    const created = await createSubnetInSomeZone(ctx, vpcId, action.index, action.cidr, chooser);
    await turnOnPublicIps(ctx, created.subnetId);
    refs[action.index] = created;
  }
  return { changes, value: refs };
}

async function turnOnPublicIps(ctx: StackContext, subnetId: string): Promise<void> {
  await onceVisible(ctx, `turning on public IPs for subnet ${subnetId}`, () =>
    ctx.clients.ec2.send(
      new ModifySubnetAttributeCommand({
        SubnetId: subnetId,
        MapPublicIpOnLaunch: { Value: true },
      }),
    ),
  );
}

async function createSubnetInSomeZone(
  ctx: StackContext,
  vpcId: string,
  index: number,
  subnetCidr: string,
  chooser: ZoneChooser,
): Promise<SubnetRef> {
  const name = ctx.names.publicSubnet(index);
  for (;;) {
    const zone = chooser.next(subnetCidr);
    try {
      const out = await onceVisible(ctx, `creating subnet ${subnetCidr} in VPC ${vpcId}`, () =>
        ctx.clients.ec2.send(
          new CreateSubnetCommand({
            VpcId: vpcId,
            CidrBlock: subnetCidr,
            AvailabilityZone: zone.name,
            TagSpecifications: tagSpec(ctx, 'subnet', name),
          }),
        ),
      );
      const subnetId = out.Subnet?.SubnetId;
      if (subnetId === undefined) throw new NetworkError('CreateSubnet returned no subnet id.');
      chooser.taken(zone);
      return { subnetId, zone: zone.name, name };
    } catch (error) {
      const allowed = zonesAllowedBySubnetRefusal(error);
      if (allowed === undefined) throw error;
      ctx.report.progress(
        `availability zone ${zoneLabel(zone)} refuses new subnets in this account; trying another`,
      );
      chooser.refuse(zone, allowed);
    }
  }
}
