import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import { DeploymentFailedError } from '../../../provision/resources/ecs/index.js';
import {
  fargateVcpusAtPeak,
  upPlan,
  withTargetHealth,
  type UpSettings,
} from '../../../provision/up.js';
import { testContext } from '../support/context.js';

const settings: UpSettings = {
  engine: 'docker',
  platform: 'linux/arm64',
  cpu: 256,
  memory: 512,
  desiredCount: 2,
  timeoutMs: 60_000,
  verify: true,
};

describe('upPlan', () => {
  it('orders the service after the task definition, the load balancer and the cluster', () => {
    const { ctx } = testContext();
    const service = upPlan(ctx, settings).find((step) => step.key === 'service');
    expect(service?.after).toEqual([
      'task-definition',
      'load-balancer',
      'cluster',
      'service-linked-roles',
    ]);
  });

  it('creates the cluster only after the service-linked roles', () => {
    const { ctx } = testContext();
    const cluster = upPlan(ctx, settings).find((step) => step.key === 'cluster');
    expect(cluster?.after).toEqual(['service-linked-roles']);
  });

  it('only lists steps that exist as dependencies', () => {
    const { ctx } = testContext();
    const plan = upPlan(ctx, settings);
    const keys = new Set(plan.map((step) => step.key));
    expect(plan.flatMap((step) => step.after).filter((key) => !keys.has(key))).toEqual([]);
  });

  it('says the task runs on the architecture the image is built for', () => {
    const { ctx } = testContext();
    const definition = upPlan(ctx, settings).find((step) => step.key === 'task-definition');
    expect(definition?.intent.join()).toContain('ARM64');
  });

  it('says no build happens when an image is given', () => {
    const { ctx } = testContext();
    const image = upPlan(ctx, { ...settings, image: 'repo/api:1' }).find(
      (step) => step.key === 'image',
    );
    expect(image?.intent).toEqual(['use repo/api:1 as given (no build)']);
  });
});

describe('fargateVcpusAtPeak', () => {
  it('needs 1 vCPU for two 256-unit tasks, since a rolling deployment doubles them', () => {
    expect(fargateVcpusAtPeak({ cpu: 256, desiredCount: 2 })).toBe(1);
  });

  it('grows with the task size and count', () => {
    expect(fargateVcpusAtPeak({ cpu: 1024, desiredCount: 3 })).toBe(6);
  });
});

describe('withTargetHealth', () => {
  it('adds what the load balancer saw of each target to a failed rollout', async () => {
    const { ctx, mocks } = testContext();
    mocks.elbv2.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [
        {
          Target: { Id: '10.0.0.7', Port: 8080 },
          TargetHealth: {
            State: 'unhealthy',
            Reason: 'Target.ResponseCodeMismatch',
            Description: 'Health checks failed with these codes: [401]',
          },
        },
      ],
    });
    const failure = new DeploymentFailedError('Deployment ecs-svc/1 FAILED', 'ecs-svc/1', [
      'event: task stopped',
    ]);
    const error = await withTargetHealth(ctx, 'arn:tg', failure).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeploymentFailedError);
    expect((error as Error).message).toContain(
      'Target 10.0.0.7:8080 unhealthy (Target.ResponseCodeMismatch',
    );
    expect((error as Error).message).toContain('task stopped');
  });

  it('passes other errors through untouched', async () => {
    const { ctx } = testContext();
    const original = new Error('throttled');
    await expect(withTargetHealth(ctx, 'arn:tg', original)).rejects.toBe(original);
  });
});
