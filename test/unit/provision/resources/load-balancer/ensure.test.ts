import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeTargetGroupAttributesCommand,
  DeleteListenerCommand,
  ModifyListenerCommand,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import { NOT_CREATED_YET } from '../../../../../provision/plan.js';
import {
  ensureLoadBalancer,
  LoadBalancerNotPermittedError,
} from '../../../../../provision/resources/load-balancer/index.js';
import { awsError, callInputs, mutatingOperations, operations } from '../../../support/context.js';
import {
  CERT_ARN,
  convergedTargetGroup,
  emptyAccount,
  forwardListener,
  hasStackTag,
  LB_ARN,
  LISTENER_ARN,
  network,
  settings,
  TG_ARN,
  withExistingStack,
} from './fixtures.js';

describe('ensureLoadBalancer', () => {
  it('creates the load balancer, target group and listener, tagged in the creating call', async () => {
    const { ctx, elbv2 } = emptyAccount();

    const result = await ensureLoadBalancer(ctx, network, settings);

    expect(result.changes.map((c) => `${c.action} ${c.kind} ${c.name}`)).toEqual([
      'create load balancer iclinic-alb',
      'create target group iclinic-tg',
      'create listener HTTP 80',
    ]);
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
    expect(result.changes).toEqual([
      {
        action: 'update',
        kind: 'target group',
        name: 'iclinic-tg',
        detail: 'health check path',
        from: '/',
        to: '/healthz',
      },
      {
        action: 'update',
        kind: 'target group',
        name: 'iclinic-tg',
        detail: 'health check interval',
        from: '30 s',
        to: '10 s',
      },
    ]);
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
        awsError(
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

describe('ensureLoadBalancer in a dry run', () => {
  it('plans the load balancer, target group and listener on an empty account and makes no mutating call', async () => {
    const { ctx, elbv2 } = emptyAccount({ dryRun: true });

    const result = await ensureLoadBalancer(ctx, network, settings);

    expect(result.changes).toEqual([
      {
        action: 'create',
        kind: 'load balancer',
        name: 'iclinic-alb',
        detail: 'internet-facing, in subnets subnet-a, subnet-b',
      },
      {
        action: 'create',
        kind: 'target group',
        name: 'iclinic-tg',
        detail: 'ip, HTTP 8080, health check every 10 s, deregistration delay 15 s',
      },
      {
        action: 'create',
        kind: 'listener',
        name: 'HTTP 80',
        detail: 'forward to iclinic-tg',
      },
    ]);
    expect(mutatingOperations(elbv2)).toEqual([]);
    expect(result.value).toEqual({
      loadBalancerArn: NOT_CREATED_YET,
      dnsName: NOT_CREATED_YET,
      url: NOT_CREATED_YET,
      targetGroupArn: NOT_CREATED_YET,
      listenerArns: [NOT_CREATED_YET],
    });
  });

  it('plans the creation from network ids that would be created, without describing by them', async () => {
    const { ctx, elbv2 } = emptyAccount({ dryRun: true });
    const planned = {
      vpcId: NOT_CREATED_YET,
      subnetIds: [NOT_CREATED_YET, NOT_CREATED_YET],
      loadBalancerSecurityGroupId: NOT_CREATED_YET,
    };

    const result = await ensureLoadBalancer(ctx, planned, {
      ...settings,
      certificateArn: CERT_ARN,
    });

    expect(result.changes.map((c) => `${c.action} ${c.kind} ${c.name}: ${c.detail ?? ''}`)).toEqual(
      [
        "create load balancer iclinic-alb: internet-facing, in the stack's public subnets",
        'create target group iclinic-tg: ip, HTTP 8080, health check every 10 s, deregistration delay 15 s',
        'create listener HTTPS 443: forward to iclinic-tg',
        'create listener HTTP 80: redirect to HTTPS 443 (301)',
      ],
    );
    expect(operations(elbv2)).not.toContain('DescribeListeners');
    const inputs = JSON.stringify(callInputs(elbv2).map((c) => c.input));
    expect(inputs).not.toContain(NOT_CREATED_YET);
    expect(mutatingOperations(elbv2)).toEqual([]);
  });

  it('plans a drifted health check interval as exactly that change, "30 s" → "10 s"', async () => {
    const { ctx, elbv2 } = withExistingStack({
      targetGroup: { ...convergedTargetGroup, HealthCheckIntervalSeconds: 30 },
      dryRun: true,
    });

    const result = await ensureLoadBalancer(ctx, network, settings);

    expect(result.changes).toEqual([
      {
        action: 'update',
        kind: 'target group',
        name: 'iclinic-tg',
        detail: 'health check interval',
        from: '30 s',
        to: '10 s',
      },
    ]);
    expect(mutatingOperations(elbv2)).toEqual([]);
    expect(result.value).toMatchObject({ loadBalancerArn: LB_ARN, targetGroupArn: TG_ARN });
  });

  it('plans nothing for a converged stack and returns the existing ARNs', async () => {
    const { ctx, elbv2 } = withExistingStack({ dryRun: true });
    const result = await ensureLoadBalancer(ctx, network, settings);
    expect(result.changes).toEqual([]);
    expect(result.value.listenerArns).toEqual([LISTENER_ARN]);
    expect(mutatingOperations(elbv2)).toEqual([]);
  });
});

describe('ensureLoadBalancer drift', () => {
  it('restores a deregistration delay of 300 s to 15 s', async () => {
    const { ctx, elbv2 } = withExistingStack();
    elbv2.on(ModifyTargetGroupAttributesCommand).resolves({});
    elbv2.on(DescribeTargetGroupAttributesCommand).resolves({
      Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '300' }],
    });

    const result = await ensureLoadBalancer(ctx, network, settings);

    expect(result.changes).toMatchObject([
      { action: 'update', detail: 'deregistration delay', from: '300 s', to: '15 s' },
    ]);
    expect(mutatingOperations(elbv2)).toEqual(['ModifyTargetGroupAttributes']);
  });

  it('deletes the HTTPS listener once the certificate is dropped', async () => {
    const httpsListener = { ...forwardListener, ListenerArn: `${LISTENER_ARN}-443`, Port: 443 };
    const { ctx, elbv2 } = withExistingStack({ listeners: [forwardListener, httpsListener] });
    elbv2.on(DeleteListenerCommand).resolves({});

    const result = await ensureLoadBalancer(ctx, network, settings);

    expect(result.changes).toEqual([
      {
        action: 'delete',
        kind: 'listener',
        name: 'HTTP 443',
        detail: 'a port the stack no longer serves',
      },
    ]);
    expect(elbv2.commandCalls(DeleteListenerCommand)[0]?.args[0].input).toEqual({
      ListenerArn: `${LISTENER_ARN}-443`,
    });
  });

  it('names a listener action drift with what it was and what it becomes', async () => {
    const { ctx } = withExistingStack({
      listeners: [{ ...forwardListener, DefaultActions: [{ Type: 'fixed-response' }] }],
      dryRun: true,
    });
    const result = await ensureLoadBalancer(ctx, network, settings);
    expect(result.changes).toEqual([
      {
        action: 'update',
        kind: 'listener',
        name: 'HTTP 80',
        detail: 'default action',
        from: 'fixed response',
        to: 'forward to iclinic-tg',
      },
    ]);
  });
});
