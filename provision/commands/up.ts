/**
 * `up` as a step graph: each step names the steps it comes after, and the
 * graph (provision/graph.ts) both orders the run and refuses a step that
 * reads a result it did not declare, so the order written here is the order
 * that runs. Independent branches start together: the load balancer (slow to
 * provision) and the CloudFront deployment overlap the image build and push,
 * the other slow pole (behind CloudFront the build starts once the
 * distribution exists: up-steps.ts, imageAfter, says why).
 */
import type { StackContext } from '../context.js';
import type { StepGraph, StepInput } from '../graph.js';
import type { UpSettings, UpSteps } from './up-types.js';
import { checkSteps, cloudFrontSteps } from './up-edge.js';
import { domainSteps } from './up-domain.js';
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
export type { UpSettings, UpSteps } from './up-types.js';
export { domainSteps } from './up-domain.js';

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
    ...domainSteps(tools),
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
  /** With --domain. */
  readonly domain?: UpDomain;
}

export interface UpDomain {
  readonly name: string;
  /** The Route 53 zone the records are in; undefined when the DNS is elsewhere. */
  readonly zone: string | undefined;
  /** Where the CNAME of a DNS provider other than Route 53 must point. */
  readonly distributionDomain: string;
  readonly certificateArn: string;
}

/** The base URL without a trailing slash: the --domain name, else CloudFront's when it is in front. */
export function stackUrl(
  steps: Pick<UpSteps, 'load-balancer' | 'distribution'> & Partial<Pick<UpSteps, 'certificate'>>,
): string {
  const distribution = steps.distribution;
  if (distribution === undefined) return steps['load-balancer'].url;
  if (steps.certificate !== undefined) return `https://${steps.certificate.domain}`;
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
    ...(steps.certificate === undefined || steps.distribution === undefined
      ? {}
      : {
          domain: {
            name: steps.certificate.domain,
            zone: steps.certificate.zone?.name,
            distributionDomain: steps.distribution.domainName,
            certificateArn: steps.certificate.certificate.arn,
          },
        }),
  };
}
