// The ECS concern: Fargate sizes and quota, cluster, task definition,
// service, and following a deployment.
export {
  FARGATE_SIZES,
  FARGATE_VCPU_QUOTA_CODE,
  FargateQuotaError,
  checkFargateVcpuQuota,
  validateFargateSize,
} from './fargate.js';
export {
  describeCluster,
  ensureCluster,
  planCluster,
  removeCluster,
  type ClusterState,
} from './cluster.js';
export {
  LOG_STREAM_PREFIX,
  buildTaskDefinitionInput,
  deregisterTaskDefinition,
  describeRevision,
  describeTaskDefinition,
  diffTaskDefinition,
  ensureTaskDefinition,
  normalizeTaskDefinition,
  planTaskDefinition,
  removeTaskDefinitions,
  revisionName,
  taskSettingsFrom,
  type TaskDefinitionRef,
  type TaskDefinitionState,
  type TaskSettings,
} from './task-definition.js';
export {
  DEFAULT_CONTAINER_PORT,
  describeService,
  diffService,
  ensureService,
  findService,
  planService,
  type ServiceRef,
  type ServiceSettings,
  type ServiceStatus,
} from './service.js';
export { removeService } from './service-remove.js';
export {
  DEPLOYMENT_VISIBILITY_TIMEOUT_MS,
  DeploymentFailedError,
  primaryDeployment,
  primaryDeploymentId,
  replacingDeployment,
  rolledBackByEcs,
  rollService,
  waitForDeployment,
  type StartedDeployment,
  type WaitForDeploymentOptions,
} from './deployment.js';
export {
  isIamPropagationError,
  isTargetGroupNotAttachedError,
  retryWhileIamPropagates,
} from './propagation.js';
