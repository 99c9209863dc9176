/**
 * `up` as a step graph: each step names the steps it comes after, and the
 * graph (provision/graph.ts) both orders the run and refuses a step that
 * reads a result it did not declare, so the order written here is the order
 * that runs. Independent branches start together: the load balancer (slow to
 * provision) overlaps the image build and push, the other slow pole.
 */
import type { StackContext } from '../context.js';
import type { StepGraph, StepInput } from '../graph.js';
import type { ContainerEngine, ImagePlatform } from '../resources/image.js';
import type { DistributionRef } from '../resources/cloudfront.js';
import type { ensureLoadBalancer } from '../resources/load-balancer/index.js';
import type { ensureAlarms } from '../resources/alarms.js';
import type { ensureAutoscaling } from '../resources/autoscaling.js';
import type { ensureLogGroup } from '../resources/logs.js';
import type { ensureNetwork } from '../resources/network/index.js';
import type { ensureRepository } from '../resources/registry.js';
import type { ensureExecutionRole, ensureServiceLinkedRoles } from '../resources/roles.js';
import type { ensureSecret } from '../resources/secret.js';
import type { ensureCluster, ensureService, ensureTaskDefinition } from '../resources/ecs/index.js';
import type { DirectCheck } from '../verify.js';
import { checkSteps, cloudFrontSteps } from './up-edge.js';
import { foundationSteps, serviceSteps } from './up-steps.js';

export {
  checkCredentials,
  CONTAINER_HEALTH_CHECK,
  CONTAINER_PORT,
  fargateVcpusAtPeak,
  HEALTH_CHECK_PATH,
  LOG_RETENTION_DAYS,
} from './up-steps.js';
export { withTargetHealth } from './up-edge.js';

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

export function upGraph(ctx: StackContext, settings: UpSettings): StepGraph<UpSteps> {
  const deadline = ctx.clock.now() + settings.timeoutMs;
  const tools = {
    ctx,
    settings,
    on: (input: StepInput<UpSteps>): StackContext => ({ ...ctx, report: input.report }),
    remaining: () => Math.max(60_000, deadline - ctx.clock.now()),
  };
  return {
    ...foundationSteps(tools),
    ...cloudFrontSteps(tools),
    ...serviceSteps(tools),
    ...checkSteps(tools),
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
