import type { Command } from 'commander';
import type { Reporter } from '../../provision/events.js';
import type { ContainerEngine, ImagePlatform } from '../../provision/resources/image/index.js';
import { stackFlags } from '../../provision/names.js';
import { errorMessage } from '../../provision/retry.js';
import { validateAlarmEmail } from '../../provision/resources/alarms/index.js';
import { validateTaskRange } from '../../provision/resources/autoscaling.js';
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
  desiredCount?: number;
  minTasks?: number;
  maxTasks?: number;
  alarmEmail?: string;
  verify: boolean;
}

export const DEFAULT_MIN_TASKS = 2;
export const DEFAULT_MAX_TASKS = 6;

/**
 * --desired-count N is the fixed-size case: the scaler's range becomes N-N.
 * With --min-tasks or --max-tasks too it would be ambiguous, so it is a
 * usage error rather than a silent precedence rule.
 */
export function taskRange(options: Pick<UpOptions, 'desiredCount' | 'minTasks' | 'maxTasks'>): {
  minTasks: number;
  maxTasks: number;
} {
  if (options.desiredCount !== undefined) {
    if (options.minTasks !== undefined || options.maxTasks !== undefined) {
      throw new UsageError(
        `--desired-count ${options.desiredCount} fixes the size; it cannot be combined with --min-tasks or --max-tasks. ` +
          'Give either --desired-count N (always N tasks) or --min-tasks N --max-tasks M (autoscaling between them).',
      );
    }
    return { minTasks: options.desiredCount, maxTasks: options.desiredCount };
  }
  const minTasks = options.minTasks ?? Math.min(DEFAULT_MIN_TASKS, options.maxTasks ?? Infinity);
  const maxTasks = options.maxTasks ?? Math.max(DEFAULT_MAX_TASKS, minTasks);
  try {
    validateTaskRange(minTasks, maxTasks);
  } catch (error) {
    throw new UsageError(errorMessage(error));
  }
  return { minTasks, maxTasks };
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
  const range = taskRange(options);
  if (options.alarmEmail !== undefined) {
    try {
      validateAlarmEmail(options.alarmEmail);
    } catch (error) {
      throw new UsageError(errorMessage(error));
    }
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
    ...range,
    ...(options.alarmEmail === undefined ? {} : { alarmEmail: options.alarmEmail }),
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
    tasks: { min: up.minTasks, max: up.maxTasks },
    alarmTopic: up.alarmTopicArn,
    ...(up.alarmConfirmationMailedTo === undefined
      ? {}
      : { alarmConfirmationMailedTo: up.alarmConfirmationMailedTo }),
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
  lines.push(
    up.minTasks === up.maxTasks
      ? `Tasks: always ${up.minTasks} (fixed size)`
      : `Tasks: ${up.minTasks} to ${up.maxTasks}, scaled on requests per task and CPU`,
  );
  if (up.alarmConfirmationMailedTo !== undefined) {
    lines.push(
      `AWS has mailed a confirmation link to ${up.alarmConfirmationMailedTo}: no alarm email arrives until it is clicked (check the spam folder; "iclinic-deploy status" shows whether it is confirmed).`,
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
