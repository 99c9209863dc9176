import type { Command } from 'commander';
import type { StackContext } from '../provision/context.js';
import type { Reporter } from '../provision/events.js';
import type { GraphRun, StepGraph, StepRecord } from '../provision/graph.js';
import type { GlobalOptions } from './options.js';
import type { Rendered } from './output.js';

/** What runCommand gives a command's run: the progress sink and the step runner. */
export interface CommandTools {
  /** Run-level progress and warnings (a step's own go through its StepInput). */
  readonly report: Reporter;
  /** A line of the result on stdout now, before the command ends (above a live list). */
  print(line: string): void;
  /** What the line after a Ctrl-C says is left to do, from now on. */
  setInterruptNote(note: string): void;
  /** Starts a step graph with live or plain progress; its records go into the JSON record. */
  start<R>(graph: StepGraph<R>): GraphRun<R>;
  /** `start`, awaited. */
  steps<R>(graph: StepGraph<R>): Promise<{ results: R; records: readonly StepRecord[] }>;
}

/**
 * One per command, in cli/commands/: declare its flags and help, parse the
 * options into settings (a UsageError for a mistake), run them, and render the
 * result (pure).
 */
export interface CliCommand<S, R> {
  /**
   * Adds the command under `program` (through `program.command(...)`, so it
   * inherits the program's help and error settings) with its argument,
   * options, description and help text, and returns it; program.ts attaches
   * the action that runs it. A nested command (`ci github`) adds its group
   * and returns the leaf.
   */
  declare(program: Command): Command;
  /** Makes no change (status, token, policy): its clients are read-only even without --dry-run. */
  readonly readsOnly: boolean;
  /** A dry run runs its graph as a plan; for a command that changes nothing there is nothing to plan. */
  readonly plans: boolean;
  /** With --json, the rendered json is the output itself instead of part of the run record. */
  readonly ownJson?: boolean;
  /** A line the dry run's text adds under the plan (what a plan alone does not say). */
  planNote?(settings: S): string | undefined;
  parse(command: Command, globals: GlobalOptions, report: Reporter): Promise<S>;
  run(ctx: StackContext, settings: S, tools: CommandTools): Promise<R>;
  render(result: R, settings: S, globals: GlobalOptions): Rendered;
}
