import { InvalidArgumentError } from 'commander';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  CONTAINER_ENGINES,
  type ContainerEngine,
  type ImagePlatform,
} from '../provision/resources/image/index.js';
import { validateStackName, DEFAULT_STACK_NAME } from '../provision/names.js';
import { validateDomainName } from '../provision/resources/domain/name.js';
import { normalizeZoneId } from '../provision/resources/domain/zone.js';
import { errorMessage } from '../provision/retry.js';
import { UsageError } from './errors.js';

/** Parsers for commander: each says what it received and what it accepts. */

export function parseStackName(value: string): string {
  try {
    return validateStackName(value);
  } catch (error) {
    throw new InvalidArgumentError(errorMessage(error));
  }
}

const REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d{1,2}$/;

export function parseRegion(value: string): string {
  if (!REGION_PATTERN.test(value)) {
    throw new InvalidArgumentError(
      `"${value}" is not an AWS region code; use a code such as us-east-1 or sa-east-1.`,
    );
  }
  return value;
}

export const FALLBACK_REGION = 'us-east-1';

export interface ResolvedRegion {
  readonly region: string;
  /** Where it came from, for messages about a bad value. */
  readonly source: string;
}

/** The region the SDK finds in the shared config files for a profile, if any. */
export async function sharedConfigRegion(profile: string | undefined): Promise<string | undefined> {
  const { STSClient } = await import('@aws-sdk/client-sts');
  const client = new STSClient(profile === undefined ? {} : { profile });
  try {
    return await client.config.region();
  } catch {
    return undefined;
  } finally {
    client.destroy();
  }
}

/**
 * The AWS CLI's order, so the region a user set with "aws configure" is the
 * one the tool uses: --region, AWS_REGION, AWS_DEFAULT_REGION, the profile's
 * region in ~/.aws/config, then us-east-1.
 */
export async function resolveRegion(
  flag: string | undefined,
  profile: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  fromConfig: (profile: string | undefined) => Promise<string | undefined> = sharedConfigRegion,
): Promise<ResolvedRegion> {
  const candidates: [string | undefined, string][] = [
    [flag, '--region'],
    [env.AWS_REGION, 'AWS_REGION'],
    [env.AWS_DEFAULT_REGION, 'AWS_DEFAULT_REGION'],
  ];
  let found = candidates.find(([value]) => value !== undefined && value !== '');
  if (found === undefined) {
    const configured = await fromConfig(profile);
    if (configured !== undefined && configured !== '') {
      found = [
        configured,
        `the region of profile "${profile ?? env.AWS_PROFILE ?? 'default'}" in ~/.aws/config`,
      ];
    }
  }
  const [value, source] = found ?? [FALLBACK_REGION, 'the default'];
  try {
    return { region: parseRegion(value ?? FALLBACK_REGION), source };
  } catch (error) {
    throw new InvalidArgumentError(`${errorMessage(error)} (from ${source})`);
  }
}

/** The shared files the SDK reads, where the AWS CLI's docs put them (or their variables say). */
export function sharedFiles(env: NodeJS.ProcessEnv = process.env): {
  config: string;
  credentials: string;
} {
  const home = homedir();
  return {
    config: env.AWS_CONFIG_FILE || join(home, '.aws', 'config'),
    credentials: env.AWS_SHARED_CREDENTIALS_FILE || join(home, '.aws', 'credentials'),
  };
}

function sections(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split(/\r?\n/)
    .map((line) => /^\s*\[\s*([^\]]+?)\s*\]\s*$/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
}

/**
 * A profile named with --profile or AWS_PROFILE must be in one of the shared
 * files: "[profile NAME]" (or "[default]") in config, "[NAME]" in
 * credentials (https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-files.html#cli-configure-files-format).
 * Otherwise the SDK fails later with "Could not load credentials from any
 * providers", which does not say the name was wrong.
 */
export function checkProfile(profile: string, env: NodeJS.ProcessEnv = process.env): void {
  const files = sharedFiles(env);
  const inConfig = sections(files.config)
    .map((name) => (name === 'default' ? name : /^profile\s+(.+)$/.exec(name)?.[1]))
    .filter((name): name is string => name !== undefined);
  const inCredentials = sections(files.credentials);
  const known = [...new Set([...inConfig, ...inCredentials])];
  if (known.includes(profile)) return;
  const source = env.AWS_PROFILE === profile ? 'AWS_PROFILE' : '--profile';
  throw new UsageError(
    `The profile "${profile}" (from ${source}) is in neither ${files.config} nor ${files.credentials}, the files the AWS SDK reads. ` +
      (known.length > 0
        ? `Profiles found there: ${known.join(', ')}. `
        : 'No profile was found there. ') +
      `Create it with "aws configure sso --profile ${profile}" (or "aws configure --profile ${profile}"), or pass one of those.`,
  );
}

export function parsePositiveInteger(name: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed <= 0) {
      throw new InvalidArgumentError(
        `${name} must be a positive whole number; received "${value}".`,
      );
    }
    return parsed;
  };
}

export function parseTimeoutMinutes(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 1 || parsed > 180) {
    throw new InvalidArgumentError(
      `--timeout is in minutes, between 1 and 180; received "${value}".`,
    );
  }
  return parsed;
}

export function parseEngine(value: string): ContainerEngine {
  if (!(CONTAINER_ENGINES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(
      `--engine must be one of ${CONTAINER_ENGINES.join(', ')}; received "${value}".`,
    );
  }
  return value as ContainerEngine;
}

export function parsePlatform(value: string): ImagePlatform {
  if (value !== 'linux/amd64' && value !== 'linux/arm64') {
    throw new InvalidArgumentError(
      `--platform must be linux/amd64 or linux/arm64; received "${value}".`,
    );
  }
  return value;
}

const CERTIFICATE_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]+$/;

export function parseCertificateArn(value: string): string {
  if (!CERTIFICATE_ARN.test(value)) {
    throw new InvalidArgumentError(
      `--certificate-arn must be an ACM certificate ARN (arn:aws:acm:REGION:ACCOUNT:certificate/ID); received "${value}".`,
    );
  }
  return value;
}

export function parseDomain(value: string): string {
  try {
    return validateDomainName(value);
  } catch (error) {
    throw new InvalidArgumentError(errorMessage(error));
  }
}

// Route 53 hosted zone ids: upper-case letters and digits, up to 32
// characters (https://docs.aws.amazon.com/Route53/latest/APIReference/API_HostedZone.html).
const HOSTED_ZONE_ID = /^[A-Z0-9]{1,32}$/;

export function parseHostedZoneId(value: string): string {
  const id = normalizeZoneId(value);
  if (!HOSTED_ZONE_ID.test(id)) {
    throw new InvalidArgumentError(
      `--hosted-zone-id must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ (or /hostedzone/Z...); received "${value}".`,
    );
  }
  return id;
}

/** Durations like 90s, 5m, 1h or 0; a bare number means seconds. */
export function parseDurationMs(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (match === null) {
    throw new InvalidArgumentError(
      `"${value}" is not a duration; use forms like 0, 30s, 5m or 1h.`,
    );
  }
  const amount = Number(match[1]);
  const unit = match[2] ?? 's';
  const factor = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[unit] ?? 1_000;
  const ms = Math.round(amount * factor);
  if (ms > 24 * 3_600_000)
    throw new InvalidArgumentError(`The duration "${value}" is longer than 24 hours.`);
  return ms;
}

export interface GlobalOptions {
  region: string;
  profile?: string;
  name: string;
  json: boolean;
  yes: boolean;
  dryRun: boolean;
  /** Every change under its step in the progress output. */
  verbose: boolean;
  timeout: number;
}

export const DEFAULTS = { name: DEFAULT_STACK_NAME, timeoutMinutes: 20 };
