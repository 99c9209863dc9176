/**
 * The GitHub Actions workflow that deploys the stack (a pure generator), and
 * writing it into the repository: created when missing, rewritten when it is
 * the tool's own and differs, never replaced when someone else wrote it
 * unless forced.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ChangeSet, type Change } from '../../plan.js';

/** Where GitHub looks for workflows, relative to the repository root. */
export const WORKFLOW_PATH = '.github/workflows/iclinic-deploy.yml';

/** The first line of every file the generator writes: the tool only rewrites files that start with it. */
export const WORKFLOW_MARKER = '# Written by iclinic-deploy ci github.';

/**
 * Third-party actions are pinned by full commit SHA, the one reference
 * GitHub cannot move
 * (https://docs.github.com/en/actions/reference/security/secure-use#using-third-party-actions).
 * Each SHA is the commit of the release tag named beside it, read from the
 * action's own repository (git tags of github:actions/checkout,
 * github:actions/setup-node and github:aws-actions/configure-aws-credentials,
 * snapshots of August 2026): v7.0.1 tagged 2026-07-17, v7.0.0 tagged
 * 2026-07-13 (v6.5.0 the same day, for older runners), v6.2.3 tagged
 * 2026-07-22 (the tag object behind v6 points at the same commit).
 */
export const PINNED_ACTIONS = {
  checkout: {
    uses: 'actions/checkout',
    sha: '3d3c42e5aac5ba805825da76410c181273ba90b1',
    version: 'v7.0.1',
  },
  setupNode: {
    uses: 'actions/setup-node',
    sha: '820762786026740c76f36085b0efc47a31fe5020',
    version: 'v7.0.0',
  },
  awsCredentials: {
    uses: 'aws-actions/configure-aws-credentials',
    sha: 'e6de054238d6b7531b4efff3b6587d9aade6a06c',
    version: 'v6.2.3',
  },
} as const;

/** The Node.js the workflow runs the CLI on: the major of the Dockerfile's node:24-slim. */
export const WORKFLOW_NODE_VERSION = '24';

export interface WorkflowSettings {
  readonly stack: string;
  readonly region: string;
  readonly branch: string;
  /** The deploy role's ARN: not a secret, so it is written in the file itself. */
  readonly roleArn: string;
}

/** A YAML single-quoted scalar: only the quote itself is escaped, by doubling it. */
function yamlQuoted(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * A branch filter that matches only this branch: "+", "?", "*", "[", "]"
 * and a leading "!" are pattern characters in branch filters, and "you need
 * to escape each of these special characters with \" for a literal match
 * (https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#onpushbranchestagsbranches-ignoretags-ignore).
 * git itself refuses "?", "*" and "[" in branch names.
 */
export function branchFilter(branch: string): string {
  return branch.replace(/[+?*[\]!]/g, '\\$&');
}

function pinned(action: (typeof PINNED_ACTIONS)[keyof typeof PINNED_ACTIONS]): string {
  return `${action.uses}@${action.sha} # ${action.version}`;
}

/** The whole workflow file, ending with a newline. */
export function workflowText(settings: WorkflowSettings): string {
  const { stack, region, branch, roleArn } = settings;
  const { checkout, setupNode, awsCredentials } = PINNED_ACTIONS;
  return `${WORKFLOW_MARKER} To change it, run it again
# (npx iclinic-deploy ci github --repo OWNER/NAME --branch BRANCH); it rewrites
# this file only while the first line is this one. No key or token is stored:
# GitHub's OpenID Connect token is traded for the deploy role below.
name: iclinic-deploy ${stack} ${region}

on:
  push:
    branches:
      - ${yamlQuoted(branchFilter(branch))}
  workflow_dispatch:

permissions: {}

# One deploy of the stack at a time; a push during a deploy waits for it.
concurrency:
  group: iclinic-deploy-${stack}-${region}
  cancel-in-progress: false

jobs:
  deploy:
    name: Deploy stack ${stack} to ${region}
    runs-on: ubuntu-latest
    permissions:
      id-token: write # the OpenID Connect token that configure-aws-credentials trades for the role
      contents: read # actions/checkout reads the repository
    steps:
      - name: Check out the repository
        uses: ${pinned(checkout)}
        with:
          persist-credentials: false
      - name: Set up Node.js
        uses: ${pinned(setupNode)}
        with:
          node-version: '${WORKFLOW_NODE_VERSION}'
          package-manager-cache: false
      - name: Assume the deploy role (OpenID Connect, no stored keys)
        uses: ${pinned(awsCredentials)}
        with:
          role-to-assume: ${roleArn}
          aws-region: ${region}
      - name: Install dependencies
        run: npm ci
      - name: Deploy
        run: npx iclinic-deploy up --yes --name ${stack} --region ${region}
`;
}

export const WORKFLOW_FILE = 'workflow file';

export class ForeignWorkflowError extends Error {
  constructor(path: string) {
    super(
      `${path} exists and was not written by iclinic-deploy (its first line is not "${WORKFLOW_MARKER}"), ` +
        'so it was left as it is. Move it away, pass --force to replace it, or use --stdout to print ' +
        'the workflow and merge it by hand.',
    );
    this.name = 'ForeignWorkflowError';
  }
}

/** Whether the tool wrote this workflow text (and so may rewrite it). */
export function isOwnWorkflow(text: string): boolean {
  return text.startsWith(WORKFLOW_MARKER);
}

/** The file's text, or undefined when there is none. */
export async function readWorkflowFile(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Pure: the change writing `desired` to a file that holds `current` makes, if any. */
export function planWorkflowFile(
  shownPath: string,
  current: string | undefined,
  desired: string,
  force: boolean,
): Change[] {
  const changes = new ChangeSet();
  if (current === undefined) changes.create(WORKFLOW_FILE, shownPath);
  else if (current !== desired) {
    if (!isOwnWorkflow(current) && !force) throw new ForeignWorkflowError(shownPath);
    changes.update(
      WORKFLOW_FILE,
      shownPath,
      isOwnWorkflow(current) ? 'content' : 'replaced (--force)',
    );
  }
  return [...changes.list];
}

export interface WorkflowFile {
  /** Absolute path to write. */
  readonly path: string;
  /** The path as the user sees it (relative to where the command runs). */
  readonly shownPath: string;
  readonly force: boolean;
  readonly dryRun: boolean;
}

/** Writes the workflow unless it is already there; a dry run only plans. */
export async function ensureWorkflowFile(file: WorkflowFile, desired: string): Promise<Change[]> {
  const current = await readWorkflowFile(file.path);
  const changes = planWorkflowFile(file.shownPath, current, desired, file.force);
  if (file.dryRun || changes.length === 0) return changes;
  await mkdir(dirname(file.path), { recursive: true });
  await writeFile(file.path, desired, 'utf8');
  return changes;
}
