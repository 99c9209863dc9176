/**
 * Every error a user reads is worded here, once: what was wrong, the value
 * received, and how to fix it. The library throws the SDK's errors (or its
 * own, already explicit ones) as they are; only this module adds advice, so
 * no message is wrapped twice.
 */
import { errorCode, errorMessage, unreachableCode } from '../provision/retry.js';

/** A mistake on the command line: exit code 2, nothing was called. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface ErrorSetting {
  readonly region: string;
  readonly profile?: string;
  readonly env?: NodeJS.ProcessEnv;
}

// The SDK's credential chain fails with CredentialsProviderError; an expired
// SSO token surfaces as TokenProviderError (@aws-sdk/token-providers) or as a
// CredentialsProviderError saying the SSO session expired
// (@aws-sdk/credential-provider-sso). STS refuses keys it does not know with
// InvalidClientTokenId and expired session keys with ExpiredToken
// (https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html).
const CREDENTIALS_CODES = [
  'CredentialsProviderError',
  'TokenProviderError',
  'InvalidClientTokenId',
  'ExpiredToken',
  'ExpiredTokenException',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
];

const SSO_EXPIRED = /SSO session .*(expired|invalid)|Token is expired/i;

function profileFlag(setting: ErrorSetting): string {
  const profile = setting.profile ?? setting.env?.AWS_PROFILE;
  return profile === undefined || profile === '' ? '' : ` --profile ${profile}`;
}

function credentialsMessage(error: unknown, setting: ErrorSetting): string {
  const said = errorMessage(error);
  const flag = profileFlag(setting);
  if (SSO_EXPIRED.test(said)) {
    return (
      `The AWS SSO session has expired (the SDK said: "${said}"). ` +
      `Sign in again with "aws sso login${flag}", then run the command again.`
    );
  }
  return (
    `No usable AWS credentials (the SDK said: "${said}"). ` +
    'Configure them with "aws configure sso" (then pass --profile NAME), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, ' +
    `and check them with "aws sts get-caller-identity${flag}".`
  );
}

function unreachableMessage(error: unknown, code: string, setting: ErrorSetting): string {
  const endpoint = setting.env?.AWS_ENDPOINT_URL;
  const custom = endpoint !== undefined && endpoint !== '';
  const where = custom
    ? `the endpoint AWS_ENDPOINT_URL=${endpoint}`
    : `AWS in region "${setting.region}"`;
  const advice =
    code === 'ENOTFOUND' && !custom
      ? `Check that "${setting.region}" is a real AWS region enabled for your account (--region, AWS_REGION), and your network or proxy.`
      : 'Check your network, proxy or VPN, and try again.';
  return `Could not reach ${where} (${errorMessage(error)}). ${advice}`;
}

/** The one text the user reads for an error that ended the command. */
export function describeError(error: unknown, setting: ErrorSetting): string {
  if (CREDENTIALS_CODES.includes(errorCode(error))) return credentialsMessage(error, setting);
  const code = unreachableCode(error);
  if (code !== undefined) return unreachableMessage(error, code, setting);
  return errorMessage(error);
}
