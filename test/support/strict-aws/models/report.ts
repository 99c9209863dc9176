/**
 * The record of every request the API-model rule checked, one JSON line per
 * request in a file (so it works whichever process runs the proxy), and the
 * summary the e2e global setup prints at teardown.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '../../moto.js';
import type { Problem } from './decoded.js';

/** Where the e2e suite's proxy records its checks (beside the call log, see call-log.ts). */
export const API_MODEL_LOG = join(
  REPO_ROOT,
  'node_modules',
  '.cache',
  'iclinic-deploy',
  'e2e-api-model.jsonl',
);

export interface CheckRecord {
  readonly service: string;
  readonly operation: string;
  /** botocore folder and version; absent when no model is mapped for the service. */
  readonly model?: string;
  readonly problems: readonly Problem[];
  readonly skippedPatterns: readonly string[];
  /** Whether the rule answered with a refusal (false in record-only mode). */
  readonly refused: boolean;
}

export function appendRecord(file: string, record: CheckRecord): void {
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `${JSON.stringify(record)}\n`);
}

export function readRecords(file: string): CheckRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as CheckRecord);
}

function describeProblem(problem: Problem): string {
  const received = problem.received === undefined ? '' : ` (got ${problem.received})`;
  return `${problem.path}: ${problem.constraint}${received}`;
}

/** The summary lines: counts, then each rejected operation with what the model said, sorted. */
export function summarize(records: readonly CheckRecord[]): string[] {
  const checked = records.filter((r) => r.model !== undefined);
  const operations = new Set(checked.map((r) => `${r.service}:${r.operation}`));
  const rejected = new Map<string, number>();
  for (const record of checked) {
    for (const problem of record.problems) {
      const key = `${record.service}:${record.operation} ${describeProblem(problem)}`;
      rejected.set(key, (rejected.get(key) ?? 0) + 1);
    }
  }
  const rejectedRequests = checked.filter((r) => r.problems.length > 0).length;
  const skipped = new Set(checked.flatMap((r) => r.skippedPatterns));
  const unchecked = new Set(records.filter((r) => r.model === undefined).map((r) => r.service));
  return [
    `API models (botocore): ${checked.length} requests of ${operations.size} operations checked, ` +
      `${rejectedRequests} rejected; ${skipped.size} patterns not compilable (skipped)` +
      (unchecked.size > 0 ? `; no model for: ${[...unchecked].sort().join(', ')}` : ''),
    ...[...rejected.entries()].sort().map(([what, count]) => `  ${count}× ${what}`),
    ...[...skipped].sort().map((pattern) => `  pattern skipped: ${pattern}`),
  ];
}

/**
 * Prints the summary of the checks recorded in `file` and removes it, so the
 * next run starts empty. The e2e global teardown calls this.
 */
export function printApiModelSummary(file: string = API_MODEL_LOG): void {
  const records = readRecords(file);
  if (records.length === 0) return;
  console.log(summarize(records).join('\n'));
  rmSync(file, { force: true });
}
