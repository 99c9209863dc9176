import {
  DeleteScalingPolicyCommand,
  DeregisterScalableTargetCommand,
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
  type ScalingPolicy,
} from '@aws-sdk/client-application-auto-scaling';
import { describe, expect, it } from 'vitest';
import { NOT_CREATED_YET } from '../../../../provision/plan.js';
import {
  ensureAutoscaling,
  planAutoscaling,
  removeAutoscaling,
  requestCountResourceLabel,
  validateTaskRange,
  type AutoscalingSettings,
} from '../../../../provision/resources/autoscaling.js';
import { awsError, mutatingOperations, testContext } from '../../support/context.js';

const LB_ARN =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/iclinic-alb/50dc6c495c0c9188';
const TG_ARN =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/iclinic-tg/73e2d6bc24d8a067';
const LABEL = 'app/iclinic-alb/50dc6c495c0c9188/targetgroup/iclinic-tg/73e2d6bc24d8a067';
const RESOURCE_ID = 'service/iclinic/iclinic-api';

const SETTINGS: AutoscalingSettings = {
  minTasks: 2,
  maxTasks: 6,
  loadBalancerArn: LB_ARN,
  targetGroupArn: TG_ARN,
};

function policy(
  name: string,
  metric: 'ALBRequestCountPerTarget' | 'ECSServiceAverageCPUUtilization',
  targetValue: number,
): ScalingPolicy {
  return {
    PolicyName: name,
    PolicyARN: `arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:x:resource/ecs/${RESOURCE_ID}:policyName/${name}`,
    ServiceNamespace: 'ecs',
    ResourceId: RESOURCE_ID,
    ScalableDimension: 'ecs:service:DesiredCount',
    PolicyType: 'TargetTrackingScaling',
    CreationTime: new Date(),
    TargetTrackingScalingPolicyConfiguration: {
      TargetValue: targetValue,
      PredefinedMetricSpecification: {
        PredefinedMetricType: metric,
        ...(metric === 'ALBRequestCountPerTarget' ? { ResourceLabel: LABEL } : {}),
      },
      ScaleInCooldown: 300,
      ScaleOutCooldown: 60,
      DisableScaleIn: false,
    },
  };
}

const REQUESTS = policy('iclinic-requests-per-task', 'ALBRequestCountPerTarget', 3000);
const CPU = policy('iclinic-cpu', 'ECSServiceAverageCPUUtilization', 60);

function accountWith(options: { target?: boolean; policies?: ScalingPolicy[] }) {
  const { ctx, mocks } = testContext();
  mocks.autoscaling.on(DescribeScalableTargetsCommand).resolves({
    ScalableTargets: options.target
      ? [
          {
            ServiceNamespace: 'ecs',
            ResourceId: RESOURCE_ID,
            ScalableDimension: 'ecs:service:DesiredCount',
            MinCapacity: 2,
            MaxCapacity: 6,
            RoleARN: 'arn:aws:iam::123456789012:role/aws-service-role/x',
            CreationTime: new Date(),
          },
        ]
      : [],
  });
  mocks.autoscaling
    .on(DescribeScalingPoliciesCommand)
    .resolves({ ScalingPolicies: options.policies ?? [] });
  mocks.autoscaling.on(RegisterScalableTargetCommand).resolves({});
  mocks.autoscaling.on(PutScalingPolicyCommand).resolves({ PolicyARN: 'arn:x' });
  mocks.autoscaling.on(DeleteScalingPolicyCommand).resolves({});
  mocks.autoscaling.on(DeregisterScalableTargetCommand).resolves({});
  return { ctx, mocks };
}

describe('requestCountResourceLabel', () => {
  it('joins the load balancer and target group parts of their ARNs', () => {
    expect(requestCountResourceLabel(LB_ARN, TG_ARN)).toBe(LABEL);
  });

  it('is unknown while the load balancer is not created yet', () => {
    expect(requestCountResourceLabel(NOT_CREATED_YET, TG_ARN)).toBeUndefined();
  });

  it('rejects an ARN that is not an application load balancer', () => {
    expect(() => requestCountResourceLabel('arn:aws:s3:::bucket', TG_ARN)).toThrow(
      'Cannot build the request-count label from load balancer arn:aws:s3:::bucket and target group ' +
        `${TG_ARN}: expected ARNs ending in loadbalancer/app/NAME/ID and targetgroup/NAME/ID.`,
    );
  });
});

describe('validateTaskRange', () => {
  it('rejects a maximum below the minimum with both values', () => {
    expect(() => validateTaskRange(4, 2)).toThrow(
      'Invalid task range: --min-tasks 4, --max-tasks 2. Use whole numbers with 1 <= min <= max (e.g. --min-tasks 2 --max-tasks 6).',
    );
  });
});

describe('ensureAutoscaling', () => {
  it('registers the target and puts both policies on an empty account', async () => {
    const { ctx, mocks } = accountWith({});
    const result = await ensureAutoscaling(ctx, SETTINGS);

    expect(result.changes).toEqual([
      { action: 'create', kind: 'scalable target', name: RESOURCE_ID, detail: '2-6 tasks' },
      {
        action: 'create',
        kind: 'scaling policy',
        name: 'iclinic-requests-per-task',
        detail: 'ALBRequestCountPerTarget at 3000',
      },
      {
        action: 'create',
        kind: 'scaling policy',
        name: 'iclinic-cpu',
        detail: 'ECSServiceAverageCPUUtilization at 60',
      },
    ]);
    expect(mutatingOperations(mocks.autoscaling)).toEqual([
      'RegisterScalableTarget',
      'PutScalingPolicy',
      'PutScalingPolicy',
    ]);
    expect(mocks.autoscaling.commandCalls(RegisterScalableTargetCommand)[0]?.args[0].input).toEqual(
      {
        ServiceNamespace: 'ecs',
        ScalableDimension: 'ecs:service:DesiredCount',
        ResourceId: RESOURCE_ID,
        MinCapacity: 2,
        MaxCapacity: 6,
      },
    );
    const requests = mocks.autoscaling.commandCalls(PutScalingPolicyCommand)[0]?.args[0].input;
    expect(requests?.TargetTrackingScalingPolicyConfiguration).toEqual(
      REQUESTS.TargetTrackingScalingPolicyConfiguration,
    );
  });

  it('puts back a deleted policy and nothing else', async () => {
    const { ctx, mocks } = accountWith({ target: true, policies: [REQUESTS] });
    const result = await ensureAutoscaling(ctx, SETTINGS);

    expect(result.changes.map((c) => `${c.action} ${c.name}`)).toEqual(['create iclinic-cpu']);
    expect(mutatingOperations(mocks.autoscaling)).toEqual(['PutScalingPolicy']);
    expect(
      mocks.autoscaling.commandCalls(PutScalingPolicyCommand)[0]?.args[0].input.PolicyName,
    ).toBe('iclinic-cpu');
  });

  it('puts back a target value changed behind its back', async () => {
    const { ctx, mocks } = accountWith({
      target: true,
      policies: [REQUESTS, policy('iclinic-cpu', 'ECSServiceAverageCPUUtilization', 90)],
    });
    const result = await ensureAutoscaling(ctx, SETTINGS);

    expect(result.changes).toEqual([
      {
        action: 'update',
        kind: 'scaling policy',
        name: 'iclinic-cpu',
        detail: 'target value',
        from: '90',
        to: '60',
      },
    ]);
    const put = mocks.autoscaling.commandCalls(PutScalingPolicyCommand);
    expect(
      put.map((c) => c.args[0].input.TargetTrackingScalingPolicyConfiguration?.TargetValue),
    ).toEqual([60]);
  });

  it('registers the target again when the task range changed', async () => {
    const { ctx, mocks } = accountWith({ target: true, policies: [REQUESTS, CPU] });
    const result = await ensureAutoscaling(ctx, { ...SETTINGS, maxTasks: 10 });

    expect(result.changes).toEqual([
      {
        action: 'update',
        kind: 'scalable target',
        name: RESOURCE_ID,
        detail: 'task range',
        from: '2-6 tasks',
        to: '2-10 tasks',
      },
    ]);
    expect(mutatingOperations(mocks.autoscaling)).toEqual(['RegisterScalableTarget']);
  });

  it('makes no mutating call when target and policies match', async () => {
    const { ctx, mocks } = accountWith({ target: true, policies: [REQUESTS, CPU] });
    const result = await ensureAutoscaling(ctx, SETTINGS);

    expect(result.changes).toEqual([]);
    expect(mutatingOperations(mocks.autoscaling)).toEqual([]);
  });

  it('plans the creation without a mutating call in a dry run', async () => {
    const { ctx, mocks } = accountWith({});
    const result = await ensureAutoscaling(
      { ...ctx, dryRun: true },
      { ...SETTINGS, loadBalancerArn: NOT_CREATED_YET, targetGroupArn: NOT_CREATED_YET },
    );

    expect(result.changes.map((c) => `${c.action} ${c.kind}`)).toEqual([
      'create scalable target',
      'create scaling policy',
      'create scaling policy',
    ]);
    expect(mutatingOperations(mocks.autoscaling)).toEqual([]);
  });
});

describe('planAutoscaling', () => {
  it('names every drifted setting of a policy', () => {
    const { ctx } = testContext();
    const changes = planAutoscaling(
      ctx,
      {
        resourceId: RESOURCE_ID,
        target: { minTasks: 2, maxTasks: 6 },
        policies: [
          {
            name: 'iclinic-requests-per-task',
            metric: 'ALBRequestCountPerTarget',
            resourceLabel: 'app/old/1/targetgroup/old/2',
            targetValue: 3000,
            scaleInCooldown: 0,
            scaleOutCooldown: 60,
            disableScaleIn: true,
          },
          {
            name: 'iclinic-cpu',
            metric: 'ECSServiceAverageCPUUtilization',
            resourceLabel: undefined,
            targetValue: 60,
            scaleInCooldown: 300,
            scaleOutCooldown: 60,
            disableScaleIn: false,
          },
        ],
      },
      SETTINGS,
    );
    expect(changes.map((c) => `${c.detail}: ${c.from} -> ${c.to}`)).toEqual([
      `resource label: app/old/1/targetgroup/old/2 -> ${LABEL}`,
      'scale-in cooldown: 0 s -> 300 s',
      'scale-in: disabled -> enabled',
    ]);
  });
});

describe('removeAutoscaling', () => {
  it('deletes the policies, then deregisters the target', async () => {
    const { ctx, mocks } = accountWith({ target: true, policies: [REQUESTS, CPU] });
    const result = await removeAutoscaling(ctx);

    expect(result.changes.map((c) => `${c.action} ${c.kind} ${c.name}`)).toEqual([
      'delete scaling policy iclinic-requests-per-task',
      'delete scaling policy iclinic-cpu',
      `delete scalable target ${RESOURCE_ID}`,
    ]);
    expect(mutatingOperations(mocks.autoscaling)).toEqual([
      'DeleteScalingPolicy',
      'DeleteScalingPolicy',
      'DeregisterScalableTarget',
    ]);
  });

  it('makes no mutating call when nothing is registered', async () => {
    const { ctx, mocks } = accountWith({});
    expect((await removeAutoscaling(ctx)).changes).toEqual([]);
    expect(mutatingOperations(mocks.autoscaling)).toEqual([]);
  });

  it('lists the deletions without making them in a dry run', async () => {
    const { ctx, mocks } = accountWith({ target: true, policies: [CPU] });
    const result = await removeAutoscaling({ ...ctx, dryRun: true });
    expect(result.changes).toHaveLength(2);
    expect(mutatingOperations(mocks.autoscaling)).toEqual([]);
  });

  it('treats a policy deleted meanwhile as removed', async () => {
    const { ctx, mocks } = accountWith({ target: true, policies: [CPU] });
    mocks.autoscaling
      .on(DeleteScalingPolicyCommand)
      .rejects(awsError('ObjectNotFoundException', 'No scaling policy found'));
    await expect(removeAutoscaling(ctx)).resolves.toMatchObject({ changes: expect.any(Array) });
    expect(mutatingOperations(mocks.autoscaling)).toContain('DeregisterScalableTarget');
  });
});
