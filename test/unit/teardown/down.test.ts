import { beforeEach, describe, expect, it, vi } from 'vitest';

// The emulator deletes in any order, so the order down uses is asserted here
// against recorded calls of each module's remove function.
const calls: string[] = [];
const remover = (name: string, removed: string[] = [name]) =>
  vi.fn(async () => {
    calls.push(`${name}:start`);
    await new Promise((resolve) => setTimeout(resolve, 5));
    calls.push(`${name}:end`);
    return { removed };
  });
// The ECS module returns typed changes (Removal); down still shows them as lines.
const ecsRemover = (name: string) =>
  vi.fn(async () => {
    calls.push(`${name}:start`);
    await new Promise((resolve) => setTimeout(resolve, 5));
    calls.push(`${name}:end`);
    return { changes: [{ action: 'delete' as const, kind: 'ECS', name }] };
  });

vi.mock('../../../provision/resources/ecs/index.js', () => ({
  removeService: ecsRemover('service'),
  removeCluster: ecsRemover('cluster'),
  removeTaskDefinitions: ecsRemover('task-definitions'),
}));
vi.mock('../../../provision/load-balancer.js', () => ({
  removeLoadBalancer: remover('load-balancer'),
  removeTargetGroup: remover('target-group'),
}));
vi.mock('../../../provision/network.js', () => ({ removeNetwork: remover('network') }));
vi.mock('../../../provision/registry.js', () => ({ removeRepository: remover('repository') }));
vi.mock('../../../provision/secret.js', () => ({ removeSecret: remover('secret') }));
vi.mock('../../../provision/logs.js', () => ({ removeLogGroup: remover('log-group') }));
vi.mock('../../../provision/roles.js', () => ({ removeExecutionRole: remover('execution-role') }));

const { downPlan, runDown } = await import('../../../teardown/down.js');
const service = await import('../../../provision/resources/ecs/index.js');
const loadBalancer = await import('../../../provision/load-balancer.js');
const { StepRunner } = await import('../../../provision/steps.js');
const { testContext } = await import('../support/context.js');

function position(event: string): number {
  const index = calls.indexOf(event);
  if (index < 0) throw new Error(`${event} never happened: ${calls.join(', ')}`);
  return index;
}

beforeEach(() => {
  calls.length = 0;
});

async function down(): Promise<string[]> {
  const { ctx, clock } = testContext();
  return runDown(ctx, new StepRunner(downPlan(ctx), ctx.report, clock), 60_000);
}

describe('down', () => {
  it('drains the service before touching anything else', async () => {
    await down();
    const serviceEnd = position('service:end');
    for (const other of [
      'cluster',
      'load-balancer',
      'network',
      'repository',
      'secret',
      'execution-role',
    ]) {
      expect(position(`${other}:start`)).toBeGreaterThan(serviceEnd);
    }
  });

  it('removes the load balancer, then the target group, then the network', async () => {
    await down();
    expect(position('target-group:start')).toBeGreaterThan(position('load-balancer:end'));
    expect(position('network:start')).toBeGreaterThan(position('target-group:end'));
  });

  it('removes the network only after the cluster is gone', async () => {
    await down();
    expect(position('network:start')).toBeGreaterThan(position('cluster:end'));
  });

  it('reports everything it removed', async () => {
    const removed = await down();
    expect(new Set(removed)).toEqual(
      new Set([
        'ECS service',
        'ECS cluster',
        'ECS task-definitions',
        'load-balancer',
        'target-group',
        'network',
        'repository',
        'secret',
        'log-group',
        'execution-role',
      ]),
    );
  });

  it('fails with the cluster error, not an unhandled rejection, when the cluster cannot be deleted', async () => {
    vi.mocked(service.removeCluster).mockImplementationOnce(async () => {
      throw Object.assign(new Error('not allowed to delete the cluster'), {
        name: 'AccessDeniedException',
      });
    });
    vi.mocked(loadBalancer.removeLoadBalancer).mockImplementationOnce(async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return { removed: ['load-balancer'] };
    });
    await expect(down()).rejects.toThrow('not allowed to delete the cluster');
  });

  it('reports a load balancer failure even though the cluster step is then never awaited in order', async () => {
    vi.mocked(loadBalancer.removeLoadBalancer).mockImplementationOnce(async () => {
      throw new Error('load balancer refused');
    });
    vi.mocked(service.removeCluster).mockImplementationOnce(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      throw new Error('cluster refused too');
    });
    await expect(down()).rejects.toThrow('load balancer refused');
  });

  it('every step of the plan names steps that exist', () => {
    const { ctx } = testContext();
    const plan = downPlan(ctx);
    const keys = new Set(plan.map((step) => step.key));
    expect(plan.flatMap((step) => step.after).filter((key) => !keys.has(key))).toEqual([]);
  });
});
