/**
 * The DNS records the tool writes into the user's hosted zone: the
 * certificate's validation CNAME and the A and AAAA aliases of the name to
 * the distribution. Route 53 records carry no tags, so a record is the
 * tool's only when name, type and value all match what it writes; any other
 * record at those names is the user's and is never changed or deleted.
 */
import {
  ChangeResourceRecordSetsCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  type RRType,
} from '@aws-sdk/client-route-53';
import type { Converged, Removal, StackContext } from '../../context.js';
import { ChangeSet, type Change } from '../../plan.js';
import type { DnsRecord } from '../certificate/index.js';
import type { ZoneRef } from './zone.js';

export const RECORD_KIND = 'DNS record';

/**
 * The hosted zone id every alias to a CloudFront distribution names
 * ("Specify Z2FDTNDATAQYW2. This is always the hosted zone ID when you create
 * an alias record that routes traffic to a CloudFront distribution"):
 * https://docs.aws.amazon.com/Route53/latest/APIReference/API_AliasTarget.html
 */
export const CLOUDFRONT_HOSTED_ZONE_ID = 'Z2FDTNDATAQYW2';

/** ACM's own suggestion for the validation record's TTL is 300 s (the console's default). */
const VALIDATION_TTL = 300;

function bare(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** The A and AAAA aliases (the distribution has IPv6 on) of `domain` to the distribution. */
export function aliasRecords(domain: string, distributionDomain: string): ResourceRecordSet[] {
  return (['A', 'AAAA'] as const).map((type) => ({
    Name: `${domain}.`,
    Type: type,
    AliasTarget: {
      HostedZoneId: CLOUDFRONT_HOSTED_ZONE_ID,
      DNSName: `${bare(distributionDomain)}.`,
      EvaluateTargetHealth: false,
    },
  }));
}

export function validationRecord(record: DnsRecord): ResourceRecordSet {
  return {
    Name: record.name,
    Type: record.type as RRType,
    TTL: VALIDATION_TTL,
    ResourceRecords: [{ Value: record.value }],
  };
}

function valueOf(record: ResourceRecordSet): string {
  if (record.AliasTarget !== undefined) return `alias ${bare(record.AliasTarget.DNSName ?? '')}`;
  return (record.ResourceRecords ?? [])
    .map((r) => bare(r.Value ?? ''))
    .sort()
    .join(', ');
}

/** Same name, type and value (an alias's target or the record values). */
export function sameRecord(a: ResourceRecordSet, b: ResourceRecordSet): boolean {
  return (
    bare(a.Name ?? '') === bare(b.Name ?? '') && a.Type === b.Type && valueOf(a) === valueOf(b)
  );
}

/** Read-only: the record at exactly this name and type, if any. */
export async function recordAt(
  ctx: StackContext,
  zone: ZoneRef,
  name: string,
  type: RRType | string,
): Promise<ResourceRecordSet | undefined> {
  const out = await ctx.clients.route53.send(
    new ListResourceRecordSetsCommand({
      HostedZoneId: zone.id,
      StartRecordName: name,
      StartRecordType: type as RRType,
      MaxItems: 1,
    }),
  );
  const first = out.ResourceRecordSets?.[0];
  return first !== undefined && bare(first.Name ?? '') === bare(name) && first.Type === type
    ? first
    : undefined;
}

export class RecordConflictError extends Error {
  constructor(zone: ZoneRef, found: ResourceRecordSet, wanted: ResourceRecordSet) {
    super(
      `The hosted zone ${zone.name} (${zone.id}) already has a ${found.Type} record ` +
        `${bare(found.Name ?? '')} -> ${valueOf(found)}, which the tool did not write; it needs ` +
        `${wanted.Type} -> ${valueOf(wanted)} there. Delete that record in Route 53 if it is no ` +
        'longer used, or choose another --domain, then run "npx iclinic-deploy up" again.',
    );
    this.name = 'RecordConflictError';
  }
}

function describeRecord(record: ResourceRecordSet): string {
  return `${bare(record.Name ?? '')} ${record.Type ?? ''}`;
}

/**
 * Creates the wanted records that are missing. A record at the same name
 * and type with another value (or a CNAME where an alias goes) is the
 * user's: an error, never overwritten.
 */
export async function ensureRecords(
  ctx: StackContext,
  zone: ZoneRef,
  wanted: readonly ResourceRecordSet[],
): Promise<Converged<undefined>> {
  const missing: ResourceRecordSet[] = [];
  for (const record of wanted) {
    const type = record.Type as RRType;
    const found = await recordAt(ctx, zone, record.Name ?? '', type);
    if (found !== undefined && sameRecord(found, record)) continue;
    if (found !== undefined) throw new RecordConflictError(zone, found, record);
    if (type !== 'CNAME') {
      // A CNAME cannot share its name with any other record (RFC 1034 3.6.2).
      const cname = await recordAt(ctx, zone, record.Name ?? '', 'CNAME');
      if (cname !== undefined) throw new RecordConflictError(zone, cname, record);
    }
    missing.push(record);
  }
  const changes = new ChangeSet();
  for (const record of missing) {
    changes.create(RECORD_KIND, describeRecord(record), `${valueOf(record)} in zone ${zone.name}`);
  }
  if (ctx.dryRun || missing.length === 0) return { changes: [...changes.list], value: undefined };
  await ctx.clients.route53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zone.id,
      ChangeBatch: {
        Comment: `iclinic-deploy stack ${ctx.names.stack} in ${ctx.region}`,
        Changes: missing.map((record) => ({ Action: 'CREATE', ResourceRecordSet: record })),
      },
    }),
  );
  return { changes: [...changes.list], value: undefined };
}

/**
 * Deletes the records that match the wanted ones exactly, as Route 53
 * returned them (a DELETE must repeat the record). Others are left.
 */
export async function removeRecords(
  ctx: StackContext,
  zone: ZoneRef,
  wanted: readonly ResourceRecordSet[],
): Promise<Removal> {
  const matching: ResourceRecordSet[] = [];
  for (const record of wanted) {
    const found = await recordAt(ctx, zone, record.Name ?? '', record.Type as RRType);
    if (found !== undefined && sameRecord(found, record)) matching.push(found);
  }
  const changes: Change[] = matching.map((record) => ({
    action: 'delete',
    kind: RECORD_KIND,
    name: describeRecord(record),
    detail: `${valueOf(record)} in zone ${zone.name}`,
  }));
  if (ctx.dryRun || matching.length === 0) return { changes };
  await ctx.clients.route53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zone.id,
      ChangeBatch: {
        Comment: `iclinic-deploy stack ${ctx.names.stack} in ${ctx.region}: removed`,
        Changes: matching.map((record) => ({ Action: 'DELETE', ResourceRecordSet: record })),
      },
    }),
  );
  return { changes };
}

export { valueOf as recordValue };
