/**
 * Reading the service's logs without another tool: FilterLogEvents over the
 * stack's log group, its JSON request lines made readable, and a --follow
 * that polls again every two seconds.
 *
 * Why polling and not StartLiveTail: live tail is billed per session minute,
 * samples once a session passes 500 events/s, ends after 3 hours
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CloudWatchLogs_LiveTail.html),
 * and needs an HTTP/2 event stream; moto answers it with one snapshot of
 * the events and no live updates, so it could not be tested end to end.
 * FilterLogEvents every two seconds is a few requests a minute, well inside
 * its quota, and moto serves it.
 */
import {
  GetLogEventsCommand,
  paginateFilterLogEvents,
  type FilteredLogEvent,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  paginateListTasks,
} from '@aws-sdk/client-ecs';
import type { StackContext } from '../../context.js';
import { isNotFound } from '../../retry.js';

/** The stream prefix the task definition sets (LOG_STREAM_PREFIX of the ECS module). */
const DEFAULT_STREAM_PREFIX = 'api';

export interface RawLogEvent {
  readonly eventId?: string;
  readonly timestamp: number;
  readonly logStreamName: string;
  readonly message: string;
}

export type LogLine =
  | {
      readonly kind: 'request';
      readonly time: string;
      readonly task: string;
      readonly status: number;
      readonly method: string;
      readonly path: string;
      readonly durationMs: number;
      readonly requestId?: string;
    }
  | {
      readonly kind: 'event';
      readonly time: string;
      readonly task: string;
      readonly level: string;
      readonly msg: string;
      readonly fields: Readonly<Record<string, unknown>>;
    }
  | { readonly kind: 'text'; readonly time: string; readonly task: string; readonly text: string };

// Defence in depth: the server never logs a header, but a token must not be
// printed even if some line ever carried one.
const SECRET_PATTERNS: readonly [RegExp, string][] = [
  [/(authorization["']?\s*[:=]\s*["']?)(?:(?:token|bearer|basic)\s+)?[^\s"',}]+/gi, '$1[redacted]'],
  [/\b(token|bearer)(\s+)[A-Za-z0-9._~+/=-]{8,}/gi, '$1$2[redacted]'],
];

export function redact(text: string): string {
  return SECRET_PATTERNS.reduce(
    (out, [pattern, replacement]) => out.replace(pattern, replacement),
    text,
  );
}

/**
 * The awslogs driver names streams "prefix/container/task-id"
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html#specify-log-config).
 */
export function taskIdOfStream(logStreamName: string): string {
  return logStreamName.split('/').pop() ?? logStreamName;
}

const isoOf = (timestamp: number): string => new Date(timestamp).toISOString();

function asRecord(message: string): Record<string, unknown> | undefined {
  if (!message.trimStart().startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(message);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const stringField = (record: Record<string, unknown>, key: string): string | undefined =>
  typeof record[key] === 'string' ? record[key] : undefined;

/** One log event as a typed line (see requestLogLine in server/app.ts); anything else stays text. */
export function parseLogEvent(event: RawLogEvent): LogLine {
  const task = taskIdOfStream(event.logStreamName);
  const message = redact(event.message.replace(/\n$/, ''));
  const record = asRecord(message);
  const time = (record && stringField(record, 'time')) ?? isoOf(event.timestamp);
  if (record === undefined) return { kind: 'text', time, task, text: message };
  const { status, method, path, durationMs } = record;
  if (
    record.msg === 'request' &&
    typeof status === 'number' &&
    typeof method === 'string' &&
    typeof path === 'string' &&
    typeof durationMs === 'number'
  ) {
    const requestId = stringField(record, 'requestId');
    return {
      kind: 'request',
      time,
      task,
      status,
      method,
      path,
      durationMs,
      ...(requestId === undefined ? {} : { requestId }),
    };
  }
  const { time: _time, level, msg, ...fields } = record;
  return {
    kind: 'event',
    time,
    task,
    level: typeof level === 'string' ? level : 'info',
    msg: typeof msg === 'string' ? msg : '',
    fields,
  };
}

const TASK_ID_SHOWN = 8;

/** Pure: one readable line, e.g. "2026-01-01T00:00:00.000Z 0123abcd 200 GET / 1.2 ms". */
export function formatLogLine(line: LogLine): string {
  const head = `${line.time} ${line.task.slice(0, TASK_ID_SHOWN).padEnd(TASK_ID_SHOWN)}`;
  switch (line.kind) {
    case 'request':
      return `${head} ${line.status} ${line.method} ${line.path} ${line.durationMs} ms`;
    case 'event': {
      const extra = Object.entries(line.fields).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
      return [head, line.level.toUpperCase(), line.msg, ...extra].filter((s) => s !== '').join(' ');
    }
    case 'text':
      return `${head} ${line.text}`;
  }
}

/**
 * --filter TEXT: a CloudWatch filter pattern when it reads like one
 * (`{ $.status = 500 }`, `"quoted"`, `?a ?b`, `%regex%`), else the text as
 * one quoted term, so "GET /x" matches that phrase and not the two words
 * anywhere (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html).
 */
export function filterPatternFor(text: string): string {
  if (/^\s*[{["?%]/.test(text)) return text;
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export interface ReadLogsOptions {
  /** Epoch milliseconds; default: everything the log group keeps. */
  readonly sinceMs?: number;
  readonly filter?: string;
  readonly signal?: AbortSignal;
}

function toRaw(event: FilteredLogEvent): RawLogEvent {
  return {
    ...(event.eventId === undefined ? {} : { eventId: event.eventId }),
    timestamp: event.timestamp ?? 0,
    logStreamName: event.logStreamName ?? '',
    message: event.message ?? '',
  };
}

/** Every matching event from `sinceMs` until now, oldest first, page by page. */
export async function* readLogEvents(
  ctx: StackContext,
  options: ReadLogsOptions = {},
): AsyncGenerator<RawLogEvent> {
  const pages = paginateFilterLogEvents(
    { client: ctx.clients.logs },
    {
      logGroupName: ctx.names.logGroup,
      ...(options.sinceMs === undefined ? {} : { startTime: options.sinceMs }),
      ...(options.filter === undefined ? {} : { filterPattern: filterPatternFor(options.filter) }),
    },
  );
  for await (const page of pages) {
    if (options.signal?.aborted) return;
    for (const event of page.events ?? []) yield toRaw(event);
  }
}

/**
 * Events arrive in CloudWatch Logs up to a few seconds after their
 * timestamp, so each poll looks back this far before the previous poll
 * started and skips the event ids already shown.
 */
const FOLLOW_OVERLAP_MS = 10_000;
export const FOLLOW_INTERVAL_MS = 2_000;

/** Resolves after `ms`, or at once when the signal aborts. */
function sleepUnlessAborted(ctx: StackContext, ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done);
    void ctx.clock.sleep(ms).then(done);
  });
}

/**
 * --follow: what readLogEvents gives, then new events as they come, until
 * the signal aborts (Ctrl-C); then it returns, without an error.
 */
export async function* followLogEvents(
  ctx: StackContext,
  options: ReadLogsOptions & { readonly signal: AbortSignal; readonly intervalMs?: number },
): AsyncGenerator<RawLogEvent> {
  const { signal } = options;
  const seen = new Map<string, number>();
  let since = options.sinceMs ?? ctx.clock.now();
  while (!signal.aborted) {
    const pollStartedAt = ctx.clock.now();
    try {
      for await (const event of readLogEvents(ctx, { ...options, sinceMs: since })) {
        const id = event.eventId ?? `${event.logStreamName}:${event.timestamp}:${event.message}`;
        if (seen.has(id)) continue;
        seen.set(id, event.timestamp);
        if (signal.aborted) return;
        yield event;
      }
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
    // Everything up to the poll's start has been read, matching or not, so
    // the next poll only needs the overlap before it; moving on only when an
    // event matched kept a quiet --filter rescanning from --since on every
    // poll, each one longer (FilterLogEvents pages through the whole window:
    // https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html).
    // The poll's start is this machine's time: one set more than the overlap
    // ahead of AWS's would skip late events.
    since = Math.max(since, pollStartedAt - FOLLOW_OVERLAP_MS);
    for (const [id, timestamp] of seen) if (timestamp < since) seen.delete(id);
    await sleepUnlessAborted(ctx, options.intervalMs ?? FOLLOW_INTERVAL_MS, signal);
  }
}

/** "10m", "2h", "1d", "30s": how far back --since reaches, in milliseconds. */
export function parseSince(text: string): number {
  const match = /^(\d+)\s*(s|m|h|d)$/.exec(text.trim());
  if (!match) {
    throw new Error(
      `Invalid --since ${JSON.stringify(text)}: use a number and a unit, s, m, h or d (e.g. --since 10m or --since 2h).`,
    );
  }
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[
    match[2] as 's' | 'm' | 'h' | 'd'
  ];
  return Number(match[1]) * unit;
}

export interface StoppedTaskLogs {
  readonly taskId: string;
  readonly lines: readonly string[];
}

/**
 * The last lines a stopped task wrote, formatted, for the failure report of
 * a rollout: the stream is "prefix/container/task-id" of the task
 * definition's awslogs settings. A task that never started has no stream;
 * that gives no lines rather than an error.
 */
export async function lastLogLines(
  ctx: StackContext,
  task: { readonly taskArn: string; readonly logGroup: string; readonly streamPrefix: string },
  count = 20,
): Promise<StoppedTaskLogs> {
  const taskId = task.taskArn.split('/').pop() ?? task.taskArn;
  const logStreamName = `${task.streamPrefix}/${ctx.names.containerName}/${taskId}`;
  try {
    const out = await ctx.clients.logs.send(
      new GetLogEventsCommand({
        logGroupName: task.logGroup,
        logStreamName,
        limit: count,
        startFromHead: false,
      }),
    );
    const lines = (out.events ?? []).map((e) =>
      formatLogLine(
        parseLogEvent({ timestamp: e.timestamp ?? 0, logStreamName, message: e.message ?? '' }),
      ),
    );
    return { taskId, lines };
  } catch (error) {
    if (isNotFound(error)) return { taskId, lines: [] };
    throw error;
  }
}

/**
 * Failure reasons where the user is: the last log lines of the most
 * recently stopped tasks of the service, those of `deploymentId` first
 * (ECS sets a service task's startedBy to its deployment id,
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Task.html#ECS-Type-Task-startedBy).
 * Best effort: the caller is already reporting a failure.
 */
export async function stoppedTaskLogs(
  ctx: StackContext,
  options: {
    readonly deploymentId?: string;
    readonly tasks?: number;
    readonly lines?: number;
  } = {},
): Promise<StoppedTaskLogs[]> {
  const { ecs } = ctx.clients;
  const cluster = ctx.names.cluster;
  // ECS keeps stopped tasks for about an hour, so the list stays short;
  // DescribeTasks takes 100 at most.
  const arns: string[] = [];
  for await (const page of paginateListTasks(
    { client: ecs },
    { cluster, serviceName: ctx.names.service, desiredStatus: 'STOPPED' },
  )) {
    arns.push(...(page.taskArns ?? []));
    if (arns.length >= 100) break;
  }
  if (arns.length === 0) return [];
  const described = await ecs.send(
    new DescribeTasksCommand({ cluster, tasks: arns.slice(0, 100) }),
  );
  const byRecency = (described.tasks ?? []).sort(
    (a, b) => (b.stoppedAt?.getTime() ?? 0) - (a.stoppedAt?.getTime() ?? 0),
  );
  const ours = byRecency.filter((t) => t.startedBy === options.deploymentId);
  const chosen = (ours.length > 0 ? ours : byRecency).slice(0, options.tasks ?? 1);
  const settings = new Map<string, { logGroup: string; streamPrefix: string }>();
  const results: StoppedTaskLogs[] = [];
  for (const task of chosen) {
    if (task.taskArn === undefined || task.taskDefinitionArn === undefined) continue;
    let awslogs = settings.get(task.taskDefinitionArn);
    if (awslogs === undefined) {
      awslogs = await awslogsSettings(ctx, task.taskDefinitionArn);
      settings.set(task.taskDefinitionArn, awslogs);
    }
    results.push(await lastLogLines(ctx, { taskArn: task.taskArn, ...awslogs }, options.lines));
  }
  return results;
}

async function awslogsSettings(
  ctx: StackContext,
  taskDefinitionArn: string,
): Promise<{ logGroup: string; streamPrefix: string }> {
  const out = await ctx.clients.ecs.send(
    new DescribeTaskDefinitionCommand({ taskDefinition: taskDefinitionArn }),
  );
  const options = out.taskDefinition?.containerDefinitions?.find(
    (c) => c.name === ctx.names.containerName,
  )?.logConfiguration?.options;
  return {
    logGroup: options?.['awslogs-group'] ?? ctx.names.logGroup,
    streamPrefix: options?.['awslogs-stream-prefix'] ?? DEFAULT_STREAM_PREFIX,
  };
}
