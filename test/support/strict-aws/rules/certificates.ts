/**
 * What AWS enforces about CloudFront's certificates and moto does not
 * (moto 5.2 takes any ACMCertificateArn and aliases, and deletes a
 * certificate a distribution uses): a distribution's alternate domain names
 * need an issued ACM certificate from us-east-1 that covers them, and ACM
 * refuses to delete a certificate in use. And validation takes time: ACM
 * checks the CNAME and issues minutes later, while moto (with
 * MOTO_ACM_VALIDATION_WAIT) issues by the clock; the layer answers a new
 * certificate's first describes as PENDING_VALIDATION, counted in calls so a
 * run is deterministic whatever the machine's speed.
 */
import { DescribeCertificateCommand } from '@aws-sdk/client-acm';
import { GetDistributionConfigCommand, ListDistributionsCommand } from '@aws-sdk/client-cloudfront';
import type { AwsErrorReply, AwsRequest, RuleEnv, StrictRule, UpstreamResponse } from '../types.js';
import { headersWithoutLength, isSuccess, jsonBody, stringParam } from './state-xml.js';

const REQUIREMENTS =
  'https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cnames-and-https-requirements.html';

/** An alias is covered by a certificate name equal to it, or by *.<parent> one level up. */
function covers(name: string, alias: string): boolean {
  if (name === alias) return true;
  return name.startsWith('*.') && alias.slice(alias.indexOf('.') + 1) === name.slice(2);
}

function viewerOf(body: string): { arn: string | undefined; aliases: string[] } {
  const arn = /<ACMCertificateArn>([^<]+)<\/ACMCertificateArn>/.exec(body)?.[1];
  const aliasBlock = /<Aliases>([\s\S]*?)<\/Aliases>/.exec(body)?.[1] ?? '';
  const aliases = [...aliasBlock.matchAll(/<CNAME>([^<]+)<\/CNAME>/g)].map((m) =>
    (m[1] ?? '').toLowerCase(),
  );
  return { arn, aliases };
}

const invalid = (message: string): AwsErrorReply => ({
  status: 400,
  code: 'InvalidViewerCertificate',
  message,
});

/** Certificates requested through the layer and how many describes still show them pending. */
export class PendingCertificates {
  private readonly left = new Map<string, number>();
  constructor(private readonly describes: number) {}
  requested(arn: string): void {
    this.left.set(arn, this.describes);
  }
  isPending(arn: string): boolean {
    return (this.left.get(arn) ?? 0) > 0;
  }
  /** One describe seen: true while it must still read as pending. */
  described(arn: string): boolean {
    const left = this.left.get(arn) ?? 0;
    if (left <= 0) return false;
    this.left.set(arn, left - 1);
    return true;
  }
  reset(): void {
    this.left.clear();
  }
}

/** Why CloudFront would refuse this viewer certificate for these aliases, if it would. */
async function viewerRefusal(
  env: RuleEnv,
  arn: string | undefined,
  aliases: readonly string[],
  pending: PendingCertificates,
): Promise<AwsErrorReply | undefined> {
  if (arn === undefined) {
    return aliases.length === 0
      ? undefined
      : invalid(
          'To add an alternate domain name (CNAME) to a CloudFront distribution, you must attach a trusted certificate that validates your authorization to use the domain name.',
        );
  }
  if (!arn.startsWith('arn:aws:acm:us-east-1:')) {
    return invalid(
      `The specified SSL certificate doesn't exist, isn't in us-east-1 region, isn't valid, or doesn't include a valid certificate chain.`,
    );
  }
  try {
    const out = await env
      .moto('us-east-1')
      .acm.send(new DescribeCertificateCommand({ CertificateArn: arn }));
    const certificate = out.Certificate;
    const names = [certificate?.DomainName ?? '', ...(certificate?.SubjectAlternativeNames ?? [])];
    if (certificate?.Status !== 'ISSUED' || pending.isPending(arn)) {
      return invalid(
        `The specified SSL certificate ${arn} is ${certificate?.Status ?? 'unknown'}, not ISSUED.`,
      );
    }
    const uncovered = aliases.filter((alias) => !names.some((name) => covers(name, alias)));
    if (uncovered.length > 0) {
      return invalid(
        `The certificate that is attached to your distribution doesn't cover the alternate domain name (CNAME) that you're trying to add: ${uncovered.join(', ')}.`,
      );
    }
    return undefined;
  } catch {
    return invalid(`The specified SSL certificate ${arn} doesn't exist.`);
  }
}

/** CreateDistribution(WithTags) and UpdateDistribution: the viewer certificate must cover the aliases. */
export function viewerCertificateRule(pending = new PendingCertificates(0)): StrictRule {
  const operations = ['CreateDistribution', 'CreateDistributionWithTags', 'UpdateDistribution'];
  return {
    name: 'cloudfront-viewer-certificate',
    source: REQUIREMENTS,
    async before(request: AwsRequest, env: RuleEnv) {
      if (request.service !== 'cloudfront' || !operations.includes(request.operation))
        return undefined;
      const { arn, aliases } = viewerOf(stringParam(request.params, 'Body') ?? '');
      return viewerRefusal(env, arn, aliases, pending);
    },
  };
}

/** The certificate ARNs the account's distributions use (moto keeps no InUseBy for them). */
async function certificatesInUse(env: RuleEnv): Promise<Map<string, string>> {
  const cloudfront = env.moto('us-east-1').cloudfront;
  const list = await cloudfront.send(new ListDistributionsCommand({}));
  const inUse = new Map<string, string>();
  for (const summary of list.DistributionList?.Items ?? []) {
    const config = await cloudfront.send(new GetDistributionConfigCommand({ Id: summary.Id }));
    const arn = config.DistributionConfig?.ViewerCertificate?.ACMCertificateArn;
    if (arn) inUse.set(arn, summary.ARN ?? summary.Id ?? '');
  }
  return inUse;
}

/**
 * DeleteCertificate of a certificate a distribution uses:
 * ResourceInUseException, https://docs.aws.amazon.com/acm/latest/APIReference/API_DeleteCertificate.html
 */
export function certificateInUseRule(): StrictRule {
  return {
    name: 'acm-certificate-in-use',
    source: 'https://docs.aws.amazon.com/acm/latest/APIReference/API_DeleteCertificate.html',
    async before(request: AwsRequest, env: RuleEnv) {
      if (request.service !== 'acm' || request.operation !== 'DeleteCertificate') return undefined;
      const arn = stringParam(request.params, 'CertificateArn') ?? '';
      const user = (await certificatesInUse(env)).get(arn);
      if (user === undefined) return undefined;
      return {
        status: 400,
        code: 'ResourceInUseException',
        message: `Certificate ${arn} in account is in use by ${user}`,
      };
    },
  };
}

/**
 * A new certificate reads PENDING_VALIDATION for its first describes: "it
 * can take up to 30 minutes" after the record is in place,
 * https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html
 */
export function validationTakesTimeRule(pending: PendingCertificates): StrictRule {
  return {
    name: 'acm-validation-takes-time',
    source: 'https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html',
    after(request: AwsRequest, response: UpstreamResponse) {
      if (request.service !== 'acm' || !isSuccess(response)) return Promise.resolve(undefined);
      const body = jsonBody(response.body);
      if (request.operation === 'RequestCertificate') {
        const arn = body?.CertificateArn;
        if (typeof arn === 'string') pending.requested(arn);
        return Promise.resolve(undefined);
      }
      const certificate = body?.Certificate as Record<string, unknown> | undefined;
      const arn = certificate?.CertificateArn;
      if (request.operation !== 'DescribeCertificate' || typeof arn !== 'string') {
        return Promise.resolve(undefined);
      }
      if (!pending.described(arn) || certificate?.Status !== 'ISSUED') {
        return Promise.resolve(undefined);
      }
      const options = (certificate.DomainValidationOptions ?? []) as Record<string, unknown>[];
      const rewritten = {
        ...body,
        Certificate: {
          ...certificate,
          Status: 'PENDING_VALIDATION',
          DomainValidationOptions: options.map((o) => ({
            ...o,
            ValidationStatus: 'PENDING_VALIDATION',
          })),
        },
      };
      return Promise.resolve({
        ...response,
        headers: headersWithoutLength(response.headers),
        body: JSON.stringify(rewritten),
      });
    },
    reset: () => pending.reset(),
  };
}

/** Describes of a new certificate that read PENDING_VALIDATION before it is issued. */
export const PENDING_DESCRIBES = 3;

export function certificateRules(): StrictRule[] {
  const pending = new PendingCertificates(PENDING_DESCRIBES);
  return [validationTakesTimeRule(pending), viewerCertificateRule(pending), certificateInUseRule()];
}
