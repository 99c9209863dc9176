import { beforeEach, describe, expect, it, vi } from 'vitest';

// The emulator deletes in any order, so the order down uses is asserted here
// against recorded calls of each module's remove function. Each removal
// yields to the event loop between its start and its end, so steps that may
// run side by side do, without any wall-clock timer.
const calls: string[] = [];
const deleted = (name: string) => [{ action: 'delete' as const, kind: 'resource', name }];
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
/** A promise a test settles by hand, to order two steps without timers. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}
const remover = (name: string) =>
  vi.fn(async () => {
    calls.push(`${name}:start`);
    await nextTurn();
    calls.push(`${name}:end`);
    return { changes: deleted(name), removed: [name] };
  });

vi.mock('../../../provision/resources/ecs/index.js', () => ({
  removeService: remover('service'),
  removeCluster: remover('cluster'),
  removeTaskDefinitions: remover('task-definitions'),
}));
vi.mock('../../../provision/resources/load-balancer/index.js', () => ({
  removeLoadBalancer: remover('load-balancer'),
  removeTargetGroup: remover('target-group'),
}));
vi.mock('../../../provision/resources/cloudfront/index.js', () => ({
  describeDistribution: vi.fn(async () => undefined),
  removeDistribution: remover('distribution'),
}));
vi.mock('../../../provision/resources/domain/index.js', () => ({
  removeDomainRecords: remover('domain-records'),
  removeStackCertificates: remover('certificate'),
}));
vi.mock('../../../provision/resources/network/index.js', () => ({
  removeNetwork: remover('network'),
}));
vi.mock('../../../provision/resources/registry.js', () => ({
  removeRepository: remover('repository'),
}));
vi.mock('../../../provision/resources/secret.js', () => ({ removeSecret: remover('secret') }));
vi.mock('../../../provision/resources/logs/index.js', () => ({
  removeLogGroup: remover('log-group'),
}));
vi.mock('../../../provision/resources/autoscaling.js', () => ({
  removeAutoscaling: remover('autoscaling'),
}));
vi.mock('../../../provision/resources/alarms/index.js', () => ({
  removeAlarms: remover('alarms'),
}));
vi.mock('../../../provision/resources/roles/index.js', () => ({
  removeExecutionRole: remover('execution-role'),
}));
vi.mock('../../../provision/commands/ci-github.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../../provision/commands/ci-github.js')>()),
  removeCiRole: remover('deploy-role'),
  removeCiProvider: remover('oidc-provider'),
}));

const { downGraph, removedBy } = await import('../../../teardown/down.js');
const { runGraph, topologicalOrder } = await import('../../../provision/graph.js');
const { ignoreEvents } = await import('../../../provision/events.js');
type RunEvent = import('../../../provision/events.js').RunEvent;
const service = await import('../../../provision/resources/ecs/index.js');
const loadBalancer = await import('../../../provision/resources/load-balancer/index.js');
const network = await import('../../../provision/resources/network/index.js');
const cloudfront = await import('../../../provision/resources/cloudfront/index.js');
const domain = await import('../../../provision/resources/domain/index.js');
const { testContext } = await import('../support/context.js');
const { deployRoleName } = await import('../../../provision/resources/ci-github/index.js');

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
  const run = runGraph(downGraph(ctx, 60_000), { events: ignoreEvents, clock });
  await run.results;
  return removedBy(run.records).map((change) => change.name);
}

describe('down', () => {
  it('deletes nothing the service uses (cluster, task definitions, load balancer, network, image, secret, log group, role) before it has drained', async () => {
    await down();
    const serviceEnd = position('service:end');
    for (const other of [
      'cluster',
      'task-definitions',
      'load-balancer',
      'target-group',
      'network',
      'repository',
      'secret',
      'log-group',
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

  it('removes the autoscaling before the service, so the scaler never acts on a draining one', async () => {
    await down();
    expect(position('service:start')).toBeGreaterThan(position('autoscaling:end'));
  });

  it('deletes the CloudFront distribution before the load balancer it sends to, beside the service drain', async () => {
    await down();
    expect(position('load-balancer:start')).toBeGreaterThan(position('distribution:end'));
    expect(position('distribution:start')).toBeLessThan(position('service:end'));
  });

  it('deletes the domain records before the distribution, and the certificate only once the distribution is gone', async () => {
    await down();
    expect(position('distribution:start')).toBeGreaterThan(position('domain-records:end'));
    expect(position('certificate:start')).toBeGreaterThan(position('distribution:end'));
  });

  it('removes the network only after the cluster is gone', async () => {
    await down();
    expect(position('network:start')).toBeGreaterThan(position('cluster:end'));
  });

  it('reports everything it removed', async () => {
    const removed = await down();
    expect(new Set(removed)).toEqual(
      new Set([
        'domain-records',
        'certificate',
        'autoscaling',
        'alarms',
        'distribution',
        'service',
        'cluster',
        'task-definitions',
        'load-balancer',
        'target-group',
        'network',
        'repository',
        'secret',
        'log-group',
        'execution-role',
        'deploy-role',
        'oidc-provider',
      ]),
    );
  });

  it('removes the GitHub Actions deploy role at once and the OIDC provider only after it', async () => {
    await down();
    expect(position('deploy-role:start')).toBeLessThan(position('service:end'));
    expect(position('oidc-provider:start')).toBeGreaterThan(position('deploy-role:end'));
  });

  it('fails with the cluster error, not an unhandled rejection, when the cluster cannot be deleted', async () => {
    const clusterRefused = gate();
    vi.mocked(service.removeCluster).mockImplementationOnce(async () => {
      clusterRefused.open();
      throw Object.assign(new Error('not allowed to delete the cluster'), {
        name: 'AccessDeniedException',
      });
    });
    // Still running when the cluster fails: it must not turn into an unhandled rejection.
    vi.mocked(loadBalancer.removeLoadBalancer).mockImplementationOnce(async () => {
      await clusterRefused.opened;
      return { changes: deleted('load-balancer') };
    });
    await expect(down()).rejects.toThrow('not allowed to delete the cluster');
  });

  it('reports the first failure when a later step fails too', async () => {
    const loadBalancerRefused = gate();
    vi.mocked(loadBalancer.removeLoadBalancer).mockImplementationOnce(async () => {
      loadBalancerRefused.open();
      throw new Error('load balancer refused');
    });
    vi.mocked(service.removeCluster).mockImplementationOnce(async () => {
      await loadBalancerRefused.opened;
      await nextTurn();
      throw new Error('cluster refused too');
    });
    await expect(down()).rejects.toThrow('load balancer refused');
  });

  it('is a valid graph whose first steps, needing nothing before them, are the domain records, the scaler and the alarms', () => {
    const { ctx } = testContext();
    const graph = downGraph(ctx, 60_000);
    expect(topologicalOrder(graph)).toHaveLength(Object.keys(graph).length);
    for (const key of ['domain-records', 'autoscaling', 'alarms'] as const) {
      expect(graph[key].after).toEqual([]);
    }
    expect(graph.distribution.after).toEqual(['domain-records']);
    expect(graph.service.after).toEqual(['autoscaling']);
  });

  it('names the stack’s own resource in each step’s title', () => {
    const { ctx } = testContext('demo');
    const graph = downGraph(ctx, 60_000);
    const named = {
      autoscaling: 'Delete the autoscaling of demo-api',
      alarms: 'Delete the alarms and the SNS topic demo-alarms',
      distribution: 'Disable and delete the CloudFront distribution',
      service: 'Delete the ECS service demo-api',
      cluster: 'Delete the cluster demo and the task definitions',
      'load-balancer': 'Delete the load balancer demo-alb',
      'target-group': 'Delete the target group demo-tg',
      network: 'Delete the network (VPC demo-vpc)',
      repository: 'Delete the ECR repository demo/api with its images',
      secret: `Delete the token secret ${ctx.names.secret}`,
      'log-group': `Delete the log group ${ctx.names.logGroup}`,
      'execution-role': `Delete the task execution role ${ctx.names.executionRole}`,
      'deploy-role': `Delete the GitHub Actions deploy role ${deployRoleName('demo', ctx.region)}`,
      'oidc-provider': 'Delete the GitHub OIDC provider, if iclinic-deploy created it',
      // Found by the stack's distribution and its tagged certificates; the name is the user's.
      'domain-records': 'Delete the DNS records up --domain wrote',
      certificate: 'Delete the ACM certificate of up --domain',
    };
    expect(Object.keys(graph).sort()).toEqual(Object.keys(named).sort());
    for (const [key, title] of Object.entries(named)) {
      expect(graph[key as keyof typeof graph].title, key).toContain(title);
    }
  });

  it('records every step as a removal: removed when it deleted something', async () => {
    const { ctx, clock } = testContext();
    const run = runGraph(downGraph(ctx, 60_000), { events: ignoreEvents, clock });
    await run.results;
    expect(new Set(run.records.map((record) => record.status))).toEqual(new Set(['removed']));
  });
});

describe('down steps', () => {
  it('give each remover the stack, progress lines attributed to its step, and the timeout', async () => {
    const { ctx, clock } = testContext();
    const events: RunEvent[] = [];
    await runGraph(downGraph(ctx, 60_000), { events: (e) => events.push(e), clock }).results;
    const [given, options] = vi.mocked(service.removeService).mock.calls.at(-1) ?? [];
    expect(given?.names).toBe(ctx.names);
    given?.report.progress('draining 2 tasks');
    expect(events).toContainEqual({
      type: 'progress',
      key: 'service',
      message: 'draining 2 tasks',
    });
    expect(options).toEqual({ timeoutMs: 60_000 });
    expect(vi.mocked(service.removeCluster).mock.calls.at(-1)?.[1]).toEqual({ timeoutMs: 60_000 });
    expect(vi.mocked(network.removeNetwork).mock.calls.at(-1)?.[1]).toEqual({ timeoutMs: 60_000 });
  });
});

describe('down domain records', () => {
  type Distribution = Awaited<ReturnType<typeof cloudfront.describeDistribution>>;
  it('are matched against the stack’s distribution, so only aliases to it are deleted', async () => {
    const { ctx, clock } = testContext();
    vi.mocked(cloudfront.describeDistribution).mockResolvedValueOnce({
      domainName: 'd111.cloudfront.net',
    } as Distribution);
    await runGraph(downGraph(ctx, 60_000), { events: ignoreEvents, clock }).results;
    expect(vi.mocked(domain.removeDomainRecords).mock.calls.at(-1)?.[1]).toEqual({
      distributionDomain: 'd111.cloudfront.net',
    });
  });

  it('take no alias for the stack’s when no distribution is left, only the validation records', async () => {
    const { ctx, clock } = testContext();
    await runGraph(downGraph(ctx, 60_000), { events: ignoreEvents, clock }).results;
    expect(vi.mocked(domain.removeDomainRecords).mock.calls.at(-1)?.[1]).toEqual({});
  });
});

describe('removedBy', () => {
  it('lists only the deletions, step after step', () => {
    const change = (action: 'create' | 'update' | 'delete', name: string) =>
      ({ action, kind: 'thing', name }) as const;
    expect(
      removedBy([
        { changes: [change('delete', 'a'), change('update', 'b')] },
        { changes: [] },
        { changes: [change('create', 'c'), change('delete', 'd')] },
      ]).map((c) => c.name),
    ).toEqual(['a', 'd']);
  });
});
