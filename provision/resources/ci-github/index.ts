/**
 * `ci github`: the account's OIDC provider for GitHub Actions (provider.ts),
 * the stack's deploy role that trusts one repository and branch (role.ts,
 * trust.ts), and the workflow that assumes it (workflow.ts).
 */
export {
  describeTarget,
  GITHUB_OIDC_HOST,
  InvalidGitHubTargetError,
  repositoryPath,
  subjectOf,
  validateBranch,
  validateRepository,
  validateTarget,
  type GitHubTarget,
} from './github.js';
export { deployRoleName } from './names.js';
export {
  accountProviderArn,
  describeProvider,
  ensureProvider,
  OIDC_PROVIDER,
  ProviderAudienceError,
  removeProvider,
  rolesTrusting,
  type ProviderState,
  type ProviderValue,
} from './provider.js';
export {
  checkInlineQuota,
  describeDeployRole,
  ensureDeployRole,
  removeDeployRole,
  type DeployRoleState,
  type DeployRoleValue,
} from './role.js';
export { deployTrustPolicy, trustedTarget } from './trust.js';
export {
  ensureWorkflowFile,
  ForeignWorkflowError,
  isOwnWorkflow,
  readWorkflowFile,
  WORKFLOW_PATH,
  workflowText,
  type WorkflowFile,
} from './workflow.js';
