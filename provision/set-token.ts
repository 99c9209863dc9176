import {
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  UpdateServiceCommand,
  type Deployment,
  type Service,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import type { StackContext } from './context.js';
import { describeLoadBalancer, type LoadBalancerStatus } from './resources/load-balancer/index.js';
import { errorMessage, hasErrorCode } from './retry.js';
import {
  describeSecret,
  pinnedSecretVersion,
  readTokenSecret,
  secretReferences,
  writeTokenSecret,
  type SecretRef,
} from './resources/secret.js';
import {
  ensureTaskDefinition,
  findService,
  primaryDeployment,
  waitForDeployment,
  type TaskSettings,
} from './service.js';
import type { PlannedStep, StepRunner } from './steps.js';
import { VerificationError, verifyEndpoint } from './verify.js';
import { stackFlags } from './names.js';

export interface SetTokenSettings {
  readonly token: string;
  /** How long after the new version is written the previous token is still accepted. */
  readonly graceMs: number;
  readonly timeoutMs: number;
  readonly verify: boolean;
}

export function setTokenPlan(
  ctx: Pick<StackContext, 'names'>,
  settings: SetTokenSettings,
): PlannedStep[] {
  const n = ctx.names;
  const grace =
    settings.graceMs === 0
      ? 'the previous token is refused by every new task'
      : `the previous token stays valid for ${Math.round(settings.graceMs / 1000)} s after the new version is written`;
  return [
    {
      key: 'check',
      title: 'Check the running stack',
      intent: [`service ${n.service} is active; secret ${n.secret} exists`],
      after: [],
    },
    {
      key: 'secret-version',
      title: 'Write the new token',
      intent: [`new version of ${n.secret} with the new token; ${grace}`],
      after: ['check'],
    },
    {
      key: 'task-definition',
      title: 'Register a task definition pinned to that version',
      intent: [`new revision of ${n.taskFamily}, same image and settings`],
      after: ['secret-version'],
    },
    {
      key: 'rollout',
      title: 'Roll the service',
      intent: [`rolling deployment of ${n.service}; waits for COMPLETED`],
      after: ['task-definition'],
    },
    {
      key: 'verify',
      title: 'Verify through the load balancer',
      intent: settings.verify
        ? [
            'the new token gets 200',
            ...(settings.graceMs === 0 ? ['the previous token gets 401'] : []),
          ]
        : ['skipped (--no-verify)'],
      after: ['rollout'],
    },
  ];
}

export class RotationFailedError extends Error {
  constructor(detail: string, restored: readonly string[]) {
    super(
      `The token was NOT changed: ${detail}\n` +
        (restored.length > 0 ? `Restored: ${restored.join('; ')}. ` : '') +
        'The service keeps running with the previous token.',
    );
    this.name = 'RotationFailedError';
  }
}

/** The settings of a registered revision, so a new one differs only in its secret references. */
export function taskSettingsFrom(definition: TaskDefinition, containerName: string): TaskSettings {
  const container = definition.containerDefinitions?.find((c) => c.name === containerName);
  const port = container?.portMappings?.[0]?.containerPort;
  const logGroup = container?.logConfiguration?.options?.['awslogs-group'];
  if (
    container?.image === undefined ||
    port === undefined ||
    logGroup === undefined ||
    definition.executionRoleArn === undefined
  ) {
    throw new Error(
      `Task definition ${definition.taskDefinitionArn ?? '?'} is not one this tool registered; run "iclinic-deploy up" first.`,
    );
  }
  const command = container.healthCheck?.command ?? [];
  return {
    image: container.image,
    cpu: Number(definition.cpu),
    memory: Number(definition.memory),
    cpuArchitecture: definition.runtimePlatform?.cpuArchitecture === 'ARM64' ? 'ARM64' : 'X86_64',
    containerPort: port,
    healthCheckCommand: command[0] === 'CMD' ? command.slice(1) : command,
    executionRoleArn: definition.executionRoleArn,
    logGroup,
    secrets: [],
    environment: (container.environment ?? []).flatMap((e) =>
      e.name === undefined || e.value === undefined ? [] : [{ name: e.name, value: e.value }],
    ),
  };
}

export function loadBalancerUrl(lb: LoadBalancerStatus): string {
  const https = lb.listeners.some((l) => l.protocol === 'HTTPS');
  return `${https ? 'https' : 'http'}://${lb.dnsName ?? ''}`;
}

/**
 * Whether `service` shows ECS's own rollback of `ours`: a PRIMARY deployment
 * on the previous revision created after ours (the circuit breaker rolls
 * back to "the last deployment that completed successfully" as a new
 * deployment:
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentCircuitBreaker.html).
 * A stale read (DescribeServices is eventually consistent,
 * https://github.com/hashicorp/terraform-provider-aws/pull/3387) shows the
 * older PRIMARY instead, which proves nothing.
 */
export function rolledBackByEcs(
  service: Service | undefined,
  ours: Deployment,
  previousTaskDefinitionArn: string,
): boolean {
  const primary = primaryDeployment(service);
  if (primary === undefined || primary.id === ours.id) return false;
  if (primary.createdAt === undefined || ours.createdAt === undefined) return false;
  return (
    (primary.taskDefinition ?? service?.taskDefinition) === previousTaskDefinitionArn &&
    primary.createdAt.getTime() > ours.createdAt.getTime()
  );
}

export interface SetTokenResult {
  readonly previousTokenValidUntil: string | undefined;
  readonly taskDefinitionArn: string;
  readonly deploymentId: string;
  readonly verified: boolean;
}

export class UnverifiedRotationError extends Error {
  constructor(detail: string, previousUntil: string | undefined) {
    super(
      `The new token is deployed (the rollout completed), but it could not be checked through the load balancer: ${detail}\n` +
        (previousUntil === undefined
          ? 'The previous token is no longer accepted by the new tasks. '
          : `The previous token keeps working until ${previousUntil}. `) +
        'Nothing was rolled back; check by hand with curl, or run "iclinic-deploy status".',
    );
    this.name = 'UnverifiedRotationError';
  }
}

/**
 * Writes the new token, rolls the service onto a revision pinned to it, and
 * verifies. If anything from the secret write to the end of the rollout
 * fails, the service, the secret's AWSCURRENT stage and the task definitions
 * are put back, so what is stored always matches what runs. A run cut short
 * before it could put things back (Ctrl-C, lost connection) is noticed by the
 * next one: the token the service actually runs with is the one it keeps as
 * the previous token.
 */
export async function runSetToken(
  ctx: StackContext,
  settings: SetTokenSettings,
  runner: StepRunner,
): Promise<SetTokenResult> {
  const { ecs } = ctx.clients;
  const n = ctx.names;
  const deadline = ctx.clock.now() + settings.timeoutMs;
  const remaining = (floorMs: number) => Math.max(floorMs, deadline - ctx.clock.now());
  const current = await runner.run('check', async () => {
    const found = await ecs
      .send(new DescribeServicesCommand({ cluster: n.cluster, services: [n.service] }))
      .catch((error: unknown) => {
        if (hasErrorCode(error, 'ClusterNotFoundException')) return { services: [] };
        throw error;
      });
    const service = found.services?.find((s) => s.status === 'ACTIVE');
    const secret = await describeSecret(ctx);
    if (service?.taskDefinition === undefined || secret?.currentVersionId === undefined) {
      throw new Error(
        `Stack "${n.stack}" is not deployed in ${ctx.region} (no active service ${n.service} or secret ${n.secret}); run "iclinic-deploy up${stackFlags(n.stack, ctx.region)}" first.`,
      );
    }
    const definition = await ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: service.taskDefinition }),
    );
    if (definition.taskDefinition === undefined)
      throw new Error(`Task definition ${service.taskDefinition} not found.`);
    const pinned = pinnedSecretVersion(
      definition.taskDefinition.containerDefinitions?.find((c) => c.name === n.containerName)
        ?.secrets,
    );
    const liveVersionId = pinned ?? secret.currentVersionId;
    if (liveVersionId !== secret.currentVersionId) {
      ctx.report.warn(
        `The secret's current version is not the one the service runs (an earlier set-token did not finish). ` +
          'The token the service runs with is the one kept as the previous token.',
      );
    }
    const live = await readTokenSecret(ctx, pinned);
    if (live.token === settings.token) {
      throw new Error('The new token is the same as the current one; nothing to change.');
    }
    return {
      taskDefinitionArn: service.taskDefinition,
      definition: definition.taskDefinition,
      secretVersionId: liveVersionId,
      previousToken: live.token,
    };
  });

  const validUntil = new Date(ctx.clock.now() + settings.graceMs).toISOString();
  const restored: string[] = [];
  let written: SecretRef | undefined;
  let newTaskDefinitionArn: string | undefined;
  const rollout: { stage: 'not sent' | 'sent' | 'answered'; deployment?: Deployment } = {
    stage: 'not sent',
  };

  // A stale read must never make the undo keep the service on the new token
  // while the secret goes back: without proof that ECS already rolled our
  // deployment back, the service is put back (at worst one extra rollout).
  const serviceNeedsRollback = async (): Promise<boolean> => {
    if (rollout.stage === 'not sent') return false;
    const now = await findService(ctx);
    if (rollout.stage === 'sent') {
      // UpdateService failed: AWS most likely refused it; look at what runs.
      return now?.taskDefinition !== current.taskDefinitionArn;
    }
    return (
      rollout.deployment === undefined ||
      !rolledBackByEcs(now, rollout.deployment, current.taskDefinitionArn)
    );
  };

  const undo = async (reason: unknown): Promise<never> => {
    try {
      let rollbackDeployment: Deployment | undefined;
      if (await serviceNeedsRollback()) {
        const rolledBack = await ecs.send(
          new UpdateServiceCommand({
            cluster: n.cluster,
            service: n.service,
            taskDefinition: current.taskDefinitionArn,
            forceNewDeployment: true,
          }),
        );
        rollbackDeployment = primaryDeployment(rolledBack.service);
        restored.push(`service ${n.service} back on ${current.taskDefinitionArn}`);
      }
      if (written !== undefined) {
        await ctx.clients.secrets.send(
          new UpdateSecretVersionStageCommand({
            SecretId: n.secret,
            VersionStage: 'AWSCURRENT',
            MoveToVersionId: current.secretVersionId,
            RemoveFromVersionId: written.versionId,
          }),
        );
        restored.push(`secret ${n.secret} current version`);
      }
      if (
        newTaskDefinitionArn !== undefined &&
        newTaskDefinitionArn !== current.taskDefinitionArn
      ) {
        await ecs.send(
          new DeregisterTaskDefinitionCommand({ taskDefinition: newTaskDefinitionArn }),
        );
        restored.push(`deregistered ${newTaskDefinitionArn}`);
      }
      // "Restored" means running again on the previous revision, not just asked to.
      if (rollbackDeployment?.id !== undefined) {
        await waitForDeployment(ctx, {
          deploymentId: rollbackDeployment.id,
          deploymentCreatedAt: rollbackDeployment.createdAt,
          timeoutMs: remaining(5 * 60_000),
        });
        restored.push(`rollback deployment ${rollbackDeployment.id} completed`);
      }
    } catch (undoError) {
      throw new RotationFailedError(
        `${errorMessage(reason)}\nRestoring the previous state also failed: ${errorMessage(undoError)}. Run "iclinic-deploy status${stackFlags(n.stack, ctx.region)}" and "set-token" again.`,
        restored,
      );
    }
    throw new RotationFailedError(errorMessage(reason), restored);
  };

  let taskDefinitionArn: string;
  let deploymentId: string;
  try {
    written = await runner.run('secret-version', () =>
      writeTokenSecret(ctx, {
        token: settings.token,
        previousToken: settings.graceMs === 0 ? '' : current.previousToken,
        previousTokenValidUntil: settings.graceMs === 0 ? '' : validUntil,
      }),
    );
    const secretRef = written;
    const taskDefinition = await runner.ensure('task-definition', () =>
      ensureTaskDefinition(ctx, {
        ...taskSettingsFrom(current.definition, n.containerName),
        secrets: secretReferences(secretRef),
      }),
    );
    taskDefinitionArn = taskDefinition.taskDefinitionArn;
    newTaskDefinitionArn = taskDefinitionArn;
    deploymentId = await runner.run(
      'rollout',
      async () => {
        rollout.stage = 'sent';
        const updated = await ecs.send(
          new UpdateServiceCommand({
            cluster: n.cluster,
            service: n.service,
            taskDefinition: taskDefinitionArn,
            forceNewDeployment: true,
          }),
        );
        rollout.stage = 'answered';
        const deployment = primaryDeployment(updated.service);
        rollout.deployment = deployment;
        const id = deployment?.id;
        if (id === undefined) {
          throw new Error('ECS started no PRIMARY deployment for the update; cannot follow it.');
        }
        await waitForDeployment(ctx, {
          deploymentId: id,
          deploymentCreatedAt: deployment?.createdAt,
          timeoutMs: remaining(60_000),
        });
        return id;
      },
      (id) => `deployment ${id} completed`,
    );
  } catch (error) {
    return undo(error);
  }

  const previousUntil = settings.graceMs === 0 ? undefined : validUntil;
  if (previousUntil !== undefined && ctx.clock.now() > Date.parse(previousUntil)) {
    ctx.report.warn(
      `The rollout took longer than --grace: the previous token stopped being accepted by the new tasks at ${previousUntil}, before the rollout completed. Use a longer --grace next time.`,
    );
  }

  let verified = false;
  if (settings.verify) {
    try {
      const lb = await describeLoadBalancer(ctx);
      if (lb.dnsName === undefined)
        throw new Error(`Load balancer ${n.loadBalancer} not found; cannot verify.`);
      const url = `${loadBalancerUrl(lb)}/`;
      await runner.run(
        'verify',
        async () => {
          await verifyEndpoint({
            url,
            token: settings.token,
            expectStatus: 200,
            timeoutMs: remaining(60_000),
            clock: ctx.clock,
            report: ctx.report,
          });
          if (settings.graceMs === 0) {
            await verifyEndpoint({
              url,
              token: current.previousToken,
              expectStatus: 401,
              timeoutMs: remaining(60_000),
              clock: ctx.clock,
              report: ctx.report,
            });
          }
        },
        () => (settings.graceMs === 0 ? 'new token 200, previous token 401' : 'new token 200'),
      );
      verified = true;
    } catch (error) {
      // The service answered wrongly: what runs is not what was meant, so
      // put the previous state back. Not reaching it from this machine says
      // nothing about the service, and undoing a completed rotation would
      // bring back a token that may have been changed for being leaked.
      if (error instanceof VerificationError && error.definitive) return undo(error);
      throw new UnverifiedRotationError(errorMessage(error), previousUntil);
    }
  }
  return {
    previousTokenValidUntil: previousUntil,
    taskDefinitionArn,
    deploymentId,
    verified,
  };
}
