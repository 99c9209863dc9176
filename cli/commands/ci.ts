import { InvalidArgumentError, type Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  runCiGithub,
  runCiGithubRemove,
  type CiGithubResult,
  type CiGithubSettings,
  type CiStatus,
} from '../../provision/commands/ci-github.js';
import type { Reporter } from '../../provision/events.js';
import { stackFlags } from '../../provision/names.js';
import type { Change } from '../../provision/plan.js';
import {
  describeTarget,
  ForeignWorkflowError,
  GITHUB_OIDC_HOST,
  isOwnWorkflow,
  readWorkflowFile,
  repositoryPath,
  validateBranch,
  validateRepository,
  WORKFLOW_PATH,
} from '../../provision/resources/ci-github/index.js';
import { errorMessage } from '../../provision/retry.js';
import type { CliCommand } from '../command.js';
import { UsageError } from '../errors.js';
import type { GlobalOptions } from '../options.js';
import type { Rendered } from '../output.js';
import { changeLine } from '../render.js';

interface CiGithubOptions {
  repo?: string;
  branch: string;
  stdout: boolean;
  force: boolean;
  remove: boolean;
}

export type CiGithubCliSettings =
  | { readonly remove: true }
  | ({ readonly remove: false; readonly stdout: boolean } & CiGithubSettings);

export type CiGithubOutcome =
  { readonly removed: readonly Change[] } | { readonly wired: CiGithubResult };

/** commander parsers: a mistake is a usage error (exit code 2) before any AWS call. */
function checked(validate: (value: string) => string): (value: string) => string {
  return (value) => {
    try {
      return validate(value);
    } catch (error) {
      throw new InvalidArgumentError(errorMessage(error));
    }
  };
}

export async function parseCiGithub(
  command: Command,
  _globals: GlobalOptions,
  report: Reporter,
  cwd: string = process.cwd(),
): Promise<CiGithubCliSettings> {
  const options = command.opts<CiGithubOptions>();
  if (options.remove) {
    const extra = (['repo', 'stdout', 'force'] as const).filter((key) => options[key]);
    if (extra.length > 0 || command.getOptionValueSource('branch') === 'cli') {
      throw new UsageError(
        '--remove takes no --repo, --branch, --stdout or --force: it removes the deploy role of the stack (--name, --region) whatever it trusts.',
      );
    }
    return { remove: true };
  }
  if (options.repo === undefined) {
    throw new UsageError(
      'Missing --repo OWNER/NAME: the GitHub repository whose workflow may deploy the stack (e.g. --repo acme/api).',
    );
  }
  if (options.stdout && options.force)
    throw new UsageError('--force replaces the workflow file; with --stdout nothing is written.');
  if (!options.stdout && !existsSync(join(cwd, '.git'))) {
    report.warn(
      `${cwd} is not the root of a git repository: GitHub runs only workflows in .github/workflows at the root. ` +
        'Run the command there, or use --stdout.',
    );
  }
  const workflowFile = options.stdout
    ? undefined
    : { path: resolve(cwd, WORKFLOW_PATH), shownPath: WORKFLOW_PATH, force: options.force };
  // Refused before any AWS call, so a refusal leaves the account as it was.
  if (workflowFile !== undefined && !workflowFile.force) {
    const current = await readWorkflowFile(workflowFile.path);
    if (current !== undefined && !isOwnWorkflow(current))
      throw new UsageError(new ForeignWorkflowError(WORKFLOW_PATH).message);
  }
  return {
    remove: false,
    stdout: options.stdout,
    target: { repo: options.repo, branch: options.branch },
    workflowFile,
  };
}

function wiredLines(result: CiGithubResult, globals: Pick<GlobalOptions, 'name' | 'region'>) {
  const { target, provider, role } = result;
  const actions = `https://github.com/${repositoryPath(target.repo)}/actions`;
  const lines = [
    '',
    `GitHub Actions in ${target.repo} now deploys stack "${globals.name}" to ${globals.region} on every push to ${target.branch} (and by hand, "Run workflow").`,
    `  OIDC provider  ${provider.arn}${provider.createdByTool ? '' : ' (found in the account; used as it is)'}`,
    `  Deploy role    ${role.arn}`,
    `  Trusts only    ${result.subject}`,
  ];
  if (result.workflowPath === undefined) return lines;
  return [
    ...lines,
    `  Workflow       ${result.workflowPath}`,
    '',
    'Next: commit the workflow and push it to that branch; the push starts the first deploy.',
    `  git add ${result.workflowPath}`,
    '  git commit -m "Deploy with iclinic-deploy from GitHub Actions"',
    `  git push origin ${target.branch}`,
    `Watch it at ${actions} (or "gh run watch"); "npx iclinic-deploy status${stackFlags(globals.name, globals.region)}" shows the result.`,
  ];
}

export function renderCiGithub(
  outcome: CiGithubOutcome,
  settings: CiGithubCliSettings,
  globals: Pick<GlobalOptions, 'name' | 'region'>,
): Rendered {
  if ('removed' in outcome) {
    const { removed } = outcome;
    const lines =
      removed.length === 0
        ? [`Stack "${globals.name}" in ${globals.region} has no GitHub Actions wiring to remove.`]
        : [
            `Removed ${removed.length} resource(s):`,
            ...removed.map((c) => `  ${changeLine(c, 'done')}`),
            `The workflow file stays in the repository: "git rm ${WORKFLOW_PATH}" if you no longer want it.`,
          ];
    return { json: { removed }, lines };
  }
  const { wired } = outcome;
  const json = {
    providerArn: wired.provider.arn,
    providerCreatedByTool: wired.provider.createdByTool,
    roleArn: wired.role.arn,
    repo: wired.target.repo,
    branch: wired.target.branch,
    subject: wired.subject,
    workflowPath: wired.workflowPath,
    ...(wired.workflowPath === undefined ? { workflow: wired.workflow } : {}),
  };
  // --stdout: the workflow alone on stdout, so it can be redirected; the
  // steps on stderr already said what was ensured.
  if (!settings.remove && settings.stdout) return { json, lines: [wired.workflow.trimEnd()] };
  return { json, lines: wiredLines(wired, globals) };
}

/** The lines `status` shows about the GitHub Actions wiring (pure). */
export function formatCiStatus(ci: CiStatus, stack: string, region: string): string[] {
  const provider =
    ci.provider === undefined
      ? `no OIDC provider for ${GITHUB_OIDC_HOST}`
      : `OIDC provider ${ci.provider.createdByTool ? 'created by iclinic-deploy' : 'found in the account'}`;
  if (ci.role === undefined) {
    return [
      `CI:       not wired (${provider}); "npx iclinic-deploy ci github --repo OWNER/NAME${stackFlags(stack, region)}" sets it up`,
    ];
  }
  const trusts =
    ci.target === undefined ? 'a trust policy edited by hand' : describeTarget(ci.target);
  return [`CI:       GitHub Actions from ${trusts} (role ${ci.role.name}; ${provider})`];
}

const CI_GITHUB_HELP = `
Creates, once per account, the IAM OpenID Connect provider for GitHub Actions
(an existing one is used as it is), and a deploy role for this stack and region
that only runs on --branch of --repo can assume, carrying the permissions
"policy" prints (less those over the CI wiring itself) and nothing else. Then
writes ${WORKFLOW_PATH}:
on every push to the branch, or by hand, it runs "npx iclinic-deploy up".
No access key or token is stored in GitHub. Safe to run again; another --repo
or --branch updates the role's trust (old → new). "down" removes the role too.

For a repository created on github.com from 15 July 2026 on (or opted in to
immutable subject claims), give the ids GitHub shows in its OIDC settings:
--repo OWNER@OWNER_ID/NAME@REPO_ID.

Examples:
  npx iclinic-deploy ci github --repo acme/api            deploy on every push to main
  npx iclinic-deploy ci github --repo acme/api --branch release --name prod
  npx iclinic-deploy ci github --repo acme/api --stdout   print the workflow instead
  npx iclinic-deploy ci github --remove                   remove the role (and the provider)`;

/** `ci` and its one subcommand, `github`; returns the leaf that runs. */
export function declareCiGithub(program: Command): Command {
  const ci = program
    .command('ci')
    .description('set up continuous deployment from a CI service (github)');
  return ci
    .command('github')
    .description(
      'deploy from GitHub Actions with no stored keys: OIDC provider, deploy role and workflow file',
    )
    .option(
      '--repo <owner/name>',
      'the GitHub repository that may deploy',
      checked(validateRepository),
    )
    .option('--branch <name>', 'the branch whose pushes deploy', checked(validateBranch), 'main')
    .option('--stdout', `print the workflow instead of writing ${WORKFLOW_PATH}`, false)
    .option('--force', 'replace a workflow file that iclinic-deploy did not write', false)
    .option(
      '--remove',
      "remove the stack's deploy role, and the OIDC provider when no other role uses it",
      false,
    )
    .addHelpText('after', CI_GITHUB_HELP);
}

export const ciGithubCommand: CliCommand<CiGithubCliSettings, CiGithubOutcome> = {
  declare: declareCiGithub,
  readsOnly: false,
  plans: true,
  parse: (command, globals, report) => parseCiGithub(command, globals, report),
  run: async (ctx, settings, tools) =>
    settings.remove
      ? { removed: await runCiGithubRemove(ctx, { start: tools.start }) }
      : { wired: await runCiGithub(ctx, settings, { start: tools.start }) },
  render: renderCiGithub,
};
