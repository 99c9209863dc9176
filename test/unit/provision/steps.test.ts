import { describe, expect, it } from 'vitest';
import {
  formatPlan,
  InjectedFailureError,
  StepRunner,
  type PlannedStep,
} from '../../../provision/steps.js';
import { FakeClock, RecordingReporter } from '../support/context.js';

const plan: PlannedStep[] = [
  {
    key: 'network',
    title: 'Create the network',
    intent: ['VPC iclinic-vpc', 'two public subnets'],
    after: [],
  },
  {
    key: 'service',
    title: 'Run the service',
    intent: ['ECS service iclinic-api'],
    after: ['network'],
  },
];

function setup(failAfter?: string) {
  const clock = new FakeClock();
  const report = new RecordingReporter();
  return { clock, report, runner: new StepRunner(plan, report, clock, failAfter) };
}

describe('StepRunner', () => {
  it('records the outcome, changes and duration of an ensure step', async () => {
    const { clock, runner } = setup();
    const value = await runner.ensure('network', async () => {
      await clock.sleep(2_500);
      return { outcome: 'created' as const, changes: ['created VPC'], value: 'vpc-1' };
    });
    expect(value).toBe('vpc-1');
    expect(runner.records).toEqual([
      {
        key: 'network',
        title: 'Create the network',
        status: 'created',
        changes: ['created VPC'],
        durationMs: 2_500,
      },
    ]);
  });

  it('prints a start line and a ✓ line with status, seconds and changes', async () => {
    const { clock, report, runner } = setup();
    await runner.ensure('network', async () => {
      await clock.sleep(1_200);
      return { outcome: 'updated' as const, changes: ['a', 'b'], value: 1 };
    });
    expect(report.progressLines).toEqual([
      '… Create the network',
      '✓ Create the network: updated (1.2 s): a; b',
    ]);
  });

  it('uses the key as title for a step missing from the plan', async () => {
    const { report, runner } = setup();
    await runner.run('unplanned', () => Promise.resolve(1));
    expect(report.progressLines.at(-1)).toBe('✓ unplanned: done (0.0 s)');
  });

  it('reports a remove step as removed when something was deleted', async () => {
    const { runner } = setup();
    const removed = await runner.remove('service', () =>
      Promise.resolve({ removed: ['service x'] }),
    );
    expect(removed).toEqual(['service x']);
    expect(runner.records[0]?.status).toBe('removed');
  });

  it('reports a remove step as absent when nothing was deleted', async () => {
    const { runner } = setup();
    await runner.remove('service', () => Promise.resolve({ removed: [] }));
    expect(runner.records[0]?.status).toBe('absent');
  });

  it('records a run step as done with its summary', async () => {
    const { runner } = setup();
    const value = await runner.run(
      'service',
      () => Promise.resolve(42),
      (v) => `answer ${v}`,
    );
    expect(value).toBe(42);
    expect(runner.records[0]).toMatchObject({ status: 'done', changes: ['answer 42'] });
  });

  it('records a failed step with its error and duration, prints ✗ and rethrows', async () => {
    const { clock, report, runner } = setup();
    const boom = new Error('boom');
    await expect(
      runner.run('service', async () => {
        await clock.sleep(3_000);
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(runner.records).toEqual([
      {
        key: 'service',
        title: 'Run the service',
        status: 'failed',
        changes: [],
        durationMs: 3_000,
        error: 'boom',
      },
    ]);
    expect(report.progressLines.at(-1)).toBe('✗ Run the service: failed after 3.0 s');
  });

  it('throws InjectedFailureError right after the failAfter step succeeds', async () => {
    const { runner } = setup('network');
    await expect(
      runner.ensure('network', () =>
        Promise.resolve({ outcome: 'created' as const, changes: [], value: 1 }),
      ),
    ).rejects.toBeInstanceOf(InjectedFailureError);
    expect(runner.records).toHaveLength(1);
    expect(runner.records[0]?.status).toBe('created');
  });

  it('does not inject a failure into steps other than failAfter', async () => {
    const { runner } = setup('service');
    await expect(runner.run('network', () => Promise.resolve('ok'))).resolves.toBe('ok');
  });

  it('names the step in the injected failure message', () => {
    expect(new InjectedFailureError('network').message).toMatch(
      /after step "network".*ICLINIC_DEPLOY_FAIL_AFTER/,
    );
  });
});

describe('formatPlan', () => {
  it('lists numbered steps with their dependencies and intents', () => {
    expect(formatPlan(plan)).toBe(
      [
        '1. Create the network',
        '     - VPC iclinic-vpc',
        '     - two public subnets',
        '2. Run the service  (after: network)',
        '     - ECS service iclinic-api',
      ].join('\n'),
    );
  });

  it('formats an empty plan as an empty string', () => {
    expect(formatPlan([])).toBe('');
  });
});
