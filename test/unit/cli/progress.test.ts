import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  liveProgress,
  plainProgress,
  wantsLiveProgress,
  type StepTitle,
} from '../../../cli/progress.js';
import { screen } from '../../support/screen.js';

const STEPS: StepTitle[] = [
  { key: 'a', title: 'Alpha', after: [] },
  { key: 'b', title: 'Beta', after: ['a'] },
  { key: 'c', title: 'Gamma', after: [] },
];

/**
 * A 60×10 terminal: what is written to it, one chunk per write (a corked
 * batch is one write, as on a terminal's socket), and what it shows.
 */
function terminal() {
  const chunks: string[] = [];
  const stream = new Writable({
    decodeStrings: false,
    write(chunk: string, _encoding, done) {
      chunks.push(chunk);
      done();
    },
    writev(batch, done) {
      chunks.push(batch.map(({ chunk }) => String(chunk)).join(''));
      done();
    },
  });
  return Object.assign(stream, {
    columns: 60,
    rows: 10,
    isTTY: true,
    async shows(): Promise<string[]> {
      const shown = screen(60, 10);
      await shown.feed(chunks.join(''));
      return shown.all();
    },
    /** The screen after each write. */
    async screens(): Promise<string[][]> {
      const shown = screen(60, 10);
      const after: string[][] = [];
      for (const chunk of chunks) {
        await shown.feed(chunk);
        after.push(shown.all());
      }
      return after;
    },
  });
}

function live(overrides: { verbose?: boolean; now?: () => number } = {}) {
  const term = terminal();
  const written: string[] = [];
  const printed: string[] = [];
  const progress = liveProgress(STEPS, {
    verbose: overrides.verbose ?? false,
    write: (line) => written.push(line),
    print: (line) => {
      printed.push(line);
      term.write(`${line}\n`);
    },
    now: overrides.now ?? (() => 0),
    terminal: term,
    tickMs: 60_000,
  });
  return { progress, term, written, printed };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('liveProgress', () => {
  it('keeps warnings and run-level lines until the list is finished, in their order', async () => {
    const { progress, written } = live();
    progress.events({ type: 'step-started', key: 'a', title: 'Alpha' });
    progress.events({ type: 'warning', key: 'a', message: 'careful' });
    progress.events({ type: 'warning', key: undefined, message: 'run-level' });
    expect(written).toEqual([]);
    await progress.finish();
    expect(written).toEqual(['warning: careful', 'warning: run-level']);
  });

  it('redraws in place: the final screen has each step once, with its outcome', async () => {
    const { progress, term } = live();
    progress.events({ type: 'step-started', key: 'a', title: 'Alpha' });
    progress.events({ type: 'progress', key: 'a', message: 'working' });
    progress.events({
      type: 'step-finished',
      key: 'a',
      title: 'Alpha',
      status: 'created',
      changes: [{ action: 'create', kind: 'log group', name: '/ecs/x' }],
      durationMs: 1200,
    });
    progress.events({ type: 'step-started', key: 'b', title: 'Beta' });
    progress.events({ type: 'step-started', key: 'c', title: 'Gamma' });
    progress.events({
      type: 'step-failed',
      key: 'c',
      title: 'Gamma',
      error: 'boom',
      durationMs: 10,
    });
    progress.events({
      type: 'step-finished',
      key: 'b',
      title: 'Beta',
      status: 'unchanged',
      changes: [],
      durationMs: 5,
    });
    await progress.finish();
    expect(await term.shows()).toEqual([
      '✓ Alpha: 1 created (1.2 s)',
      '✓ Beta: unchanged (0.0 s)',
      '✗ Gamma: failed after 0 s',
      '    boom',
    ]);
  });

  it('prints a result line above the list, which is drawn again under it', async () => {
    const { progress, term, printed } = live();
    progress.events({ type: 'step-started', key: 'a', title: 'Alpha' });
    progress.print('the-new-token');
    expect(printed).toEqual(['the-new-token']);
    expect(await term.shows()).toEqual([
      'the-new-token',
      '⠋ Alpha (0 s)',
      '· Beta (waiting for: Alpha)',
      '· Gamma',
    ]);
    await progress.finish();
  });

  it('draws a step whose message line comes and goes with no stale row among the steps below', async () => {
    const { progress, term } = live();
    progress.events({ type: 'step-started', key: 'a', title: 'Alpha' });
    progress.events({ type: 'progress', key: 'a', message: 'working' });
    expect(await term.shows()).toEqual([
      '⠋ Alpha (0 s)',
      '    working',
      '· Beta (waiting for: Alpha)',
      '· Gamma',
    ]);
    progress.events({
      type: 'step-finished',
      key: 'a',
      title: 'Alpha',
      status: 'unchanged',
      changes: [],
      durationMs: 5,
    });
    expect(await term.shows()).toEqual(['✓ Alpha: unchanged (0.0 s)', '· Beta', '· Gamma']);
    await progress.finish();
  });

  it('never shows the list erased between two frames', async () => {
    const { progress, term } = live();
    progress.events({ type: 'step-started', key: 'a', title: 'Alpha' });
    progress.events({ type: 'progress', key: 'a', message: 'working' });
    progress.events({ type: 'step-started', key: 'c', title: 'Gamma' });
    await progress.finish();
    const screens = await term.screens();
    const drawn = screens.slice(screens.findIndex((rows) => rows.length > 0));
    expect(drawn.length).toBeGreaterThan(3);
    expect(drawn.filter((rows) => rows.length === 0)).toEqual([]);
  });

  it('leaves a final frame taller than the terminal whole', async () => {
    const { progress, term } = live({ verbose: true });
    const changes = Array.from({ length: 12 }, (_, index) => ({
      action: 'create' as const,
      kind: 'log group',
      name: `/ecs/${index}`,
    }));
    progress.events({ type: 'step-started', key: 'a', title: 'Alpha' });
    progress.events({
      type: 'step-finished',
      key: 'a',
      title: 'Alpha',
      status: 'created',
      changes,
      durationMs: 1000,
    });
    await progress.finish();
    const shown = await term.shows();
    expect(shown[0]).toBe('✓ Alpha: 12 created (1.0 s)');
    expect(shown.filter((line) => line.startsWith('    '))).toHaveLength(12);
  });

  it('on an interruption shows the running steps as interrupted and returns their titles', async () => {
    let now = 0;
    const { progress, term } = live({ now: () => now });
    progress.events({ type: 'step-started', key: 'a', title: 'Alpha' });
    now = 7_000;
    expect(await progress.finish({ interrupted: true })).toEqual(['Alpha']);
    expect(await term.shows()).toEqual(['! Alpha: interrupted after 7 s']);
  });
});

describe('wantsLiveProgress', () => {
  const sized = { isTTY: true, columns: 80, rows: 24 };

  it('draws the live list on a terminal that reports its size', () => {
    expect(wantsLiveProgress(sized, {})).toBe(true);
  });

  it('gives plain lines in CI, with NO_COLOR, with TERM=dumb and off a terminal', () => {
    expect(wantsLiveProgress(sized, { CI: 'true' })).toBe(false);
    expect(wantsLiveProgress(sized, { NO_COLOR: '1' })).toBe(false);
    expect(wantsLiveProgress(sized, { TERM: 'dumb' })).toBe(false);
    expect(wantsLiveProgress({ ...sized, isTTY: false }, {})).toBe(false);
  });
});

describe('plainProgress', () => {
  it('on an interruption writes a line for each running step', async () => {
    const written: string[] = [];
    const progress = plainProgress({
      verbose: false,
      write: (line) => written.push(line),
      print: () => undefined,
      now: () => 3_000,
    });
    progress.events({ type: 'step-started', key: 'a', title: 'Alpha' });
    expect(await progress.finish({ interrupted: true })).toEqual(['Alpha']);
    expect(written).toEqual(['… Alpha', '! Alpha: interrupted after 0 s']);
  });
});
