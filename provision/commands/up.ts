/**
 * `up` as a step graph: each step names the steps it comes after, and the
 * graph (provision/graph.ts) both orders the run and refuses a step that
 * reads a result it did not declare, so the order written here is the order
 * that runs. Independent branches start together: the load balancer (slow to
 * provision) overlaps the image build and push, the other slow pole.
 */
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { StackContext } from '../context.js';
import type { StepGraph, StepInput } from '../graph.js';
import {
  checkEngine,
  cpuArchitectureFor,
  ensureImage,
  type ContainerEngine,
  type ImagePlatform,
} from '../resources/image.js';
import {
  ensureDistribution,
  waitForDistributionDeployed,
  type DistributionRef,
} from '../resources/cloudfront.js';
import {
  describeTargetHealth,
  ensureLoadBalancer,
  ensureOriginRule,
  waitForLoadBalancerActive,
} from '../resources/load-balancer/index.js';
import { ensureAlarms } from '../resources/alarms.js';
import { ensureAutoscaling } from '../resources/autoscaling.js';
import { ensureLogGroup } from '../resources/logs.js';
import { ensureNetwork } from '../resources/network/index.js';
import { ensureRepository } from '../resources/registry.js';
import { ensureExecutionRole, ensureServiceLinkedRoles } from '../resources/roles.js';
import { ensureSecret, readTokenSecret, secretReferences } from '../resources/secret.js';
import {
  checkFargateVcpuQuota,
  DeploymentFailedError,
  ensureCluster,
  ensureService,
  ensureTaskDefinition,
  validateFargateSize,
  waitForDeployment,
} from '../resources/ecs/index.js';
import { generateToken } from '../token.js';
import { verifyEndpoint, verifyThroughCloudFront, type DirectCheck } from '../verify.js';
import { withStoppedTaskLogs } from './rollout-failure.js';

export const CONTAINER_PORT = 8080;
export const HEALTH_CHECK_PATH = '/healthz';
export const LOG_RETENTION_DAYS = 14;
/** Runs inside the image: the final stage has no curl or shell. */
export const CONTAINER_HEALTH_CHECK = ['/usr/local/bin/node', '/app/server.js', '--healthcheck'];

export interface UpSettings {
  /** An already pushed image; when absent the local engine builds and pushes one. */
  readonly image?: string;
  readonly engine: ContainerEngine;
  readonly platform: ImagePlatform;
  readonly certificateArn?: string;
  /**
   * HTTPS on CloudFront's *.cloudfront.net name in front of the load
   * balancer (the default). Off with --plain-http, and with --certificate-arn
   * (the user's own domain is served by the load balancer's HTTPS listener).
   */
  readonly cloudFront: boolean;
  readonly cpu: number;
  readonly memory: number;
  /** Application Auto Scaling keeps the task count in this range; equal for a fixed size. */
  readonly minTasks: number;
  readonly maxTasks: number;
  /** Subscribed to the alarms' SNS topic (AWS mails a confirmation link first). */
  readonly alarmEmail?: string;
  readonly timeoutMs: number;
  readonly verify: boolean;
  /** Used only when the secret does not exist yet. */
  readonly initialToken?: string;
  /**
   * How the final check calls the load balancer's own name to see it refused
   * (CloudFront mode). Tests replace it; the default calls it from here.
   */
  readonly directCheck?: DirectCheck;
}

/** What an ensure yields once converged. */
type ValueOf<F extends (...args: never[]) => Promise<{ value: unknown }>> = Awaited<
  ReturnType<F>
>['value'];

/** Each step's result, by step key. */
export interface UpSteps {
  readonly preflight: { account: string; arn: string };
  readonly 'service-linked-roles': ValueOf<typeof ensureServiceLinkedRoles>;
  readonly network: ValueOf<typeof ensureNetwork>;
  readonly 'load-balancer': ValueOf<typeof ensureLoadBalancer>;
  /** undefined when CloudFront is off. */
  readonly distribution: DistributionRef | undefined;
  readonly 'origin-rule': undefined;
  readonly 'distribution-deployed': undefined;
  readonly repository: ValueOf<typeof ensureRepository>;
  readonly image: { imageUri: string };
  readonly secret: ValueOf<typeof ensureSecret>;
  readonly 'log-group': ValueOf<typeof ensureLogGroup>;
  readonly 'execution-role': ValueOf<typeof ensureExecutionRole>;
  readonly cluster: ValueOf<typeof ensureCluster>;
  readonly 'task-definition': ValueOf<typeof ensureTaskDefinition>;
  readonly service: ValueOf<typeof ensureService>;
  readonly alarms: ValueOf<typeof ensureAlarms>;
  readonly autoscaling: ValueOf<typeof ensureAutoscaling>;
  readonly rollout: undefined;
  /** The token is read here, once the rollout is over, so the result can show it. */
  readonly verify: { token: string | undefined; verified: boolean };
}

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

/** A failed rollout is easier to diagnose with what the load balancer saw of the tasks. */
export async function withTargetHealth(
  ctx: StackContext,
  targetGroupArn: string,
  error: unknown,
): Promise<never> {
  if (!(error instanceof DeploymentFailedError)) throw error;
  const targets = await describeTargetHealth(ctx, targetGroupArn).catch(() => []);
  const lines =
    targets.length === 0
      ? ['Target health: no target registered (tasks never got healthy enough to register).']
      : targets.map(
          (t) =>
            `Target ${t.id}:${t.port ?? ''} ${t.state}${t.reason ? ` (${t.reason}: ${t.description ?? ''})` : ''}`,
        );
  throw new DeploymentFailedError(error.message, error.deploymentId, lines);
}

/** Module progress lines belong to the step that runs them. */
function stepContext(ctx: StackContext, input: StepInput<UpSteps>): StackContext {
  return { ...ctx, report: input.report };
}

const DRY_RUN_SUMMARY = 'not run in a dry run';
const NO_CLOUDFRONT = (settings: Pick<UpSettings, 'certificateArn'>): string =>
  settings.certificateArn === undefined
    ? 'not used (--plain-http)'
    : 'not used (--certificate-arn: HTTPS on your domain)';

type CloudFrontSteps = Pick<
  StepGraph<UpSteps>,
  'distribution' | 'origin-rule' | 'distribution-deployed'
>;

/**
 * The distribution needs the load balancer's name (its origin), the
 * listener rule needs the distribution's secret header, and the deploy wait
 * (minutes) runs beside the ECS rollout; only the final check needs both.
 */
function cloudFrontSteps(ctx: StackContext, settings: UpSettings): CloudFrontSteps {
  const on = (input: StepInput<UpSteps>) => stepContext(ctx, input);
  return {
    distribution: {
      kind: 'ensure',
      title: 'CloudFront distribution (HTTPS on *.cloudfront.net)',
      after: ['load-balancer'],
      run: async (input) => {
        if (!settings.cloudFront) return { value: undefined, summary: NO_CLOUDFRONT(settings) };
        return ensureDistribution(on(input), {
          originDomainName: input.get('load-balancer').dnsName,
          originProtocolPolicy: 'http-only',
        });
      },
    },
    'origin-rule': {
      kind: 'ensure',
      title: 'Listener rule: forward only requests from CloudFront',
      after: ['load-balancer', 'distribution'],
      run: async (input) => {
        const lb = input.get('load-balancer');
        const http = lb.listenerArns.at(-1) ?? '';
        return ensureOriginRule(on(input), {
          listenerArn: http,
          targetGroupArn: lb.targetGroupArn,
          secret: input.get('distribution')?.originSecret,
        });
      },
    },
    'distribution-deployed': {
      kind: 'check',
      title: 'Wait for CloudFront to deploy the distribution',
      after: ['distribution'],
      run: async (input) => {
        const distribution = input.get('distribution');
        if (distribution === undefined)
          return { value: undefined, summary: NO_CLOUDFRONT(settings) };
        if (ctx.dryRun) return { value: undefined, summary: DRY_RUN_SUMMARY };
        await waitForDistributionDeployed(on(input), distribution.id);
        return { value: undefined, summary: `${distribution.id} deployed` };
      },
    },
  };
}

export function upGraph(ctx: StackContext, settings: UpSettings): StepGraph<UpSteps> {
  const deadline = ctx.clock.now() + settings.timeoutMs;
  const remaining = () => Math.max(60_000, deadline - ctx.clock.now());
  const on = (input: StepInput<UpSteps>) => stepContext(ctx, input);
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
    ...cloudFrontSteps(ctx, settings),
    repository: {
      kind: 'ensure',
      title: 'ECR repository',
      after: ['preflight'],
      run: async (input) => ensureRepository(on(input)),
    },
    image: {
      kind: 'ensure',
      title: 'Container image',
      after: ['repository'],
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
      title: 'Alarms on unhealthy targets and the 5xx rate (SNS topic)',
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
    rollout: {
      kind: 'check',
      title: 'Wait for the load balancer and the deployment',
      after: ['service', 'load-balancer'],
      run: async (input) => {
        if (ctx.dryRun) return { value: undefined, summary: DRY_RUN_SUMMARY };
        const service = input.get('service');
        const lb = input.get('load-balancer');
        await Promise.all([
          waitForLoadBalancerActive(on(input), lb.loadBalancerArn, remaining()),
          service.deploymentId === undefined
            ? Promise.resolve()
            : waitForDeployment(on(input), {
                deploymentId: service.deploymentId,
                deploymentCreatedAt: service.deploymentCreatedAt,
                timeoutMs: remaining(),
                signal: input.signal,
              })
                .catch((error: unknown) => withTargetHealth(ctx, lb.targetGroupArn, error))
                .catch((error: unknown) => withStoppedTaskLogs(ctx, error)),
        ]);
        const summary =
          service.deploymentId === undefined
            ? 'no new deployment was needed'
            : `deployment ${service.deploymentId} completed`;
        return { value: undefined, summary };
      },
    },
    verify: {
      kind: 'check',
      title: settings.cloudFront
        ? 'Call the service through CloudFront'
        : 'Call the service through the load balancer',
      // After autoscaling and alarms too, so the result reports the whole stack.
      after: [
        'rollout',
        'load-balancer',
        'autoscaling',
        'alarms',
        'distribution',
        'distribution-deployed',
        'origin-rule',
      ],
      run: async (input) => {
        if (ctx.dryRun) {
          return { value: { token: undefined, verified: false }, summary: DRY_RUN_SUMMARY };
        }
        const token = (await readTokenSecret(ctx)).token;
        if (!settings.verify) {
          return { value: { token, verified: false }, summary: 'skipped (--no-verify)' };
        }
        const lb = input.get('load-balancer');
        const distribution = input.get('distribution');
        const common = {
          token,
          timeoutMs: Math.min(remaining(), 300_000),
          clock: ctx.clock,
          report: input.report,
        };
        if (distribution !== undefined) {
          const summary = await verifyThroughCloudFront({
            ...common,
            url: distribution.url,
            directUrl: `${lb.url}/`,
            ...(settings.directCheck === undefined ? {} : { directCheck: settings.directCheck }),
          });
          return { value: { token, verified: true }, summary };
        }
        const result = await verifyEndpoint({ ...common, url: `${lb.url}/`, expectStatus: 200 });
        return {
          value: { token, verified: true },
          summary: `HTTP ${result.status} after ${result.attempts} attempt(s)`,
        };
      },
    },
  };
}

export interface UpResult {
  readonly url: string;
  readonly token: string | undefined;
  readonly imageUri: string;
  readonly taskDefinitionArn: string;
  readonly deploymentId: string | undefined;
  readonly verified: boolean;
  readonly minTasks: number;
  readonly maxTasks: number;
  readonly alarmTopicArn: string;
  /** Set when this run subscribed an address: nothing is mailed until its link is clicked. */
  readonly alarmConfirmationMailedTo: string | undefined;
}

/** The base URL without a trailing slash: CloudFront's when it is in front. */
export function stackUrl(steps: Pick<UpSteps, 'load-balancer' | 'distribution'>): string {
  const distribution = steps.distribution;
  if (distribution === undefined) return steps['load-balancer'].url;
  return distribution.url.replace(/\/$/, '');
}

export function upResult(steps: UpSteps): UpResult {
  return {
    url: stackUrl(steps),
    token: steps.verify.token,
    imageUri: steps.image.imageUri,
    taskDefinitionArn: steps['task-definition'].taskDefinitionArn,
    deploymentId: steps.service.deploymentId,
    verified: steps.verify.verified,
    minTasks: steps.autoscaling.minTasks,
    maxTasks: steps.autoscaling.maxTasks,
    alarmTopicArn: steps.alarms.topicArn,
    alarmConfirmationMailedTo: steps.alarms.confirmationMailSent
      ? steps.alarms.email?.address
      : undefined,
  };
}
