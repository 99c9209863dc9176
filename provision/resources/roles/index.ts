/**
 * IAM for the stack: the task execution role (roles-execution.ts), its
 * policy documents (roles-policies.ts), the account's service-linked roles
 * (roles-service-linked.ts) and the role's removal (roles-remove.ts).
 */
export {
  describeExecutionRole,
  ensureExecutionRole,
  IAM_ROLE,
  INLINE_POLICY,
  MANAGED_POLICY_ATTACHMENT,
  planExecutionRole,
  type ExecutionRoleSettings,
  type ExecutionRoleState,
} from './execution.js';
export {
  decodePolicyDocument,
  policiesEqual,
  readSecretPolicyDocument,
  TASK_EXECUTION_MANAGED_POLICY_ARN,
  trustPolicyDocument,
  validateSecretArn,
} from './policies.js';
export {
  ensureServiceLinkedRoles,
  planServiceLinkedRoles,
  SERVICE_LINKED_ROLES,
} from './service-linked.js';
export { removeExecutionRole } from './remove.js';
