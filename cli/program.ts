import { Command, Option } from 'commander';
import { createRequire } from 'node:module';
import type { CliCommand } from './command.js';
import { ciGithubCommand } from './commands/ci.js';
import { downCommand } from './commands/down.js';
import { logsCommand } from './commands/logs.js';
import { rollbackCommand } from './commands/rollback.js';
import { policyCommand } from './commands/policy.js';
import { setTokenCommand } from './commands/set-token.js';
import { statusCommand } from './commands/status.js';
import { tokenCommand } from './commands/token.js';
import { upCommand } from './commands/up.js';
import { runCommand } from './run.js';
import { DEFAULTS, parseRegion, parseStackName, parseTimeoutMinutes } from './options.js';

const require = createRequire(import.meta.url);

/**
 * package.json is one folder above cli/ in the sources (tests import them)
 * and two above dist/cli/ once built.
 */
function packageVersion(): string {
  for (const path of ['../package.json', '../../package.json']) {
    try {
      const found = require(path) as { name?: string; version: string };
      if (found.name === 'iclinic-deploy') return found.version;
    } catch {
      // Not at this level; try the next.
    }
  }
  throw new Error('iclinic-deploy: package.json not found above cli/program');
}

/** In the order --help lists them; each one's module declares its flags and help. */
const COMMANDS: readonly CliCommand<unknown, unknown>[] = [
  upCommand,
  statusCommand,
  setTokenCommand,
  logsCommand,
  rollbackCommand,
  tokenCommand,
  downCommand,
  policyCommand,
  ciGithubCommand,
];

const PROGRAM_HELP = `
Examples:
  npx iclinic-deploy up                      create or converge everything, then print the URL
  npx iclinic-deploy status                  what exists, URL, tasks, target health, token age
  npx iclinic-deploy set-token --generate    rotate the token with no failed requests
  npx iclinic-deploy logs --follow           the service's request lines as they come
  npx iclinic-deploy rollback                back to the previous image, keeping the token
  npx iclinic-deploy down --yes              remove every resource of the stack
  npx iclinic-deploy policy --part 1         IAM policy the deployer needs (document 1)`;

/** The program and the options every command shares. */
function declareProgram(): Command {
  const program = new Command();
  program
    .name('iclinic-deploy')
    .description(
      'Deploys the token-protected iClinic API to AWS Fargate behind a load balancer, rotates its token, and removes everything again.\n' +
        'Credentials come from the AWS SDK default chain (environment, ~/.aws, SSO, instance role).',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
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
    .addHelpText('after', PROGRAM_HELP);
  return program;
}

export function buildProgram(): Command {
  const program = declareProgram();
  for (const command of COMMANDS) {
    command.declare(program).action(async function (this: Command) {
      await runCommand(command, this);
    });
  }
  return program;
}
