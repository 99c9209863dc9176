import type { CallLog, Reporter } from '../provision/context.js';
import type { StepRecord } from '../provision/steps.js';

/** Progress goes to stderr so stdout carries only the result (or the --json record). */
export function stderrReporter(): Reporter {
  return {
    progress: (message) => process.stderr.write(`${message}\n`),
    warn: (message) => process.stderr.write(`warning: ${message}\n`),
  };
}

export interface RunRecord {
  readonly command: string;
  readonly stack: string;
  readonly region: string;
  readonly ok: boolean;
  readonly dryRun: boolean;
  readonly durationMs: number;
  readonly steps: readonly StepRecord[];
  readonly awsCalls: ReturnType<CallLog['toJSON']>;
  readonly result?: unknown;
  readonly error?: { name: string; message: string };
}

export function printJson(record: RunRecord): void {
  process.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
}
