import type { Converged, Ensured, Outcome, Removal, Removed, Reporter } from './context.js';
import type { StepRecord as GraphStepRecord, StepResult } from './graph.js';
import { outcomeOf, type Change } from './plan.js';
import type { Clock } from './retry.js';
import { errorMessage } from './retry.js';

/**
 * A plan is data: each step names itself and says what it would do before
 * anything runs, which is what --dry-run prints and what progress lines use.
 */
export interface PlannedStep {
  readonly key: string;
  readonly title: string;
  /** What the step makes sure of, one line per resource; no AWS call. */
  readonly intent: readonly string[];
  /** Keys of the steps whose results this one needs. */
  readonly after: readonly string[];
}

export type StepStatus = Outcome | 'removed' | 'absent' | 'failed' | 'done';

export interface StepRecord {
  readonly key: string;
  readonly title: string;
  readonly status: StepStatus;
  readonly changes: readonly string[];
  readonly durationMs: number;
  readonly error?: string;
}

export class InjectedFailureError extends Error {
  constructor(key: string) {
    super(
      `Injected failure after step "${key}" (ICLINIC_DEPLOY_FAIL_AFTER is set; this is a test hook).`,
    );
    this.name = 'InjectedFailureError';
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Runs steps, prints their progress, and keeps the record `--json` prints. */
export class StepRunner {
  readonly records: StepRecord[] = [];

  constructor(
    private readonly plan: readonly PlannedStep[],
    private readonly report: Reporter,
    private readonly clock: Clock,
    /** Test hook: fail right after this step succeeds, to prove a re-run converges. */
    private readonly failAfter?: string,
  ) {}

  private title(key: string): string {
    return this.plan.find((step) => step.key === key)?.title ?? key;
  }

  private async timed<T>(
    key: string,
    fn: () => Promise<T>,
    describe: (value: T) => { status: StepStatus; changes: readonly string[] },
  ): Promise<T> {
    const title = this.title(key);
    const started = this.clock.now();
    this.report.progress(`… ${title}`);
    try {
      const value = await fn();
      const { status, changes } = describe(value);
      const durationMs = this.clock.now() - started;
      this.records.push({ key, title, status, changes, durationMs });
      const detail = changes.length > 0 ? `: ${changes.join('; ')}` : '';
      this.report.progress(`✓ ${title}: ${status} (${seconds(durationMs)})${detail}`);
      if (key === this.failAfter) throw new InjectedFailureError(key);
      return value;
    } catch (error) {
      if (error instanceof InjectedFailureError) throw error;
      const durationMs = this.clock.now() - started;
      this.records.push({
        key,
        title,
        status: 'failed',
        changes: [],
        durationMs,
        error: errorMessage(error),
      });
      this.report.progress(`✗ ${title}: failed after ${seconds(durationMs)}`);
      throw error;
    }
  }

  /** A step that converges resources. */
  async ensure<T>(key: string, fn: () => Promise<Ensured<T>>): Promise<T> {
    const ensured = await this.timed(key, fn, (e) => ({ status: e.outcome, changes: e.changes }));
    return ensured.value;
  }

  /** A step that deletes resources. */
  async remove(
    key: string,
    fn: () => Promise<{ removed: readonly string[] }>,
  ): Promise<readonly string[]> {
    const result = await this.timed(key, fn, (r) => ({
      status: r.removed.length > 0 ? 'removed' : 'absent',
      changes: r.removed,
    }));
    return result.removed;
  }

  /** A step that waits or checks and changes nothing. */
  async run<T>(key: string, fn: () => Promise<T>, summary?: (value: T) => string): Promise<T> {
    return this.timed(key, fn, (value) => ({
      status: 'done',
      changes: summary === undefined ? [] : [summary(value)],
    }));
  }
}

export function formatPlan(plan: readonly PlannedStep[]): string {
  const lines: string[] = [];
  plan.forEach((step, index) => {
    const after = step.after.length > 0 ? `  (after: ${step.after.join(', ')})` : '';
    lines.push(`${index + 1}. ${step.title}${after}`);
    for (const line of step.intent) lines.push(`     - ${line}`);
  });
  return lines.join('\n');
}

/**
 * Transitional, until every module returns `Converged`/`Removal`: a module's
 * text lines as a step result, so commands can move to the step graph first.
 */
export function fromLegacyEnsured<T>(ensured: Ensured<T>): StepResult<T> {
  const action = ensured.outcome === 'created' ? 'create' : 'update';
  return {
    value: ensured.value,
    changes: ensured.changes.map((line) => ({ action, kind: 'resource', name: line })),
  };
}

export function fromLegacyRemoved(removed: { removed: readonly string[] }): StepResult<undefined> {
  return {
    value: undefined,
    changes: removed.removed.map((line) => ({ action: 'delete', kind: 'resource', name: line })),
  };
}

/** The old "kind name: what" line of one typed change (transitional, for StepRunner output). */
function legacyLine(change: Change): string {
  const detail = change.detail === undefined ? '' : ` ${change.detail}`;
  const values =
    change.from === undefined && change.to === undefined
      ? ''
      : ` ${change.from ?? 'none'} -> ${change.to ?? 'none'}`;
  return `${change.kind} ${change.name}: ${change.action}${detail}${values}`;
}

/**
 * Transitional, until every command runs on the step graph: a converted
 * module's typed changes as the `Ensured` the StepRunner still takes.
 */
export function toLegacyEnsured<T>(converged: Converged<T>): Ensured<T> {
  return {
    outcome: outcomeOf(converged.changes),
    changes: converged.changes.map(legacyLine),
    value: converged.value,
  };
}

export function toLegacyRemoved(removal: Removal): Removed {
  return { removed: removal.changes.map((change) => `${change.kind} ${change.name}`) };
}

/** Step-graph records in the shape of the StepRunner's `--json` records (steps never started are left out, as before). */
export function toLegacyRecords(records: readonly GraphStepRecord[]): StepRecord[] {
  return records.flatMap((record) =>
    record.status === 'skipped'
      ? []
      : [
          {
            key: record.key,
            title: record.title,
            status: record.status,
            changes: record.changes.map(legacyLine),
            durationMs: record.durationMs,
            ...(record.error === undefined ? {} : { error: record.error }),
          },
        ],
  );
}
