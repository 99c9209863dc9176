import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Change } from '../../../provision/plan.js';
import { changeLine } from '../../../cli/render.js';
import { liveProgress, type StepTitle } from '../../../cli/progress.js';

const STEPS: StepTitle[] = [
  { key: 'a', title: 'Alpha', after: [] },
  { key: 'b', title: 'Beta', after: ['a'] },
  { key: 'c', title: 'Gamma', after: [] },
];

const created: Change = { action: 'create', kind: 'log group', name: '/ecs/iclinic/api' };

/** What listr2 draws (its plain fallback outside a terminal), on stdout or stderr. */
function captureDrawing(): () => string {
  let drawn = '';
  const capture = (text: string | Uint8Array) => {
    drawn += String(text);
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  return () => drawn;
}

/** listr2 starts the steps' tasks a few ticks after the list is built, as during a real run. */
const tasksStarted = () => new Promise((resolve) => setTimeout(resolve, 20));

afterEach(() => {
  vi.restoreAllMocks();
});

describe('liveProgress', () => {
  it('keeps warnings and run-level lines until the list is finished, in their order', async () => {
    captureDrawing();
    const written: string[] = [];
    const progress = liveProgress(STEPS, { verbose: false, write: (line) => written.push(line) });
    await tasksStarted();
    progress.events({ type: 'step-started', key: 'a', title: 'Alpha' });
    progress.events({ type: 'warning', key: 'a', message: 'careful' });
    progress.events({ type: 'warning', key: undefined, message: 'run-level' });
    expect(written).toEqual([]);
    await progress.finish();
    expect(written).toEqual(['warning: careful', 'warning: run-level']);
  });

  it('titles a finished step with its summary, a failed one with its time, and skips steps that never ran', async () => {
    const drawing = captureDrawing();
    const progress = liveProgress(STEPS, { verbose: false, write: () => undefined });
    await tasksStarted();
    progress.events({ type: 'step-started', key: 'a', title: 'Alpha' });
    progress.events({
      type: 'step-finished',
      key: 'a',
      title: 'Alpha',
      status: 'created',
      changes: [created],
      durationMs: 1200,
    });
    progress.events({ type: 'step-failed', key: 'c', title: 'Gamma', error: 'x', durationMs: 10 });
    await progress.finish();
    await tasksStarted();
    expect(drawing()).toContain('Alpha: 1 created (1.2 s)');
    expect(drawing()).toContain('Beta (waiting for: Alpha) [SKIPPED: not run]');
    expect(drawing()).toContain('Gamma: failed after 0.0 s');
    expect(drawing()).not.toContain(changeLine(created, 'done'));
  });

  it('--verbose shows each change of a finished step under it', async () => {
    const drawing = captureDrawing();
    const progress = liveProgress(STEPS, { verbose: true, write: () => undefined });
    await tasksStarted();
    progress.events({
      type: 'step-finished',
      key: 'a',
      title: 'Alpha',
      status: 'created',
      changes: [created],
      durationMs: 1200,
    });
    await progress.finish();
    expect(drawing()).toContain(changeLine(created, 'done'));
  });

  it('applies the events of a step that arrive before listr2 started its task', async () => {
    const drawing = captureDrawing();
    const progress = liveProgress(STEPS, { verbose: false, write: () => undefined });
    progress.events({ type: 'step-skipped', key: 'a', title: 'Alpha', reason: 'exists' });
    await tasksStarted();
    await progress.finish();
    expect(drawing()).toContain('Alpha: skipped (exists)');
  });
});
