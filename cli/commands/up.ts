import { Option, type Command } from 'commander';
import type { Reporter } from '../../provision/events.js';
import {
  nativePlatform,
  type ContainerEngine,
  type ImagePlatform,
} from '../../provision/resources/image/index.js';
import { stackFlags } from '../../provision/names.js';
import { errorMessage } from '../../provision/retry.js';
import { validateAlarmEmail } from '../../provision/resources/alarms/index.js';
import { validateTaskRange } from '../../provision/resources/autoscaling.js';
import { validateFargateSize } from '../../provision/resources/ecs/index.js';
import { validateToken } from '../../provision/token.js';
import {
  upGraph,
  upResult,
  type UpDomain,
  type UpResult,
  type UpSettings,
} from '../../provision/commands/up.js';
import type { DomainSettings } from '../../provision/resources/domain/index.js';
import type { CliCommand } from '../command.js';
import { UsageError } from '../errors.js';
import {
  parseCertificateArn,
  parseDomain,
  parseEngine,
  parseHostedZoneId,
  parsePlatform,
  parsePositiveInteger,
  type GlobalOptions,
} from '../options.js';
import type { Rendered } from '../output.js';
import { readStdin } from '../terminal.js';

interface UpOptions {
  tokenStdin: boolean;
  showToken: boolean;
  image?: string;
  engine: ContainerEngine;
  platform: ImagePlatform;
  certificateArn?: string;
  domain?: string;
  hostedZoneId?: string;
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

/**
 * --domain puts the name on CloudFront; --plain-http and --certificate-arn
 * both drop CloudFront, so neither combines with it.
 */
export function parseDomainOptions(
  options: Pick<UpOptions, 'domain' | 'hostedZoneId' | 'plainHttp' | 'certificateArn'>,
): DomainSettings | undefined {
  if (options.domain === undefined) {
    if (options.hostedZoneId !== undefined) {
      throw new UsageError(
        `--hosted-zone-id ${options.hostedZoneId} chooses the zone of --domain; give --domain NAME with it.`,
      );
    }
    return undefined;
  }
  if (options.plainHttp) {
    throw new UsageError(
      `--domain ${options.domain} and --plain-http exclude each other: the domain is served over ` +
        'HTTPS by CloudFront, which --plain-http turns off. Drop one of the two.',
    );
  }
  if (options.certificateArn !== undefined) {
    throw new UsageError(
      `--domain ${options.domain} and --certificate-arn exclude each other: --domain puts your name and ` +
        'a certificate it requests on CloudFront; --certificate-arn puts your own certificate on the load ' +
        'balancer with no CloudFront. Pick one (see "up --help").',
    );
  }
  return {
    domain: options.domain,
    ...(options.hostedZoneId === undefined ? {} : { hostedZoneId: options.hostedZoneId }),
  };
}

export interface UpCliSettings extends UpSettings {
  readonly showToken: boolean;
  /** Any of --cpu, --memory, --min-tasks, --max-tasks, --desired-count on the command line. */
  readonly sizesGiven: boolean;
}

const SIZE_OPTIONS = ['cpu', 'memory', 'minTasks', 'maxTasks', 'desiredCount'];

/**
 * Each up states the whole shape: a size not given is its default, not the
 * stack's current value (see UP_HELP, "Sizes"). A dry run says so.
 */
export function upPlanNote(settings: Pick<UpCliSettings, 'sizesGiven'>): string | undefined {
  if (settings.sizesGiven) return undefined;
  return (
    `Sizes not given are the defaults (--cpu 256 --memory 512, ${DEFAULT_MIN_TASKS} to ${DEFAULT_MAX_TASKS} tasks), ` +
    'whatever the stack has now: give --desired-count, --min-tasks/--max-tasks, --cpu or --memory on every up to keep other values.'
  );
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
  const domain = parseDomainOptions(options);
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
    ...(domain === undefined ? {} : { domain }),
    cpu: options.cpu,
    memory: options.memory,
    ...range,
    ...(options.alarmEmail === undefined ? {} : { alarmEmail: options.alarmEmail }),
    timeoutMs: globals.timeout * 60_000,
    verify: options.verify,
    showToken: options.showToken,
    sizesGiven: SIZE_OPTIONS.some((name) => command.getOptionValueSource(name) === 'cli'),
    ...(initialToken === undefined ? {} : { initialToken }),
  };
}

function domainLine(domain: UpDomain): string {
  if (domain.zone !== undefined) {
    return `Domain: ${domain.name} (A and AAAA alias records in the Route 53 zone ${domain.zone}, certificate ${domain.certificateArn})`;
  }
  return (
    `Domain: ${domain.name} is served once your DNS provider has the record ` +
    `${domain.name}. CNAME ${domain.distributionDomain}. (until then, the distribution's own ` +
    `https://${domain.distributionDomain}/ works)`
  );
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
    ...(up.domain === undefined ? {} : { domain: up.domain }),
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
      '(the token is not printed; "npx iclinic-deploy token" prints it, "npx iclinic-deploy up --show-token" shows it here)',
    );
  }
  lines.push(
    up.minTasks === up.maxTasks
      ? `Tasks: always ${up.minTasks} (fixed size)`
      : `Tasks: ${up.minTasks} to ${up.maxTasks}, scaled on requests per task and CPU`,
  );
  if (up.alarmConfirmationMailedTo !== undefined) {
    lines.push(
      `AWS has mailed a confirmation link to ${up.alarmConfirmationMailedTo}: no alarm email arrives until it is clicked (check the spam folder; "npx iclinic-deploy status" shows whether it is confirmed).`,
    );
  }
  if (up.domain !== undefined) lines.push(domainLine(up.domain));
  if (settings.certificateArn !== undefined) {
    lines.push(
      `The certificate names your domain, not this address: point a DNS record (CNAME) of that domain at ${up.url.replace(/^https:\/\//, '')} and call https://<your domain>/ (until then, curl needs -k on this address).`,
    );
  }
  return { json, lines };
}

const UP_HELP = `
Examples:
  npx iclinic-deploy up --dry-run                      what would be created or changed; changes nothing
  npx iclinic-deploy up                                build, push and deploy (5-10 minutes the first time)
  npx iclinic-deploy up --region sa-east-1 --name demo a second copy in another region
  npx iclinic-deploy up --image REPO:TAG --platform linux/amd64   deploy an image built elsewhere
  npx iclinic-deploy up --min-tasks 2 --max-tasks 10   scale between 2 and 10 tasks with the load
  npx iclinic-deploy up --desired-count 1              always one task (the cheapest; no scaling)
  npx iclinic-deploy up --alarm-email ops@example.com  be told by email when targets fail or 5xx rise
  npx iclinic-deploy up --domain api.example.com      your own name, certificate and DNS records

The service scales on requests per task (3000/min) and average CPU (60 %): out after 1 min
above target, in only after 5 min below it. Three alarms watch the stack: unhealthy targets, no
healthy target, and a target 5xx rate over 5 %; they notify the SNS topic <stack>-alarms.

How the API is reached:
  (default)               https://<id>.cloudfront.net/ through a CloudFront distribution, nothing
                          to own or configure; the load balancer admits only CloudFront. A new
                          distribution takes a few minutes to deploy (it overlaps the ECS
                          rollout), and "down" waits for it again to disable and delete it.
                          CloudFront's default certificate still accepts TLS 1.0/1.1 clients;
                          a TLS 1.2 floor needs your own domain.
  --domain NAME           https://NAME/ through the same CloudFront distribution: the tool
                          requests an ACM certificate for NAME (us-east-1) and, when a Route 53
                          public zone of the account holds NAME, writes the validation record
                          and the A/AAAA aliases itself (--hosted-zone-id picks the zone when
                          several could). Otherwise it prints the two CNAMEs to create at your
                          DNS provider and waits for the certificate up to --timeout. TLS 1.2+.
  --certificate-arn ARN   https://<your domain>/ on the load balancer's HTTPS listener with a
                          certificate you already have (point a CNAME at it); no CloudFront.
  --plain-http            http://<load balancer>/: no CloudFront, the token travels in clear text.

  Switching an existing stack to --plain-http or --certificate-arn deletes its distribution
  (a few minutes); a later up without them creates a new one, at a new address.

Sizes: every up states the whole shape. A size not given (--cpu, --memory, --min-tasks,
--max-tasks, --desired-count) is its default, not what the stack has now: a stack made with
--desired-count 1 goes back to 2-6 tasks on a plain up. This is on purpose: the same command
always gives the same stack, whatever was changed by hand, and the dry run shows any such change.

Safe to run again at any time: it finds what exists by name and tag, fixes what drifted,
and changes nothing when all is in place. After a Ctrl-C or an error, just run it again.
The final check through the URL waits at most 5 minutes (a new name resolving, the targets'
first health checks); it gives up sooner on a name that has not resolved for 2 minutes.`;

/** The order of the options is the order --help lists them in. */
function declareUp(program: Command): Command {
  return program
    .command('up')
    .description(
      'create or converge every resource, deploy the image, wait for the rollout and call the service',
    )
    .option(
      '--token-stdin',
      'read the initial token from stdin (used only when the secret does not exist yet)',
      false,
    )
    .option('--show-token', 'print the token at the end (it is never printed otherwise)', false)
    .option('--image <uri>', 'deploy this already pushed image instead of building one')
    .addOption(
      new Option(
        '--engine <engine>',
        'container engine that builds and pushes the image: docker, podman or finch',
      )
        .argParser(parseEngine)
        .default('docker'),
    )
    .addOption(
      new Option(
        '--platform <platform>',
        'image platform; the Fargate tasks use the same architecture: linux/amd64 or linux/arm64',
      )
        .argParser(parsePlatform)
        .default(nativePlatform(), `${nativePlatform()}, this machine's`),
    )
    .option(
      '--certificate-arn <arn>',
      'your own domain: HTTPS on the load balancer with this ACM certificate, HTTP redirects to it; no CloudFront (your domain already gives HTTPS)',
      parseCertificateArn,
    )
    .option(
      '--domain <name>',
      'your own name in front of CloudFront (e.g. api.example.com): an ACM certificate for it, its DNS records in your Route 53 zone (or printed for your DNS provider), https://<name>/',
      parseDomain,
    )
    .option(
      '--hosted-zone-id <id>',
      'the Route 53 public hosted zone for --domain when the account has several that could hold it',
      parseHostedZoneId,
    )
    .option(
      '--plain-http',
      'no CloudFront: plain HTTP on the load balancer (the token travels in clear text)',
      false,
    )
    .option(
      '--cpu <units>',
      'Fargate CPU units per task (256, 512, 1024, ...)',
      parsePositiveInteger('--cpu'),
      256,
    )
    .option(
      '--memory <MiB>',
      'memory per task in MiB; must be valid for --cpu',
      parsePositiveInteger('--memory'),
      512,
    )
    .option(
      '--min-tasks <n>',
      `fewest tasks the autoscaler keeps (default ${DEFAULT_MIN_TASKS}; at most --max-tasks)`,
      parsePositiveInteger('--min-tasks'),
    )
    .option(
      '--max-tasks <n>',
      `most tasks the autoscaler starts on load (default ${DEFAULT_MAX_TASKS}, or --min-tasks if higher); the Fargate vCPU quota is checked for twice this, the peak of a rolling deploy`,
      parsePositiveInteger('--max-tasks'),
    )
    .option(
      '--desired-count <n>',
      'a fixed number of tasks, no scaling (the same as --min-tasks N --max-tasks N; not combined with them)',
      parsePositiveInteger('--desired-count'),
    )
    .option(
      '--alarm-email <address>',
      'email the alarms (unhealthy targets, no healthy target, 5xx rate) to this address; AWS first mails it a confirmation link that must be clicked',
    )
    .option('--no-verify', 'skip the final request through the load balancer')
    .addHelpText('after', UP_HELP);
}

export const upCommand: CliCommand<UpCliSettings, UpResult> = {
  declare: declareUp,
  readsOnly: false,
  plans: true,
  planNote: upPlanNote,
  parse: parseUp,
  run: async (ctx, settings, tools) =>
    upResult((await tools.steps(upGraph(ctx, settings))).results),
  render: renderUp,
};
