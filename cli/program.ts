import { Command, Option } from 'commander';
import { createRequire } from 'node:module';
import { ciGithubCommand, declareCiGithub } from './commands/ci.js';
import { downCommand } from './commands/down.js';
import { logsCommand } from './commands/logs.js';
import { rollbackCommand } from './commands/rollback.js';
import { policyCommand } from './commands/policy.js';
import { setTokenCommand } from './commands/set-token.js';
import { statusCommand } from './commands/status.js';
import { tokenCommand } from './commands/token.js';
import { upCommand } from './commands/up.js';
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
import { nativePlatform } from '../provision/resources/image/index.js';

const require = createRequire(import.meta.url);
const { version } = require('../../package.json') as { version: string };

export function hideUnknownOption(text: string): string {
  return text.replace(
    /unknown option '[^']*'/,
    'unknown option (not shown: it may be a token). A value that begins with "-" goes after "--": set-token -- <value>',
  );
}

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
      'stack name, used in every resource name and tag; lets you run a second copy (1-24 characters: lowercase letters, digits and single hyphens, starting with a letter; not "internal", "sg" or beginning with "internal-" or "sg-", which AWS reserves)',
      parseStackName,
      DEFAULTS.name,
    )
    .option(
      '--json',
      'print a machine-readable record of the run (steps, AWS call counts) on stdout',
      false,
    )
    .option('--yes', 'do not ask for confirmation before destructive steps', false)
    .option(
      '--dry-run',
      'read the account and print what up, set-token, rollback or down would create, change (old → new) and delete, changing nothing',
      false,
    )
    .option(
      '--verbose',
      'show every change under its step in the progress output (on stderr)',
      false,
    )
    .option(
      '--timeout <minutes>',
      'give up waiting for AWS after this many minutes (1 to 180)',
      parseTimeoutMinutes,
      DEFAULTS.timeoutMinutes,
    )
    .showHelpAfterError('(add --help for usage)')
    // Subcommands inherit these: errors surface to main.ts (exit code 2) and
    // each command's --help lists the global options too.
    .exitOverride()
    .configureHelp({ showGlobalOptions: true })
    .addHelpText(
      'after',
      `
Examples:
  npx iclinic-deploy up                      create or converge everything, then print the URL
  npx iclinic-deploy status                  what exists, URL, tasks, target health, token age
  npx iclinic-deploy set-token --generate    rotate the token with no failed requests
  npx iclinic-deploy logs --follow           the service's request lines as they come
  npx iclinic-deploy rollback                back to the previous image, keeping the token
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
      'your own domain: HTTPS on the load balancer with this ACM certificate, HTTP redirects to it; no CloudFront (your domain already gives HTTPS)',
      parseCertificateArn,
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
      'fewest tasks the autoscaler keeps (default 2; at most --max-tasks)',
      parsePositiveInteger('--min-tasks'),
    )
    .option(
      '--max-tasks <n>',
      'most tasks the autoscaler starts on load (default 6, or --min-tasks if higher); the Fargate vCPU quota is checked for twice this, the peak of a rolling deploy',
      parsePositiveInteger('--max-tasks'),
    )
    .option(
      '--desired-count <n>',
      'a fixed number of tasks, no scaling (the same as --min-tasks N --max-tasks N; not combined with them)',
      parsePositiveInteger('--desired-count'),
    )
    .option(
      '--alarm-email <address>',
      'email the alarms (unhealthy targets, 5xx rate) to this address; AWS first mails it a confirmation link that must be clicked',
    )
    .option('--no-verify', 'skip the final request through the load balancer')
    .addHelpText(
      'after',
      `
Examples:
  npx iclinic-deploy up --dry-run                      what would be created or changed; changes nothing
  npx iclinic-deploy up                                build, push and deploy (5-10 minutes the first time)
  npx iclinic-deploy up --region sa-east-1 --name demo a second copy in another region
  npx iclinic-deploy up --image REPO:TAG --platform linux/amd64   deploy an image built elsewhere
  npx iclinic-deploy up --min-tasks 2 --max-tasks 10   scale between 2 and 10 tasks with the load
  npx iclinic-deploy up --desired-count 1              always one task (the cheapest; no scaling)
  npx iclinic-deploy up --alarm-email ops@example.com  be told by email when targets fail or 5xx rise

The service scales on requests per task (3000/min) and average CPU (60 %): out after 1 min
above target, in only after 5 min below it. Two alarms watch the stack: unhealthy targets and
a target 5xx rate over 5 %; they notify the SNS topic <stack>-alarms.

How the API is reached:
  (default)               https://<id>.cloudfront.net/ through a CloudFront distribution, nothing
                          to own or configure; the load balancer admits only CloudFront. A new
                          distribution takes a few minutes to deploy (it overlaps the ECS
                          rollout), and "down" waits for it again to disable and delete it.
                          CloudFront's default certificate still accepts TLS 1.0/1.1 clients;
                          a TLS 1.2 floor needs your own domain.
  --certificate-arn ARN   https://<your domain>/ on the load balancer's HTTPS listener (point a
                          CNAME at it); no CloudFront, since your certificate already gives HTTPS.
  --plain-http            http://<load balancer>/: no CloudFront, the token travels in clear text.

Safe to run again at any time: it finds what exists by name and tag, fixes what drifted,
and changes nothing when all is in place. After a Ctrl-C or an error, just run it again.`,
    )
    .action(async (_options: unknown, command: Command) => runCommand('up', upCommand, command));

  program
    .command('status')
    .description(
      'show what exists and what is missing, the URL, running/desired tasks, the image, target health and token age',
    )
    .action(async (_options: unknown, command: Command) =>
      runCommand('status', statusCommand, command),
    );

  program
    .command('set-token')
    .description(
      'change the token: new secret version, rolling deployment, verification; the old token keeps working for --grace',
    )
    .argument(
      '[value]',
      'the new token, or "-" to read it from stdin (keeps it out of shell history)',
    )
    // A token that begins with "-" reads as an unknown option; the error must
    // not print it.
    .configureOutput({
      outputError: (text, write) => write(hideUnknownOption(text)),
    })
    .option('--generate', 'generate a strong random token and print it once', false)
    .addOption(
      new Option(
        '--grace <duration>',
        'how long the previous token stays valid, counted from when the new secret version is written: 0, 90s, 5m, 1h (a bare number is seconds; at most 24h). 0 makes every new task refuse the old token',
      )
        .argParser(parseDurationMs)
        .default(5 * 60_000, '5m'),
    )
    .option('--show-token', 'print the new token even when it was given', false)
    .option('--no-verify', 'skip the requests through the load balancer after the rollout')
    .addHelpText(
      'after',
      `
Examples:
  npx iclinic-deploy set-token --generate              random token, printed once
  printf %s "$T" | npx iclinic-deploy set-token -      value from stdin, not shell history
  npx iclinic-deploy set-token --generate --grace 10m  old token keeps working 10 more minutes
  npx iclinic-deploy set-token -- -starts-with-dash     a value that begins with "-" goes after --

If the rollout fails, the secret and the service are put back and the old token keeps working.`,
    )
    .action(async (_value: string | undefined, _options: unknown, command: Command) =>
      runCommand('set-token', setTokenCommand, command),
    );

  program
    .command('logs')
    .description(
      "print the service's log lines (CloudWatch Logs): time, task, status, method, path and duration of each request",
    )
    .option('--follow', 'keep printing new lines as they arrive (every 2 s) until Ctrl-C', false)
    .option(
      '--since <duration>',
      'how far back to start: a number and s, m, h or d (30s, 10m, 2h, 1d)',
      '10m',
    )
    .option(
      '--filter <text>',
      "only lines containing this text; a CloudWatch filter pattern such as '{ $.status >= 500 }' is used as it is",
    )
    .addHelpText(
      'after',
      `
With the global --json, prints one JSON record per line (JSON Lines) instead of text:
  {"kind":"request","time":...,"task":...,"status":200,"method":"GET","path":"/","durationMs":1.2}
Tokens never appear: the server does not log them, and anything that looks like one is redacted.
Ctrl-C ends --follow normally (exit 0). CloudWatch shows a line a few seconds after it is written.

Examples:
  npx iclinic-deploy logs                          the last 10 minutes
  npx iclinic-deploy logs --since 2h --filter 500  the last 2 hours, lines containing "500"
  npx iclinic-deploy logs --follow                 live, until Ctrl-C
  npx iclinic-deploy --json logs --since 1h | jq 'select(.status >= 500)'`,
    )
    .action(async (_options: unknown, command: Command) =>
      runCommand('logs', logsCommand, command),
    );

  program
    .command('rollback')
    .description(
      "redeploy the previous (or --to) revision's image and settings, keeping the current token; waits and verifies like up",
    )
    .option(
      '--to <revision>',
      'the task definition revision to go back to ("status" lists them); default: the newest earlier one with another image or settings',
      parsePositiveInteger('--to'),
    )
    .option('--no-verify', 'skip the request through the load balancer after the rollout')
    .addHelpText(
      'after',
      `
A rollback registers a new revision: a copy of the chosen one that reads the token secret
version running now, so clients keep working with the current token. The desired count is left
to the autoscaler. A later "up" deploys the image it is given again (or builds one).
If the rollout fails, the circuit breaker puts the service back on the revision it ran, and the
error shows the service events, stopped reasons and the last log lines of a stopped task.

Examples:
  npx iclinic-deploy rollback --dry-run   which revision and image it would go back to
  npx iclinic-deploy rollback             back to the previous image
  npx iclinic-deploy rollback --to 7      back to revision 7 (see "iclinic-deploy status")`,
    )
    .action(async (_options: unknown, command: Command) =>
      runCommand('rollback', rollbackCommand, command),
    );

  program
    .command('token')
    .description(
      'print the current token (for scripts: curl -H "Authorization: Token $(npx iclinic-deploy token)" ...)',
    )
    .action(async (_options: unknown, command: Command) =>
      runCommand('token', tokenCommand, command),
    );

  program
    .command('down')
    .description('delete every resource of the stack in dependency order; safe to run twice')
    .addHelpText(
      'after',
      `
Asks you to type the stack name first; --yes skips that (and is required when not in a terminal).
Deletes the service, cluster, load balancer, network, image repository with its images, the
token secret (with no recovery window), the log group and the role. AWS releases network
interfaces slowly, so this can take several minutes; if interrupted, run it again.

Examples:
  npx iclinic-deploy down
  npx iclinic-deploy down --yes --name demo --region sa-east-1`,
    )
    .action(async (_options: unknown, command: Command) =>
      runCommand('down', downCommand, command),
    );

  program
    .command('policy')
    .description('print the least-privilege IAM policy (JSON) the deployer needs for every command')
    .action(async (_options: unknown, command: Command) =>
      runCommand('policy', policyCommand, command),
    );

  declareCiGithub(program).action(async (_o: unknown, c: Command) =>
    runCommand('ci github', ciGithubCommand, c),
  );

  return program;
}
