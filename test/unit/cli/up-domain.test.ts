import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseDomainOptions } from '../../../cli/commands/up.js';
import { UsageError } from '../../../cli/errors.js';
import { parseDomain, parseHostedZoneId } from '../../../cli/options.js';

const none = { plainHttp: false };

describe('--domain and --hosted-zone-id', () => {
  it('gives the domain settings, with the zone when one is chosen', () => {
    expect(parseDomainOptions({ ...none, domain: 'api.example.com' })).toEqual({
      domain: 'api.example.com',
    });
    expect(
      parseDomainOptions({ ...none, domain: 'api.example.com', hostedZoneId: 'Z1ABC' }),
    ).toEqual({ domain: 'api.example.com', hostedZoneId: 'Z1ABC' });
  });

  it('refuses --domain with --plain-http (a usage error, exit 2)', () => {
    expect(() => parseDomainOptions({ domain: 'api.example.com', plainHttp: true })).toThrow(
      UsageError,
    );
    expect(() => parseDomainOptions({ domain: 'api.example.com', plainHttp: true })).toThrow(
      '--domain api.example.com and --plain-http exclude each other',
    );
  });

  it('refuses --domain with --certificate-arn, naming what each one does', () => {
    expect(() =>
      parseDomainOptions({
        ...none,
        domain: 'api.example.com',
        certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc',
      }),
    ).toThrow(
      /--certificate-arn puts your own certificate on the load balancer with no CloudFront/,
    );
  });

  it('refuses --hosted-zone-id without --domain', () => {
    expect(() => parseDomainOptions({ ...none, hostedZoneId: 'Z1ABC' })).toThrow(
      '--hosted-zone-id Z1ABC chooses the zone of --domain',
    );
  });

  it('parses a zone id with or without the /hostedzone/ prefix, and refuses anything else', () => {
    expect(parseHostedZoneId('/hostedzone/Z1ABC')).toBe('Z1ABC');
    expect(parseHostedZoneId('Z1ABC')).toBe('Z1ABC');
    expect(() => parseHostedZoneId('z1abc!')).toThrow(InvalidArgumentError);
  });

  it("turns a bad name into commander's argument error (exit 2) with the reason", () => {
    expect(() => parseDomain('*.example.com')).toThrow(InvalidArgumentError);
    expect(() => parseDomain('*.example.com')).toThrow('wildcards are not supported');
  });
});
