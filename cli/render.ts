/**
 * Words for the library's data: pure functions from changes, step records
 * and events to lines, so every message a user reads has a unit test.
 */
import type { RunEvent, StepStatus } from '../provision/events.js';
import type { StepRecord } from '../provision/graph.js';
import type { Change, ChangeAction } from '../provision/plan.js';

/** "plan": what a dry run would do; "done": what the run did. */
export type Tense = 'plan' | 'done';

const SYMBOL: Record<ChangeAction, string> = {
  create: '+',
  update: '~',
  replace: '±',
  delete: '-',
};

const VERB: Record<ChangeAction, Record<Tense, string>> = {
  create: { plan: 'create', done: 'created' },
  update: { plan: 'update', done: 'updated' },
  replace: { plan: 'replace', done: 'replaced' },
  delete: { plan: 'delete', done: 'deleted' },
};

/** "+ create security group iclinic-alb: tcp 80 from 0.0.0.0/0", "~ update target group iclinic-tg: interval 30 → 10". */
export function changeLine(change: Change, tense: Tense): string {
  const head = `${SYMBOL[change.action]} ${VERB[change.action][tense]} ${change.kind} ${change.name}`;
  const values =
    change.from !== undefined || change.to !== undefined
      ? ` ${change.from ?? '(none)'} → ${change.to ?? '(none)'}`
      : '';
  if (change.detail === undefined) return `${head}${values}`;
  return `${head}: ${change.detail}${values}`;
}

/** "3 created, 1 updated" (or "3 to create, 1 to update") or "" when nothing changed. */
export function changeCounts(changes: readonly Change[], tense: Tense): string {
  const counts = new Map<ChangeAction, number>();
  for (const change of changes) counts.set(change.action, (counts.get(change.action) ?? 0) + 1);
  return (['create', 'update', 'replace', 'delete'] as const)
    .filter((action) => counts.has(action))
    .map((action) =>
      tense === 'done'
        ? `${counts.get(action)} ${VERB[action].done}`
        : `${counts.get(action)} to ${VERB[action].plan}`,
    )
    .join(', ');
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

const STATUS_WORD: Record<StepStatus, string> = {
  created: 'created',
  updated: 'updated',
  unchanged: 'unchanged',
  removed: 'removed',
  absent: 'nothing to remove',
  done: 'done',
  failed: 'failed',
  skipped: 'skipped',
  'will-create': 'will create',
  'will-update': 'will update',
  'will-remove': 'will remove',
};

/** A dry run's statuses are planned ("will-..."): their changes are worded as a plan. */
export function tenseOf(status: StepStatus): Tense {
  return status.startsWith('will-') ? 'plan' : 'done';
}

/** What a finished step did, in a few words: its summary, its change counts, or its status. */
export function stepOutcome(record: Pick<StepRecord, 'status' | 'changes' | 'summary'>): string {
  const counts = changeCounts(record.changes, tenseOf(record.status));
  return record.summary ?? (counts === '' ? STATUS_WORD[record.status] : counts);
}

/** The one line a finished step gets in plain output: what happened and how long it took. */
export function stepSummary(
  record: Pick<StepRecord, 'status' | 'changes' | 'summary' | 'durationMs'>,
): string {
  return `${stepOutcome(record)} (${seconds(record.durationMs)})`;
}

export interface PlainLineOptions {
  /** Each change on its own line under its step. */
  readonly verbose: boolean;
}

/** Lines for one event when progress is plain text (CI, pipes, NO_COLOR or not a terminal). */
export function plainLines(event: RunEvent, options: PlainLineOptions): string[] {
  switch (event.type) {
    case 'step-started':
      return [`… ${event.title}`];
    case 'step-finished': {
      const lines = [`✓ ${event.title}: ${stepSummary(event)}`];
      const tense = tenseOf(event.status);
      if (options.verbose) lines.push(...event.changes.map((c) => `    ${changeLine(c, tense)}`));
      return lines;
    }
    case 'step-failed':
      // Why, on its own line: the error at the end may come after other steps' lines.
      return [
        `✗ ${event.title}: failed after ${seconds(event.durationMs)}`,
        `    ${event.error.split('\n', 1)[0] ?? ''}`,
      ];
    case 'step-skipped':
      // After a failure, the steps that never started say nothing new; --verbose lists them.
      return options.verbose ? [`- ${event.title}: skipped (${event.reason})`] : [];
    case 'progress':
      return [`  ${event.message}`];
    case 'warning':
      return [`warning: ${event.message}`];
  }
}

export interface PlanHeading {
  readonly command: string;
  readonly stack: string;
  readonly region: string;
}

/** What a dry run prints: every change it would make, step by step, or that nothing would change. */
export function planText(records: readonly StepRecord[], heading: PlanHeading): string {
  const title = `Dry run of "${heading.command}" for stack "${heading.stack}" in ${heading.region} (read the account, changed nothing):`;
  const withChanges = records.filter((r) => r.changes.length > 0);
  if (withChanges.length === 0) return `${title}\nNothing to change.`;
  const lines = [title];
  for (const record of withChanges) {
    lines.push(`${record.title}:`);
    lines.push(...record.changes.map((c) => `  ${changeLine(c, 'plan')}`));
  }
  const all = withChanges.flatMap((r) => r.changes);
  lines.push(`In all: ${changeCounts(all, 'plan')}.`);
  return lines.join('\n');
}
