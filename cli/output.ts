import type { CallLog } from '../provision/context.js';
import type { StepRecord } from '../provision/graph.js';

/** What `--json` prints on stdout: the run, its steps with their typed changes, and the AWS calls. */
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

/** What a command shows: `json` goes into the record (or is the output, for token and policy), `lines` to stdout. */
export interface Rendered {
  readonly json?: unknown;
  readonly lines: readonly string[];
}

export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
