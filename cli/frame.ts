/**
 * The live list as text: a pure function from the steps' states and the
 * terminal's size to the lines of one frame, so what a user sees on a
 * terminal has unit tests. cli/progress.ts draws the frames.
 */
import type { StepRecord } from '../provision/events.js';
import { changeLine, stepSummary, tenseOf } from './render.js';

export type StepState =
  | { readonly phase: 'pending' }
  | {
      readonly phase: 'running';
      readonly startedAt: number;
      /** The step's last progress line or warning. */
      readonly message?: string;
      /** When the wait the message speaks of gives up (epoch ms): shown as a countdown. */
      readonly until?: number;
    }
  | {
      readonly phase: 'finished';
      readonly record: Pick<StepRecord, 'status' | 'changes' | 'summary' | 'durationMs'>;
    }
  | { readonly phase: 'failed'; readonly durationMs: number; readonly error: string }
  | { readonly phase: 'skipped'; readonly reason: string }
  | { readonly phase: 'interrupted'; readonly elapsedMs: number };

export interface LiveStep {
  readonly key: string;
  readonly title: string;
  readonly after: readonly string[];
  readonly state: StepState;
}

export interface FrameOptions {
  readonly now: number;
  /** Every line is cut to fit this width, so none wraps and leaves a stale line behind. */
  readonly columns: number;
  /** The live frame's height limit; the final frame has none (it scrolls up like any output). */
  readonly rows?: number;
  readonly verbose: boolean;
  /** The running steps' mark, turned by the caller on every tick. */
  readonly spinner: string;
}

/** "8 s", "2 min 05 s": a running step's elapsed time or a wait's countdown. */
export function clockTime(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  if (total < 60) return `${total} s`;
  return `${Math.floor(total / 60)} min ${String(total % 60).padStart(2, '0')} s`;
}

/** Cut to `columns` characters (code points), marking the cut with "…". */
export function fit(line: string, columns: number): string {
  const chars = [...line];
  if (chars.length <= columns) return line;
  return `${chars.slice(0, Math.max(0, columns - 1)).join('')}…`;
}

/** The first line of an error, for the line under the failed step. */
function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}

/** What the steps not finished yet are called: a pending step lists only those. */
function stillAwaited(step: LiveStep, byKey: ReadonlyMap<string, LiveStep>): string[] {
  return step.after
    .map((key) => byKey.get(key))
    .filter((dependency): dependency is LiveStep => dependency !== undefined)
    .filter((dependency) => dependency.state.phase !== 'finished')
    .map((dependency) => dependency.title);
}

/** One step's lines; `[]` for a step the frame leaves out. */
function stepLines(
  step: LiveStep,
  byKey: ReadonlyMap<string, LiveStep>,
  options: FrameOptions,
): string[] {
  const state = step.state;
  switch (state.phase) {
    case 'pending': {
      const waits = stillAwaited(step, byKey);
      return [`· ${step.title}${waits.length > 0 ? ` (waiting for: ${waits.join(', ')})` : ''}`];
    }
    case 'running': {
      // The countdown goes on the step's own line: a long message line is cut at the width.
      const countdown =
        state.until === undefined ? '' : `; gives up in ${clockTime(state.until - options.now)}`;
      const elapsed = clockTime(options.now - state.startedAt);
      const lines = [`${options.spinner} ${step.title} (${elapsed}${countdown})`];
      if (state.message !== undefined) lines.push(`    ${state.message}`);
      return lines;
    }
    case 'finished': {
      const tense = tenseOf(state.record.status);
      const changes = options.verbose
        ? state.record.changes.map((c) => `    ${changeLine(c, tense)}`)
        : [];
      return [`✓ ${step.title}: ${stepSummary(state.record)}`, ...changes];
    }
    case 'failed':
      return [
        `✗ ${step.title}: failed after ${clockTime(state.durationMs)}`,
        `    ${firstLine(state.error)}`,
      ];
    case 'skipped':
      // After a failure, the steps that never started say nothing new; --verbose lists them.
      return options.verbose ? [`- ${step.title}: skipped (${state.reason})`] : [];
    case 'interrupted':
      return [`! ${step.title}: interrupted after ${clockTime(state.elapsedMs)}`];
  }
}

/**
 * When the list is taller than the terminal, the finished steps become one
 * line, then the pending steps beyond the room left become one line: what
 * runs stays in view, and nothing is drawn above the top of the screen,
 * where it could not be erased again.
 */
function fitHeight(
  steps: readonly LiveStep[],
  linesOf: (step: LiveStep) => string[],
  rows: number,
): string[] {
  const finished = steps.filter((s) => s.state.phase === 'finished');
  const pending = steps.filter((s) => s.state.phase === 'pending');
  const rest = steps.filter((s) => s.state.phase !== 'finished' && s.state.phase !== 'pending');
  const head = finished.length > 0 ? [`✓ ${finished.length} step(s) finished`] : [];
  const active = rest.flatMap(linesOf);
  const room = rows - head.length - active.length;
  const pendingLines = pending.flatMap(linesOf);
  const waiting =
    pendingLines.length <= room
      ? pendingLines
      : [
          ...pendingLines.slice(0, Math.max(0, room - 1)),
          `· … and ${pending.length - Math.max(0, room - 1)} more waiting`,
        ];
  return [...head, ...active, ...waiting].slice(-rows);
}

/** The frame: one or more lines per step, in the graph's order, each fitted to the width. */
export function frameLines(steps: readonly LiveStep[], options: FrameOptions): string[] {
  const byKey = new Map(steps.map((step) => [step.key, step]));
  const linesOf = (step: LiveStep) => stepLines(step, byKey, options);
  let lines = steps.flatMap(linesOf);
  if (options.rows !== undefined && lines.length > options.rows) {
    lines = fitHeight(steps, linesOf, options.rows);
  }
  return lines.map((line) => fit(line, options.columns));
}
