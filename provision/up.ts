import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { Ensured, StackContext } from './context.js';
import {
  buildContextDir,
  buildImage,
  checkEngine,
  contentTag,
  cpuArchitectureFor,
  pushImage,
  type ContainerEngine,
  type ImagePlatform,
} from './image.js';
import {
  describeTargetHealth,
  ensureLoadBalancer,
  waitForLoadBalancerActive,
} from './load-balancer.js';
import { ensureLogGroup } from './logs.js';
import { ensureNetwork } from './network.js';
import { ensureRepository, imageTagExists, registryLogin, type RepositoryRef } from './registry.js';
import { ensureExecutionRole, ensureServiceLinkedRoles } from './roles.js';
import { ensureSecret, readTokenSecret, secretReferences } from './secret.js';
import {
  checkFargateVcpuQuota,
  DeploymentFailedError,
  ensureCluster,
  ensureService,
  ensureTaskDefinition,
  validateFargateSize,
  waitForDeployment,
} from './resources/ecs/index.js';
import { StepRunner, toLegacyEnsured, type PlannedStep } from './steps.js';
import { generateToken } from './token.js';
import { verifyEndpoint } from './verify.js';
import { errorMessage, unreachableCode } from './retry.js';

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
  readonly cpu: number;
  readonly memory: number;
  readonly desiredCount: number;
  readonly timeoutMs: number;
  readonly verify: boolean;
  /** Used only when the secret does not exist yet. */
  readonly initialToken?: string;
}

export function upPlan(
  ctx: Pick<StackContext, 'names' | 'region'>,
  settings: UpSettings,
): PlannedStep[] {
  const n = ctx.names;
  const https = settings.certificateArn !== undefined;
  return [
    {
      key: 'preflight',
      title: 'Check credentials, sizes and container engine',
      intent: [
        `AWS identity in ${ctx.region} (sts:GetCallerIdentity)`,
        `Fargate size ${settings.cpu} CPU / ${settings.memory} MiB`,
        settings.image === undefined
          ? `${settings.engine} is installed and running`
          : `use image ${settings.image}`,
      ],
      after: [],
    },
    {
      key: 'service-linked-roles',
      title: 'Service-linked roles for ECS and Elastic Load Balancing',
      intent: [
        'AWSServiceRoleForECS and AWSServiceRoleForElasticLoadBalancing exist (created once per account)',
      ],
      after: ['preflight'],
    },
    {
      key: 'network',
      title: 'Network (VPC, 2 public subnets, internet gateway, security groups)',
      intent: [
        `VPC ${n.vpc} 10.0.0.0/16 with subnets in two availability zones, internet gateway, public route table`,
        `security group ${n.loadBalancerSecurityGroup}: TCP 80${https ? ' and 443' : ''} from anywhere`,
        `security group ${n.taskSecurityGroup}: TCP ${CONTAINER_PORT} only from ${n.loadBalancerSecurityGroup}`,
      ],
      after: ['preflight'],
    },
    {
      key: 'load-balancer',
      title: 'Application Load Balancer, target group and listener',
      intent: [
        `internet-facing ALB ${n.loadBalancer}`,
        `target group ${n.targetGroup} (ip, health check ${HEALTH_CHECK_PATH} every 10 s, deregistration delay 15 s)`,
        https
          ? 'HTTPS listener on 443 with the certificate, HTTP 80 redirects to it'
          : 'HTTP listener on 80',
      ],
      after: ['network'],
    },
    {
      key: 'repository',
      title: 'ECR repository',
      intent: [
        `repository ${n.repository} (scan on push, immutable tags, keeps the last 10 images)`,
      ],
      after: ['preflight'],
    },
    {
      key: 'image',
      title: 'Container image',
      intent: [
        settings.image === undefined
          ? `build the Dockerfile for ${settings.platform} with ${settings.engine}, tag it by content, push it unless that tag is already there`
          : `use ${settings.image} as given (no build)`,
      ],
      after: ['repository'],
    },
    {
      key: 'secret',
      title: 'Token secret',
      intent: [
        `Secrets Manager secret ${n.secret} (kept as is when it exists; a new one gets a random token)`,
      ],
      after: ['preflight'],
    },
    {
      key: 'log-group',
      title: 'Log group',
      intent: [`CloudWatch log group ${n.logGroup} with ${LOG_RETENTION_DAYS}-day retention`],
      after: ['preflight'],
    },
    {
      key: 'execution-role',
      title: 'Task execution role',
      intent: [
        `IAM role ${n.executionRole}: pull images, write logs, read only secret ${n.secret}`,
      ],
      after: ['secret'],
    },
    {
      key: 'cluster',
      title: 'ECS cluster and Fargate quota',
      intent: [
        `ECS cluster ${n.cluster}`,
        `Fargate vCPU quota allows ${fargateVcpusAtPeak(settings)} vCPU (a rolling deployment runs twice the tasks)`,
      ],
      after: ['service-linked-roles'],
    },
    {
      key: 'task-definition',
      title: 'Task definition',
      intent: [
        `family ${n.taskFamily}: ${settings.cpu} CPU / ${settings.memory} MiB, ${cpuArchitectureFor(settings.platform)}, token from the secret (pinned version), read-only root filesystem, non-root, health check`,
      ],
      after: ['image', 'execution-role', 'log-group'],
    },
    {
      key: 'service',
      title: 'ECS service',
      intent: [
        `service ${n.service}: ${settings.desiredCount} Fargate tasks in two zones behind ${n.targetGroup}, rolling deployment with circuit breaker and rollback`,
      ],
      after: ['task-definition', 'load-balancer', 'cluster', 'service-linked-roles'],
    },
    {
      key: 'rollout',
      title: 'Wait for the load balancer and the deployment',
      intent: [
        'the load balancer is active',
        'the deployment just started reaches COMPLETED (ECS events shown meanwhile)',
      ],
      after: ['service'],
    },
    {
      key: 'verify',
      title: 'Call the service through the load balancer',
      intent: settings.verify ? ['GET / with the token answers 200'] : ['skipped (--no-verify)'],
      after: ['rollout'],
    },
  ];
}

/** A rolling deployment (maximumPercent 200) briefly runs twice the tasks. */
export function fargateVcpusAtPeak(settings: Pick<UpSettings, 'cpu' | 'desiredCount'>): number {
  return (settings.cpu / 1024) * settings.desiredCount * 2;
}

export class CredentialsError extends Error {
  constructor(detail: string) {
    super(
      `Could not use AWS credentials: ${detail}. Configure them (aws configure sso, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or --profile NAME) and check with "aws sts get-caller-identity".`,
    );
    this.name = 'CredentialsError';
  }
}

export async function checkCredentials(
  ctx: StackContext,
): Promise<{ account: string; arn: string }> {
  try {
    const identity = await ctx.clients.sts.send(new GetCallerIdentityCommand({}));
    return { account: identity.Account ?? 'unknown', arn: identity.Arn ?? 'unknown' };
  } catch (error) {
    // Not reaching AWS at all is a network or region problem, not a
    // credentials one; the CLI explains those itself.
    if (unreachableCode(error) !== undefined) throw error;
    throw new CredentialsError(errorMessage(error));
  }
}

async function ensureImage(
  ctx: StackContext,
  settings: UpSettings,
  repository: RepositoryRef,
  signal: AbortSignal,
): Promise<Ensured<{ imageUri: string }>> {
  if (settings.image !== undefined) {
    return {
      outcome: 'unchanged',
      changes: [`using ${settings.image}`],
      value: { imageUri: settings.image },
    };
  }
  const contextDir = buildContextDir();
  const tag = await contentTag(contextDir, settings.platform);
  const imageUri = `${repository.repositoryUri}:${tag}`;
  if (await imageTagExists(ctx, tag)) {
    return { outcome: 'unchanged', changes: [`${imageUri} already pushed`], value: { imageUri } };
  }
  await buildImage({
    engine: settings.engine,
    contextDir,
    imageRef: imageUri,
    platform: settings.platform,
    report: ctx.report,
    signal,
  });
  const login = await registryLogin(ctx);
  await pushImage({
    engine: settings.engine,
    contextDir,
    imageRef: imageUri,
    platform: settings.platform,
    login,
    report: ctx.report,
    signal,
  });
  return { outcome: 'created', changes: [`pushed ${imageUri}`], value: { imageUri } };
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

export interface UpResult {
  readonly url: string;
  readonly token: string;
  readonly imageUri: string;
  readonly taskDefinitionArn: string;
  readonly deploymentId: string | undefined;
  readonly verified: boolean;
}

/**
 * Orders the steps. Independent branches start together: the load balancer
 * (slow to provision) overlaps the image build and push, the other slow pole.
 */
export async function runUp(
  ctx: StackContext,
  settings: UpSettings,
  runner: StepRunner,
): Promise<UpResult> {
  const deadline = ctx.clock.now() + settings.timeoutMs;
  const remaining = () => Math.max(60_000, deadline - ctx.clock.now());
  // When one branch fails the run is over: a build or push still going
  // would only keep the user waiting.
  const runFailed = new AbortController();
  const started = <T>(promise: Promise<T>): Promise<T> => {
    promise.catch(() => runFailed.abort());
    return promise;
  };

  await runner.run(
    'preflight',
    async () => {
      validateFargateSize(settings.cpu, settings.memory);
      const identity = await checkCredentials(ctx);
      if (settings.image === undefined) await checkEngine(settings.engine);
      return identity;
    },
    (identity) => `account ${identity.account} as ${identity.arn}`,
  );

  const serviceLinkedRoles = started(
    runner.ensure('service-linked-roles', () => ensureServiceLinkedRoles(ctx)),
  );
  const network = started(
    runner.ensure('network', () =>
      ensureNetwork(ctx, {
        containerPort: CONTAINER_PORT,
        https: settings.certificateArn !== undefined,
      }),
    ),
  );
  const loadBalancer = started(
    network.then((net) =>
      runner.ensure('load-balancer', () =>
        ensureLoadBalancer(ctx, net, {
          containerPort: CONTAINER_PORT,
          healthCheckPath: HEALTH_CHECK_PATH,
          ...(settings.certificateArn === undefined
            ? {}
            : { certificateArn: settings.certificateArn }),
        }),
      ),
    ),
  );
  const image = started(
    runner
      .ensure('repository', () => ensureRepository(ctx))
      .then((repository) =>
        runner.ensure('image', () => ensureImage(ctx, settings, repository, runFailed.signal)),
      ),
  );
  const secret = started(
    runner.ensure('secret', () =>
      ensureSecret(ctx, { initialToken: () => settings.initialToken ?? generateToken() }),
    ),
  );
  const logGroup = started(
    runner.ensure('log-group', () => ensureLogGroup(ctx, { retentionDays: LOG_RETENTION_DAYS })),
  );
  const role = started(
    secret.then((ref) =>
      runner.ensure('execution-role', () => ensureExecutionRole(ctx, { secretArn: ref.arn })),
    ),
  );
  // After the service-linked roles: a brand-new account's first
  // CreateCluster fails until ECS's role exists.
  const cluster = started(
    serviceLinkedRoles.then(() =>
      runner.ensure('cluster', async () => {
        const ensured = await ensureCluster(ctx);
        await checkFargateVcpuQuota(ctx, fargateVcpusAtPeak(settings));
        return toLegacyEnsured(ensured);
      }),
    ),
  );

  // Every branch is awaited here so the first failure ends the run at once:
  // a refused load balancer or a low quota need not wait for the image.
  const [imageRef, secretRef, roleRef, logGroupRef, net, lb] = await Promise.all([
    image,
    secret,
    role,
    logGroup,
    network,
    loadBalancer,
    cluster,
    serviceLinkedRoles,
  ]);
  const taskDefinition = await runner.ensure('task-definition', async () =>
    toLegacyEnsured(
      await ensureTaskDefinition(ctx, {
        image: imageRef.imageUri,
        cpu: settings.cpu,
        memory: settings.memory,
        cpuArchitecture: cpuArchitectureFor(settings.platform),
        containerPort: CONTAINER_PORT,
        healthCheckCommand: CONTAINER_HEALTH_CHECK,
        executionRoleArn: roleRef.roleArn,
        logGroup: logGroupRef.name,
        secrets: secretReferences(secretRef),
      }),
    ),
  );
  const service = await runner.ensure('service', async () =>
    toLegacyEnsured(
      await ensureService(ctx, {
        taskDefinitionArn: taskDefinition.taskDefinitionArn,
        subnetIds: net.subnetIds,
        securityGroupId: net.taskSecurityGroupId,
        targetGroupArn: lb.targetGroupArn,
        desiredCount: settings.desiredCount,
      }),
    ),
  );

  await runner.run(
    'rollout',
    async () => {
      await Promise.all([
        waitForLoadBalancerActive(ctx, lb.loadBalancerArn, remaining()),
        service.deploymentId === undefined
          ? Promise.resolve()
          : waitForDeployment(ctx, {
              deploymentId: service.deploymentId,
              deploymentCreatedAt: service.deploymentCreatedAt,
              timeoutMs: remaining(),
            }).catch((error: unknown) => withTargetHealth(ctx, lb.targetGroupArn, error)),
      ]);
    },
    () =>
      service.deploymentId === undefined
        ? 'no new deployment was needed'
        : `deployment ${service.deploymentId} completed`,
  );

  const token = (await readTokenSecret(ctx)).token;
  let verified = false;
  if (settings.verify) {
    await runner.run(
      'verify',
      () =>
        verifyEndpoint({
          url: `${lb.url}/`,
          token,
          expectStatus: 200,
          timeoutMs: Math.min(remaining(), 300_000),
          clock: ctx.clock,
          report: ctx.report,
        }),
      (result) => `HTTP ${result.status} after ${result.attempts} attempt(s)`,
    );
    verified = true;
  }
  return {
    url: lb.url,
    token,
    imageUri: imageRef.imageUri,
    taskDefinitionArn: taskDefinition.taskDefinitionArn,
    deploymentId: service.deploymentId,
    verified,
  };
}
