import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  defaultRegion,
  parseCertificateArn,
  parseDurationMs,
  parseEngine,
  parsePlatform,
  parsePositiveInteger,
  parseRegion,
  parseStackName,
  parseTimeoutMinutes,
} from '../../../cli/options.js';

describe('parseDurationMs', () => {
  it.each([
    ['0', 0],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1.5m', 90_000],
    ['90', 90_000],
    ['250ms', 250],
    ['24h', 86_400_000],
    [' 10s ', 10_000],
  ])('parses %j as %d ms', (value, expected) => {
    expect(parseDurationMs(value)).toBe(expected);
  });

  it.each(['abc', '5x', '-5s', '', '1.5.2m', 's'])(
    'rejects %j with a message naming the value',
    (value) => {
      expect(() => parseDurationMs(value)).toThrow(InvalidArgumentError);
      expect(() => parseDurationMs(value)).toThrow(`"${value}" is not a duration`);
    },
  );

  it('rejects a duration longer than 24 hours', () => {
    expect(() => parseDurationMs('25h')).toThrow(/"25h" is longer than 24 hours/);
  });

  it('rejects 24 hours plus one second', () => {
    expect(() => parseDurationMs('86401s')).toThrow(/longer than 24 hours/);
  });
});

describe('parseRegion', () => {
  it.each(['us-east-1', 'sa-east-1', 'eu-central-2', 'us-gov-west-1', 'ap-southeast-4'])(
    'accepts %s',
    (value) => {
      expect(parseRegion(value)).toBe(value);
    },
  );

  it.each(['US-EAST-1', 'us-east', 'useast1', 'us-east-1a', ''])(
    'rejects %j with a message naming the value',
    (value) => {
      expect(() => parseRegion(value)).toThrow(InvalidArgumentError);
      expect(() => parseRegion(value)).toThrow(`"${value}" is not an AWS region code`);
    },
  );
});

describe('defaultRegion', () => {
  it('prefers AWS_REGION over AWS_DEFAULT_REGION', () => {
    expect(defaultRegion({ AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'sa-east-1' })).toBe(
      'eu-west-1',
    );
  });

  it('falls back to us-east-1 when no variable is set', () => {
    expect(defaultRegion({})).toBe('us-east-1');
  });
});

describe('parseStackName', () => {
  it('accepts a valid stack name', () => {
    expect(parseStackName('iclinic-staging')).toBe('iclinic-staging');
  });

  it.each(['Iclinic', 'bad_name', '-lead', 'trail-', 'a--b', 'x'.repeat(25)])(
    'rejects %j with a message containing the received value',
    (value) => {
      expect(() => parseStackName(value)).toThrow(InvalidArgumentError);
      expect(() => parseStackName(value)).toThrow(JSON.stringify(value));
    },
  );
});

describe('parsePlatform', () => {
  it.each(['linux/amd64', 'linux/arm64'])('accepts %s', (value) => {
    expect(parsePlatform(value)).toBe(value);
  });

  it('rejects another platform naming it', () => {
    expect(() => parsePlatform('linux/386')).toThrow(/received "linux\/386"/);
  });
});

describe('parseEngine', () => {
  it.each(['docker', 'podman', 'finch'])('accepts %s', (value) => {
    expect(parseEngine(value)).toBe(value);
  });

  it('rejects an unknown engine listing the accepted ones', () => {
    expect(() => parseEngine('nerdctl')).toThrow(
      /one of docker, podman, finch; received "nerdctl"/,
    );
  });
});

describe('parseCertificateArn', () => {
  it('accepts an ACM certificate ARN', () => {
    const arn =
      'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789';
    expect(parseCertificateArn(arn)).toBe(arn);
  });

  it('accepts a GovCloud ACM certificate ARN', () => {
    const arn = 'arn:aws-us-gov:acm:us-gov-west-1:123456789012:certificate/0a1b2c3d';
    expect(parseCertificateArn(arn)).toBe(arn);
  });

  it.each([
    'arn:aws:iam::123456789012:server-certificate/x',
    'arn:aws:acm:us-east-1:1234:certificate/abc',
    'not-an-arn',
  ])('rejects %j naming it', (value) => {
    expect(() => parseCertificateArn(value)).toThrow(`received "${value}"`);
  });
});

describe('parseTimeoutMinutes', () => {
  it.each([
    ['20', 20],
    ['1', 1],
    ['180', 180],
  ])('parses %j as %d', (value, expected) => {
    expect(parseTimeoutMinutes(value)).toBe(expected);
  });

  it.each(['0', '-1', '181', 'abc', 'Infinity'])('rejects %j naming it', (value) => {
    expect(() => parseTimeoutMinutes(value)).toThrow(`received "${value}"`);
  });
});

describe('parsePositiveInteger', () => {
  it('parses a positive whole number', () => {
    expect(parsePositiveInteger('--count')('3')).toBe(3);
  });

  it.each(['0', '1.5', 'two'])('rejects %j naming the option and the value', (value) => {
    expect(() => parsePositiveInteger('--count')(value)).toThrow(
      `--count must be a positive whole number; received "${value}".`,
    );
  });
});
