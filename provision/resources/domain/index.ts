/**
 * `up --domain`: the certificate, its validation record, the wait for ACM,
 * the alias records, and the removal of what an earlier --domain left. The
 * steps of `up` and `down` call these; the certificate and record modules
 * do the AWS work.
 */
import { paginateListHostedZones } from '@aws-sdk/client-route-53';
import type { Converged, Removal, StackContext } from '../../context.js';
import { isNotCreatedYet, type Change } from '../../plan.js';
import {
  ensureCertificate,
  listCertificates,
  removeCertificate,
  type AccountCertificates,
  type CertificateInfo,
  type DnsRecord,
} from '../certificate/index.js';
import { recordText, waitForCertificateIssued } from '../certificate/wait.js';
import { zoneHolds } from './name.js';
import {
  aliasRecords,
  ensureRecords,
  recordAt,
  recordValue,
  removeRecords,
  sameRecord,
  validationRecord,
} from './records.js';
import { findHostedZone, type ZoneRef } from './zone.js';

export { validateDomainName, InvalidDomainNameError } from './name.js';
export { CLOUDFRONT_HOSTED_ZONE_ID } from './records.js';
export { HostedZoneChoiceError, normalizeZoneId, type ZoneRef } from './zone.js';

export interface DomainSettings {
  readonly domain: string;
  readonly hostedZoneId?: string;
}

export interface DomainCertificate {
  readonly domain: string;
  /** undefined: no zone of the account holds the name, its DNS is elsewhere. */
  readonly zone: ZoneRef | undefined;
  readonly certificate: CertificateInfo;
}

/** The zone, the certificate (requested or reused) and, in the zone, its validation record. */
export async function ensureDomainCertificate(
  ctx: StackContext,
  settings: DomainSettings,
): Promise<Converged<DomainCertificate>> {
  const zone = await findHostedZone(ctx, settings.domain, settings.hostedZoneId);
  const certificate = await ensureCertificate(ctx, settings.domain);
  const changes: Change[] = [...certificate.changes];
  const validation = certificate.value.validation;
  if (zone !== undefined && validation !== undefined && certificate.value.status !== 'ISSUED') {
    changes.push(...(await ensureRecords(ctx, zone, [validationRecord(validation)])).changes);
  }
  return { changes, value: { domain: settings.domain, zone, certificate: certificate.value } };
}

/** The CNAME of the name to the distribution, for a DNS provider other than Route 53. */
export function distributionCname(domain: string, distributionDomain: string): DnsRecord {
  return { name: `${domain}.`, type: 'CNAME', value: `${distributionDomain}.` };
}

/** The lines that tell a user whose DNS is elsewhere what to create there. */
export function recordsToCreate(found: DomainCertificate, distributionDomain: string): string {
  const validation = found.certificate.validation;
  const lines = [
    `No Route 53 hosted zone of this account holds ${found.domain}: create these records where its DNS is hosted:`,
    validation === undefined
      ? '  (the validation record: ACM has not published it yet; run "npx iclinic-deploy up" again)'
      : `  ${recordText(validation)}    (lets ACM issue the certificate)`,
    isNotCreatedYet(distributionDomain)
      ? `  ${found.domain}.  CNAME  <the distribution's name, printed once it exists>`
      : `  ${recordText(distributionCname(found.domain, distributionDomain))}    (sends ${found.domain} to CloudFront)`,
  ];
  return lines.join('\n');
}

export interface IssueSettings {
  readonly timeoutMs: number;
  /** The distribution's *.cloudfront.net name, for the CNAME a user outside Route 53 creates. */
  readonly distributionDomain: string;
}

/**
 * Waits for ISSUED. With the zone in the account the record is already
 * there; with DNS elsewhere the records to create are printed first, and
 * the wait runs to the end of --timeout.
 */
export async function waitForDomainCertificate(
  ctx: StackContext,
  found: DomainCertificate,
  settings: IssueSettings,
): Promise<CertificateInfo> {
  if (found.certificate.status === 'ISSUED' || ctx.dryRun) return found.certificate;
  const validation = found.certificate.validation;
  const record = validation === undefined ? 'its validation record' : recordText(validation);
  if (found.zone === undefined)
    ctx.report.warn(recordsToCreate(found, settings.distributionDomain));
  const howToFix =
    found.zone === undefined
      ? `Create the records above at your DNS provider (check with "dig ${validation?.name ?? found.domain} CNAME"), then run "npx iclinic-deploy up" again.`
      : `The record is in the Route 53 zone ${found.zone.name}; if that zone is not the one the registrar delegates ${found.domain} to (compare the NS records), fix the delegation or pass --hosted-zone-id, then run "npx iclinic-deploy up" again.`;
  return waitForCertificateIssued(ctx, found.certificate.arn, {
    timeoutMs: settings.timeoutMs,
    howToFix,
    waitingFor: `waiting for ACM to see ${record} and issue the certificate for ${found.domain}`,
  });
}

/** The A and AAAA aliases in the zone; with DNS elsewhere there is nothing the tool can write. */
export async function ensureAliasRecords(
  ctx: StackContext,
  found: DomainCertificate,
  distributionDomain: string,
): Promise<Converged<undefined>> {
  if (found.zone === undefined || isNotCreatedYet(distributionDomain)) {
    return { changes: [], value: undefined };
  }
  return ensureRecords(ctx, found.zone, aliasRecords(found.domain, distributionDomain));
}

/** Every public zone that holds the name: removal matches records exactly, so looking in each is safe. */
async function zonesHolding(ctx: StackContext, domain: string): Promise<ZoneRef[]> {
  const zones: ZoneRef[] = [];
  for await (const page of paginateListHostedZones({ client: ctx.clients.route53 }, {})) {
    for (const zone of page.HostedZones ?? []) {
      if (zone.Config?.PrivateZone === true || !zoneHolds(zone.Name ?? '', domain)) continue;
      zones.push({
        id: (zone.Id ?? '').replace(/^\/hostedzone\//, ''),
        name: (zone.Name ?? '').replace(/\.$/, ''),
      });
    }
  }
  return zones;
}

export interface CleanupSettings {
  /** The certificate in use, kept with its records; undefined removes every one (down). */
  readonly keep?: CertificateInfo;
  /** The distribution the aliases point to; undefined when there is none (then no alias is ours). */
  readonly distributionDomain?: string;
}

/**
 * The records of the stack's certificates other than the kept one: the
 * aliases of their names to this distribution, and their validation
 * records unless a certificate that stays (the kept one, or one that is not
 * the stack's) has the same name and so the same record.
 */
export async function removeDomainRecords(
  ctx: StackContext,
  settings: CleanupSettings,
  account?: AccountCertificates,
): Promise<Removal> {
  const all = account ?? (await listCertificates(ctx));
  const leaving = all.stack.filter((c) => c.arn !== settings.keep?.arn);
  const staying = [...all.othersDomains, ...(settings.keep ? [settings.keep.domain] : [])];
  const changes: Change[] = [];
  for (const certificate of leaving) {
    const wanted = [];
    if (settings.distributionDomain !== undefined && certificate.domain !== settings.keep?.domain) {
      wanted.push(...aliasRecords(certificate.domain, settings.distributionDomain));
    }
    if (certificate.validation !== undefined && !staying.includes(certificate.domain)) {
      wanted.push(validationRecord(certificate.validation));
    }
    if (wanted.length === 0) continue;
    for (const zone of await zonesHolding(ctx, certificate.domain)) {
      changes.push(...(await removeRecords(ctx, zone, wanted)).changes);
    }
  }
  return { changes };
}

/** The stack's certificates other than the kept one; one still in use is kept (removeCertificate). */
export async function removeStackCertificates(
  ctx: StackContext,
  keep?: CertificateInfo,
  account?: AccountCertificates,
): Promise<Removal> {
  const all = account ?? (await listCertificates(ctx));
  const changes: Change[] = [];
  for (const certificate of all.stack) {
    if (certificate.arn === keep?.arn) continue;
    changes.push(...(await removeCertificate(ctx, certificate)).changes);
  }
  return { changes };
}

export interface DomainStatus {
  readonly name: string;
  /** The certificate the distribution uses, else the stack's for the name. */
  readonly certificate: { arn: string; status: string; notAfter: string | undefined } | undefined;
  /** The Route 53 zone, or undefined when the DNS is elsewhere. */
  readonly zone: string | undefined;
  /** "api.example.com A: alias d123.cloudfront.net" or "...: missing". */
  readonly records: readonly string[];
}

async function recordLines(
  ctx: StackContext,
  zone: ZoneRef,
  name: string,
  distributionDomain: string | undefined,
  certificate: CertificateInfo | undefined,
): Promise<string[]> {
  const wanted = [
    ...(distributionDomain === undefined ? [] : aliasRecords(name, distributionDomain)),
    ...(certificate?.validation === undefined ? [] : [validationRecord(certificate.validation)]),
  ];
  const lines: string[] = [];
  for (const record of wanted) {
    const found = await recordAt(ctx, zone, record.Name ?? '', record.Type ?? 'A');
    const state =
      found === undefined
        ? 'missing ("up" writes it)'
        : sameRecord(found, record)
          ? recordValue(found)
          : `${recordValue(found)}, not the stack's ("up" will refuse to overwrite it)`;
    lines.push(`${(record.Name ?? '').replace(/\.$/, '')} ${record.Type ?? ''}: ${state}`);
  }
  return lines;
}

/**
 * Read-only, for `status`: the name on the distribution (or of the stack's
 * certificate), its certificate and its records; undefined without --domain.
 */
export async function describeDomain(
  ctx: StackContext,
  distribution:
    { domainName: string; aliases: readonly string[]; certificateArn?: string } | undefined,
): Promise<DomainStatus | undefined> {
  const account = await listCertificates(ctx);
  const name = distribution?.aliases[0] ?? account.stack[0]?.domain;
  if (name === undefined) return undefined;
  const certificate =
    account.stack.find((c) => c.arn === distribution?.certificateArn) ??
    account.stack.find((c) => c.domain === name);
  const zone = await findHostedZone(ctx, name).catch(() => undefined);
  return {
    name,
    certificate:
      certificate === undefined
        ? undefined
        : {
            arn: certificate.arn,
            status: certificate.status,
            notAfter: certificate.notAfter?.toISOString(),
          },
    zone: zone?.name,
    records:
      zone === undefined
        ? []
        : await recordLines(ctx, zone, name, distribution?.domainName, certificate),
  };
}
