import type { DistributionConfig } from '@aws-sdk/client-cloudfront';
import { describe, expect, it } from 'vitest';
import { stackNames } from '../../../../../provision/names.js';
import {
  convergedConfig,
  desiredDistributionConfig,
  KEEP_VIEWER,
} from '../../../../../provision/resources/cloudfront/config.js';
import { distributionDrift } from '../../../../../provision/resources/cloudfront/drift.js';

const SETTINGS = {
  originDomainName: 'iclinic-alb-123.us-east-1.elb.amazonaws.com',
  originProtocolPolicy: 'http-only',
} as const;
const SECRET = { headerName: 'X-Origin-Verify', value: 'c'.repeat(64) };

function wanted(): DistributionConfig {
  return desiredDistributionConfig(
    stackNames('iclinic', 'us-east-1'),
    'us-east-1',
    SETTINGS,
    SECRET,
    'ref-1',
  );
}

/** A distribution created before the error-caching settings existed. */
function older(): DistributionConfig {
  return { ...wanted(), CustomErrorResponses: { Quantity: 0 } };
}

describe('error caching', () => {
  it("does not cache the origin's 500, 502, 503 and 504: an error-caching TTL of 0 for each", () => {
    expect(wanted().CustomErrorResponses).toEqual({
      Quantity: 4,
      Items: [
        { ErrorCode: 500, ErrorCachingMinTTL: 0 },
        { ErrorCode: 502, ErrorCachingMinTTL: 0 },
        { ErrorCode: 503, ErrorCachingMinTTL: 0 },
        { ErrorCode: 504, ErrorCachingMinTTL: 0 },
      ],
    });
  });

  it('sees a distribution without them as drifted, saying what CloudFront does meanwhile', () => {
    expect(distributionDrift(older(), SETTINGS)).toEqual([
      {
        detail: 'error caching',
        from: 'none (5xx cached 10 s)',
        to: '500 cached 0 s, 502 cached 0 s, 503 cached 0 s, 504 cached 0 s',
      },
    ]);
  });

  it('sees a changed TTL as drifted', () => {
    const config = wanted();
    const items = (config.CustomErrorResponses?.Items ?? []).map((item) =>
      item.ErrorCode === 503 ? { ...item, ErrorCachingMinTTL: 10 } : item,
    );
    const drift = distributionDrift(
      { ...config, CustomErrorResponses: { Quantity: items.length, Items: items } },
      SETTINGS,
    );
    expect(drift.map((d) => d.detail)).toEqual(['error caching']);
    expect(drift[0]?.from).toContain('503 cached 10 s');
  });

  it('reads them back as converged when AWS returns empty page paths and codes in another order', () => {
    const returned: DistributionConfig = {
      ...wanted(),
      CustomErrorResponses: {
        Quantity: 4,
        Items: [504, 503, 502, 500].map((code) => ({
          ErrorCode: code,
          ResponsePagePath: '',
          ResponseCode: '',
          ErrorCachingMinTTL: 0,
        })),
      },
    };
    expect(distributionDrift(returned, SETTINGS)).toEqual([]);
  });

  it('puts them back on an older distribution when converging', () => {
    const converged = convergedConfig(older(), SETTINGS, SECRET);
    expect(converged.CustomErrorResponses).toEqual(wanted().CustomErrorResponses);
    expect(distributionDrift(converged, SETTINGS)).toEqual([]);
  });
});

describe('the viewer side with --domain', () => {
  const ARN = 'arn:aws:acm:us-east-1:123456789012:certificate/abc';
  const domain = { ...SETTINGS, viewer: { alias: 'api.example.com', certificateArn: ARN } };

  it('puts the name and its certificate on the distribution: SNI and TLSv1.2_2021', () => {
    const config = desiredDistributionConfig(
      stackNames('iclinic', 'us-east-1'),
      'us-east-1',
      domain,
      SECRET,
      'ref-1',
    );
    expect(config.Aliases).toEqual({ Quantity: 1, Items: ['api.example.com'] });
    expect(config.ViewerCertificate).toEqual({
      CloudFrontDefaultCertificate: false,
      ACMCertificateArn: ARN,
      SSLSupportMethod: 'sni-only',
      MinimumProtocolVersion: 'TLSv1.2_2021',
    });
  });

  it('reports a distribution without the name as drift in its names and certificate', () => {
    expect(distributionDrift(wanted(), domain).map((d) => [d.detail, d.from, d.to])).toEqual([
      ['alternate domain names', 'none', 'api.example.com'],
      [
        'viewer certificate',
        'CloudFront default (*.cloudfront.net)',
        `${ARN} (sni-only, TLSv1.2_2021)`,
      ],
    ]);
  });

  it('while a new certificate is pending, keeps the name and certificate the distribution has', () => {
    const current = convergedConfig(wanted(), domain, SECRET);
    const pending = { ...SETTINGS, viewer: KEEP_VIEWER };
    expect(distributionDrift(current, pending)).toEqual([]);
    const kept = convergedConfig(current, pending, SECRET);
    expect(kept.Aliases).toEqual(current.Aliases);
    expect(kept.ViewerCertificate).toEqual(current.ViewerCertificate);
  });

  it('without --domain, takes a name off again and goes back to the CloudFront certificate', () => {
    const current = convergedConfig(wanted(), domain, SECRET);
    const back = convergedConfig(current, SETTINGS, SECRET);
    expect(back.Aliases).toEqual({ Quantity: 0 });
    expect(back.ViewerCertificate).toEqual({ CloudFrontDefaultCertificate: true });
    expect(distributionDrift(back, SETTINGS)).toEqual([]);
  });
});
