/**
 * The steps of `up`, grouped by concern: the account and the network, the
 * image and the secret, the ECS service and what watches it. up.ts joins
 * the groups into one graph, whose `after` lists order the run.
 */
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { StackContext } from '../context.js';
import type { StepGraph, StepInput } from '../graph.js';
import {
  buildContextDir,
  checkEngine,
  checkServiceBundle,
  checkGivenImage,
  cpuArchitectureFor,
  ensureImage,
} from '../resources/image/index.js';
import { ensureLoadBalancer } from '../resources/load-balancer/index.js';
import { ensureAlarms } from '../resources/alarms/index.js';
import { ensureAutoscaling } from '../resources/autoscaling.js';
import { ensureLogGroup } from '../resources/logs/index.js';
import { ensureNetwork } from '../resources/network/index.js';
import { ensureRepository } from '../resources/registry.js';
import { ensureExecutionRole, ensureServiceLinkedRoles } from '../resources/roles/index.js';
import { ensureSecret, secretReferences } from '../resources/secret.js';
import {
  checkFargateVcpuQuota,
  ensureCluster,
  ensureService,
  ensureTaskDefinition,
  validateFargateSize,
} from '../resources/ecs/index.js';
import { generateToken } from '../token.js';

import type { UpSettings, UpSteps } from './up-types.js';

/** What every group of steps shares: the context, the settings and the time left. */
export interface StepTools {
  readonly ctx: StackContext;
  readonly settings: UpSettings;
  /** The context with progress attributed to the running step. */
  readonly on: (input: StepInput<UpSteps>) => StackContext;
  /** Milliseconds left of --timeout, at least a minute. */
  readonly remaining: () => number;
}

type Steps<K extends keyof UpSteps & string> = Pick<StepGraph<UpSteps>, K>;

/**
 * A rolling deployment (maximumPercent 200) briefly runs twice the tasks,
 * and the scaler may have grown the service to its maximum by then.
 */
export function fargateVcpusAtPeak(settings: Pick<UpSettings, 'cpu' | 'maxTasks'>): number {
  return (settings.cpu / 1024) * settings.maxTasks * 2;
}

/** The SDK's own error is kept: cli/errors.ts words credentials problems once, for every command. */
export async function checkCredentials(
  ctx: StackContext,
): Promise<{ account: string; arn: string }> {
  const identity = await ctx.clients.sts.send(new GetCallerIdentityCommand({}));
  return { account: identity.Account ?? 'unknown', arn: identity.Arn ?? 'unknown' };
}

export const CONTAINER_PORT = 8080;
export const HEALTH_CHECK_PATH = '/healthz';
export const LOG_RETENTION_DAYS = 14;
/** Runs inside the image: the final stage has no curl or shell. */
export const CONTAINER_HEALTH_CHECK = ['/usr/local/bin/node', '/app/server.js', '--healthcheck'];

export const DRY_RUN_SUMMARY = 'not run in a dry run';

/**
 * A brand-new account's usual first error in CloudFront mode is CloudFront
 * refusing the distribution until AWS Support has verified the account
 * (cloudfront/errors.ts). So when `up` builds the image it waits for the
 * distribution: the refusal then comes before any build or push, not while a
 * build runs (and, on a retry with a warm build cache, during the push).
 *
 * The cost on the normal path: the build starts once the network, the load
 * balancer and the create call are done instead of at once; part1 estimates
 * 15-30 s for those calls on a first run, and on later runs they only read.
 * The rest of the build and push still overlaps the slow waits (the load
 * balancer becoming active, the CloudFront deployment, minutes), and the
 * service already comes after the distribution through the origin rule. The
 * run grows by that delay at most, and only when build + push + rollout
 * outlasts the CloudFront deployment. With --image nothing is built or
 * pushed, and without CloudFront there is no refusal to wait for, so the
 * image step then starts with the repository as before.
 */
export function imageAfter(
  settings: Pick<UpSettings, 'cloudFront' | 'image'>,
): ('repository' | 'distribution')[] {
  return settings.cloudFront && settings.image === undefined
    ? ['repository', 'distribution']
    : ['repository'];
}

/** Credentials, the network, the load balancer, the image, the secret, logs and the role. */
export function foundationSteps({
  ctx,
  settings,
  on,
}: StepTools): Steps<
  | 'preflight'
  | 'service-linked-roles'
  | 'network'
  | 'load-balancer'
  | 'repository'
  | 'image'
  | 'secret'
  | 'log-group'
  | 'execution-role'
> {
  return {
    preflight: {
      kind: 'check',
      title: 'Check credentials, sizes and container engine',
      after: [],
      run: async () => {
        validateFargateSize(settings.cpu, settings.memory);
        const identity = await checkCredentials(ctx);
        // A plan needs no engine: nothing is built in a dry run.
        if (settings.image === undefined && !ctx.dryRun) await checkEngine(settings.engine);
        // Before any resource: a missing or stale bundle would stop the run at the image step.
        if (settings.image === undefined) await checkServiceBundle(buildContextDir());
        if (settings.image !== undefined) await checkGivenImage(ctx, settings.image);
        return { value: identity, summary: `account ${identity.account} as ${identity.arn}` };
      },
    },
    'service-linked-roles': {
      kind: 'ensure',
      title: 'Service-linked roles for ECS and Elastic Load Balancing',
      after: ['preflight'],
      run: async (input) => ensureServiceLinkedRoles(on(input)),
    },
    network: {
      kind: 'ensure',
      title: 'Network (VPC, 2 public subnets, internet gateway, security groups)',
      after: ['preflight'],
      run: async (input) =>
        ensureNetwork(on(input), {
          containerPort: CONTAINER_PORT,
          https: settings.certificateArn !== undefined,
          cloudFront: settings.cloudFront,
        }),
    },
    'load-balancer': {
      kind: 'ensure',
      title: 'Application Load Balancer, target group and listener',
      after: ['network'],
      run: async (input) =>
        ensureLoadBalancer(on(input), input.get('network'), {
          containerPort: CONTAINER_PORT,
          healthCheckPath: HEALTH_CHECK_PATH,
          cloudFront: settings.cloudFront,
          ...(settings.certificateArn === undefined
            ? {}
            : { certificateArn: settings.certificateArn }),
        }),
    },
    repository: {
      kind: 'ensure',
      title: 'ECR repository',
      after: ['preflight'],
      run: async (input) => ensureRepository(on(input)),
    },
    image: {
      kind: 'ensure',
      title: 'Container image',
      after: imageAfter(settings),
      run: async (input) => {
        const image = await ensureImage(on(input), settings, input.get('repository'), input.signal);
        const uri = image.value.imageUri;
        const summary = settings.image !== undefined ? `using ${uri}` : `${uri} already pushed`;
        return image.changes.length > 0 ? image : { ...image, summary };
      },
    },
    secret: {
      kind: 'ensure',
      title: 'Token secret',
      after: ['preflight'],
      run: async (input) =>
        ensureSecret(on(input), {
          initialToken: () => settings.initialToken ?? generateToken(),
        }),
    },
    'log-group': {
      kind: 'ensure',
      title: 'Log group',
      after: ['preflight'],
      run: async (input) => ensureLogGroup(on(input), { retentionDays: LOG_RETENTION_DAYS }),
    },
    'execution-role': {
      kind: 'ensure',
      title: 'Task execution role',
      after: ['secret'],
      run: async (input) => ensureExecutionRole(on(input), { secretArn: input.get('secret').arn }),
    },
  };
}

/** The cluster, the task definition, the service, and the alarms and scaler on it. */
export function serviceSteps({
  settings,
  on,
}: StepTools): Steps<'cluster' | 'task-definition' | 'service' | 'alarms' | 'autoscaling'> {
  return {
    // After the service-linked roles: a brand-new account's first
    // CreateCluster fails until ECS's role exists.
    cluster: {
      kind: 'ensure',
      title: 'ECS cluster and Fargate quota',
      after: ['service-linked-roles'],
      run: async (input) => {
        const cluster = await ensureCluster(on(input));
        await checkFargateVcpuQuota(on(input), fargateVcpusAtPeak(settings));
        return cluster;
      },
    },
    'task-definition': {
      kind: 'ensure',
      title: 'Task definition',
      after: ['image', 'execution-role', 'log-group', 'secret'],
      run: async (input) =>
        ensureTaskDefinition(on(input), {
          image: input.get('image').imageUri,
          cpu: settings.cpu,
          memory: settings.memory,
          cpuArchitecture: cpuArchitectureFor(settings.platform),
          containerPort: CONTAINER_PORT,
          healthCheckCommand: CONTAINER_HEALTH_CHECK,
          executionRoleArn: input.get('execution-role').roleArn,
          logGroup: input.get('log-group').name,
          secrets: secretReferences(input.get('secret')),
        }),
    },
    service: {
      kind: 'ensure',
      title: 'ECS service',
      // After the origin rule: behind CloudFront the listener's default is a
      // 403, and ECS refuses a target group no listener or rule forwards to
      // ("The target group ... does not have an associated load balancer").
      after: [
        'task-definition',
        'load-balancer',
        'origin-rule',
        'network',
        'cluster',
        'service-linked-roles',
      ],
      run: async (input) => {
        const network = input.get('network');
        return ensureService(on(input), {
          taskDefinitionArn: input.get('task-definition').taskDefinitionArn,
          subnetIds: network.subnetIds,
          securityGroupId: network.taskSecurityGroupId,
          targetGroupArn: input.get('load-balancer').targetGroupArn,
          desiredCount: settings.minTasks,
          autoscaled: true,
        });
      },
    },
    alarms: {
      kind: 'ensure',
      title: 'Alarms on unhealthy targets, no healthy target and the 5xx rate (SNS topic)',
      after: ['load-balancer'],
      run: async (input) => {
        const lb = input.get('load-balancer');
        return ensureAlarms(on(input), {
          loadBalancerArn: lb.loadBalancerArn,
          targetGroupArn: lb.targetGroupArn,
          ...(settings.alarmEmail === undefined ? {} : { email: settings.alarmEmail }),
        });
      },
    },
    // After the service: the scalable target names it. It does not wait for
    // the rollout, so it overlaps the deployment wait.
    autoscaling: {
      kind: 'ensure',
      title: `Autoscaling (${settings.minTasks}-${settings.maxTasks} tasks on requests and CPU)`,
      after: ['service', 'load-balancer'],
      run: async (input) => {
        const lb = input.get('load-balancer');
        return ensureAutoscaling(on(input), {
          minTasks: settings.minTasks,
          maxTasks: settings.maxTasks,
          loadBalancerArn: lb.loadBalancerArn,
          targetGroupArn: lb.targetGroupArn,
        });
      },
    },
  };
}
