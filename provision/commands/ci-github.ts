/**
 * `ci github` as step graphs: wiring (the OIDC provider, the deploy role
 * that trusts it for one repository and branch, then the workflow that
 * assumes the role) and its removal (the role, then the provider if it is
 * the tool's and no other role trusts it). `down` runs the same removal
 * steps (ciRemovalSteps).
 */
import type { StackContext } from '../context.js';
import { ignoreEvents } from '../events.js';
import { deployRolePolicies } from '../policy/deploy-role.js';
import { runGraph, type GraphRun, type StepGraph, type StepResult } from '../graph.js';
import type { Change } from '../plan.js';
import {
  accountProviderArn,
  deployRoleName,
  describeDeployRole,
  describeProvider,
  ensureDeployRole,
  ensureProvider,
  ensureWorkflowFile,
  removeDeployRole,
  removeProvider,
  subjectOf,
  trustedTarget,
  workflowText,
  type DeployRoleValue,
  type GitHubTarget,
  type ProviderValue,
  type WorkflowFile,
} from '../resources/ci-github/index.js';

export interface CiGithubSettings {
  readonly target: GitHubTarget;
  /** Where to write the workflow; undefined with --stdout (it is printed instead). */
  readonly workflowFile: Omit<WorkflowFile, 'dryRun'> | undefined;
}

export interface CiGithubSteps {
  readonly provider: ProviderValue;
  readonly role: DeployRoleValue;
  /** The workflow's text (written, or to print). */
  readonly workflow: string;
}

export interface CiGithubResult {
  readonly provider: ProviderValue;
  readonly role: DeployRoleValue;
  readonly target: GitHubTarget;
  /** The exact `sub` claim the role's trust policy admits. */
  readonly subject: string;
  readonly workflow: string;
  /** Where the workflow was written; undefined with --stdout. */
  readonly workflowPath: string | undefined;
  readonly changes: readonly Change[];
}

/** The context with progress lines attributed to a step. */
function within(ctx: StackContext, input: { report: StackContext['report'] }): StackContext {
  return { ...ctx, report: input.report };
}

export function ciGithubSteps(
  ctx: StackContext,
  settings: CiGithubSettings,
): StepGraph<CiGithubSteps> {
  const roleName = deployRoleName(ctx.names.stack, ctx.region);
  const file = settings.workflowFile;
  return {
    provider: {
      kind: 'ensure',
      title: 'Ensure the OIDC provider for GitHub Actions (one per account)',
      after: [],
      run: async (input) => ensureProvider(within(ctx, input), await accountProviderArn(ctx)),
    },
    role: {
      kind: 'ensure',
      title: `Ensure the deploy role ${roleName}, trusting ${settings.target.repo} on ${settings.target.branch}`,
      after: ['provider'],
      run: (input) =>
        ensureDeployRole(within(ctx, input), {
          providerArn: input.get('provider').arn,
          target: settings.target,
          policies: deployRolePolicies(ctx.names.stack, ctx.region),
        }),
    },
    workflow: {
      kind: file === undefined ? 'check' : 'ensure',
      title: file === undefined ? 'Generate the workflow' : `Write ${file.shownPath}`,
      after: ['role'],
      run: async (input): Promise<StepResult<string>> => {
        const text = workflowText({
          stack: ctx.names.stack,
          region: ctx.region,
          branch: settings.target.branch,
          roleArn: input.get('role').arn,
        });
        if (file === undefined) return { value: text, summary: 'printed on stdout' };
        const changes = await ensureWorkflowFile({ ...file, dryRun: ctx.dryRun === true }, text);
        return { value: text, changes };
      },
    },
  };
}

export interface CiRunOptions {
  /** Starts the graph: the CLI's shows progress; the default runs it silently. */
  readonly start?: <R>(graph: StepGraph<R>) => GraphRun<R>;
}

function started<R>(ctx: StackContext, graph: StepGraph<R>, options: CiRunOptions): GraphRun<R> {
  return options.start?.(graph) ?? runGraph(graph, { events: ignoreEvents, clock: ctx.clock });
}

/** Wires the stack for GitHub Actions; with ctx.dryRun plans and changes nothing. */
export async function runCiGithub(
  ctx: StackContext,
  settings: CiGithubSettings,
  options: CiRunOptions = {},
): Promise<CiGithubResult> {
  const run = started(ctx, ciGithubSteps(ctx, settings), options);
  const results = await run.results;
  return {
    provider: results.provider,
    role: results.role,
    target: settings.target,
    subject: subjectOf(settings.target),
    workflow: results.workflow,
    workflowPath: settings.workflowFile?.shownPath,
    changes: run.records.flatMap((record) => record.changes),
  };
}

/** The removal steps, shared by `ci github --remove` and `down`. */
export interface CiRemovalSteps {
  readonly 'deploy-role': undefined;
  readonly 'oidc-provider': undefined;
}

export const CI_REMOVAL_TITLES = {
  'deploy-role': (roleName: string) => `Delete the GitHub Actions deploy role ${roleName}`,
  'oidc-provider':
    'Delete the GitHub OIDC provider, if iclinic-deploy created it and no other role trusts it',
} as const;

/** The deploy role with its policies. */
export async function removeCiRole(ctx: StackContext): Promise<StepResult<undefined>> {
  return { value: undefined, changes: (await removeDeployRole(ctx)).changes };
}

/** The provider, after the role (whose trust does not count). */
export async function removeCiProvider(ctx: StackContext): Promise<StepResult<undefined>> {
  const roleName = deployRoleName(ctx.names.stack, ctx.region);
  const removed = await removeProvider(ctx, await accountProviderArn(ctx), roleName);
  return { value: undefined, changes: removed.changes };
}

export function ciRemovalSteps(ctx: StackContext): StepGraph<CiRemovalSteps> {
  const roleName = deployRoleName(ctx.names.stack, ctx.region);
  return {
    'deploy-role': {
      kind: 'remove',
      title: CI_REMOVAL_TITLES['deploy-role'](roleName),
      after: [],
      run: (input) => removeCiRole(within(ctx, input)),
    },
    'oidc-provider': {
      kind: 'remove',
      title: CI_REMOVAL_TITLES['oidc-provider'],
      after: ['deploy-role'],
      run: (input) => removeCiProvider(within(ctx, input)),
    },
  };
}

/** Removes the stack's CI wiring; returns what it deleted (or would delete). */
export async function runCiGithubRemove(
  ctx: StackContext,
  options: CiRunOptions = {},
): Promise<Change[]> {
  const run = started(ctx, ciRemovalSteps(ctx), options);
  await run.results;
  return run.records.flatMap((record) => record.changes.filter((c) => c.action === 'delete'));
}

export interface CiStatus {
  readonly role: { readonly name: string; readonly arn: string } | undefined;
  /** What the role's trust admits; undefined when missing or edited by hand. */
  readonly target: GitHubTarget | undefined;
  readonly provider: { readonly arn: string; readonly createdByTool: boolean } | undefined;
}

/** Read-only: whether the stack is wired for GitHub Actions, for `status`. */
export async function describeCi(ctx: StackContext): Promise<CiStatus> {
  const [role, provider] = await Promise.all([
    describeDeployRole(ctx),
    accountProviderArn(ctx).then((arn) => describeProvider(ctx, arn)),
  ]);
  return {
    role:
      role === undefined
        ? undefined
        : { name: deployRoleName(ctx.names.stack, ctx.region), arn: role.arn },
    target: role === undefined ? undefined : trustedTarget(role.trust),
    provider:
      provider === undefined
        ? undefined
        : { arn: provider.arn, createdByTool: provider.createdByTool },
  };
}
