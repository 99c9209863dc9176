/**
 * Waiting for ACM to issue a DNS-validated certificate, and the errors that
 * say why it did not. ACM keeps checking the validation CNAME for 72 hours
 * before it gives up (VALIDATION_TIMED_OUT):
 * https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html
 */
import type { StackContext } from '../../context.js';
import { pollUntil, PollTimeoutError } from '../../retry.js';
import { describeCertificate, type CertificateInfo, type DnsRecord } from './index.js';

export const ISSUE_POLL_INTERVAL_MS = 10_000;
const PROGRESS_EVERY_MS = 60_000;

/** The CAA values that let Amazon issue, https://docs.aws.amazon.com/acm/latest/userguide/setup-caa.html */
export const AMAZON_CAA_VALUES = ['amazon.com', 'amazontrust.com', 'awstrust.com', 'amazonaws.com'];

export function recordText(record: DnsRecord): string {
  return `${record.name}  ${record.type}  ${record.value}`;
}

/**
 * What to tell the user about a failure reason of DescribeCertificate
 * (CertificateDetail.FailureReason,
 * https://docs.aws.amazon.com/acm/latest/APIReference/API_CertificateDetail.html).
 */
function failureAdvice(info: CertificateInfo): string {
  switch (info.failureReason) {
    case 'CAA_ERROR':
      // "If a CAA record exists ... it must name Amazon", troubleshooting-caa.html
      return (
        `a CAA record on ${info.domain} or one of its parents does not allow Amazon to issue ` +
        `certificates. Add a CAA record 0 issue "amazon.com" next to the existing ones (or remove ` +
        `the CAA records), then run "npx iclinic-deploy up" again: ` +
        'https://docs.aws.amazon.com/acm/latest/userguide/troubleshooting-caa.html'
      );
    case 'DOMAIN_NOT_ALLOWED':
    case 'INVALID_PUBLIC_DOMAIN':
      return (
        `ACM does not issue public certificates for ${info.domain} (a reserved or invalid public ` +
        'domain). Use a name under a domain you registered.'
      );
    case 'ADDITIONAL_VERIFICATION_REQUIRED':
      return (
        'ACM wants additional verification before it issues this certificate; open a case with ' +
        'AWS Support (ACM names this "additional verification required"), then run "npx iclinic-deploy up" again.'
      );
    default:
      return (
        `ACM gave the reason ${info.failureReason ?? 'OTHER'}; see ` +
        'https://docs.aws.amazon.com/acm/latest/userguide/troubleshooting-failed.html and run "npx iclinic-deploy up" again once fixed ' +
        '(a new certificate is requested).'
      );
  }
}

export class CertificateFailedError extends Error {
  constructor(readonly info: CertificateInfo) {
    const status = info.status === 'FAILED' ? 'failed validation' : `is ${info.status}`;
    super(`The ACM certificate ${info.arn} for ${info.domain} ${status}: ${failureAdvice(info)}`);
    this.name = 'CertificateFailedError';
  }
}

export class CertificateNotIssuedError extends Error {
  constructor(info: CertificateInfo, waitedMs: number, howToFix: string) {
    super(
      `The ACM certificate for ${info.domain} is still ${info.status} after ` +
        `${Math.round(waitedMs / 60_000)} min: ACM issues it once it can read the validation record\n` +
        `  ${info.validation === undefined ? '(not published yet)' : recordText(info.validation)}\n` +
        howToFix,
    );
    this.name = 'CertificateNotIssuedError';
  }
}

const BAD_ENDINGS = new Set(['FAILED', 'VALIDATION_TIMED_OUT', 'REVOKED', 'EXPIRED', 'INACTIVE']);

export interface IssueWaitOptions {
  readonly timeoutMs: number;
  /** What the user can do when the wait runs out (Route 53 or DNS elsewhere). */
  readonly howToFix: string;
  /** Said while waiting: which record ACM is waiting to see. */
  readonly waitingFor: string;
  readonly intervalMs?: number;
}

/** Polls until ISSUED; a failed certificate or the end of the wait is an error that says what to do. */
export async function waitForCertificateIssued(
  ctx: StackContext,
  arn: string,
  options: IssueWaitOptions,
): Promise<CertificateInfo> {
  const started = ctx.clock.now();
  let lastReport = Number.NEGATIVE_INFINITY;
  let last: CertificateInfo | undefined;
  try {
    await pollUntil(
      ctx.clock,
      {
        what: `waiting for ACM to issue ${arn}`,
        timeoutMs: options.timeoutMs,
        intervalMs: options.intervalMs ?? ISSUE_POLL_INTERVAL_MS,
      },
      async () => {
        last = await describeCertificate(ctx, arn);
        if (last === undefined)
          throw new Error(
            `The ACM certificate ${arn} disappeared while waited for; run "npx iclinic-deploy up" again to request a new one.`,
          );
        if (BAD_ENDINGS.has(last.status)) throw new CertificateFailedError(last);
        const elapsed = ctx.clock.now() - started;
        if (last.status !== 'ISSUED' && elapsed - lastReport >= PROGRESS_EVERY_MS) {
          const minutes = Math.floor(elapsed / 60_000);
          ctx.report.progress(`${options.waitingFor} (${last.status}, ${minutes} min so far)`);
          lastReport = elapsed;
        }
        return { done: last.status === 'ISSUED', state: last.status };
      },
    );
  } catch (error) {
    if (error instanceof PollTimeoutError && last !== undefined) {
      throw new CertificateNotIssuedError(last, ctx.clock.now() - started, options.howToFix);
    }
    throw error;
  }
  if (last === undefined) throw new Error(`ACM returned nothing for ${arn}`);
  return last;
}
