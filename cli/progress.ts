/**
 * Renders the library's run events. On a terminal: a live list of the steps
 * (listr2) with a spinner, the elapsed time and one summary line each. In
 * CI, pipes, with NO_COLOR or TERM=dumb: plain lines, one per event. A
 * finished step's line carries its own duration.
 */
import {
  Listr,
  type ListrDefaultRenderer,
  type ListrSimpleRenderer,
  type ListrTaskWrapper,
} from 'listr2';
import type { EventSink, RunEvent } from '../provision/events.js';
import { changeLine, plainLines, seconds, stepSummary } from './render.js';

export interface Progress {
  readonly events: EventSink;
  /** Ends the live list (steps that never ran show as skipped) and prints the warnings kept for the end. */
  finish(): Promise<void>;
}

export interface ProgressOptions {
  readonly verbose: boolean;
  readonly write: (line: string) => void;
}

export function plainProgress(options: ProgressOptions): Progress {
  return {
    events: (event) => {
      for (const line of plainLines(event, options)) options.write(line);
    },
    finish: async () => undefined,
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

type StepTask = ListrTaskWrapper<unknown, ListrDefaultRenderer, ListrSimpleRenderer>;

interface PendingStep {
  task?: StepTask;
  settle?: (error?: Error) => void;
  settled: boolean;
  /** An event that arrived before listr2 started the step's task. */
  early: RunEvent[];
}

export interface StepTitle {
  readonly key: string;
  readonly title: string;
  readonly after: readonly string[];
}

function settle(step: PendingStep, error?: Error): void {
  if (step.settled) return;
  step.settled = true;
  step.settle?.(error);
}

/** Shows one event on its step's task; warnings also go into `kept`, printed once the list is gone. */
function applyEvent(step: PendingStep, event: RunEvent, kept: string[], verbose: boolean): void {
  const task = step.task;
  if (task === undefined) {
    step.early.push(event);
    return;
  }
  switch (event.type) {
    case 'step-started':
      task.title = event.title;
      return;
    case 'progress':
      task.output = event.message;
      return;
    case 'warning':
      task.output = `warning: ${event.message}`;
      kept.push(`warning: ${event.message}`);
      return;
    case 'step-finished':
      task.title = `${event.title}: ${stepSummary(event)}`;
      if (verbose && event.changes.length > 0) {
        task.output = event.changes.map((c) => changeLine(c, 'done')).join('\n');
      }
      settle(step);
      return;
    case 'step-failed':
      settle(step, new Error(`${event.title}: failed after ${seconds(event.durationMs)}`));
      return;
    case 'step-skipped':
      task.skip(`${event.title}: skipped (${event.reason})`);
      settle(step);
      return;
  }
}

/** A step's listr2 task: it ends when the step's own events settle it. */
function stepTask(
  title: string,
  step: PendingStep,
  verbose: boolean,
  apply: (step: PendingStep, event: RunEvent) => void,
) {
  return {
    title,
    rendererOptions: { outputBar: verbose ? Infinity : 1, persistentOutput: verbose },
    task: (_: unknown, task: StepTask) =>
      new Promise<void>((resolve, reject) => {
        step.task = task;
        step.settle = (error) => (error === undefined ? resolve() : reject(error));
        if (step.settled) return resolve();
        for (const event of step.early.splice(0)) apply(step, event);
      }),
  };
}

export function liveProgress(steps: readonly StepTitle[], options: ProgressOptions): Progress {
  const pending = new Map<string, PendingStep>();
  const kept: string[] = [];
  const titleOf = new Map(steps.map((s) => [s.key, s.title]));
  const apply = (step: PendingStep, event: RunEvent) =>
    applyEvent(step, event, kept, options.verbose);

  const list = new Listr<unknown, 'default', 'simple'>(
    steps.map((s) => {
      const step: PendingStep = { settled: false, early: [] };
      pending.set(s.key, step);
      const title =
        s.after.length > 0
          ? `${s.title} (waiting for: ${s.after.map((k) => titleOf.get(k) ?? k).join(', ')})`
          : s.title;
      return stepTask(title, step, options.verbose, apply);
    }),
    {
      concurrent: true,
      exitOnError: false,
      registerSignalListeners: false,
    },
  );
  const running = list.run().catch(() => undefined);

  return {
    events: (event) => {
      const step = event.key === undefined ? undefined : pending.get(event.key);
      if (step === undefined) {
        // Run-level lines wait until the list is gone, so they are not overdrawn.
        kept.push(...plainLines(event, options));
        return;
      }
      apply(step, event);
    },
    finish: async () => {
      for (const step of pending.values()) {
        if (!step.settled) {
          step.task?.skip('not run');
          settle(step);
        }
      }
      await running;
      for (const line of kept) options.write(line);
    },
  };
}
