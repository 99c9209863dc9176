/**
 * The distribution the tool wants, as data: the full DistributionConfig it
 * creates, the settings it converges, and the secret origin header it reads
 * back (drift.ts says how a found one differs). Pure, so every rule here is
 * unit-tested without a client.
 */
import { randomBytes } from 'node:crypto';
import type {
  CacheBehavior,
  CustomErrorResponse,
  CustomErrorResponses,
  DefaultCacheBehavior,
  DistributionConfig,
  Method,
  Origin,
} from '@aws-sdk/client-cloudfront';
import type { StackNames, Tag } from '../../names.js';
import { stackTags } from '../../names.js';
import type { OriginSecret } from './listener.js';

/**
 * Managed cache policy CachingDisabled: TTLs 0, nothing in the cache key.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-cache-policies.html#managed-cache-policy-caching-disabled
 */
export const CACHING_DISABLED_POLICY_ID = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';

/**
 * Managed origin request policy AllViewerExceptHostHeader: every viewer
 * header (Authorization included), cookie and query string, except Host,
 * so the load balancer sees its own name.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-origin-request-policies.html#managed-origin-request-policy-all-viewer-except-host-header
 * (same id in aws-cdk's OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
 * packages/aws-cdk-lib/aws-cloudfront/lib/origin-request-policy.ts).
 * Naming Authorization in an origin request policy is refused, and a cache
 * key with it would cache per token; this pair forwards it and caches nothing:
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/add-origin-custom-headers.html#add-origin-custom-headers-forward-authorization
 */
export const ALL_VIEWER_EXCEPT_HOST_HEADER_POLICY_ID = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';

export const ALLOWED_METHODS: readonly Method[] = [
  'GET',
  'HEAD',
  'OPTIONS',
  'PUT',
  'POST',
  'PATCH',
  'DELETE',
];
// CloudFront accepts only GET+HEAD or GET+HEAD+OPTIONS here; nothing is cached anyway.
const CACHED_METHODS: readonly Method[] = ['GET', 'HEAD'];

export const ORIGIN_ID = 'load-balancer';

/**
 * The custom header CloudFront adds to every origin request. Not a name
 * CloudFront reserves (X-Amz-*, X-Edge-*, Host, ...):
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/add-origin-custom-headers.html#add-origin-custom-headers-denylist
 * and within ELB's 40 characters for a header condition.
 */
export const ORIGIN_SECRET_HEADER = 'X-Origin-Verify';

// 32 random bytes as lower-case hex: 64 characters, under ELB's 128, immune
// to its case-insensitive, wildcard (* ?) matching (cloudfront-listener.ts).
const SECRET_PATTERN = /^[0-9a-f]{64}$/;

export function newOriginSecret(): OriginSecret {
  return { headerName: ORIGIN_SECRET_HEADER, value: randomBytes(32).toString('hex') };
}

/**
 * The distribution's own copy of the secret is the only one kept: `up`
 * reads it back, so the value survives re-runs without a second store. A
 * value someone replaced with a weak or wildcard one counts as drifted.
 */
export function originSecretOf(config: DistributionConfig | undefined): OriginSecret | undefined {
  const origin = config?.Origins?.Items?.find((o) => o.Id === ORIGIN_ID);
  const header = origin?.CustomHeaders?.Items?.find(
    (h) => h.HeaderName?.toLowerCase() === ORIGIN_SECRET_HEADER.toLowerCase(),
  );
  const value = header?.HeaderValue;
  if (value === undefined || !SECRET_PATTERN.test(value)) return undefined;
  return { headerName: ORIGIN_SECRET_HEADER, value };
}

/**
 * CloudFront is global and a stack is regional, so the region is part of
 * what identifies the stack's distribution (like the IAM role names):
 * a stack of the same name in another region has its own distribution.
 */
export const REGION_TAG_KEY = 'iclinic-deploy:region';

export function distributionTags(names: StackNames, region: string): Tag[] {
  return [...stackTags(names.stack), { Key: REGION_TAG_KEY, Value: region }];
}

/** Also the cheap first filter over ListDistributions (tags are one call per distribution). */
export function distributionComment(names: StackNames, region: string): string {
  return `iclinic-deploy stack ${names.stack} in ${region}`;
}

export interface DistributionSettings {
  /** The load balancer's DNS name; NOT_CREATED_YET in a dry run before it exists. */
  readonly originDomainName: string;
  /**
   * http-only: CloudFront to the load balancer's listener on 80. https-only
   * would need a certificate on the load balancer whose name matches the
   * origin domain, which the load balancer's own *.elb.amazonaws.com name
   * never has: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-https-cloudfront-to-custom-origin.html
   */
  readonly originProtocolPolicy: 'http-only' | 'https-only';
  /**
   * --domain: the name and its issued certificate on the distribution.
   * KEEP_VIEWER: leave whatever name and certificate it has (the new
   * certificate is not issued yet, and the old name keeps working till it
   * is). Absent: CloudFront's own name and certificate.
   */
  readonly viewer?: CustomViewer | typeof KEEP_VIEWER;
}

export interface CustomViewer {
  readonly alias: string;
  /** An ISSUED ACM certificate in us-east-1 that names the alias. */
  readonly certificateArn: string;
}

export const KEEP_VIEWER = 'keep' as const;

/**
 * The oldest TLS version CloudFront then accepts from viewers: TLSv1.2_2021,
 * the policy CloudFront recommends (TLS 1.2 and 1.3, no CBC-SHA1 ciphers),
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/secure-connections-supported-viewer-protocols-ciphers.html
 * SNI only: a dedicated-IP certificate costs $600 a month, and every
 * current client sends SNI:
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cnames-https-dedicated-ip-or-sni.html
 */
export const MINIMUM_PROTOCOL_VERSION = 'TLSv1.2_2021';

/** The Aliases and ViewerCertificate a viewer setting gives, KEEP_VIEWER taking the current ones. */
export function viewerConfig(
  viewer: DistributionSettings['viewer'],
  current?: DistributionConfig,
): Pick<DistributionConfig, 'Aliases' | 'ViewerCertificate'> {
  if (viewer === KEEP_VIEWER && current !== undefined) {
    return {
      Aliases: current.Aliases ?? { Quantity: 0 },
      ViewerCertificate: current.ViewerCertificate ?? { CloudFrontDefaultCertificate: true },
    };
  }
  if (viewer === undefined || viewer === KEEP_VIEWER) {
    return { Aliases: { Quantity: 0 }, ViewerCertificate: { CloudFrontDefaultCertificate: true } };
  }
  return {
    Aliases: { Quantity: 1, Items: [viewer.alias] },
    ViewerCertificate: {
      // Said explicitly: an emulator (moto 5.2) takes its absence as true.
      CloudFrontDefaultCertificate: false,
      ACMCertificateArn: viewer.certificateArn,
      SSLSupportMethod: 'sni-only',
      MinimumProtocolVersion: MINIMUM_PROTOCOL_VERSION,
    },
  };
}

export function desiredOrigin(settings: DistributionSettings, secret: OriginSecret): Origin {
  return {
    Id: ORIGIN_ID,
    DomainName: settings.originDomainName,
    OriginPath: '',
    CustomHeaders: {
      Quantity: 1,
      Items: [{ HeaderName: secret.headerName, HeaderValue: secret.value }],
    },
    CustomOriginConfig: {
      HTTPPort: 80,
      HTTPSPort: 443,
      OriginProtocolPolicy: settings.originProtocolPolicy,
      OriginSslProtocols: { Quantity: 1, Items: ['TLSv1.2'] },
      OriginReadTimeout: 30,
      OriginKeepaliveTimeout: 5,
    },
    ConnectionAttempts: 3,
    ConnectionTimeout: 10,
  };
}

export function desiredDefaultBehavior(): DefaultCacheBehavior {
  return {
    TargetOriginId: ORIGIN_ID,
    ViewerProtocolPolicy: 'redirect-to-https',
    AllowedMethods: {
      Quantity: ALLOWED_METHODS.length,
      Items: [...ALLOWED_METHODS],
      CachedMethods: { Quantity: CACHED_METHODS.length, Items: [...CACHED_METHODS] },
    },
    CachePolicyId: CACHING_DISABLED_POLICY_ID,
    OriginRequestPolicyId: ALL_VIEWER_EXCEPT_HOST_HEADER_POLICY_ID,
    // CachingDisabled turns compression off; Compress would have no effect.
    Compress: false,
    SmoothStreaming: false,
    FieldLevelEncryptionId: '',
    LambdaFunctionAssociations: { Quantity: 0 },
    FunctionAssociations: { Quantity: 0 },
  };
}

/**
 * CloudFront caches an origin's 500, 502, 503 and 504 for 10 s by default
 * ("CloudFront caches error responses for a default duration of 10 seconds",
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/custom-error-pages-expiration.html;
 * these codes are in "HTTP 4xx and 5xx status codes that CloudFront caches",
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/HTTPStatusCodes.html#HTTPStatusCodes-cached-errors),
 * and the CachingDisabled policy is not documented to change that; a public
 * report of 504s served from the edge despite CachingDisabled, fixed with an
 * error-caching TTL of 0: aprin-labs/archimedes#1520. One 502 from a
 * draining target would otherwise be replayed to every caller of that path
 * for 10 s. 401 and 403 are not in the list, so the token check is not
 * cached either way. No custom page: the API's own error body goes through.
 */
export const UNCACHED_ERROR_CODES: readonly number[] = [500, 502, 503, 504];

export function desiredErrorResponses(): CustomErrorResponses {
  const items: CustomErrorResponse[] = UNCACHED_ERROR_CODES.map((code) => ({
    ErrorCode: code,
    ErrorCachingMinTTL: 0,
  }));
  return { Quantity: items.length, Items: items };
}

/**
 * The config for CreateDistributionWithTags. The viewer certificate is
 * CloudFront's *.cloudfront.net one: nothing to own. With it CloudFront
 * fixes the security policy at TLSv1 whatever MinimumProtocolVersion says
 * ("CloudFront automatically sets the security policy to TLSv1 regardless
 * of the value that you set here"), so a viewer may still negotiate TLS
 * 1.0/1.1; TLS 1.2 as a floor needs an alias and an ACM certificate:
 * https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_ViewerCertificate.html
 */
export function desiredDistributionConfig(
  names: StackNames,
  region: string,
  settings: DistributionSettings,
  secret: OriginSecret,
  callerReference: string,
): DistributionConfig {
  return {
    CallerReference: callerReference,
    Comment: distributionComment(names, region),
    Enabled: true,
    Origins: { Quantity: 1, Items: [desiredOrigin(settings, secret)] },
    DefaultCacheBehavior: desiredDefaultBehavior(),
    CacheBehaviors: { Quantity: 0 },
    CustomErrorResponses: desiredErrorResponses(),
    ...viewerConfig(settings.viewer),
    // Edges everywhere, South America included: within the free tier the
    // price class changes nothing, beyond it the API's traffic is small.
    PriceClass: 'PriceClass_All',
    HttpVersion: 'http2and3',
    IsIPV6Enabled: true,
  };
}

/**
 * The current config with every setting the tool owns put back, the rest
 * (caller reference, logging, price class, ...) as CloudFront returned it,
 * for UpdateDistribution.
 */
export function convergedConfig(
  current: DistributionConfig,
  settings: DistributionSettings,
  secret: OriginSecret,
): DistributionConfig {
  const noOtherBehaviors: CacheBehavior[] = [];
  return {
    ...current,
    Enabled: true,
    Origins: { Quantity: 1, Items: [desiredOrigin(settings, secret)] },
    DefaultCacheBehavior: desiredDefaultBehavior(),
    CacheBehaviors: { Quantity: 0, Items: noOtherBehaviors },
    CustomErrorResponses: desiredErrorResponses(),
    ...viewerConfig(settings.viewer, current),
  };
}

/** `Enabled: false`, nothing else changed: the first step of a removal. */
export function disabledConfig(current: DistributionConfig): DistributionConfig {
  return { ...current, Enabled: false };
}
