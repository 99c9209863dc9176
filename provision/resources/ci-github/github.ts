/**
 * What GitHub puts in the token its Actions runners get, and which
 * repository and branch names it can carry (pure). The role's trust policy
 * compares the token's `sub` claim with one exact value built here.
 */

/** GitHub Actions' OpenID Connect issuer: https://token.actions.githubusercontent.com */
export const GITHUB_OIDC_HOST = 'token.actions.githubusercontent.com';
export const GITHUB_OIDC_URL = `https://${GITHUB_OIDC_HOST}`;

/**
 * The audience aws-actions/configure-aws-credentials asks GitHub for by
 * default, and so the client id the provider must list
 * (https://github.com/aws-actions/configure-aws-credentials#oidc-audience).
 */
export const STS_AUDIENCE = 'sts.amazonaws.com';

/** The repository and branch whose workflow runs may assume the deploy role. */
export interface GitHubTarget {
  /**
   * OWNER/NAME, or OWNER@OWNER_ID/NAME@REPO_ID: the form the repository's
   * `sub` claim uses (see SUBJECT_FORMS below).
   */
  readonly repo: string;
  readonly branch: string;
}

export class InvalidGitHubTargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidGitHubTargetError';
  }
}

// Account names: letters, digits and hyphens, at most 39 characters. GitHub
// refuses leading, trailing and doubled hyphens for new names, but older
// accounts have them, so only the character set and length are checked
// (https://docs.github.com/en/enterprise-cloud@latest/admin/managing-iam/iam-configuration-reference/username-considerations-for-external-authentication).
const OWNER = /^[A-Za-z0-9-]{1,39}$/;
// Repository names: ASCII letters, digits, ".", "-" and "_", at most 100
// characters, not "." or "..", not ending in ".git"
// (https://github.com/github/docs/issues/44518, which quotes GitHub's own
// messages for each limit).
const NAME = /^[A-Za-z0-9._-]{1,100}$/;
const NUMERIC_ID = /^[1-9][0-9]*$/;

/**
 * Repositories created on github.com on or after 15 July 2026 (and older
 * ones that opted in) put immutable numeric ids in the `sub` claim:
 * `repo:OWNER@OWNER_ID/NAME@REPO_ID:ref:refs/heads/BRANCH`; the others keep
 * `repo:OWNER/NAME:...`. A trust policy written for one form refuses the
 * other (https://github.blog/changelog/2026-04-23-immutable-subject-claims-for-github-actions-oidc-tokens/,
 * https://github.com/aws-actions/configure-aws-credentials#immutable-subject-claims).
 * The repository's Settings show which prefix it uses.
 */
const SUBJECT_FORMS =
  'OWNER/NAME, or OWNER@OWNER_ID/NAME@REPO_ID for a repository whose tokens carry ids';

function part(
  value: string,
  pattern: RegExp,
  what: string,
): { name: string; id: string | undefined } {
  const [name = '', id, ...rest] = value.split('@');
  const idOk = id === undefined || NUMERIC_ID.test(id);
  if (!pattern.test(name) || !idOk || rest.length > 0) {
    throw new InvalidGitHubTargetError(what);
  }
  return { name, id };
}

/** Validates --repo; returns it unchanged. */
export function validateRepository(repo: string): string {
  const received = JSON.stringify(repo);
  const pieces = repo.split('/');
  if (pieces.length !== 2) {
    throw new InvalidGitHubTargetError(
      `Invalid --repo ${received}: expected ${SUBJECT_FORMS} (e.g. "acme/api").`,
    );
  }
  const [ownerText = '', nameText = ''] = pieces;
  const owner = part(
    ownerText,
    OWNER,
    `Invalid --repo ${received}: the owner ${JSON.stringify(ownerText)} is not a GitHub account name ` +
      '(1-39 letters, digits or hyphens, optionally followed by "@" and its numeric id).',
  );
  const name = part(
    nameText,
    NAME,
    `Invalid --repo ${received}: the name ${JSON.stringify(nameText)} is not a GitHub repository name ` +
      '(1-100 letters, digits, ".", "-" or "_", optionally followed by "@" and its numeric id).',
  );
  if (name.name === '.' || name.name === '..' || name.name.toLowerCase().endsWith('.git')) {
    throw new InvalidGitHubTargetError(
      `Invalid --repo ${received}: GitHub does not allow a repository named "." or ".." or ending in ".git"; give the name as GitHub shows it.`,
    );
  }
  if ((owner.id === undefined) !== (name.id === undefined)) {
    throw new InvalidGitHubTargetError(
      `Invalid --repo ${received}: give the ids of both the owner and the repository (OWNER@OWNER_ID/NAME@REPO_ID), or neither.`,
    );
  }
  return repo;
}

/**
 * The rules of `git check-ref-format --branch`
 * (https://git-scm.com/docs/git-check-ref-format): a branch git would
 * refuse can never push, so it never reaches the trust policy.
 */
function branchProblem(branch: string): string | undefined {
  if (branch === '') return 'it is empty';
  if (branch.startsWith('-')) return 'it begins with "-"';
  if (branch === '@') return 'it is "@"';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(branch))
    return 'it contains a space, a control character or one of ~ ^ : ? * [ \\';
  if (branch.includes('..')) return 'it contains ".."';
  if (branch.includes('@{')) return 'it contains "@{"';
  if (branch.endsWith('/') || branch.startsWith('/') || branch.includes('//'))
    return 'it has an empty path component (a leading, trailing or doubled "/")';
  if (branch.endsWith('.')) return 'it ends with "."';
  const components = branch.split('/');
  if (components.some((c) => c.startsWith('.'))) return 'a component begins with "."';
  if (components.some((c) => c.endsWith('.lock'))) return 'a component ends with ".lock"';
  return undefined;
}

/** Validates --branch; returns it unchanged. */
export function validateBranch(branch: string): string {
  const problem = branchProblem(branch);
  if (problem !== undefined) {
    throw new InvalidGitHubTargetError(
      `Invalid --branch ${JSON.stringify(branch)}: git refuses it as a branch name (${problem}). ` +
        'Give the branch name as "git branch" shows it, e.g. "main".',
    );
  }
  return branch;
}

export function validateTarget(target: GitHubTarget): GitHubTarget {
  validateRepository(target.repo);
  validateBranch(target.branch);
  return target;
}

const SUBJECT_PREFIX = 'repo:';
const BRANCH_REF = ':ref:refs/heads/';

/**
 * The `sub` claim of a workflow run on a push to the branch (or started by
 * hand on it) in a job with no environment
 * (https://docs.github.com/en/actions/reference/security/oidc#example-subject-claims).
 */
export function subjectOf(target: GitHubTarget): string {
  return `${SUBJECT_PREFIX}${target.repo}${BRANCH_REF}${target.branch}`;
}

/** The repository and branch of a subjectOf value; undefined for any other subject. */
export function targetOfSubject(subject: string): GitHubTarget | undefined {
  if (!subject.startsWith(SUBJECT_PREFIX)) return undefined;
  const rest = subject.slice(SUBJECT_PREFIX.length);
  const at = rest.indexOf(BRANCH_REF);
  if (at < 0) return undefined;
  return { repo: rest.slice(0, at), branch: rest.slice(at + BRANCH_REF.length) };
}

/** OWNER/NAME without the ids, as in the repository's URL. */
export function repositoryPath(repo: string): string {
  return repo
    .split('/')
    .map((piece) => piece.split('@')[0])
    .join('/');
}

/** "acme/api, branch main", for plans and status. */
export function describeTarget(target: GitHubTarget): string {
  return `${target.repo}, branch ${target.branch}`;
}
