import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { describeError } from '../../../cli/errors.js';
import { parseStackName } from '../../../cli/options.js';
import { parseUp } from '../../../cli/commands/up.js';
import { EngineUnavailableError } from '../../../provision/resources/image/index.js';
import { CloudFrontAccountNotVerifiedError } from '../../../provision/resources/cloudfront/index.js';
import { silentReporter } from '../../../provision/events.js';
import { parsedCommand } from '../support/program.js';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { checkCredentials } from '../../../provision/commands/up.js';
import { testContext } from '../support/context.js';

const setting = { region: 'us-east-1', env: {} };

function networkError(code: string, host: string): Error {
  return Object.assign(new Error(`getaddrinfo ${code} ${host}`), { code });
}

describe('describeError', () => {
  it('words missing credentials once: what the SDK said and how to configure them', () => {
    const error = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    expect(describeError(error, setting)).toBe(
      'No usable AWS credentials (the SDK said: "Could not load credentials from any providers"). ' +
        'Configure them with "aws configure sso" (then pass --profile NAME), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, ' +
        'and check them with "aws sts get-caller-identity".',
    );
  });

  it("words a credentials failure in up's preflight once, not wrapped twice", async () => {
    const { ctx, mocks } = testContext();
    mocks.sts.on(GetCallerIdentityCommand).rejects(
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
    );
    const error = await checkCredentials(ctx).catch((e: unknown) => e);
    const text = describeError(error, setting);
    expect(text).toBe(
      'No usable AWS credentials (the SDK said: "Could not load credentials from any providers"). ' +
        'Configure them with "aws configure sso" (then pass --profile NAME), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, ' +
        'and check them with "aws sts get-caller-identity".',
    );
  });

  it('tells an expired SSO session to sign in again with the profile in use', () => {
    const error = Object.assign(
      new Error(
        'The SSO session associated with this profile has expired. To refresh this SSO session run aws sso login with the corresponding profile.',
      ),
      { name: 'CredentialsProviderError' },
    );
    expect(describeError(error, { ...setting, profile: 'work' })).toBe(
      'The AWS SSO session has expired (the SDK said: "The SSO session associated with this profile has expired. ' +
        'To refresh this SSO session run aws sso login with the corresponding profile."). ' +
        'Sign in again with "aws sso login --profile work", then run the command again.',
    );
  });

  it('treats keys STS does not know as a credentials problem', () => {
    const error = Object.assign(
      new Error('The security token included in the request is invalid.'),
      { name: 'InvalidClientTokenId' },
    );
    expect(describeError(error, setting)).toMatch(
      /^No usable AWS credentials \(the SDK said: "The security token/,
    );
  });

  it('points at the region when its endpoint has no DNS name', () => {
    const text = describeError(networkError('ENOTFOUND', 'ecs.us-east-9.amazonaws.com'), {
      region: 'us-east-9',
      env: {},
    });
    expect(text).toBe(
      'Could not reach AWS in region "us-east-9" (getaddrinfo ENOTFOUND ecs.us-east-9.amazonaws.com). ' +
        'Check that "us-east-9" is a real AWS region enabled for your account (--region, AWS_REGION), and your network or proxy.',
    );
  });

  it('names AWS_ENDPOINT_URL when it is set and unreachable', () => {
    const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), {
      code: 'ECONNREFUSED',
    });
    expect(
      describeError(error, {
        region: 'us-east-1',
        env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
      }),
    ).toBe(
      'Could not reach the endpoint AWS_ENDPOINT_URL=http://127.0.0.1:9 (connect ECONNREFUSED 127.0.0.1:9). ' +
        'Check your network, proxy or VPN, and try again.',
    );
  });

  it('says the container engine is not running and how to do without it', () => {
    const error = new EngineUnavailableError('docker', 'Cannot connect to the Docker daemon');
    expect(describeError(error, setting)).toBe(
      'The container engine "docker" is not usable: Cannot connect to the Docker daemon. ' +
        'Install and start Docker (or pass --engine podman / --engine finch), ' +
        'or deploy an image that is already pushed with --image <uri>.',
    );
  });

  it("words CloudFront's refusal of an unverified account once: the library's text, not wrapped again", () => {
    const error = new CloudFrontAccountNotVerifiedError(
      'iclinic',
      'Your account must be verified before you can add new CloudFront resources.',
    );
    const text = describeError(error, setting);
    expect(text).toBe(error.message);
  });

  it('leaves alone an error that only mentions a network failure it wrapped', () => {
    const wrapped = new Error(
      'The token was NOT changed: getaddrinfo ENOTFOUND iclinic-alb-1.us-east-1.elb.amazonaws.com',
    );
    expect(describeError(wrapped, setting)).toBe(wrapped.message);
  });
});

describe('usage errors', () => {
  it('refuses an invalid stack name with the value and the rule', () => {
    let error: unknown;
    try {
      parseStackName('My_Stack');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toBe(
      'Invalid stack name "My_Stack": use 1-24 characters, lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen (e.g. "iclinic-staging").',
    );
  });

  it('refuses a Fargate size AWS does not offer, with the sizes it does', async () => {
    const command = parsedCommand('up', ['--cpu', '256', '--memory', '4096']);
    const globals = {
      region: 'us-east-1',
      name: 'iclinic',
      json: false,
      yes: false,
      dryRun: false,
      verbose: false,
      timeout: 20,
    };
    await expect(parseUp(command, globals, silentReporter)).rejects.toThrow(
      /^Invalid Fargate memory 4096 MiB for 256 CPU units: with 256 CPU Fargate accepts 512, 1024, 2048 MiB\. Change the memory setting to one of these, or pick another CPU size\.$/,
    );
  });
});
