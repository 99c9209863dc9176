/**
 * What every command shares: the region, the context (read-only clients for
 * dry runs and for commands that only read), progress on stderr, the
 * `--json` record, the exit code (0 ok, 1 failure, 2 usage) and the call-log
 * test hook. What a command does is in cli/commands/.
 */
import type { Command } from 'commander';
import { appendFileSync } from 'node:fs';
import { CallLog, createClients, type StackContext } from '../provision/context.js';
import { reporterFor, type EventSink, type RunEvent } from '../provision/events.js';
import {
  runGraph,
  topologicalOrder,
  type GraphRun,
  type StepGraph,
  type StepRecord,
} from '../provision/graph.js';
import { stackNames } from '../provision/names.js';
import { errorCode, errorMessage, realClock, type Clock } from '../provision/retry.js';
import { InvalidTokenError } from '../provision/token.js';
import type { CliCommand, CommandTools } from './command.js';
import { describeError, UsageError } from './errors.js';
import { resolveRegion, type GlobalOptions } from './options.js';
import { jsonText, type RunRecord } from './output.js';
import { liveProgress, plainProgress, wantsLiveProgress, type Progress } from './progress.js';
import { planText } from './render.js';

function write(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Progress goes to stderr, so stdout carries only the result or the --json record. */
class ProgressOutput {
  private current: Progress;
  readonly events: EventSink = (event: RunEvent) => this.current.events(event);

  constructor(
    private readonly verbose: boolean,
    /** listr2 draws on stdout: only when stdout is a terminal too and carries no --json record. */
    private readonly live: boolean,
  ) {
    this.current = plainProgress({ verbose, write });
  }

  /** Shows the graph's steps (live on a terminal); the returned function ends that display. */
  begin<R>(graph: StepGraph<R>): () => Promise<void> {
    if (this.live) {
      const titles = topologicalOrder(graph).map((key) => {
        const step = graph[key as keyof R & string];
        return { key, title: step.title, after: step.after };
      });
      this.current = liveProgress(titles, { verbose: this.verbose, write });
    }
    return async () => {
      await this.current.finish();
      this.current = plainProgress({ verbose: this.verbose, write });
    };
  }
}

/**
 * Test hook (like ICLINIC_DEPLOY_FAIL_AFTER): ICLINIC_DEPLOY_DELAY_SCALE, a
 * number in (0, 1], shortens every sleep between retries and polls, never a
 * deadline, so the end-to-end suite can run the strict AWS layer's waits fast.
 */
export function delayScaledClock(clock: Clock, scale: string | undefined): Clock {
  if (scale === undefined || scale === '') return clock;
  const factor = Number(scale);
  if (!(factor > 0 && factor <= 1)) {
    throw new UsageError(
      `ICLINIC_DEPLOY_DELAY_SCALE must be a number in (0, 1] (it is a test hook); received "${scale}". Unset it.`,
    );
  }
  return { now: () => clock.now(), sleep: (ms) => clock.sleep(ms * factor) };
}

function createContext(globals: GlobalOptions, readOnly: boolean, events: EventSink, clock: Clock) {
  const calls = new CallLog();
  const ctx: StackContext = {
    names: stackNames(globals.name, globals.region),
    region: globals.region,
    clients: createClients(
      {
        region: globals.region,
        ...(globals.profile === undefined ? {} : { profile: globals.profile }),
        readOnly,
      },
      calls,
    ),
    calls,
    report: reporterFor(events),
    clock,
    ...(globals.dryRun ? { dryRun: true } : {}),
  };
  return ctx;
}

function exitCodeFor(error: unknown): number {
  return error instanceof UsageError || error instanceof InvalidTokenError ? 2 : 1;
}

/** "up", or "ci github" for a nested command: its path below the program. */
export function commandPath(commander: Command): string {
  const names: string[] = [];
  for (let at: Command | null = commander; at?.parent; at = at.parent) names.unshift(at.name());
  return names.join(' ');
}

export async function runCommand<S, R>(
  command: CliCommand<S, R>,
  commander: Command,
): Promise<void> {
  const name = commandPath(commander);
  const raw = commander.optsWithGlobals<GlobalOptions & { region?: string }>();
  const started = realClock.now();
  let globals: GlobalOptions;
  let clock: Clock;
  try {
    clock = delayScaledClock(realClock, process.env.ICLINIC_DEPLOY_DELAY_SCALE);
    globals = { ...raw, region: (await resolveRegion(raw.region, raw.profile)).region };
  } catch (error) {
    process.exitCode = 2;
    write(`error: ${errorMessage(error)}`);
    return;
  }
  const live =
    !globals.json && process.stdout.isTTY && wantsLiveProgress(process.stderr, process.env);
  const progress = new ProgressOutput(globals.verbose, live);
  const ctx = createContext(globals, globals.dryRun || command.readsOnly, progress.events, clock);
  const records: StepRecord[] = [];
  const failAfter = process.env.ICLINIC_DEPLOY_FAIL_AFTER;
  const start = <G>(graph: StepGraph<G>): GraphRun<G> => {
    const finish = progress.begin(graph);
    const run = runGraph(graph, {
      events: progress.events,
      clock: ctx.clock,
      ...(failAfter ? { failAfter } : {}),
    });
    const settle = async () => {
      records.push(...run.records);
      await finish();
    };
    const results = run.results.then(
      async (value) => {
        await settle();
        return value;
      },
      async (error: unknown) => {
        await settle();
        throw error;
      },
    );
    return { results, records: run.records };
  };
  const tools: CommandTools = {
    report: ctx.report,
    start,
    steps: async (graph) => {
      const run = start(graph);
      return { results: await run.results, records: run.records };
    },
  };
  const record = (ok: boolean, extra: Pick<RunRecord, 'result' | 'error'> = {}): RunRecord => ({
    command: name,
    stack: globals.name,
    region: globals.region,
    ok,
    dryRun: globals.dryRun,
    durationMs: realClock.now() - started,
    steps: records,
    awsCalls: ctx.calls.toJSON(),
    ...extra,
  });
  const out = (text: string) => process.stdout.write(text);
  try {
    const settings = await command.parse(commander, globals, ctx.report);
    // A command that changes nothing has nothing to plan.
    const result =
      globals.dryRun && !command.plans ? undefined : await command.run(ctx, settings, tools);
    if (globals.dryRun) {
      const heading = { command: name, stack: globals.name, region: globals.region };
      out(globals.json ? jsonText(record(true)) : `${planText(records, heading)}\n`);
      return;
    }
    const rendered = command.render(result as R, settings, globals);
    if (!globals.json) out(rendered.lines.map((line) => `${line}\n`).join(''));
    else if (command.ownJson) {
      // A command that streamed its own output (logs) renders no json.
      if (rendered.json !== undefined) out(jsonText(rendered.json));
    } else
      out(jsonText(record(true, rendered.json === undefined ? {} : { result: rendered.json })));
  } catch (error) {
    process.exitCode = exitCodeFor(error);
    const message = describeError(error, { ...globals, env: process.env });
    if (globals.json) out(jsonText(record(false, { error: { name: errorCode(error), message } })));
    else write(`\nerror: ${message}`);
  } finally {
    const callLogFile = process.env.ICLINIC_DEPLOY_CALL_LOG;
    if (callLogFile !== undefined && callLogFile !== '' && ctx.calls.total > 0) {
      // Test hook: the end-to-end suite collects every operation of every run
      // and checks each against the deployer policy.
      appendFileSync(callLogFile, `${[...ctx.calls.byOperation.keys()].join('\n')}\n`);
    }
  }
}
