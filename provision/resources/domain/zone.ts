/**
 * Which Route 53 hosted zone of the account answers for the domain: the
 * public zone with the longest name that holds it (a zone for
 * api.example.com wins over one for example.com, as DNS delegation does).
 */
import {
  GetHostedZoneCommand,
  paginateListHostedZones,
  type HostedZone,
} from '@aws-sdk/client-route-53';
import type { StackContext } from '../../context.js';
import { isNotFound } from '../../retry.js';
import { zoneHolds } from './name.js';

export interface ZoneRef {
  /** Without the "/hostedzone/" prefix the API returns. */
  readonly id: string;
  /** Without the trailing dot. */
  readonly name: string;
}

export class HostedZoneChoiceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostedZoneChoiceError';
  }
}

function refOf(zone: HostedZone): ZoneRef {
  return {
    id: (zone.Id ?? '').replace(/^\/hostedzone\//, ''),
    name: (zone.Name ?? '').replace(/\.$/, '').toLowerCase(),
  };
}

/** Route 53 ids are upper-case letters and digits; users paste them with or without the prefix. */
export function normalizeZoneId(id: string): string {
  return id.trim().replace(/^\/?hostedzone\//, '');
}

async function chosenZone(ctx: StackContext, domain: string, zoneId: string): Promise<ZoneRef> {
  const id = normalizeZoneId(zoneId);
  let zone: HostedZone | undefined;
  try {
    zone = (await ctx.clients.route53.send(new GetHostedZoneCommand({ Id: id }))).HostedZone;
  } catch (error) {
    if (!isNotFound(error) && (error as Error).name !== 'NoSuchHostedZone') throw error;
  }
  if (zone === undefined) {
    throw new HostedZoneChoiceError(
      `--hosted-zone-id ${zoneId}: no such hosted zone in this account. ` +
        'List yours with "aws route53 list-hosted-zones" and pass the Id of the public zone that holds ' +
        `${domain}.`,
    );
  }
  const ref = refOf(zone);
  if (zone.Config?.PrivateZone === true || !zoneHolds(ref.name, domain)) {
    throw new HostedZoneChoiceError(
      `--hosted-zone-id ${zoneId} is the ${zone.Config?.PrivateZone === true ? 'private' : 'public'} ` +
        `zone ${ref.name}, which cannot answer for ${domain} on the internet. Pass the id of a public ` +
        `zone named ${domain} or one of its parents, or leave --hosted-zone-id out to let the tool choose.`,
    );
  }
  return ref;
}

/**
 * Read-only. The zone that answers for `domain`, or undefined when no public
 * zone of the account holds it (its DNS is hosted elsewhere). Two public
 * zones of the same name (a second zone not delegated to) are ambiguous: the
 * user chooses with --hosted-zone-id.
 */
export async function findHostedZone(
  ctx: StackContext,
  domain: string,
  zoneId?: string,
): Promise<ZoneRef | undefined> {
  if (zoneId !== undefined) return chosenZone(ctx, domain, zoneId);
  const holding: HostedZone[] = [];
  for await (const page of paginateListHostedZones({ client: ctx.clients.route53 }, {})) {
    for (const zone of page.HostedZones ?? []) {
      if (zone.Config?.PrivateZone === true) continue;
      if (zoneHolds(zone.Name ?? '', domain)) holding.push(zone);
    }
  }
  const refs = holding.map(refOf).sort((a, b) => b.name.length - a.name.length);
  const best = refs[0];
  if (best === undefined) return undefined;
  const tied = refs.filter((r) => r.name === best.name);
  if (tied.length > 1) {
    throw new HostedZoneChoiceError(
      `${tied.length} public hosted zones are named ${best.name} (${tied.map((z) => z.id).join(', ')}); ` +
        'only the one the domain registrar delegates to answers. Pass its id with --hosted-zone-id ' +
        "(the registrar's name servers match the zone's NS record).",
    );
  }
  return best;
}
