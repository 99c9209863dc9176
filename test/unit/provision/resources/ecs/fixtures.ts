import type { Service, TaskDefinition } from '@aws-sdk/client-ecs';
import {
  buildTaskDefinitionInput,
  type ServiceSettings,
  type TaskSettings,
} from '../../../../../provision/resources/ecs/index.js';
import type { Removal } from '../../../../../provision/context.js';

// Canned ECS records the ECS module tests share.
export const SECRET_ARN =
  'arn:aws:secretsmanager:us-east-1:123456789012:secret:iclinic/api-token-AbCdEf';

export const taskSettings: TaskSettings = {
  image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/iclinic/api:abc123',
  cpu: 256,
  memory: 512,
  cpuArchitecture: 'ARM64',
  containerPort: 8080,
  healthCheckCommand: ['node', 'dist/healthcheck.js'],
  executionRoleArn: 'arn:aws:iam::123456789012:role/iclinic-task-execution',
  logGroup: '/ecs/iclinic/api',
  secrets: [
    { name: 'ICLINIC_PASS', valueFrom: `${SECRET_ARN}:current::` },
    { name: 'ICLINIC_PASS_PREVIOUS', valueFrom: `${SECRET_ARN}:previous::` },
    { name: 'ICLINIC_PASS_PREVIOUS_UNTIL', valueFrom: `${SECRET_ARN}:previousUntil::` },
  ],
};

export const TD_ARN = 'arn:aws:ecs:us-east-1:123456789012:task-definition/iclinic-api:3';

/** What DescribeTaskDefinition returns for a revision registered from `input`, with AWS's defaults filled in. */
export function asDescribed(input: ReturnType<typeof buildTaskDefinitionInput>): TaskDefinition {
  return {
    ...input,
    taskDefinitionArn: TD_ARN,
    revision: 3,
    status: 'ACTIVE',
    containerDefinitions: (input.containerDefinitions ?? []).map((c) => ({
      ...c,
      portMappings: (c.portMappings ?? []).map((p) => ({ ...p, hostPort: p.containerPort })),
      // AWS returns the secrets and environment in its own order.
      secrets: [...(c.secrets ?? [])].reverse(),
      cpu: 0,
      mountPoints: [],
      volumesFrom: [],
    })),
  } as TaskDefinition;
}

export const serviceSettings: ServiceSettings = {
  taskDefinitionArn: TD_ARN,
  subnetIds: ['subnet-a', 'subnet-b'],
  securityGroupId: 'sg-tasks',
  targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/iclinic-tg/1',
  desiredCount: 2,
};

export function activeService(overrides: Partial<Service> = {}): Service {
  return {
    serviceName: 'iclinic-api',
    serviceArn: 'arn:aws:ecs:us-east-1:123456789012:service/iclinic/iclinic-api',
    status: 'ACTIVE',
    taskDefinition: TD_ARN,
    desiredCount: 2,
    runningCount: 2,
    networkConfiguration: {
      awsvpcConfiguration: {
        subnets: ['subnet-b', 'subnet-a'],
        securityGroups: ['sg-tasks'],
        assignPublicIp: 'ENABLED',
      },
    },
    deploymentConfiguration: {
      deploymentCircuitBreaker: { enable: true, rollback: true },
      maximumPercent: 200,
      minimumHealthyPercent: 100,
    },
    loadBalancers: [
      { targetGroupArn: serviceSettings.targetGroupArn, containerName: 'api', containerPort: 8080 },
    ],
    deployments: [{ id: 'ecs-svc/1', status: 'PRIMARY', rolloutState: 'COMPLETED' }],
    events: [],
    ...overrides,
  };
}

/** What a remove deleted, as "kind name". */
export function removedNames(removal: Removal): string[] {
  return removal.changes.map((c) => `${c.kind} ${c.name}`);
}

/** A service whose deployment ecs-svc/9 the circuit breaker failed, with one event at `eventAt`. */
export function failedRolloutService(eventAt: Date): Service {
  return activeService({
    deployments: [
      {
        id: 'ecs-svc/9',
        status: 'PRIMARY',
        rolloutState: 'FAILED',
        rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.',
      },
    ],
    events: [
      { id: 'e1', createdAt: eventAt, message: '(service iclinic-api) has started 2 tasks' },
    ],
  });
}
