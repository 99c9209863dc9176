/**
 * A command's steps are declared once, as a graph: each step names the steps
 * it comes after, and that declaration is what orders the run. A step reads
 * only the results of the steps it declared (reading any other throws), so
 * the declared order and the real data flow cannot drift apart. The same
 * graph drives the run, the dry run and the progress output.
 */
import type { Clock } from './retry.js';
import { errorMessage } from './retry.js';
import {
  reporterFor,
  type EventSink,
  type Reporter,
  type StepRecord,
  type StepStatus,
} from './events.js';
import { outcomeOf, type Change } from './plan.js';

/** ensure: converges resources; remove: deletes them; check: waits or verifies, changes nothing. */
export type StepKind = 'ensure' | 'remove' | 'check';

export interface StepResult<T> {
  readonly value: T;
  readonly changes?: readonly Change[];
  /** For checks and waits: one short line on what was found. */
  readonly summary?: string;
}

export interface StepInput<R> {
  /** The result of a step this one comes after; asking for any other step throws. */
  get<K extends keyof R & string>(key: K): R[K];
  /** Progress lines and warnings attributed to this step. */
  readonly report: Reporter;
  /** Aborted as soon as another step fails: long work (a build, a push) should stop. */
  readonly signal: AbortSignal;
}

export interface StepDef<R, K extends keyof R> {
  readonly kind: StepKind;
  readonly title: string;
  readonly after: readonly (keyof R & string)[];
  run(input: StepInput<R>): Promise<StepResult<R[K]>>;
}

/** One entry per step; the keys of R are the step keys, its values their results. */
export type StepGraph<R> = { readonly [K in keyof R & string]: StepDef<R, K> };

export type { StepRecord } from './events.js';

export class InjectedFailureError extends Error {
  constructor(key: string) {
    super(
      `Injected failure after step "${key}" (ICLINIC_DEPLOY_FAIL_AFTER is set; this is a test hook).`,
    );
    this.name = 'InjectedFailureError';
  }
}

export class InvalidStepGraphError extends Error {
  constructor(detail: string) {
    super(`Invalid step graph: ${detail}`);
    this.name = 'InvalidStepGraphError';
  }
}

export class UndeclaredStepInputError extends Error {
  constructor(step: string, wanted: string) {
    super(
      `Step "${step}" read the result of "${wanted}" without declaring it in "after"; add it there.`,
    );
    this.name = 'UndeclaredStepInputError';
  }
}

/** The keys in an order that respects every `after`; throws on an unknown key or a cycle. */
function stepsOf<R>(graph: StepGraph<R>): Map<string, StepDef<R, keyof R>> {
  return new Map(Object.entries(graph) as [string, StepDef<R, keyof R>][]);
}

function stepIn<R>(steps: Map<string, StepDef<R, keyof R>>, key: string): StepDef<R, keyof R> {
  const step = steps.get(key);
  if (step === undefined) throw new InvalidStepGraphError(`no step "${key}"`);
  return step;
}

export function topologicalOrder<R>(graph: StepGraph<R>): string[] {
  const steps = stepsOf(graph);
  const keys = [...steps.keys()];
  const afterOf = (key: string): readonly string[] => stepIn(steps, key).after;
  for (const key of keys) {
    for (const dependency of afterOf(key)) {
      if (!keys.includes(dependency)) {
        throw new InvalidStepGraphError(`"${key}" comes after unknown step "${dependency}"`);
      }
    }
  }
  const order: string[] = [];
  const visiting = new Set<string>();
  const visit = (key: string, path: readonly string[]) => {
    if (order.includes(key)) return;
    if (visiting.has(key)) {
      throw new InvalidStepGraphError(`cycle ${[...path, key].join(' -> ')}`);
    }
    visiting.add(key);
    for (const dependency of afterOf(key)) visit(dependency, [...path, key]);
    visiting.delete(key);
    order.push(key);
  };
  for (const key of keys) visit(key, []);
  return order;
}

export interface GraphRunOptions {
  readonly events: EventSink;
  readonly clock: Clock;
  /** Test hook: fail right after this step succeeds, to prove a re-run converges. */
  readonly failAfter?: string;
  /** The steps plan instead of acting: their statuses say what they would do. */
  readonly dryRun?: boolean;
}

export interface GraphRun<R> {
  /** Resolves with every step's result, or rejects with the first failure. */
  readonly results: Promise<R>;
  /** Filled as steps end; complete once `results` has settled. */
  readonly records: readonly StepRecord[];
}

const PLANNED: Record<'created' | 'updated' | 'removed', StepStatus> = {
  created: 'will-create',
  updated: 'will-update',
  removed: 'will-remove',
};

function statusOf(kind: StepKind, changes: readonly Change[], dryRun: boolean): StepStatus {
  if (kind === 'check') return 'done';
  const status =
    kind === 'remove' ? (changes.length > 0 ? 'removed' : 'absent') : outcomeOf(changes);
  return dryRun && status !== 'absent' && status !== 'unchanged' ? PLANNED[status] : status;
}

/**
 * Starts every step as soon as the steps it comes after have succeeded.
 * The first failure ends the run: the steps still running are told through
 * their signal and waited for, and those not started are reported as skipped.
 */
export function runGraph<R>(graph: StepGraph<R>, options: GraphRunOptions): GraphRun<R> {
  const order = topologicalOrder(graph);
  const steps = stepsOf(graph);
  const records: StepRecord[] = [];
  const values = new Map<string, unknown>();
  const started = new Map<string, Promise<void>>();
  const begun = new Set<string>();
  const failed = new AbortController();

  const input = (key: string): StepInput<R> => ({
    get: <K extends keyof R & string>(wanted: K): R[K] => {
      if (!stepIn(steps, key).after.includes(wanted))
        throw new UndeclaredStepInputError(key, wanted);
      return values.get(wanted) as R[K];
    },
    report: reporterFor(options.events, key),
    signal: failed.signal,
  });

  const runStep = async (key: string): Promise<void> => {
    const step = stepIn(steps, key);
    await Promise.all(step.after.map((dependency) => started.get(dependency)));
    if (failed.signal.aborted) return;
    const begin = options.clock.now();
    begun.add(key);
    options.events({ type: 'step-started', key, title: step.title });
    try {
      const result = await step.run(input(key));
      const changes = result.changes ?? [];
      const record: StepRecord = {
        key,
        title: step.title,
        status: statusOf(step.kind, changes, options.dryRun === true),
        changes,
        ...(result.summary === undefined ? {} : { summary: result.summary }),
        durationMs: options.clock.now() - begin,
      };
      records.push(record);
      values.set(key, result.value);
      options.events({ type: 'step-finished', ...record });
    } catch (error) {
      const durationMs = options.clock.now() - begin;
      records.push({
        key,
        title: step.title,
        status: 'failed',
        changes: [],
        durationMs,
        error: errorMessage(error),
      });
      options.events({
        type: 'step-failed',
        key,
        title: step.title,
        error: errorMessage(error),
        durationMs,
      });
      throw error;
    }
    if (key === options.failAfter) throw new InjectedFailureError(key);
  };

  for (const key of order) {
    const promise = runStep(key);
    // A step's failure is reported once, through `results`; the steps that
    // wait on it only need to know that it settled.
    started.set(
      key,
      promise.catch((error: unknown) => {
        failed.abort(error);
        throw error;
      }),
    );
  }

  const results = (async () => {
    try {
      await Promise.all(started.values());
    } catch (error) {
      // The steps still running were told through their signal; the run ends
      // once they have, so no step's line comes after the error that ends it.
      await Promise.allSettled(started.values());
      for (const key of order) {
        if (!begun.has(key)) {
          const title = stepIn(steps, key).title;
          records.push({ key, title, status: 'skipped', changes: [], durationMs: 0 });
          options.events({ type: 'step-skipped', key, title, reason: 'an earlier step failed' });
        }
      }
      throw error;
    }
    return Object.fromEntries(values) as R;
  })();
  // Rejections of the per-step promises surface through `results` only.
  for (const promise of started.values()) promise.catch(() => undefined);
  return { results, records };
}
