/** Which availability zones the two subnets go in. */
import {
  DescribeAvailabilityZonesCommand,
  type AvailabilityZone,
  type Subnet,
} from '@aws-sdk/client-ec2';
import type { StackContext } from '../../context.js';
import { errorMessage, hasErrorCode } from '../../retry.js';
import { NetworkError } from './shared.js';

export interface Zone {
  name: string;
  id: string;
}

/**
 * In these regions Fargate runs only in the listed zone ids (AWS Fargate
 * Regions page, https://docs.aws.amazon.com/AmazonECS/latest/developerguide/AWS_Fargate-Regions.html:
 * "us-west-1 (usw1-az1 & usw1-az3 only)", "ap-northeast-1 (apne1-az1,
 * apne1-az2, & apne1-az4 only)"). Zone ids name the same physical zone in
 * every account; zone names are shuffled per account.
 */
const FARGATE_ZONE_IDS: Readonly<Record<string, readonly string[]>> = {
  'us-west-1': ['usw1-az1', 'usw1-az3'],
  'ap-northeast-1': ['apne1-az1', 'apne1-az2', 'apne1-az4'],
};

function runsFargate(region: string, zoneId: string): boolean {
  const only = FARGATE_ZONE_IDS[region];
  return only === undefined || only.includes(zoneId);
}

export function zoneLabel(zone: Zone): string {
  return `${zone.name} (${zone.id})`;
}

/** Available zones where Fargate runs, in zone-id order so every account picks alike. */
async function usableZones(ctx: StackContext): Promise<{ usable: Zone[]; seen: string[] }> {
  const out = await ctx.clients.ec2.send(new DescribeAvailabilityZonesCommand({}));
  const standard = (out.AvailabilityZones ?? []).filter(
    (z): z is AvailabilityZone & { ZoneName: string } =>
      z.ZoneName !== undefined &&
      z.State === 'available' &&
      (z.ZoneType ?? 'availability-zone') === 'availability-zone',
  );
  const zones = standard
    .map((z) => {
      const id = z.ZoneId ?? z.ZoneName;
      return { name: z.ZoneName, id, fargate: runsFargate(z.RegionName ?? ctx.region, id) };
    })
    .sort((a, b) => a.id.localeCompare(b.id));
  const usable = zones.filter((z) => z.fargate).map(({ name, id }) => ({ name, id }));
  const seen = zones.map((z) => `${zoneLabel(z)}${z.fargate ? '' : ', no Fargate'}`);
  return { usable, seen };
}

/**
 * Older accounts list a zone as available that refuses new subnets, with
 * InvalidParameterValue "Value (ap-northeast-1b) for parameter
 * availabilityZone is invalid. Subnets can currently only be created in the
 * following availability zones: ap-northeast-1a, ap-northeast-1c."
 * (awslabs/ecs-refarch-continuous-deployment#12, hashicorp/terraform#3434,
 * aws-samples/saas-reference-architecture-ecs#12). Returns the zone names
 * the message allows, or undefined when the error is something else.
 */
export function zonesAllowedBySubnetRefusal(error: unknown): string[] | undefined {
  if (!hasErrorCode(error, 'InvalidParameterValue')) return undefined;
  const match =
    /Subnets can currently only be created in the following availability zones:([^]*)/i.exec(
      errorMessage(error),
    );
  if (match === null) return undefined;
  return (match[1] ?? '')
    .split(/[\s,]+/)
    .map((name) => name.replace(/\.$/, ''))
    .filter((name) => name !== '');
}

/** Hands out zones for new subnets: usable, not used by the other subnet, not refused. */
export class ZoneChooser {
  private readonly refused: string[] = [];
  private constructor(
    private readonly ctx: StackContext,
    private candidates: Zone[],
    private readonly seen: string[],
  ) {}

  static async start(ctx: StackContext, existing: Subnet[]): Promise<ZoneChooser> {
    const { usable, seen } = await usableZones(ctx);
    const used = new Set(existing.map((s) => s.AvailabilityZone));
    if (usable.length < 2) {
      throw new NetworkError(
        `Region ${ctx.region} has ${usable.length} availability zone(s) where Fargate runs; a load balancer needs two. ` +
          `Zones seen: ${seen.length > 0 ? seen.join('; ') : 'none'}. Choose another region with --region (for example us-east-1).`,
      );
    }
    return new ZoneChooser(
      ctx,
      usable.filter((z) => !used.has(z.name)),
      seen,
    );
  }

  next(subnetCidr: string): Zone {
    const zone = this.candidates.shift();
    if (zone !== undefined) return zone;
    const refused =
      this.refused.length > 0 ? ` Refused new subnets: ${this.refused.join(', ')}.` : '';
    throw new NetworkError(
      `No availability zone left in ${this.ctx.region} for subnet ${subnetCidr}: each zone where Fargate runs is ` +
        `either used by the other subnet or refused a new subnet.${refused} Zones seen: ${this.seen.join('; ')}. ` +
        `Choose another region with --region (for example us-east-1).`,
    );
  }

  /** The zone refused the subnet; keep only the zones its message allows. */
  refuse(zone: Zone, allowed: string[]): void {
    this.refused.push(zone.name);
    if (allowed.length > 0)
      this.candidates = this.candidates.filter((z) => allowed.includes(z.name));
  }

  taken(zone: Zone): void {
    this.candidates = this.candidates.filter((z) => z.name !== zone.name);
  }
}
