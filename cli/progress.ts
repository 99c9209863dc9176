/**
 * Renders the library's run events on stderr. On a terminal: a live list of
 * the steps, redrawn in place (cli/frame.ts words it), where a running step
 * shows its elapsed time and last line, and a pending one what it still
 * waits for. In CI, pipes, with NO_COLOR or TERM=dumb: plain lines, one per
 * event. Either way the outcome comes last: warnings kept for the end are
 * printed once the steps are done, before the command's result or error.
 */
import type { EventSink, RunEvent } from '../provision/events.js';
import { clockTime, frameLines, type LiveStep, type StepState } from './frame.js';
import { plainLines } from './render.js';

export interface Progress {
  readonly events: EventSink;
  /** Writes a line of the result on stdout now (a generated token once stored), above a live list. */
  print(line: string): void;
  /**
   * Ends the display and prints the warnings kept for the end. With
   * `interrupted`, the steps still running are shown as interrupted; their
   * titles are returned.
   */
  finish(how?: { readonly interrupted?: boolean }): Promise<readonly string[]>;
}

export interface ProgressOptions {
  readonly verbose: boolean;
  /** One line of progress (stderr). */
  readonly write: (line: string) => void;
  /** One line of the result (stdout). */
  readonly print: (line: string) => void;
  readonly now: () => number;
}

export interface StepTitle {
  readonly key: string;
  readonly title: string;
  readonly after: readonly string[];
}

export function plainProgress(options: ProgressOptions): Progress {
  const running = new Map<string, { title: string; startedAt: number }>();
  return {
    events: (event) => {
      if (event.type === 'step-started') {
        running.set(event.key, { title: event.title, startedAt: options.now() });
      } else if (event.type !== 'progress' && event.type !== 'warning' && event.key) {
        running.delete(event.key);
      }
      for (const line of plainLines(event, options)) options.write(line);
    },
    print: options.print,
    finish: async (how = {}) => {
      if (!how.interrupted) return [];
      const steps = [...running.values()];
      for (const step of steps) {
        options.write(
          `! ${step.title}: interrupted after ${clockTime(options.now() - step.startedAt)}`,
        );
      }
      return steps.map((step) => step.title);
    },
  };
}

/** Live output only where it can be seen as such: a terminal that is not dumb, outside CI. */
export function wantsLiveProgress(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return (
    stream.isTTY === true &&
    (env.NO_COLOR === undefined || env.NO_COLOR === '') &&
    (env.CI === undefined || env.CI === '' || env.CI === 'false') &&
    env.TERM !== 'dumb'
  );
}

/** Where the live list is drawn: a terminal's stream, with its size. */
export interface Terminal {
  write(text: string): unknown;
  readonly columns?: number;
  readonly rows?: number;
}

export interface LiveOptions extends ProgressOptions {
  readonly terminal: Terminal;
  /** How often the frame is redrawn, so elapsed times and countdowns move. */
  readonly tickMs?: number;
}

// Drawn by hand rather than by log-update: 7.2.0, its last release for Node 20,
// leaves stale rows when a line appears above unchanged ones, erases and
// draws in two writes (a terminal shows the list blank in between) and cuts
// the final frame to the terminal's height; 8.0 fixes the first but needs
// Node 22. Tried on the log-update branch; test/unit/cli/progress.test.ts
// pins all three.
const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const HIDE_CURSOR = '\u001b[?25l';
const SHOW_CURSOR = '\u001b[?25h';
/** Up `count` lines to the first column, then erase to the end of the screen. */
const erase = (count: number) => (count === 0 ? '' : `\u001b[${count}A\r\u001b[J`);

/** The next state of a step for one of its events; warnings also go into `kept`. */
function nextState(state: StepState, event: RunEvent, now: number, kept: string[]): StepState {
  switch (event.type) {
    case 'step-started':
      return { phase: 'running', startedAt: now };
    case 'progress':
    case 'warning': {
      if (event.type === 'warning') kept.push(`warning: ${event.message}`);
      if (state.phase !== 'running') return state;
      const message = event.type === 'warning' ? `warning: ${event.message}` : event.message;
      const until = event.type === 'progress' ? event.until : undefined;
      return {
        phase: 'running',
        startedAt: state.startedAt,
        message,
        ...(until === undefined ? {} : { until }),
      };
    }
    case 'step-finished':
      return { phase: 'finished', record: event };
    case 'step-failed':
      return { phase: 'failed', durationMs: event.durationMs, error: event.error };
    case 'step-skipped':
      return { phase: 'skipped', reason: event.reason };
  }
}

export function liveProgress(titles: readonly StepTitle[], options: LiveOptions): Progress {
  const { terminal } = options;
  const steps = new Map<string, LiveStep>(
    titles.map((t) => [t.key, { ...t, state: { phase: 'pending' } }]),
  );
  const kept: string[] = [];
  let drawn = 0;
  let ticks = 0;
  const frame = (live: boolean): string[] =>
    frameLines([...steps.values()], {
      now: options.now(),
      columns: Math.max(20, (terminal.columns ?? 80) - 1),
      ...(live ? { rows: Math.max(3, (terminal.rows ?? 24) - 1) } : {}),
      verbose: options.verbose,
      spinner: SPINNER[ticks % SPINNER.length] ?? '*',
    });
  const draw = () => {
    const lines = frame(true);
    terminal.write(`${erase(drawn)}${lines.map((line) => `${line}\n`).join('')}`);
    drawn = lines.length;
  };
  const restoreCursor = () => terminal.write(SHOW_CURSOR);
  process.once('exit', restoreCursor);
  terminal.write(HIDE_CURSOR);
  draw();
  const ticker = setInterval(() => {
    ticks += 1;
    draw();
  }, options.tickMs ?? 250);
  ticker.unref();

  return {
    events: (event) => {
      const step = event.key === undefined ? undefined : steps.get(event.key);
      if (step === undefined) {
        // Run-level lines wait until the list is gone, so they are not overdrawn.
        kept.push(...plainLines(event, options));
        return;
      }
      steps.set(step.key, { ...step, state: nextState(step.state, event, options.now(), kept) });
      draw();
    },
    print: (line) => {
      terminal.write(erase(drawn));
      drawn = 0;
      options.print(line);
      draw();
    },
    finish: async (how = {}) => {
      clearInterval(ticker);
      const interrupted: string[] = [];
      for (const step of steps.values()) {
        if (!how.interrupted) continue;
        if (step.state.phase === 'running') {
          const elapsedMs = options.now() - step.state.startedAt;
          steps.set(step.key, { ...step, state: { phase: 'interrupted', elapsedMs } });
          interrupted.push(step.title);
        } else if (step.state.phase === 'pending') {
          steps.set(step.key, { ...step, state: { phase: 'skipped', reason: 'not started' } });
        }
      }
      const lines = frame(false);
      terminal.write(`${erase(drawn)}${lines.map((line) => `${line}\n`).join('')}${SHOW_CURSOR}`);
      drawn = 0;
      process.off('exit', restoreCursor);
      for (const line of kept) options.write(line);
      return interrupted;
    },
  };
}
