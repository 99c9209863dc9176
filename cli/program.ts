import { Command, Option } from 'commander';
import { createRequire } from 'node:module';
import { runCommand } from './run.js';
import {
  DEFAULTS,
  parseCertificateArn,
  parseDurationMs,
  parseEngine,
  parsePlatform,
  parsePositiveInteger,
  parseRegion,
  parseStackName,
  parseTimeoutMinutes,
} from './options.js';
import { nativePlatform } from '../provision/image.js';

const require = createRequire(import.meta.url);
const { version } = require('../../package.json') as { version: string };

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('iclinic-deploy')
    .description(
      'Deploys the token-protected iClinic API to AWS Fargate behind a load balancer, rotates its token, and removes everything again.\n' +
        'Credentials come from the AWS SDK default chain (environment, ~/.aws, SSO, instance role).',
    )
    .version(version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .addOption(
      new Option(
        '--region <region>',
        "AWS region (default: $AWS_REGION, $AWS_DEFAULT_REGION, the profile's region in ~/.aws/config, else us-east-1)",
      ).argParser(parseRegion),
    )
    .option(
      '--profile <profile>',
      'named profile from ~/.aws/config (default: $AWS_PROFILE or the default chain)',
    )
    .option(
      '--name <stack>',
      'stack name, used in every resource name and tag; lets you run a second copy',
      parseStackName,
      DEFAULTS.name,
    )
    .option(
      '--json',
      'print a machine-readable record of the run (steps, AWS call counts) on stdout',
      false,
    )
    .option('--yes', 'do not ask for confirmation before destructive steps', false)
    .option('--dry-run', 'print the plan and exit without calling AWS', false)
    .option(
      '--timeout <minutes>',
      'give up waiting for AWS after this many minutes',
      parseTimeoutMinutes,
      DEFAULTS.timeoutMinutes,
    )
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      `
Examples:
  npx iclinic-deploy up                      create or converge everything, then print the URL
  npx iclinic-deploy status                  what exists, URL, tasks, target health, token age
  npx iclinic-deploy set-token --generate    rotate the token with no failed requests
  npx iclinic-deploy down --yes              remove every resource of the stack
  npx iclinic-deploy policy > policy.json    IAM policy the deployer needs`,
    );

  program
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
      'ACM certificate for an HTTPS listener; HTTP then redirects to HTTPS',
      parseCertificateArn,
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
    .option('--desired-count <n>', 'number of tasks', parsePositiveInteger('--desired-count'), 2)
    .option('--no-verify', 'skip the final request through the load balancer')
    .action(async (_options: unknown, command: Command) => runCommand('up', command));

  program
    .command('status')
    .description(
      'show what exists and what is missing, the URL, running/desired tasks, the image, target health and token age',
    )
    .action(async (_options: unknown, command: Command) => runCommand('status', command));

  program
    .command('set-token')
    .description(
      'change the token: new secret version, rolling deployment, verification; the old token keeps working for --grace',
    )
    .argument(
      '[value]',
      'the new token, or "-" to read it from stdin (keeps it out of shell history)',
    )
    .option('--generate', 'generate a strong random token and print it once', false)
    .option(
      '--grace <duration>',
      'how long the previous token stays valid once the new tasks run (e.g. 0, 30s, 5m)',
      parseDurationMs,
      5 * 60_000,
    )
    .option('--show-token', 'print the new token even when it was given', false)
    .option('--no-verify', 'skip the requests through the load balancer after the rollout')
    .action(async (_value: string | undefined, _options: unknown, command: Command) =>
      runCommand('set-token', command),
    );

  program
    .command('token')
    .description(
      'print the current token (for scripts: curl -H "Authorization: Token $(npx iclinic-deploy token)" ...)',
    )
    .action(async (_options: unknown, command: Command) => runCommand('token', command));

  program
    .command('down')
    .description('delete every resource of the stack in dependency order; safe to run twice')
    .action(async (_options: unknown, command: Command) => runCommand('down', command));

  program
    .command('policy')
    .description('print the least-privilege IAM policy (JSON) the deployer needs for every command')
    .action(async (_options: unknown, command: Command) => runCommand('policy', command));

  return program;
}
