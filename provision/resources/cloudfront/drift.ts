/**
 * How a distribution found in the account differs from the one config.ts
 * wants, setting by setting, in words a plan shows (`Change.detail`, from,
 * to). Only the settings the tool owns are compared.
 */
import type { CustomErrorResponses, DistributionConfig } from '@aws-sdk/client-cloudfront';
import {
  ALL_VIEWER_EXCEPT_HOST_HEADER_POLICY_ID,
  ALLOWED_METHODS,
  CACHING_DISABLED_POLICY_ID,
  desiredErrorResponses,
  KEEP_VIEWER,
  ORIGIN_ID,
  originSecretOf,
  viewerConfig,
  type DistributionSettings,
} from './config.js';

/** One setting the tool owns that differs in the account (for Change.detail/from/to). */
export interface Drift {
  readonly detail: string;
  readonly from: string;
  readonly to: string;
}

const POLICY_NAMES: Record<string, string> = {
  [CACHING_DISABLED_POLICY_ID]: 'CachingDisabled',
  [ALL_VIEWER_EXCEPT_HOST_HEADER_POLICY_ID]: 'AllViewerExceptHostHeader',
};

function policyName(id: string | undefined): string {
  if (id === undefined || id === '') return 'none';
  return POLICY_NAMES[id] ?? id;
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item) => b.includes(item));
}

function originDrift(config: DistributionConfig, settings: DistributionSettings): Drift[] {
  const origins = config.Origins?.Items ?? [];
  const origin = origins.find((o) => o.Id === ORIGIN_ID);
  if (origin === undefined) {
    const found = origins.map((o) => o.DomainName ?? '?').join(', ') || 'none';
    return [{ detail: 'origin', from: found, to: settings.originDomainName }];
  }
  const drift: Drift[] = [];
  if (origins.length > 1) drift.push({ detail: 'origins', from: `${origins.length}`, to: '1' });
  if (origin.DomainName !== settings.originDomainName) {
    drift.push({
      detail: 'origin domain',
      from: origin.DomainName ?? 'none',
      to: settings.originDomainName,
    });
  }
  const custom = origin.CustomOriginConfig;
  if (custom?.OriginProtocolPolicy !== settings.originProtocolPolicy) {
    drift.push({
      detail: 'origin protocol policy',
      from: custom?.OriginProtocolPolicy ?? 'none',
      to: settings.originProtocolPolicy,
    });
  }
  if (custom?.HTTPPort !== 80) {
    drift.push({ detail: 'origin HTTP port', from: `${custom?.HTTPPort ?? 'none'}`, to: '80' });
  }
  // The value never appears in a change: only whether it is there.
  if (originSecretOf(config) === undefined) {
    drift.push({ detail: 'origin secret header', from: 'missing or changed', to: 'set' });
  }
  return drift;
}

function behaviorDrift(config: DistributionConfig): Drift[] {
  const behavior = config.DefaultCacheBehavior;
  const drift: Drift[] = [];
  const check = (detail: string, found: string, wanted: string): void => {
    if (found !== wanted) drift.push({ detail, from: found, to: wanted });
  };
  check('target origin', behavior?.TargetOriginId ?? 'none', ORIGIN_ID);
  check('viewer protocol policy', behavior?.ViewerProtocolPolicy ?? 'none', 'redirect-to-https');
  check(
    'cache policy',
    policyName(behavior?.CachePolicyId),
    policyName(CACHING_DISABLED_POLICY_ID),
  );
  check(
    'origin request policy',
    policyName(behavior?.OriginRequestPolicyId),
    policyName(ALL_VIEWER_EXCEPT_HOST_HEADER_POLICY_ID),
  );
  const methods = behavior?.AllowedMethods?.Items ?? [];
  if (!sameMembers(methods, ALLOWED_METHODS)) {
    drift.push({
      detail: 'allowed methods',
      from: methods.join(', ') || 'none',
      to: ALLOWED_METHODS.join(', '),
    });
  }
  const pathBehaviors = config.CacheBehaviors?.Quantity ?? 0;
  if (pathBehaviors > 0) {
    drift.push({ detail: 'path behaviors', from: `${pathBehaviors}`, to: '0' });
  }
  return drift;
}

/**
 * One line per error response, sorted by code, so the same settings compare
 * equal however AWS orders them; the empty page path and response code that
 * GetDistributionConfig may return for "none" read as absent.
 */
function errorResponsesText(responses: CustomErrorResponses | undefined): string {
  const lines = (responses?.Items ?? [])
    .slice()
    .sort((a, b) => (a.ErrorCode ?? 0) - (b.ErrorCode ?? 0))
    .map((r) => {
      const page = r.ResponsePagePath ? ` page ${r.ResponsePagePath}` : '';
      const code = r.ResponseCode ? ` as ${r.ResponseCode}` : '';
      return `${r.ErrorCode ?? '?'} cached ${r.ErrorCachingMinTTL ?? 'default'} s${page}${code}`;
    });
  return lines.join(', ') || 'none (5xx cached 10 s)';
}

function errorResponsesDrift(config: DistributionConfig): Drift[] {
  const found = errorResponsesText(config.CustomErrorResponses);
  const wanted = errorResponsesText(desiredErrorResponses());
  return found === wanted ? [] : [{ detail: 'error caching', from: found, to: wanted }];
}

/** Every owned setting of a found distribution that differs from the wanted one, in a stable order. */
export function distributionDrift(
  config: DistributionConfig,
  settings: DistributionSettings,
): Drift[] {
  const drift: Drift[] = [];
  if (config.Enabled !== true) drift.push({ detail: 'enabled', from: 'false', to: 'true' });
  drift.push(
    ...originDrift(config, settings),
    ...behaviorDrift(config),
    ...errorResponsesDrift(config),
  );
  drift.push(...viewerDrift(config, settings.viewer));
  return drift;
}

function viewerText(config: Pick<DistributionConfig, 'Aliases' | 'ViewerCertificate'>): {
  aliases: string;
  certificate: string;
} {
  const aliases = [...(config.Aliases?.Items ?? [])].sort().join(', ') || 'none';
  const viewer = config.ViewerCertificate;
  const certificate =
    viewer?.CloudFrontDefaultCertificate === true || viewer === undefined
      ? 'CloudFront default (*.cloudfront.net)'
      : `${viewer.ACMCertificateArn ?? viewer.IAMCertificateId ?? 'custom'} ` +
        `(${viewer.SSLSupportMethod ?? '?'}, ${viewer.MinimumProtocolVersion ?? '?'})`;
  return { aliases, certificate };
}

/** The name and certificate, unless the run keeps them (KEEP_VIEWER). */
function viewerDrift(config: DistributionConfig, viewer: DistributionSettings['viewer']): Drift[] {
  if (viewer === KEEP_VIEWER) return [];
  const found = viewerText(config);
  const wanted = viewerText(viewerConfig(viewer));
  const drift: Drift[] = [];
  if (found.aliases !== wanted.aliases) {
    drift.push({ detail: 'alternate domain names', from: found.aliases, to: wanted.aliases });
  }
  if (found.certificate !== wanted.certificate) {
    drift.push({ detail: 'viewer certificate', from: found.certificate, to: wanted.certificate });
  }
  return drift;
}
