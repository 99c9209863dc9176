/**
 * The library never prints: it emits events, and the CLI renders them (a
 * live list on a terminal, plain lines in CI and pipes, nothing with --json).
 */
import type { Change } from './plan.js';

/**
 * What a step did; in a dry run, what it would do ("will-..."), so a
 * planned change never reads as a done one, in text or in --json.
 */
export type StepStatus =
  | 'created'
  | 'updated'
  | 'unchanged'
  | 'removed'
  | 'absent'
  | 'done'
  | 'failed'
  | 'skipped'
  | 'will-create'
  | 'will-update'
  | 'will-remove';

/** What a step did: the --json record keeps one per step, and a finished step's event carries it. */
export interface StepRecord {
  readonly key: string;
  readonly title: string;
  readonly status: StepStatus;
  readonly changes: readonly Change[];
  /** One short line on what a check or wait found. */
  readonly summary?: string;
  readonly durationMs: number;
  readonly error?: string;
}

export type RunEvent =
  | { readonly type: 'step-started'; readonly key: string; readonly title: string }
  | ({ readonly type: 'step-finished' } & Omit<StepRecord, 'error'>)
  | {
      readonly type: 'step-failed';
      readonly key: string;
      readonly title: string;
      readonly error: string;
      readonly durationMs: number;
    }
  | {
      readonly type: 'step-skipped';
      readonly key: string;
      readonly title: string;
      readonly reason: string;
    }
  /** A line while a step works or waits (an ECS event, a retry); `key` names the step. */
  | {
      readonly type: 'progress';
      readonly key: string | undefined;
      readonly message: string;
      /** When the wait it speaks of gives up (epoch ms): a live list counts down to it. */
      readonly until?: number;
    }
  | { readonly type: 'warning'; readonly key: string | undefined; readonly message: string };

export type EventSink = (event: RunEvent) => void;

export const ignoreEvents: EventSink = () => undefined;

/** What resource modules use to tell the user about a long wait or a problem that does not stop the run. */
export interface Reporter {
  /** `until`: when the wait the line speaks of gives up (epoch ms, by the run's clock). */
  progress(message: string, until?: number): void;
  warn(message: string): void;
}

/** A reporter whose lines belong to one step (or to the run when `key` is undefined). */
export function reporterFor(sink: EventSink, key?: string): Reporter {
  return {
    progress: (message, until) =>
      sink({ type: 'progress', key, message, ...(until === undefined ? {} : { until }) }),
    warn: (message) => sink({ type: 'warning', key, message }),
  };
}

export const silentReporter: Reporter = reporterFor(ignoreEvents);
