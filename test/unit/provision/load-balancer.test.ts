import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteListenerCommand,
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  LoadBalancerNotFoundException,
  ModifyListenerCommand,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  TargetGroupNotFoundException,
  type Listener,
  type LoadBalancer as AwsLoadBalancer,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import {
  describeLoadBalancer,
  describeTargetHealth,
  ensureLoadBalancer,
  LoadBalancerNotPermittedError,
  planLoadBalancer,
  removeLoadBalancer,
  removeTargetGroup,
  waitForLoadBalancerActive,
} from '../../../provision/load-balancer.js';
import { STACK_TAG_KEY } from '../../../provision/names.js';
import type { Network } from '../../../provision/resources/network/index.js';
import {
  awsError as networkAwsError,
  callInputs,
  mutatingOperations,
  operations,
  testContext,
} from '../support/context.js';

function networkTestContext() {
  const { ctx, mocks, clock, report } = testContext();
  return { ctx, ec2: mocks.ec2, elbv2: mocks.elbv2, clock, report };
}

const network: Network = {
  vpcId: 'vpc-1',
  subnetIds: ['subnet-a', 'subnet-b'],
  availabilityZones: ['us-east-1a', 'us-east-1b'],
  loadBalancerSecurityGroupId: 'sg-alb',
  taskSecurityGroupId: 'sg-tasks',
};
const settings = { containerPort: 8080, healthCheckPath: '/healthz' };
const LB_ARN =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/iclinic-alb/abc';
const TG_ARN = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/iclinic-tg/def';
const LISTENER_ARN =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/iclinic-alb/abc/80';
const CERT_ARN = 'arn:aws:acm:us-east-1:123456789012:certificate/123';

const lbNotFound = () =>
  new LoadBalancerNotFoundException({
    message: 'One or more load balancers not found',
    $metadata: {},
  });
const tgNotFound = () =>
  new TargetGroupNotFoundException({
    message: 'One or more target groups not found',
    $metadata: {},
  });

const existingLoadBalancer: AwsLoadBalancer = {
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

const convergedTargetGroup: TargetGroup = {
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

const forwardListener: Listener = {
  ListenerArn: LISTENER_ARN,
  Port: 80,
  Protocol: 'HTTP',
  DefaultActions: [{ Type: 'forward', TargetGroupArn: TG_ARN }],
};

function withExistingStack(overrides: { targetGroup?: TargetGroup; listeners?: Listener[] } = {}) {
  const t = networkTestContext();
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

function emptyAccount() {
  const t = networkTestContext();
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

function hasStackTag(input: unknown): boolean {
  const tags = (input as { Tags?: { Key?: string; Value?: string }[] }).Tags ?? [];
  return tags.some((t) => t.Key === STACK_TAG_KEY && t.Value === 'iclinic');
}

describe('ensureLoadBalancer', () => {
  it('creates the load balancer, target group and listener, tagged in the creating call', async () => {
    const { ctx, elbv2 } = emptyAccount();

    const result = await ensureLoadBalancer(ctx, network, settings);

    expect(result.outcome).toBe('created');
    expect(mutatingOperations(elbv2)).toEqual([
      'CreateLoadBalancer',
      'CreateTargetGroup',
      'ModifyTargetGroupAttributes',
      'CreateListener',
    ]);
    const creates = callInputs(elbv2).filter((c) => c.operation.startsWith('Create'));
    for (const c of creates) expect(hasStackTag(c.input), c.operation).toBe(true);
    expect(elbv2.commandCalls(CreateLoadBalancerCommand)[0]?.args[0].input).toMatchObject({
      Name: 'iclinic-alb',
      Scheme: 'internet-facing',
      Type: 'application',
      Subnets: ['subnet-a', 'subnet-b'],
      SecurityGroups: ['sg-alb'],
    });
    expect(elbv2.commandCalls(CreateTargetGroupCommand)[0]?.args[0].input).toMatchObject({
      Name: 'iclinic-tg',
      TargetType: 'ip',
      Protocol: 'HTTP',
      Port: 8080,
      VpcId: 'vpc-1',
      HealthCheckPath: '/healthz',
      HealthCheckIntervalSeconds: 10,
      HealthCheckTimeoutSeconds: 5,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 3,
      Matcher: { HttpCode: '200' },
    });
    expect(
      elbv2.commandCalls(ModifyTargetGroupAttributesCommand)[0]?.args[0].input.Attributes,
    ).toEqual([{ Key: 'deregistration_delay.timeout_seconds', Value: '15' }]);
    expect(elbv2.commandCalls(CreateListenerCommand)[0]?.args[0].input).toMatchObject({
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [{ Type: 'forward', TargetGroupArn: TG_ARN }],
    });
    expect(result.value).toEqual({
      loadBalancerArn: LB_ARN,
      dnsName: 'iclinic-alb-1.us-east-1.elb.amazonaws.com',
      url: 'http://iclinic-alb-1.us-east-1.elb.amazonaws.com',
      targetGroupArn: TG_ARN,
      listenerArns: [`${LISTENER_ARN}-80`],
    });
  });

  it('with a certificate, serves HTTPS on 443 and redirects 80 to it', async () => {
    const { ctx, elbv2 } = emptyAccount();

    const result = await ensureLoadBalancer(ctx, network, {
      ...settings,
      certificateArn: CERT_ARN,
    });

    const listeners = elbv2.commandCalls(CreateListenerCommand).map((c) => c.args[0].input);
    expect(listeners).toEqual([
      expect.objectContaining({
        Port: 443,
        Protocol: 'HTTPS',
        Certificates: [{ CertificateArn: CERT_ARN }],
        DefaultActions: [{ Type: 'forward', TargetGroupArn: TG_ARN }],
      }),
      expect.objectContaining({
        Port: 80,
        Protocol: 'HTTP',
        DefaultActions: [
          {
            Type: 'redirect',
            RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' },
          },
        ],
      }),
    ]);
    expect(result.value.url).toBe('https://iclinic-alb-1.us-east-1.elb.amazonaws.com');
  });

  it('makes no mutating call when everything already matches', async () => {
    const { ctx, elbv2 } = withExistingStack();

    const result = await ensureLoadBalancer(ctx, network, settings);

    expect(mutatingOperations(elbv2)).toEqual([]);
    expect(result.outcome).toBe('unchanged');
    expect(result.changes).toEqual([]);
    expect(result.value.listenerArns).toEqual([LISTENER_ARN]);
  });

  it('converges a changed health check and nothing else', async () => {
    const { ctx, elbv2 } = withExistingStack({
      targetGroup: {
        ...convergedTargetGroup,
        HealthCheckPath: '/',
        HealthCheckIntervalSeconds: 30,
      },
    });

    const result = await ensureLoadBalancer(ctx, network, settings);

    expect(mutatingOperations(elbv2)).toEqual(['ModifyTargetGroup']);
    expect(elbv2.commandCalls(ModifyTargetGroupCommand)[0]?.args[0].input).toMatchObject({
      TargetGroupArn: TG_ARN,
      HealthCheckPath: '/healthz',
      HealthCheckIntervalSeconds: 10,
      HealthyThresholdCount: 2,
    });
    expect(result.outcome).toBe('updated');
    expect(result.changes.join('\n')).toMatch(/health check path \/ -> \/healthz/);
  });

  it('converges a listener whose default action drifted', async () => {
    const { ctx, elbv2 } = withExistingStack({
      listeners: [{ ...forwardListener, DefaultActions: [{ Type: 'fixed-response' }] }],
    });

    await ensureLoadBalancer(ctx, network, settings);

    expect(mutatingOperations(elbv2)).toEqual(['ModifyListener']);
    expect(elbv2.commandCalls(ModifyListenerCommand)[0]?.args[0].input.DefaultActions).toEqual([
      { Type: 'forward', TargetGroupArn: TG_ARN },
    ]);
  });

  it('accepts a forward action expressed as ForwardConfig', async () => {
    const { ctx, elbv2 } = withExistingStack({
      listeners: [
        {
          ...forwardListener,
          DefaultActions: [
            { Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: TG_ARN }] } },
          ],
        },
      ],
    });
    await ensureLoadBalancer(ctx, network, settings);
    expect(mutatingOperations(elbv2)).toEqual([]);
  });

  it('stops with the support-case advice on OperationNotPermitted, without retrying', async () => {
    const { ctx, elbv2 } = emptyAccount();
    elbv2
      .on(CreateLoadBalancerCommand)
      .rejects(
        networkAwsError(
          'OperationNotPermitted',
          'This AWS account currently does not support creating load balancers.',
        ),
      );

    const error = await ensureLoadBalancer(ctx, network, settings).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(LoadBalancerNotPermittedError);
    expect(String(error)).toMatch(/AWS Support/);
    expect(String(error)).toMatch(/does not support creating load balancers/);
    expect(elbv2.commandCalls(CreateLoadBalancerCommand)).toHaveLength(1);
    expect(operations(elbv2)).not.toContain('CreateTargetGroup');
  });
});

describe('planLoadBalancer', () => {
  it('lists the HTTPS listener and the redirect when a certificate is given', () => {
    const { ctx, elbv2 } = networkTestContext();
    const plan = planLoadBalancer(ctx, { ...settings, certificateArn: CERT_ARN });
    expect(plan.join('\n')).toMatch(/HTTPS 443/);
    expect(plan.join('\n')).toMatch(/redirect to HTTPS \(301\)/);
    expect(operations(elbv2)).toEqual([]);
  });
});

describe('waitForLoadBalancerActive', () => {
  it('polls until active and says it is waiting', async () => {
    const { ctx, elbv2, report } = networkTestContext();
    const provisioning = { ...existingLoadBalancer, State: { Code: 'provisioning' as const } };
    elbv2
      .on(DescribeLoadBalancersCommand)
      .resolvesOnce({ LoadBalancers: [provisioning] })
      .resolvesOnce({ LoadBalancers: [provisioning] })
      .resolves({ LoadBalancers: [existingLoadBalancer] });

    await waitForLoadBalancerActive(ctx, LB_ARN, 60_000);

    expect(elbv2.commandCalls(DescribeLoadBalancersCommand)).toHaveLength(3);
    expect(report.progressLines).toEqual([
      'waiting for load balancer iclinic-alb to become active (now provisioning)',
    ]);
  });
});

describe('describeLoadBalancer and describeTargetHealth', () => {
  it('reports an absent load balancer without failing', async () => {
    const { ctx } = emptyAccount();
    expect(await describeLoadBalancer(ctx)).toEqual({ listeners: [] });
  });

  it('lists targets with state and reason', async () => {
    const { ctx, elbv2 } = networkTestContext();
    elbv2.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [
        { Target: { Id: '10.0.0.5', Port: 8080 }, TargetHealth: { State: 'healthy' } },
        {
          Target: { Id: '10.0.1.7', Port: 8080 },
          TargetHealth: {
            State: 'unhealthy',
            Reason: 'Target.ResponseCodeMismatch',
            Description: 'Health checks failed with these codes: [401]',
          },
        },
      ],
    });
    expect(await describeTargetHealth(ctx, TG_ARN)).toEqual([
      { id: '10.0.0.5', port: 8080, state: 'healthy' },
      {
        id: '10.0.1.7',
        port: 8080,
        state: 'unhealthy',
        reason: 'Target.ResponseCodeMismatch',
        description: 'Health checks failed with these codes: [401]',
      },
    ]);
  });
});

describe('removeLoadBalancer', () => {
  it('deletes listeners, then the load balancer, then waits until AWS stops listing it', async () => {
    const { ctx, elbv2 } = networkTestContext();
    elbv2
      .on(DescribeLoadBalancersCommand)
      .resolvesOnce({ LoadBalancers: [existingLoadBalancer] })
      .resolvesOnce({ LoadBalancers: [existingLoadBalancer] })
      .rejects(lbNotFound());
    elbv2.on(DescribeListenersCommand).resolves({ Listeners: [forwardListener] });
    elbv2.on(DeleteListenerCommand).resolves({});
    elbv2.on(DeleteLoadBalancerCommand).resolves({});

    const result = await removeLoadBalancer(ctx);

    expect(operations(elbv2)).toEqual([
      'DescribeLoadBalancers',
      'DescribeListeners',
      'DeleteListener',
      'DeleteLoadBalancer',
      'DescribeLoadBalancers',
      'DescribeLoadBalancers',
    ]);
    expect(result.removed).toHaveLength(2);
  });

  it('is a no-op when the load balancer does not exist', async () => {
    const { ctx, elbv2 } = emptyAccount();
    expect((await removeLoadBalancer(ctx)).removed).toEqual([]);
    expect(mutatingOperations(elbv2)).toEqual([]);
  });
});

describe('removeTargetGroup', () => {
  it('retries ResourceInUse until the listener is gone', async () => {
    const { ctx, elbv2, clock } = networkTestContext();
    elbv2.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [convergedTargetGroup] });
    elbv2
      .on(DeleteTargetGroupCommand)
      .rejectsOnce(
        networkAwsError('ResourceInUse', 'Target group is currently in use by a listener'),
      )
      .resolves({});

    const result = await removeTargetGroup(ctx);

    expect(elbv2.commandCalls(DeleteTargetGroupCommand)).toHaveLength(2);
    expect(clock.slept).toHaveLength(1);
    expect(result.removed).toEqual([`target group iclinic-tg (${TG_ARN})`]);
  });

  it('is a no-op when the target group does not exist', async () => {
    const { ctx, elbv2 } = emptyAccount();
    expect((await removeTargetGroup(ctx)).removed).toEqual([]);
    expect(mutatingOperations(elbv2)).toEqual([]);
  });
});
