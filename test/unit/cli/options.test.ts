import { InvalidArgumentError } from 'commander';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  checkProfile,
  parseCertificateArn,
  parseDurationMs,
  parseEngine,
  parsePlatform,
  parsePositiveInteger,
  parseRegion,
  parseStackName,
  parseTimeoutMinutes,
  resolveRegion,
  sharedConfigRegion,
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

describe('resolveRegion', () => {
  const noConfig = async () => undefined;
  const configured = (region: string) => async () => region;

  it('takes --region over every other source', async () => {
    const resolved = await resolveRegion(
      'eu-west-1',
      undefined,
      { AWS_REGION: 'sa-east-1' },
      configured('us-west-2'),
    );
    expect(resolved).toEqual({ region: 'eu-west-1', source: '--region' });
  });

  it('prefers AWS_REGION over AWS_DEFAULT_REGION', async () => {
    const resolved = await resolveRegion(
      undefined,
      undefined,
      { AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'sa-east-1' },
      noConfig,
    );
    expect(resolved.region).toBe('eu-west-1');
  });

  it('uses the region "aws configure" wrote for the profile when no variable is set', async () => {
    const resolved = await resolveRegion(undefined, 'work', {}, configured('sa-east-1'));
    expect(resolved.region).toBe('sa-east-1');
    expect(resolved.source).toContain('"work"');
  });

  it('falls back to us-east-1 when nothing names a region', async () => {
    expect((await resolveRegion(undefined, undefined, {}, noConfig)).region).toBe('us-east-1');
  });

  it('says where a malformed region came from', async () => {
    await expect(
      resolveRegion(undefined, undefined, { AWS_REGION: 'Brazil' }, noConfig),
    ).rejects.toThrow(/"Brazil".*from AWS_REGION/);
  });
});

describe('sharedConfigRegion', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  function configFile(text: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'iclinic-aws-config-'));
    const path = join(dir, 'config');
    writeFileSync(path, text);
    return path;
  }

  it("reads the named profile's region from the AWS config file", async () => {
    delete process.env.AWS_REGION;
    process.env.AWS_CONFIG_FILE = configFile(
      '[default]\nregion = us-west-2\n[profile work]\nregion = sa-east-1\n',
    );
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/dev/null';
    expect(await sharedConfigRegion('work')).toBe('sa-east-1');
    expect(await sharedConfigRegion(undefined)).toBe('us-west-2');
  });

  it('returns undefined when the file names no region', async () => {
    delete process.env.AWS_REGION;
    delete process.env.AWS_PROFILE;
    process.env.AWS_CONFIG_FILE = configFile('[default]\noutput = json\n');
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/dev/null';
    expect(await sharedConfigRegion(undefined)).toBeUndefined();
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

describe('checkProfile', () => {
  function files(config: string, credentials: string) {
    const dir = mkdtempSync(join(tmpdir(), 'iclinic-aws-files-'));
    writeFileSync(join(dir, 'config'), config);
    writeFileSync(join(dir, 'credentials'), credentials);
    return {
      AWS_CONFIG_FILE: join(dir, 'config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
    };
  }

  it('says a profile is in neither file, which files it read and which profiles are there', () => {
    const env = files('[default]\nregion = us-east-1\n[profile work]\n', '[ci]\n');
    expect(() => checkProfile('nosuch', env)).toThrow(
      `The profile "nosuch" (from --profile) is in neither ${env.AWS_CONFIG_FILE} nor ${env.AWS_SHARED_CREDENTIALS_FILE}, ` +
        'the files the AWS SDK reads. Profiles found there: default, work, ci.',
    );
  });

  it('accepts a profile of either file', () => {
    const env = files('[profile work]\nsso_session = x\n', '[ci]\naws_access_key_id = x\n');
    expect(() => checkProfile('work', env)).not.toThrow();
    expect(() => checkProfile('ci', env)).not.toThrow();
  });
});
