import { describe, expect, it } from 'vitest';
import { clockTime, fit, frameLines, type LiveStep, type StepState } from '../../../cli/frame.js';

const NOW = 1_000_000;

function step(key: string, title: string, after: string[], state: StepState): LiveStep {
  return { key, title, after, state };
}

const finished: StepState = {
  phase: 'finished',
  record: { status: 'unchanged', changes: [], durationMs: 1200 },
};
const options = { now: NOW, columns: 100, verbose: false, spinner: '⠋' };

describe('frameLines', () => {
  it('lists for a pending step only the steps it still waits for', () => {
    const lines = frameLines(
      [
        step('a', 'Alpha', [], finished),
        step('c', 'Gamma', [], { phase: 'running', startedAt: NOW - 3000 }),
        step('b', 'Beta', ['a', 'c'], { phase: 'pending' }),
      ],
      options,
    );
    expect(lines).toEqual([
      '✓ Alpha: unchanged (1.2 s)',
      '⠋ Gamma (3 s)',
      '· Beta (waiting for: Gamma)',
    ]);
  });

  it('shows a running step’s elapsed time, its last line and the countdown of its wait', () => {
    const running: StepState = {
      phase: 'running',
      startedAt: NOW - 125_000,
      message: 'waiting for https://d1.cloudfront.net/ to answer 200 (last result: HTTP 502)',
      until: NOW + 252_000,
    };
    expect(
      frameLines([step('v', 'Call the service', [], running)], { ...options, columns: 140 }),
    ).toEqual([
      '⠋ Call the service (2 min 05 s; gives up in 4 min 12 s)',
      '    waiting for https://d1.cloudfront.net/ to answer 200 (last result: HTTP 502)',
    ]);
  });

  it('cuts every line to the terminal width instead of letting it wrap', () => {
    const long = 'Alarms on unhealthy targets, no healthy target and the 5xx rate (SNS topic)';
    const lines = frameLines(
      [step('a', long, [], { phase: 'running', startedAt: NOW, message: long })],
      { ...options, columns: 40 },
    );
    expect(lines.every((line) => [...line].length <= 40)).toBe(true);
    expect(lines[0]).toBe('⠋ Alarms on unhealthy targets, no healt…');
  });

  it('gives a failed step the first line of its error on a line of its own', () => {
    const failed: StepState = {
      phase: 'failed',
      durationMs: 116_000,
      error: 'Policy arn:aws:iam::aws:policy/X does not exist or is not attachable.\nmore',
    };
    expect(frameLines([step('r', 'Task execution role', [], failed)], options)).toEqual([
      '✗ Task execution role: failed after 1 min 56 s',
      '    Policy arn:aws:iam::aws:policy/X does not exist or is not attachable.',
    ]);
  });

  it('leaves out the steps skipped after a failure unless verbose', () => {
    const skipped = step('s', 'Service', [], {
      phase: 'skipped',
      reason: 'an earlier step failed',
    });
    expect(frameLines([skipped], options)).toEqual([]);
    expect(frameLines([skipped], { ...options, verbose: true })).toEqual([
      '- Service: skipped (an earlier step failed)',
    ]);
  });

  it('keeps a list taller than the terminal within its rows, the running steps in view', () => {
    const steps = [
      ...['a', 'b', 'c', 'd'].map((key) => step(key, `Done ${key}`, [], finished)),
      step('r', 'Running', [], { phase: 'running', startedAt: NOW - 1000 }),
      ...['p', 'q', 's', 't'].map((key) => step(key, `Pending ${key}`, [], { phase: 'pending' })),
    ];
    expect(frameLines(steps, { ...options, rows: 5 })).toEqual([
      '✓ 4 step(s) finished',
      '⠋ Running (1 s)',
      '· Pending p',
      '· Pending q',
      '· … and 2 more waiting',
    ]);
  });
});

describe('clockTime and fit', () => {
  it('words seconds, then minutes and seconds', () => {
    expect(clockTime(59_900)).toBe('59 s');
    expect(clockTime(61_000)).toBe('1 min 01 s');
  });

  it('leaves a short line as it is', () => {
    expect(fit('short', 10)).toBe('short');
  });
});
