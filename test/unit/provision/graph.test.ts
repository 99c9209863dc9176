import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../../provision/events.js';
import {
  InjectedFailureError,
  InvalidStepGraphError,
  runGraph,
  topologicalOrder,
  UndeclaredStepInputError,
  type StepGraph,
} from '../../../provision/graph.js';
import { ChangeSet } from '../../../provision/plan.js';
import type { Clock } from '../../../provision/retry.js';

const clock: Clock = { now: () => 0, sleep: async () => undefined };

interface Results {
  network: string;
  balancer: string;
  image: string;
  service: string;
}

function graph(log: string[], overrides: Partial<StepGraph<Results>> = {}): StepGraph<Results> {
  const step =
    <T>(name: string, value: T) =>
    async () => {
      log.push(`start ${name}`);
      await Promise.resolve();
      log.push(`end ${name}`);
      return { value, changes: new ChangeSet().create('thing', name).list };
    };
  return {
    network: { kind: 'ensure', title: 'Network', after: [], run: step('network', 'vpc-1') },
    balancer: {
      kind: 'ensure',
      title: 'Balancer',
      after: ['network'],
      run: step('balancer', 'alb'),
    },
    image: { kind: 'ensure', title: 'Image', after: [], run: step('image', 'img:1') },
    service: {
      kind: 'ensure',
      title: 'Service',
      after: ['balancer', 'image'],
      run: async ({ get }) => {
        log.push(`service sees ${get('balancer')} and ${get('image')}`);
        return { value: 'svc' };
      },
    },
    ...overrides,
  };
}

describe('topologicalOrder', () => {
  it('puts every step after the steps it names', () => {
    const order = topologicalOrder(graph([]));
    expect(order.indexOf('network')).toBeLessThan(order.indexOf('balancer'));
    expect(order.indexOf('balancer')).toBeLessThan(order.indexOf('service'));
    expect(order.indexOf('image')).toBeLessThan(order.indexOf('service'));
  });

  it('refuses a step that comes after an unknown step', () => {
    const bad = {
      a: { kind: 'check', title: 'A', after: ['b'], run: async () => ({ value: 1 }) },
    } as unknown as StepGraph<{ a: number }>;
    expect(() => topologicalOrder(bad)).toThrow(
      new InvalidStepGraphError('"a" comes after unknown step "b"'),
    );
  });

  it('refuses a cycle and names it', () => {
    const cyclic: StepGraph<{ a: number; b: number }> = {
      a: { kind: 'check', title: 'A', after: ['b'], run: async () => ({ value: 1 }) },
      b: { kind: 'check', title: 'B', after: ['a'], run: async () => ({ value: 2 }) },
    };
    expect(() => topologicalOrder(cyclic)).toThrow('Invalid step graph: cycle a -> b -> a');
  });
});

describe('runGraph', () => {
  it('starts independent steps together and a step only after the steps it names', async () => {
    const log: string[] = [];
    const run = runGraph(graph(log), { events: () => undefined, clock });
    const results = await run.results;
    expect(results.service).toBe('svc');
    expect(log.indexOf('start image')).toBeLessThan(log.indexOf('end network'));
    expect(log.indexOf('end network')).toBeLessThan(log.indexOf('start balancer'));
    expect(log).toContain('service sees alb and img:1');
  });

  it('throws when a step reads a result it did not declare in "after"', async () => {
    const sneaky = graph([], {
      balancer: {
        kind: 'ensure',
        title: 'Balancer',
        after: ['network'],
        run: async ({ get }) => ({ value: get('image' as 'network') }),
      },
    });
    await expect(runGraph(sneaky, { events: () => undefined, clock }).results).rejects.toThrow(
      new UndeclaredStepInputError('balancer', 'image'),
    );
  });

  it('records each step with the status its changes imply', async () => {
    const run = runGraph(graph([]), { events: () => undefined, clock });
    await run.results;
    const byKey = Object.fromEntries(run.records.map((r) => [r.key, r.status]));
    expect(byKey).toEqual({
      network: 'created',
      balancer: 'created',
      image: 'created',
      service: 'unchanged',
    });
  });

  it('ends at the first failure, aborts running steps and skips those not started', async () => {
    let aborted = false;
    const failing = graph([], {
      network: {
        kind: 'ensure',
        title: 'Network',
        after: [],
        run: async () => {
          throw new Error('VpcLimitExceeded');
        },
      },
      image: {
        kind: 'ensure',
        title: 'Image',
        after: [],
        run: ({ signal }) =>
          new Promise((resolve) => {
            signal.addEventListener('abort', () => {
              aborted = true;
              resolve({ value: 'stopped' });
            });
          }),
      },
    });
    const events: RunEvent[] = [];
    const run = runGraph(failing, { events: (e) => events.push(e), clock });
    await expect(run.results).rejects.toThrow('VpcLimitExceeded');
    expect(aborted).toBe(true);
    expect(events.filter((e) => e.type === 'step-skipped').map((e) => e.key)).toEqual([
      'balancer',
      'service',
    ]);
    expect(run.records.find((r) => r.key === 'network')).toMatchObject({
      status: 'failed',
      error: 'VpcLimitExceeded',
    });
  });

  it('fails right after the step named by the test hook succeeds', async () => {
    const run = runGraph(graph([]), { events: () => undefined, clock, failAfter: 'balancer' });
    await expect(run.results).rejects.toBeInstanceOf(InjectedFailureError);
    expect(run.records.find((r) => r.key === 'balancer')?.status).toBe('created');
    expect(run.records.find((r) => r.key === 'service')?.status).toBe('skipped');
  });

  it('attributes a step’s progress lines to that step', async () => {
    const events: RunEvent[] = [];
    const talking = graph([], {
      image: {
        kind: 'ensure',
        title: 'Image',
        after: [],
        run: async ({ report }) => {
          report.progress('pushing layer 1/3');
          return { value: 'img:1' };
        },
      },
    });
    await runGraph(talking, { events: (e) => events.push(e), clock }).results;
    expect(events).toContainEqual({ type: 'progress', key: 'image', message: 'pushing layer 1/3' });
  });
});

describe('runGraph in a dry run', () => {
  it('gives a step with changes a planned status, never a done one', async () => {
    const run = runGraph(graph([]), { events: () => undefined, clock, dryRun: true });
    await run.results;
    const byKey = Object.fromEntries(run.records.map((r) => [r.key, r.status]));
    expect(byKey).toEqual({
      network: 'will-create',
      balancer: 'will-create',
      image: 'will-create',
      service: 'unchanged',
    });
  });
});

describe('runGraph after a failure', () => {
  it('settles only once the steps still running have ended, so their events come before the failure', async () => {
    const order: string[] = [];
    let finishImage: () => void = () => undefined;
    const failing = graph([], {
      network: {
        kind: 'ensure',
        title: 'Network',
        after: [],
        run: async () => {
          throw new Error('VpcLimitExceeded');
        },
      },
      image: {
        kind: 'ensure',
        title: 'Image',
        after: [],
        run: () => new Promise((resolve) => (finishImage = () => resolve({ value: 'img' }))),
      },
    });
    const run = runGraph(failing, {
      events: (e) => order.push(`${e.type} ${e.key ?? ''}`),
      clock,
    });
    const ended = run.results.catch(() => order.push('results rejected'));
    await new Promise((resolve) => setTimeout(resolve, 10));
    finishImage();
    await ended;
    expect(order.indexOf('step-finished image')).toBeGreaterThan(-1);
    expect(order.indexOf('step-finished image')).toBeLessThan(order.indexOf('results rejected'));
  });
});
