/**
 * What the load balancer modules share: settings, the values they return,
 * the settings AWS ships with slow defaults (30 s health checks, 300 s
 * deregistration delay) that the stack sets explicitly so rollouts and
 * `down` do not crawl, and the errors a user reads.
 */

export interface LoadBalancerSettings {
  containerPort: number;
  healthCheckPath: string;
  certificateArn?: string;
  /**
   * CloudFront in front: the port-80 listener answers a fixed 403 by default
   * and only the origin rule (origin-rule.ts) forwards to the target group.
   */
  cloudFront?: boolean;
}

/** The part of the network the load balancer sits in; ids may be NOT_CREATED_YET in a dry run. */
export interface LoadBalancerNetwork {
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
  readonly loadBalancerSecurityGroupId: string;
}

export interface LoadBalancer {
  loadBalancerArn: string;
  dnsName: string;
  /** Base URL without a trailing slash. */
  url: string;
  targetGroupArn: string;
  listenerArns: string[];
}

export interface LoadBalancerStatus {
  loadBalancerArn?: string;
  dnsName?: string;
  /** provisioning | active | active_impaired | failed */
  state?: string;
  targetGroupArn?: string;
  listeners: { port: number; protocol: string; arn: string }[];
}

export interface TargetHealth {
  id: string;
  port?: number;
  /** initial | healthy | unhealthy | unused | draining | unavailable */
  state: string;
  reason?: string;
  description?: string;
}

/**
 * What the target group's health check must be: every 10 s, healthy after
 * 2 checks, instead of AWS's 30 s and 5
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html).
 */
export const HEALTH_CHECK = {
  intervalSeconds: 10,
  timeoutSeconds: 5,
  healthyThreshold: 2,
  unhealthyThreshold: 3,
  matcher: '200',
} as const;

/**
 * AWS waits 300 s by default before a deregistered target is gone
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#deregistration-delay).
 */
export const DEREGISTRATION_DELAY_SECONDS = 15;

export const KIND = {
  loadBalancer: 'load balancer',
  targetGroup: 'target group',
  listener: 'listener',
} as const;

export class LoadBalancerNotPermittedError extends Error {
  constructor(region: string, awsMessage: string) {
    super(
      `AWS refused to create the load balancer in ${region}: "${awsMessage}". ` +
        `Some new AWS accounts are not yet allowed to create load balancers, and only AWS can lift this: ` +
        `open a case in AWS Support (Service limit increase / Account and billing) asking to enable ` +
        `Elastic Load Balancing for the account, then run "npx iclinic-deploy up" again. Retrying will not help.`,
    );
    this.name = 'LoadBalancerNotPermittedError';
  }
}

export class LoadBalancerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoadBalancerError';
  }
}
