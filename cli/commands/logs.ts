import type { Command } from 'commander';
import type { StackContext } from '../../provision/context.js';
import { stackFlags } from '../../provision/names.js';
import {
  followLogEvents,
  formatLogLine,
  parseLogEvent,
  parseSince,
  readLogEvents,
  type RawLogEvent,
} from '../../provision/resources/logs/reader.js';
import { LOG_RETENTION_DAYS } from '../../provision/commands/up.js';
import { errorMessage, isNotFound } from '../../provision/retry.js';
import type { CliCommand } from '../command.js';
import { UsageError } from '../errors.js';
import type { GlobalOptions } from '../options.js';

interface LogsOptions {
  follow: boolean;
  since: string;
  filter?: string;
}

export interface LogsSettings {
  readonly follow: boolean;
  readonly sinceMs: number;
  readonly since: string;
  readonly filter?: string;
  /** One parsed record per line (JSON Lines) instead of readable text. */
  readonly json: boolean;
}

export interface LogsResult {
  readonly lines: number;
}

export async function parseLogs(command: Command, globals: GlobalOptions): Promise<LogsSettings> {
  const options = command.opts<LogsOptions>();
  let sinceMs: number;
  try {
    sinceMs = parseSince(options.since);
  } catch (error) {
    throw new UsageError(errorMessage(error));
  }
  return {
    follow: options.follow,
    sinceMs,
    since: options.since,
    ...(options.filter === undefined ? {} : { filter: options.filter }),
    json: globals.json,
  };
}

/** Pure: what one event prints. parseLogEvent has already redacted any token. */
export function logOutputLine(event: RawLogEvent, json: boolean): string {
  const line = parseLogEvent(event);
  return json ? JSON.stringify(line) : formatLogLine(line);
}

export class LogGroupMissingError extends Error {
  constructor(ctx: StackContext) {
    super(
      `Log group ${ctx.names.logGroup} does not exist in ${ctx.region}, so stack "${ctx.names.stack}" has no logs there. ` +
        `Check --name and --region, or deploy it with "npx iclinic-deploy up${stackFlags(ctx.names.stack, ctx.region)}".`,
    );
    this.name = 'LogGroupMissingError';
  }
}

/**
 * Ctrl-C during --follow aborts the poll and the command ends normally
 * (exit 0): stopping is what the user asked for, not a failure. The
 * listeners stay until the end: under npx the CLI gets Ctrl-C twice, from
 * the terminal and forwarded by npm (@npmcli/run-script's signal-manager),
 * and a second SIGINT with no listener would kill it (npx then exits 130).
 */
function abortOnInterrupt(): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  const onInterrupt = (): void => controller.abort();
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onInterrupt);
  return {
    signal: controller.signal,
    release: () => {
      process.off('SIGINT', onInterrupt);
      process.off('SIGTERM', onInterrupt);
    },
  };
}

export async function printLogs(
  ctx: StackContext,
  settings: LogsSettings,
  write: (line: string) => void,
): Promise<LogsResult> {
  const since = ctx.clock.now() - settings.sinceMs;
  const filter = settings.filter === undefined ? {} : { filter: settings.filter };
  const interrupt = settings.follow ? abortOnInterrupt() : undefined;
  let lines = 0;
  if (interrupt) ctx.report.progress(followingLine(ctx, settings.filter));
  try {
    const events = interrupt
      ? followLogEvents(ctx, { sinceMs: since, ...filter, signal: interrupt.signal })
      : readLogEvents(ctx, { sinceMs: since, ...filter });
    for await (const event of events) {
      write(logOutputLine(event, settings.json));
      lines += 1;
    }
  } catch (error) {
    if (isNotFound(error)) throw new LogGroupMissingError(ctx);
    throw error;
  } finally {
    interrupt?.release();
  }
  if (lines === 0 && !settings.json && !settings.follow) {
    const matching =
      settings.filter === undefined ? '' : ` matching ${JSON.stringify(settings.filter)}`;
    ctx.report.warn(
      `No log lines${matching} in the last ${settings.since} in ${ctx.names.logGroup}; ${furtherBack(settings.sinceMs)}`,
    );
  }
  return { lines };
}

/** A window longer than the one given, up to what the log group keeps. */
export function furtherBack(sinceMs: number): string {
  const longer = (['1h', '6h', '1d', '7d'] as const).find((since) => parseSince(since) > sinceMs);
  if (longer !== undefined) return `--since ${longer} reaches further back.`;
  return `the log group keeps ${LOG_RETENTION_DAYS} days of lines ("npx iclinic-deploy status" shows whether tasks run).`;
}

/** Said once, on stderr, when --follow starts: a quiet service shows nothing for a while. */
export function followingLine(
  ctx: Pick<StackContext, 'names'>,
  filter: string | undefined,
): string {
  const matching = filter === undefined ? '' : ` matching ${JSON.stringify(filter)}`;
  return `Following ${ctx.names.logGroup}: new lines${matching} appear here as the service writes them (CloudWatch shows them a few seconds later). Ctrl-C stops.`;
}

const LOGS_HELP = `
With the global --json, prints one JSON record per line (JSON Lines) instead of text:
  {"kind":"request","time":...,"task":...,"status":200,"method":"GET","path":"/","durationMs":1.2}
Tokens never appear: the server does not log them, and anything that looks like one is redacted.
Ctrl-C ends --follow normally (exit 0; under npx, npm itself exits 130 on Ctrl-C since npm 10.3).
CloudWatch shows a line a few seconds after it is written.

Examples:
  npx iclinic-deploy logs                          the last 10 minutes
  npx iclinic-deploy logs --since 2h --filter 500  the last 2 hours, lines containing "500"
  npx iclinic-deploy logs --follow                 live, until Ctrl-C
  npx iclinic-deploy --json logs --since 1h | jq 'select(.status >= 500)'`;

function declareLogs(program: Command): Command {
  return program
    .command('logs')
    .description(
      "print the service's log lines (CloudWatch Logs): time, task, status, method, path and duration of each request",
    )
    .option('--follow', 'keep printing new lines as they arrive (every 2 s) until Ctrl-C', false)
    .option(
      '--since <duration>',
      'how far back to start: a number and s, m, h or d (30s, 10m, 2h, 1d)',
      '10m',
    )
    .option(
      '--filter <text>',
      "only lines containing this text; a CloudWatch filter pattern such as '{ $.status >= 500 }' is used as it is",
    )
    .addHelpText('after', LOGS_HELP);
}

export const logsCommand: CliCommand<LogsSettings, LogsResult> = {
  declare: declareLogs,
  readsOnly: true,
  plans: false,
  // The lines are the output, as they come; with --json they are JSON Lines.
  ownJson: true,
  parse: parseLogs,
  run: (ctx, settings) => printLogs(ctx, settings, (line) => process.stdout.write(`${line}\n`)),
  render: () => ({ lines: [] }),
};
