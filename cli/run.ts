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
import { stackFlags, stackNames } from '../provision/names.js';
import { errorCode, errorMessage, realClock, type Clock } from '../provision/retry.js';
import {
  EngineUnavailableError,
  ImageNotInRepositoryError,
} from '../provision/resources/image/index.js';
import { InvalidTokenError } from '../provision/token.js';
import type { CliCommand, CommandTools } from './command.js';
import { describeError, UsageError } from './errors.js';
import { checkProfile, resolveRegion, type GlobalOptions } from './options.js';
import { jsonText, type RunRecord } from './output.js';
import {
  liveProgress,
  plainProgress,
  wantsLiveProgress,
  type Progress,
  type ProgressOptions,
} from './progress.js';
import { planText } from './render.js';

function write(line: string): void {
  process.stderr.write(`${line}\n`);
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Ends a graph's display; with `interrupted`, returns the titles of the steps cut short. */
type EndDisplay = (how?: { readonly interrupted?: boolean }) => Promise<readonly string[]>;

/** Progress goes to stderr, so stdout carries only the result or the --json record. */
class ProgressOutput {
  private current: Progress;
  readonly events: EventSink = (event: RunEvent) => this.current.events(event);

  constructor(
    private readonly verbose: boolean,
    /** The live list, on stderr: when it is a terminal and no --json record is asked for. */
    private readonly live: boolean,
  ) {
    this.current = plainProgress(this.options());
  }

  private options(): ProgressOptions {
    return { verbose: this.verbose, write, print, now: () => realClock.now() };
  }

  /** A line of the result on stdout, now, above the live list if one is drawn. */
  print(line: string): void {
    this.current.print(line);
  }

  /** Shows the graph's steps (live on a terminal); the returned function ends that display. */
  begin<R>(graph: StepGraph<R>): EndDisplay {
    if (this.live) {
      const titles = topologicalOrder(graph).map((key) => {
        const step = graph[key as keyof R & string];
        return { key, title: step.title, after: step.after };
      });
      this.current = liveProgress(titles, { ...this.options(), terminal: process.stderr });
    }
    return async (how) => {
      const interrupted = await this.current.finish(how);
      this.current = plainProgress(this.options());
      return interrupted;
    };
  }
}

/** The last line after Ctrl-C: what was cut short and how to go on. */
export function interruptedLine(titles: readonly string[], note: string): string {
  const what = titles.length === 0 ? 'between two steps' : `while running: ${titles.join('; ')}`;
  return `interrupted ${what}. ${note}`;
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

/**
 * 2: a problem the user fixes on their side before anything is changed in
 * AWS: the command line, the token's form, a container engine that is
 * missing or not running, or an --image the stack's repository does not
 * hold (both found by the first step, before any change). 1: anything else.
 */
export function exitCodeFor(error: unknown): number {
  return error instanceof UsageError ||
    error instanceof InvalidTokenError ||
    error instanceof EngineUnavailableError ||
    error instanceof ImageNotInRepositoryError
    ? 2
    : 1;
}

/** "up", or "ci github" for a nested command: its path below the program. */
export function commandPath(commander: Command): string {
  const names: string[] = [];
  for (let at: Command | null = commander; at?.parent; at = at.parent) names.unshift(at.name());
  return names.join(' ');
}

/** The global options with the region resolved, and the clock; undefined after printing a usage error. */
async function prepare(
  commander: Command,
): Promise<{ globals: GlobalOptions; clock: Clock } | undefined> {
  const raw = commander.optsWithGlobals<GlobalOptions & { region?: string }>();
  try {
    const clock = delayScaledClock(realClock, process.env.ICLINIC_DEPLOY_DELAY_SCALE);
    const profile = raw.profile ?? process.env.AWS_PROFILE;
    if (profile !== undefined && profile !== '') checkProfile(profile);
    const globals = { ...raw, region: (await resolveRegion(raw.region, raw.profile)).region };
    return { globals, clock };
  } catch (error) {
    process.exitCode = 2;
    write(`error: ${errorMessage(error)}`);
    return undefined;
  }
}

/**
 * Ctrl-C while a graph runs: the display ends with the steps cut short, a
 * last line says what they were and how to go on, and the exit code is 130
 * (128 + SIGINT, as shells report it).
 */
function onInterrupt(finish: EndDisplay, note: () => string): () => void {
  let seen = false;
  // Kept until the exit: under npx a second SIGINT (npm forwards the
  // terminal's) must not kill the process before the last line is written.
  const interrupted = () => {
    if (seen) return;
    seen = true;
    void finish({ interrupted: true }).then((titles) => {
      write(`\n${interruptedLine(titles, note())}`);
      process.exit(130);
    });
  };
  process.on('SIGINT', interrupted);
  return () => {
    if (!seen) process.off('SIGINT', interrupted);
  };
}

/** Starts step graphs with their progress shown; every graph's records are added to `records`. */
function stepTools(
  ctx: StackContext,
  progress: ProgressOutput,
  records: StepRecord[],
  resumeNote: string,
): CommandTools {
  const failAfter = process.env.ICLINIC_DEPLOY_FAIL_AFTER;
  let note = resumeNote;
  const start = <G>(graph: StepGraph<G>): GraphRun<G> => {
    const finish = progress.begin(graph);
    const release = onInterrupt(finish, () => note);
    const run = runGraph(graph, {
      events: progress.events,
      clock: ctx.clock,
      dryRun: ctx.dryRun === true,
      ...(failAfter ? { failAfter } : {}),
    });
    const settle = async () => {
      release();
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
  return {
    report: ctx.report,
    print: (line) => progress.print(line),
    setInterruptNote: (text) => {
      note = text;
    },
    start,
    steps: async (graph) => {
      const run = start(graph);
      return { results: await run.results, records: run.records };
    },
  };
}

/** What a Ctrl-C leaves to do, unless the command says otherwise (CommandTools.setInterruptNote). */
export function resumeNote(name: string, globals: Pick<GlobalOptions, 'name' | 'region'>): string {
  return `Nothing is lost: run "npx iclinic-deploy ${name}${stackFlags(globals.name, globals.region)}" again to resume; it finds what exists and carries on.`;
}

type RecordOf = (ok: boolean, extra?: Pick<RunRecord, 'result' | 'error'>) => RunRecord;

interface Finished<S, R> {
  readonly name: string;
  readonly globals: GlobalOptions;
  readonly settings: S;
  /** Undefined on a dry run of a command that plans nothing. */
  readonly result: R | undefined;
  readonly records: readonly StepRecord[];
}

/** What stdout carries: the plan on a dry run, else the rendered lines or the --json record. */
function resultText<S, R>(
  command: CliCommand<S, R>,
  run: Finished<S, R>,
  record: RecordOf,
): string {
  const { globals } = run;
  if (globals.dryRun) {
    const heading = { command: run.name, stack: globals.name, region: globals.region };
    if (globals.json) return jsonText(record(true));
    const note = command.planNote?.(run.settings);
    return `${planText(run.records, heading)}\n${note === undefined ? '' : `${note}\n`}`;
  }
  const rendered = command.render(run.result as R, run.settings, globals);
  if (!globals.json) return rendered.lines.map((line) => `${line}\n`).join('');
  // A command that streamed its own output (logs) renders no json.
  if (command.ownJson) return rendered.json === undefined ? '' : jsonText(rendered.json);
  return jsonText(record(true, rendered.json === undefined ? {} : { result: rendered.json }));
}

/**
 * Test hook: the end-to-end suite collects every operation of every run and
 * checks each against the deployer policy.
 */
function appendCallLog(calls: CallLog): void {
  const callLogFile = process.env.ICLINIC_DEPLOY_CALL_LOG;
  if (callLogFile !== undefined && callLogFile !== '' && calls.total > 0) {
    appendFileSync(callLogFile, `${[...calls.byOperation.keys()].join('\n')}\n`);
  }
}

export async function runCommand<S, R>(
  command: CliCommand<S, R>,
  commander: Command,
): Promise<void> {
  const name = commandPath(commander);
  const started = realClock.now();
  const prepared = await prepare(commander);
  if (prepared === undefined) return;
  const { globals, clock } = prepared;
  const live = !globals.json && wantsLiveProgress(process.stderr, process.env);
  const progress = new ProgressOutput(globals.verbose, live);
  const ctx = createContext(globals, globals.dryRun || command.readsOnly, progress.events, clock);
  const records: StepRecord[] = [];
  const record: RecordOf = (ok, extra = {}) => ({
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
  const out = (text: string) => {
    if (text !== '') process.stdout.write(text);
  };
  try {
    const settings = await command.parse(commander, globals, ctx.report);
    // A command that changes nothing has nothing to plan.
    const result =
      globals.dryRun && !command.plans
        ? undefined
        : await command.run(
            ctx,
            settings,
            stepTools(ctx, progress, records, resumeNote(name, globals)),
          );
    out(resultText(command, { name, globals, settings, result, records }, record));
  } catch (error) {
    process.exitCode = exitCodeFor(error);
    const message = describeError(error, { ...globals, env: process.env });
    if (globals.json) out(jsonText(record(false, { error: { name: errorCode(error), message } })));
    else write(`\nerror: ${message}`);
  } finally {
    appendCallLog(ctx.calls);
  }
}
