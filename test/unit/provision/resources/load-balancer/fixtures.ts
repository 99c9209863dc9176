// Canned ELB answers the load balancer tests share: a converged stack and an empty account.
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  LoadBalancerNotFoundException,
  ModifyListenerCommand,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  TargetGroupNotFoundException,
  type Listener,
  type LoadBalancer as AwsLoadBalancer,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { StackContext } from '../../../../../provision/context.js';
import { STACK_TAG_KEY } from '../../../../../provision/names.js';
import type { LoadBalancerNetwork } from '../../../../../provision/resources/load-balancer/index.js';
import { testContext } from '../../../support/context.js';

export function elbv2Context(options: { dryRun?: boolean } = {}) {
  const { ctx, mocks, clock, report } = testContext();
  const context: StackContext = { ...ctx, dryRun: options.dryRun ?? false };
  return { ctx: context, elbv2: mocks.elbv2, clock, report };
}

export const network: LoadBalancerNetwork = {
  vpcId: 'vpc-1',
  subnetIds: ['subnet-a', 'subnet-b'],
  loadBalancerSecurityGroupId: 'sg-alb',
};
export const settings = { containerPort: 8080, healthCheckPath: '/healthz' };
export const LB_ARN =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/iclinic-alb/abc';
export const TG_ARN =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/iclinic-tg/def';
export const LISTENER_ARN =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/iclinic-alb/abc/80';
export const CERT_ARN = 'arn:aws:acm:us-east-1:123456789012:certificate/123';

export const lbNotFound = () =>
  new LoadBalancerNotFoundException({
    message: 'One or more load balancers not found',
    $metadata: {},
  });
export const tgNotFound = () =>
  new TargetGroupNotFoundException({
    message: 'One or more target groups not found',
    $metadata: {},
  });

export const existingLoadBalancer: AwsLoadBalancer = {
  LoadBalancerArn: LB_ARN,
  LoadBalancerName: 'iclinic-alb',
  DNSName: 'iclinic-alb-1.us-east-1.elb.amazonaws.com',
  Scheme: 'internet-facing',
  VpcId: 'vpc-1',
  State: { Code: 'active' },
  AvailabilityZones: [
    { ZoneName: 'us-east-1a', SubnetId: 'subnet-a' },
    { ZoneName: 'us-east-1b', SubnetId: 'subnet-b' },
  ],
  SecurityGroups: ['sg-alb'],
};

export const convergedTargetGroup: TargetGroup = {
  TargetGroupArn: TG_ARN,
  TargetGroupName: 'iclinic-tg',
  Protocol: 'HTTP',
  Port: 8080,
  VpcId: 'vpc-1',
  TargetType: 'ip',
  HealthCheckEnabled: true,
  HealthCheckProtocol: 'HTTP',
  HealthCheckPort: 'traffic-port',
  HealthCheckPath: '/healthz',
  HealthCheckIntervalSeconds: 10,
  HealthCheckTimeoutSeconds: 5,
  HealthyThresholdCount: 2,
  UnhealthyThresholdCount: 3,
  Matcher: { HttpCode: '200' },
};

export const forwardListener: Listener = {
  ListenerArn: LISTENER_ARN,
  Port: 80,
  Protocol: 'HTTP',
  DefaultActions: [{ Type: 'forward', TargetGroupArn: TG_ARN }],
};

export function withExistingStack(
  overrides: { targetGroup?: TargetGroup; listeners?: Listener[]; dryRun?: boolean } = {},
) {
  const t = elbv2Context({ dryRun: overrides.dryRun ?? false });
  t.elbv2.on(DescribeLoadBalancersCommand).resolves({ LoadBalancers: [existingLoadBalancer] });
  t.elbv2
    .on(DescribeTargetGroupsCommand)
    .resolves({ TargetGroups: [overrides.targetGroup ?? convergedTargetGroup] });
  t.elbv2.on(DescribeTargetGroupAttributesCommand).resolves({
    Attributes: [
      { Key: 'deregistration_delay.timeout_seconds', Value: '15' },
      { Key: 'stickiness.enabled', Value: 'false' },
    ],
  });
  t.elbv2
    .on(DescribeListenersCommand)
    .resolves({ Listeners: overrides.listeners ?? [forwardListener] });
  t.elbv2.on(ModifyTargetGroupCommand).resolves({});
  t.elbv2.on(ModifyListenerCommand).resolves({});
  return t;
}

export function emptyAccount(options: { dryRun?: boolean } = {}) {
  const t = elbv2Context(options);
  t.elbv2.on(DescribeLoadBalancersCommand).rejects(lbNotFound());
  t.elbv2.on(DescribeTargetGroupsCommand).rejects(tgNotFound());
  t.elbv2.on(DescribeListenersCommand).resolves({ Listeners: [] });
  t.elbv2.on(CreateLoadBalancerCommand).resolves({ LoadBalancers: [existingLoadBalancer] });
  t.elbv2.on(CreateTargetGroupCommand).resolves({ TargetGroups: [convergedTargetGroup] });
  t.elbv2.on(DescribeTargetGroupAttributesCommand).resolves({
    Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '300' }],
  });
  t.elbv2.on(ModifyTargetGroupAttributesCommand).resolves({});
  t.elbv2
    .on(CreateListenerCommand)
    .callsFake((input: { Port?: number }) =>
      Promise.resolve({ Listeners: [{ ListenerArn: `${LISTENER_ARN}-${input.Port ?? 0}` }] }),
    );
  return t;
}

export function hasStackTag(input: unknown): boolean {
  const tags = (input as { Tags?: { Key?: string; Value?: string }[] }).Tags ?? [];
  return tags.some((t) => t.Key === STACK_TAG_KEY && t.Value === 'iclinic');
}
