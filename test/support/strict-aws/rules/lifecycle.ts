/**
 * Lifecycle timing that AWS shows and moto does not: IAM roles that ECS
 * cannot assume yet, a new account's missing service-linked role, a load
 * balancer that stays `provisioning`, a target group not yet tied to its
 * load balancer. Windows count attempts, not seconds, so a run is
 * deterministic whatever ICLINIC_DEPLOY_DELAY_SCALE makes the CLI's sleeps.
 */
import type { AwsErrorReply, AwsRequest, StrictRule, UpstreamResponse } from '../types.js';
import { firstTag, headersWithoutLength, isSuccess, stringParam } from './state-xml.js';

export interface LifecycleOptions {
  /** CreateService attempts refused after the task execution role's CreateRole. */
  readonly assumeRoleAttempts?: number;
  /** DescribeLoadBalancers answers that still show a new load balancer as provisioning. */
  readonly provisioningDescribes?: number;
}

/**
 * CreateService right after the task execution role is created: ECS cannot
 * assume it yet (IAM is eventually consistent; AWS-NOTES "Creating" 3).
 * Message as ECS words it: telia-oss/terraform-aws-ecs-fargate#58,
 * aws-samples/aws-modern-application-workshop#88.
 */
export function ecsCannotAssumeNewRole(attempts = 2): StrictRule {
  let role: { arn: string; refusalsLeft: number } | undefined;
  return {
    name: 'ecs-assume-new-role',
    source:
      'https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency ; https://github.com/telia-oss/terraform-aws-ecs-fargate/pull/58',
    before(request: AwsRequest): Promise<AwsErrorReply | undefined> {
      if (request.service !== 'ecs' || request.operation !== 'CreateService')
        return Promise.resolve(undefined);
      if (role === undefined || role.refusalsLeft <= 0) return Promise.resolve(undefined);
      role.refusalsLeft -= 1;
      return Promise.resolve({
        status: 400,
        code: 'InvalidParameterException',
        message:
          `ECS was unable to assume the role '${role.arn}' that was provided for this task. ` +
          'Please verify that the role being passed has the proper trust relationship and permissions ' +
          'and that your IAM user has permissions to pass this role.',
      });
    },
    after(request: AwsRequest, response: UpstreamResponse): Promise<undefined> {
      const trust = stringParam(request.params, 'AssumeRolePolicyDocument') ?? '';
      if (
        request.operation === 'CreateRole' &&
        isSuccess(response) &&
        trust.includes('ecs-tasks.amazonaws.com')
      ) {
        const arn = firstTag(response.body, 'Arn') ?? stringParam(request.params, 'RoleName') ?? '';
        role = { arn, refusalsLeft: attempts };
      }
      return Promise.resolve(undefined);
    },
    reset() {
      role = undefined;
    },
  };
}

/** The first CreateCluster of a new account: ECS's service-linked role is not usable yet. */
export function ecsServiceLinkedRoleOnFirstCluster(): StrictRule {
  let refused = false;
  return {
    name: 'ecs-service-linked-role',
    // ECS developer guide, "Using service-linked roles for Amazon ECS";
    // message: aws-samples/baseline-environment-on-aws#238, 1Password/scim-examples#288.
    source:
      'https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using-service-linked-roles.html ; https://github.com/aws-samples/baseline-environment-on-aws/issues/238',
    before(request: AwsRequest): Promise<AwsErrorReply | undefined> {
      if (request.service !== 'ecs' || request.operation !== 'CreateCluster' || refused) {
        return Promise.resolve(undefined);
      }
      refused = true;
      return Promise.resolve({
        status: 400,
        code: 'InvalidParameterException',
        message:
          'Unable to assume the service linked role. Please verify that the ECS service linked role exists.',
      });
    },
    reset() {
      refused = false;
    },
  };
}

/** Rewrites the State/Code of the load balancer `arn` in an ELBv2 XML answer. */
export function markProvisioning(xml: string, arn: string): string {
  const marker = `<LoadBalancerArn>${arn}</LoadBalancerArn>`;
  const start = xml.indexOf(marker);
  if (start < 0) return xml;
  const next = xml.indexOf('<LoadBalancerArn>', start + marker.length);
  const end = next < 0 ? xml.length : next;
  const segment = xml
    .slice(start, end)
    .replace(/(<State>\s*<Code>)active(<\/Code>)/, '$1provisioning$2');
  return xml.slice(0, start) + segment + xml.slice(end);
}

/** A new load balancer answers `provisioning` for its first few descriptions (ELB user guide). */
export function loadBalancerProvisioning(describes = 3): StrictRule {
  const pending = new Map<string, number>();
  const rewrite = (response: UpstreamResponse, body: string): UpstreamResponse => ({
    status: response.status,
    headers: headersWithoutLength(response.headers),
    body,
  });
  return {
    name: 'elb-provisioning',
    // ELBv2 API reference, LoadBalancerState: "provisioning" until the load balancer is fully set up.
    source:
      'https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_LoadBalancerState.html',
    after(request: AwsRequest, response: UpstreamResponse): Promise<UpstreamResponse | undefined> {
      if (request.service !== 'elasticloadbalancing' || !isSuccess(response))
        return Promise.resolve(undefined);
      if (request.operation === 'CreateLoadBalancer') {
        const arn = firstTag(response.body, 'LoadBalancerArn');
        if (arn === undefined) return Promise.resolve(undefined);
        if (!pending.has(arn)) pending.set(arn, describes);
        return Promise.resolve(rewrite(response, markProvisioning(response.body, arn)));
      }
      if (request.operation !== 'DescribeLoadBalancers') return Promise.resolve(undefined);
      let body = response.body;
      for (const [arn, left] of pending) {
        if (!body.includes(`<LoadBalancerArn>${arn}</LoadBalancerArn>`)) continue;
        if (left <= 0) {
          pending.delete(arn);
          continue;
        }
        pending.set(arn, left - 1);
        body = markProvisioning(body, arn);
      }
      return Promise.resolve(body === response.body ? undefined : rewrite(response, body));
    },
    reset() {
      pending.clear();
    },
  };
}

/**
 * CreateService right after CreateListener: the target group is not yet
 * associated with the load balancer (hashicorp/terraform-provider-aws#3495).
 */
export function targetGroupNotYetAssociated(): StrictRule {
  const pending = new Set<string>();
  return {
    name: 'target-group-association-lag',
    source: 'https://github.com/hashicorp/terraform-provider-aws/issues/3495',
    before(request: AwsRequest): Promise<AwsErrorReply | undefined> {
      if (request.service !== 'ecs' || request.operation !== 'CreateService')
        return Promise.resolve(undefined);
      const mappings = Array.isArray(request.params.loadBalancers)
        ? (request.params.loadBalancers as unknown[])
        : [];
      for (const mapping of mappings) {
        const arn = (mapping as { targetGroupArn?: unknown }).targetGroupArn;
        if (typeof arn !== 'string' || !pending.delete(arn)) continue;
        return Promise.resolve({
          status: 400,
          code: 'InvalidParameterException',
          message: `The target group with targetGroupArn ${arn} does not have an associated load balancer.`,
        });
      }
      return Promise.resolve(undefined);
    },
    after(request: AwsRequest, response: UpstreamResponse): Promise<undefined> {
      if (request.operation === 'CreateListener' && isSuccess(response)) {
        for (const [key, value] of Object.entries(request.params)) {
          if (key.endsWith('TargetGroupArn') && typeof value === 'string') pending.add(value);
        }
      }
      return Promise.resolve(undefined);
    },
    reset() {
      pending.clear();
    },
  };
}

export function lifecycleRules(options: LifecycleOptions = {}): StrictRule[] {
  return [
    ecsServiceLinkedRoleOnFirstCluster(),
    ecsCannotAssumeNewRole(options.assumeRoleAttempts),
    targetGroupNotYetAssociated(),
    loadBalancerProvisioning(options.provisioningDescribes),
  ];
}
