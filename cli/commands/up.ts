import type { Command } from 'commander';
import type { Reporter } from '../../provision/events.js';
import type { ContainerEngine, ImagePlatform } from '../../provision/resources/image.js';
import { stackFlags } from '../../provision/names.js';
import { errorMessage } from '../../provision/retry.js';
import { validateFargateSize } from '../../provision/resources/ecs/index.js';
import { validateToken } from '../../provision/token.js';
import { upGraph, upResult, type UpResult, type UpSettings } from '../../provision/commands/up.js';
import type { CliCommand } from '../command.js';
import { UsageError } from '../errors.js';
import type { GlobalOptions } from '../options.js';
import type { Rendered } from '../output.js';
import { readStdin } from '../terminal.js';

interface UpOptions {
  tokenStdin: boolean;
  showToken: boolean;
  image?: string;
  engine: ContainerEngine;
  platform: ImagePlatform;
  certificateArn?: string;
  plainHttp: boolean;
  cpu: number;
  memory: number;
  desiredCount: number;
  verify: boolean;
}

export const PLAIN_HTTP_WARNING =
  '--plain-http: the API is served over plain HTTP by the load balancer, so the token travels in ' +
  'clear text and anyone on the path can read it. Run "up" without --plain-http for HTTPS through CloudFront.';

export interface UpCliSettings extends UpSettings {
  readonly showToken: boolean;
}

export async function parseUp(
  command: Command,
  globals: GlobalOptions,
  report: Reporter,
): Promise<UpCliSettings> {
  const options = command.opts<UpOptions>();
  try {
    validateFargateSize(options.cpu, options.memory);
  } catch (error) {
    throw new UsageError(errorMessage(error));
  }
  if (options.image !== undefined && command.getOptionValueSource('platform') === 'default') {
    throw new UsageError(
      `--image needs --platform: say which architecture ${options.image} was built for (linux/amd64 or linux/arm64). ` +
        'The Fargate tasks run on that architecture; a mismatch makes every task fail with "exec format error".',
    );
  }
  if (options.plainHttp && options.certificateArn !== undefined) {
    throw new UsageError(
      `--plain-http and --certificate-arn ${options.certificateArn} contradict each other: the certificate ` +
        'gives the load balancer an HTTPS listener. Drop one of the two.',
    );
  }
  if (options.plainHttp) report.warn(PLAIN_HTTP_WARNING);
  let initialToken: string | undefined;
  if (options.tokenStdin) {
    initialToken = await readStdin();
    for (const warning of validateToken(initialToken).warnings) report.warn(warning);
  }
  return {
    ...(options.image === undefined ? {} : { image: options.image }),
    engine: options.engine,
    platform: options.platform,
    ...(options.certificateArn === undefined ? {} : { certificateArn: options.certificateArn }),
    cloudFront: !options.plainHttp && options.certificateArn === undefined,
    cpu: options.cpu,
    memory: options.memory,
    desiredCount: options.desiredCount,
    timeoutMs: globals.timeout * 60_000,
    verify: options.verify,
    showToken: options.showToken,
    ...(initialToken === undefined ? {} : { initialToken }),
  };
}

/** The URL, how to call it, and the token only when asked for. */
export function renderUp(
  up: UpResult,
  settings: Pick<UpCliSettings, 'showToken' | 'certificateArn'>,
  globals: Pick<GlobalOptions, 'name' | 'region'>,
): Rendered {
  const token = settings.showToken ? up.token : undefined;
  const json = {
    url: up.url,
    image: up.imageUri,
    taskDefinition: up.taskDefinitionArn,
    deploymentId: up.deploymentId,
    verified: up.verified,
    ...(token === undefined ? {} : { token }),
  };
  const lines = [
    '',
    up.verified
      ? `The API is up at ${up.url}/`
      : `The API is deployed at ${up.url}/ (not checked: --no-verify)`,
  ];
  if (token !== undefined) {
    lines.push(`Token: ${token}`, `Try it:  curl -H "Authorization: Token ${token}" ${up.url}/`);
  } else {
    lines.push(
      `Try it:  curl -H "Authorization: Token $(npx iclinic-deploy token${stackFlags(globals.name, globals.region)})" ${up.url}/`,
      '(the token is not printed; "iclinic-deploy token" prints it, "up --show-token" shows it here)',
    );
  }
  if (settings.certificateArn !== undefined) {
    lines.push(
      `The certificate names your domain, not this address: point a DNS record (CNAME) of that domain at ${up.url.replace(/^https:\/\//, '')} and call https://<your domain>/ (until then, curl needs -k on this address).`,
    );
  }
  return { json, lines };
}

export const upCommand: CliCommand<UpCliSettings, UpResult> = {
  readsOnly: false,
  plans: true,
  parse: parseUp,
  run: async (ctx, settings, tools) =>
    upResult((await tools.steps(upGraph(ctx, settings))).results),
  render: renderUp,
};
