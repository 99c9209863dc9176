/**
 * The stack's ACM certificate for --domain, DNS-validated, in us-east-1
 * (AwsClients.acm says why). A certificate is the stack's when it carries
 * the stack and region tags, like the distribution; those tags are also how
 * `up` finds the certificate of a previous --domain and `down` finds all of
 * them, with no state file.
 */
import { createHash } from 'node:crypto';
import {
  DeleteCertificateCommand,
  DescribeCertificateCommand,
  ListTagsForCertificateCommand,
  RequestCertificateCommand,
  paginateListCertificates,
  type CertificateDetail,
} from '@aws-sdk/client-acm';
import type { Converged, Removal, StackContext } from '../../context.js';
import { STACK_TAG_KEY } from '../../names.js';
import { ChangeSet, NOT_CREATED_YET, type Change } from '../../plan.js';
import { hasErrorCode, isNotFound, pollUntil } from '../../retry.js';
import { distributionTags, REGION_TAG_KEY } from '../cloudfront/config.js';

export const CERTIFICATE_KIND = 'ACM certificate';

export interface DnsRecord {
  /** Fully qualified, with the trailing dot ACM gives. */
  readonly name: string;
  readonly type: string;
  readonly value: string;
}

export interface CertificateInfo {
  readonly arn: string;
  readonly domain: string;
  /** PENDING_VALIDATION, ISSUED, FAILED, VALIDATION_TIMED_OUT, EXPIRED, INACTIVE, REVOKED. */
  readonly status: string;
  readonly notAfter?: Date;
  readonly failureReason?: string;
  /** The CNAME ACM reads to validate; absent for a few seconds after the request. */
  readonly validation?: DnsRecord;
  /** ARNs of what uses it (the distribution); ACM refuses to delete it meanwhile. */
  readonly inUseBy: readonly string[];
}

/** Reusable while it can still be, or already is, issued. */
export function isUsable(info: CertificateInfo): boolean {
  return info.status === 'ISSUED' || info.status === 'PENDING_VALIDATION';
}

function infoOf(detail: CertificateDetail): CertificateInfo {
  const option = detail.DomainValidationOptions?.find((o) => o.DomainName === detail.DomainName);
  const record = option?.ResourceRecord;
  return {
    arn: detail.CertificateArn ?? '',
    domain: (detail.DomainName ?? '').toLowerCase(),
    status: detail.Status ?? 'unknown',
    ...(detail.NotAfter === undefined ? {} : { notAfter: detail.NotAfter }),
    ...(detail.FailureReason === undefined ? {} : { failureReason: detail.FailureReason }),
    ...(record?.Name === undefined || record.Value === undefined
      ? {}
      : { validation: { name: record.Name, type: record.Type ?? 'CNAME', value: record.Value } }),
    inUseBy: detail.InUseBy ?? [],
  };
}

/** Read-only: one certificate, or undefined when it is gone. */
export async function describeCertificate(
  ctx: StackContext,
  arn: string,
): Promise<CertificateInfo | undefined> {
  try {
    const out = await ctx.clients.acm.send(new DescribeCertificateCommand({ CertificateArn: arn }));
    return out.Certificate === undefined ? undefined : infoOf(out.Certificate);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

async function isStacks(ctx: StackContext, arn: string): Promise<boolean> {
  const out = await ctx.clients.acm.send(
    new ListTagsForCertificateCommand({ CertificateArn: arn }),
  );
  const value = (key: string) => out.Tags?.find((t) => t.Key === key)?.Value;
  return value(STACK_TAG_KEY) === ctx.names.stack && value(REGION_TAG_KEY) === ctx.region;
}

export interface AccountCertificates {
  /** The stack's, described. */
  readonly stack: readonly CertificateInfo[];
  /** Domain names of certificates that are not the stack's (they may share a validation record). */
  readonly othersDomains: readonly string[];
}

/**
 * Read-only: every certificate of the account in us-east-1, the stack's
 * described. ListCertificates carries no tags, so each costs a
 * ListTagsForCertificate; without a status filter it lists every status.
 * https://docs.aws.amazon.com/acm/latest/APIReference/API_ListCertificates.html
 */
export async function listCertificates(ctx: StackContext): Promise<AccountCertificates> {
  const stack: CertificateInfo[] = [];
  const othersDomains: string[] = [];
  for await (const page of paginateListCertificates({ client: ctx.clients.acm }, {})) {
    for (const summary of page.CertificateSummaryList ?? []) {
      const arn = summary.CertificateArn;
      if (arn === undefined) continue;
      if (!(await isStacks(ctx, arn))) {
        othersDomains.push((summary.DomainName ?? '').toLowerCase());
        continue;
      }
      const info = await describeCertificate(ctx, arn);
      if (info !== undefined) stack.push(info);
    }
  }
  return { stack, othersDomains };
}

/** Pure: what ensureCertificate would change, given the stack's certificates for the domain. */
export function planCertificate(domain: string, found: readonly CertificateInfo[]): Change[] {
  const changes = new ChangeSet();
  if (found.some(isUsable)) return [];
  const dead = found[0];
  changes.create(
    CERTIFICATE_KIND,
    domain,
    dead === undefined
      ? 'DNS-validated, in us-east-1 for CloudFront'
      : `DNS-validated; the previous one is ${dead.status}${dead.failureReason ? ` (${dead.failureReason})` : ''}`,
  );
  return [...changes.list];
}

/** The issued one first, then a pending one. */
function bestOf(found: readonly CertificateInfo[]): CertificateInfo | undefined {
  return found.find((c) => c.status === 'ISSUED') ?? found.find(isUsable);
}

async function requestCertificate(ctx: StackContext, domain: string): Promise<string> {
  const out = await ctx.clients.acm.send(
    new RequestCertificateCommand({
      DomainName: domain,
      ValidationMethod: 'DNS',
      // Same stack, region and name within an hour: ACM returns the same
      // certificate instead of a second one (an interrupted run retried).
      // The name is in the token: another --domain within the hour must
      // not get the previous name's certificate back.
      IdempotencyToken: createHash('sha256')
        .update(`${ctx.names.stack}\0${ctx.region}\0${domain}`)
        .digest('hex')
        .slice(0, 32),
      Tags: distributionTags(ctx.names, ctx.region),
    }),
  );
  if (out.CertificateArn === undefined) {
    throw new Error(
      `ACM accepted the request for ${domain} but returned no ARN; run "npx iclinic-deploy up" again.`,
    );
  }
  return out.CertificateArn;
}

/** ACM publishes the validation record a few seconds after the request. */
async function withValidationRecord(ctx: StackContext, arn: string): Promise<CertificateInfo> {
  let info: CertificateInfo | undefined;
  await pollUntil(
    ctx.clock,
    {
      what: `waiting for ACM to publish the validation record of ${arn}`,
      timeoutMs: 120_000,
      intervalMs: 3_000,
    },
    async () => {
      info = await describeCertificate(ctx, arn);
      return { done: info?.validation !== undefined, state: info?.status ?? 'not found' };
    },
  );
  if (info === undefined)
    throw new Error(`The ACM certificate ${arn} disappeared; run "npx iclinic-deploy up" again.`);
  return info;
}

/**
 * Reuses the stack's certificate for exactly `domain` when it is issued or
 * pending, else requests one. Does not wait for ISSUED (waitForCertificateIssued).
 */
export async function ensureCertificate(
  ctx: StackContext,
  domain: string,
  account?: AccountCertificates,
): Promise<Converged<CertificateInfo>> {
  const all = account ?? (await listCertificates(ctx));
  const found = all.stack.filter((c) => c.domain === domain);
  const changes = planCertificate(domain, found);
  const reused = bestOf(found);
  if (reused !== undefined) return { changes, value: reused };
  if (ctx.dryRun) {
    return {
      changes,
      value: { arn: NOT_CREATED_YET, domain, status: NOT_CREATED_YET, inUseBy: [] },
    };
  }
  return { changes, value: await withValidationRecord(ctx, await requestCertificate(ctx, domain)) };
}

/**
 * Deletes one of the stack's certificates. ACM refuses while a distribution
 * still uses it (ResourceInUseException; "you cannot delete an ACM
 * certificate that is being used by another AWS service",
 * https://docs.aws.amazon.com/acm/latest/APIReference/API_DeleteCertificate.html):
 * that is reported and left for the next run, not an error.
 */
export async function removeCertificate(
  ctx: StackContext,
  info: CertificateInfo,
): Promise<Removal> {
  const changes = new ChangeSet().delete(CERTIFICATE_KIND, info.domain, info.arn).list;
  if (ctx.dryRun) return { changes };
  try {
    await ctx.clients.acm.send(new DeleteCertificateCommand({ CertificateArn: info.arn }));
    return { changes };
  } catch (error) {
    if (isNotFound(error)) return { changes: [] };
    if (!hasErrorCode(error, 'ResourceInUseException')) throw error;
    ctx.report.warn(
      `The ACM certificate for ${info.domain} (${info.arn}) is still in use ` +
        `(${info.inUseBy.join(', ') || 'CloudFront has not released it yet'}); it is kept, and the ` +
        'next "up" or "down" deletes it.',
    );
    return { changes: [] };
  }
}
