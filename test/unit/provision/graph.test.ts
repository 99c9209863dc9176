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

describe('runGraph events and records', () => {
  /** A clock that moves only when a step sleeps, so durations are exact. */
  function steppingClock(): Clock {
    let now = 1_000_000;
    return {
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
    };
  }

  it('emits started then finished for each step, with the record, its duration and its summary', async () => {
    const stepClock = steppingClock();
    const events: RunEvent[] = [];
    const changes = new ChangeSet().create('thing', 'a').list;
    const twoSteps: StepGraph<{ a: string; b: number }> = {
      a: {
        kind: 'ensure',
        title: 'Make A',
        after: [],
        run: async () => {
          await stepClock.sleep(5_000);
          return { value: 'made', changes };
        },
      },
      b: {
        kind: 'check',
        title: 'Check B',
        after: ['a'],
        run: async () => {
          await stepClock.sleep(2_000);
          return { value: 1, summary: 'all good' };
        },
      },
    };
    const run = runGraph(twoSteps, { events: (e) => events.push(e), clock: stepClock });

    expect(await run.results).toEqual({ a: 'made', b: 1 });
    const recordA = { key: 'a', title: 'Make A', status: 'created', changes, durationMs: 5_000 };
    const recordB = {
      key: 'b',
      title: 'Check B',
      status: 'done',
      changes: [],
      summary: 'all good',
      durationMs: 2_000,
    };
    expect(events).toEqual([
      { type: 'step-started', key: 'a', title: 'Make A' },
      { type: 'step-finished', ...recordA },
      { type: 'step-started', key: 'b', title: 'Check B' },
      { type: 'step-finished', ...recordB },
    ]);
    expect(run.records).toEqual([recordA, recordB]);
  });

  it('gives a remove step the status removed when it deleted something and absent when not', async () => {
    const removing: StepGraph<{ gone: undefined; never: undefined }> = {
      gone: {
        kind: 'remove',
        title: 'Remove what exists',
        after: [],
        run: async () => ({ value: undefined, changes: new ChangeSet().delete('thing', 'x').list }),
      },
      never: {
        kind: 'remove',
        title: 'Remove what is not there',
        after: [],
        run: async () => ({ value: undefined, changes: [] }),
      },
    };
    const run = runGraph(removing, { events: () => undefined, clock });
    await run.results;
    expect(Object.fromEntries(run.records.map((r) => [r.key, r.status]))).toEqual({
      gone: 'removed',
      never: 'absent',
    });
  });

  it('records a failed step with its error, no changes and its duration, and the skipped ones with why', async () => {
    const stepClock = steppingClock();
    const events: RunEvent[] = [];
    const failing: StepGraph<{ a: number; b: number }> = {
      a: {
        kind: 'ensure',
        title: 'Make A',
        after: [],
        run: async () => {
          await stepClock.sleep(3_000);
          throw new Error('quota exceeded');
        },
      },
      b: { kind: 'ensure', title: 'Make B', after: ['a'], run: async () => ({ value: 2 }) },
    };
    const run = runGraph(failing, { events: (e) => events.push(e), clock: stepClock });

    await expect(run.results).rejects.toThrow('quota exceeded');
    expect(events).toEqual([
      { type: 'step-started', key: 'a', title: 'Make A' },
      {
        type: 'step-failed',
        key: 'a',
        title: 'Make A',
        error: 'quota exceeded',
        durationMs: 3_000,
      },
      { type: 'step-skipped', key: 'b', title: 'Make B', reason: 'an earlier step failed' },
    ]);
    expect(run.records).toEqual([
      {
        key: 'a',
        title: 'Make A',
        status: 'failed',
        changes: [],
        durationMs: 3_000,
        error: 'quota exceeded',
      },
      { key: 'b', title: 'Make B', status: 'skipped', changes: [], durationMs: 0 },
    ]);
  });

  it('does not start a step whose inputs finish after another step has already failed', async () => {
    let releaseSlow = () => {};
    const slowDone = new Promise<void>((resolve) => {
      releaseSlow = resolve;
    });
    const started: string[] = [];
    const racing: StepGraph<{ fails: number; slow: number; later: number }> = {
      fails: {
        kind: 'check',
        title: 'Fails',
        after: [],
        run: async () => {
          throw new Error('boom');
        },
      },
      slow: {
        kind: 'check',
        title: 'Slow',
        after: [],
        run: async () => {
          await slowDone;
          return { value: 1 };
        },
      },
      later: {
        kind: 'check',
        title: 'Later',
        after: ['slow'],
        run: async () => {
          started.push('later');
          return { value: 2 };
        },
      },
    };
    // The run settles only once running steps have: the slow one ends after the failure.
    const run = runGraph(racing, {
      events: (event) => {
        if (event.type === 'step-failed') releaseSlow();
      },
      clock,
    });
    await expect(run.results).rejects.toThrow('boom');
    expect(started).toEqual([]);
    expect(run.records.find((r) => r.key === 'later')?.status).toBe('skipped');
  });
});

describe('step graph errors', () => {
  it('name themselves and say what to do', () => {
    const injected = new InjectedFailureError('network');
    expect(injected.name).toBe('InjectedFailureError');
    expect(injected.message).toBe(
      'Injected failure after step "network" (ICLINIC_DEPLOY_FAIL_AFTER is set; this is a test hook).',
    );
    const undeclared = new UndeclaredStepInputError('balancer', 'image');
    expect(undeclared.name).toBe('UndeclaredStepInputError');
    expect(undeclared.message).toBe(
      'Step "balancer" read the result of "image" without declaring it in "after"; add it there.',
    );
    const invalid = new InvalidStepGraphError('cycle a -> a');
    expect(invalid.name).toBe('InvalidStepGraphError');
    expect(invalid.message).toBe('Invalid step graph: cycle a -> a');
  });
});

describe('runGraph in a dry run', () => {
  it('plans an update as will-update, a removal as will-remove, and leaves nothing to remove as absent', async () => {
    const planned = graph([], {
      balancer: {
        kind: 'ensure',
        title: 'Balancer',
        after: ['network'],
        run: async () => ({
          value: 'alb',
          changes: new ChangeSet().update('listener', 'http', 'port 80 → 8080').list,
        }),
      },
      image: {
        kind: 'remove',
        title: 'Image',
        after: [],
        run: async () => ({
          value: 'img:1',
          changes: new ChangeSet().delete('repository', 'api').list,
        }),
      },
      service: { kind: 'remove', title: 'Service', after: [], run: async () => ({ value: 'svc' }) },
    });
    const run = runGraph(planned, { events: () => undefined, clock, dryRun: true });
    await run.results;
    const byKey = Object.fromEntries(run.records.map((r) => [r.key, r.status]));
    expect(byKey).toEqual({
      network: 'will-create',
      balancer: 'will-update',
      image: 'will-remove',
      service: 'absent',
    });
  });

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
