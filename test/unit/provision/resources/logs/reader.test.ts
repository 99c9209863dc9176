import {
  FilterLogEventsCommand,
  GetLogEventsCommand,
  type FilteredLogEvent,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ListTasksCommand,
} from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import {
  filterPatternFor,
  FOLLOW_INTERVAL_MS,
  followLogEvents,
  formatLogLine,
  parseLogEvent,
  parseSince,
  readLogEvents,
  redact,
  stoppedTaskLogs,
  type RawLogEvent,
} from '../../../../../provision/resources/logs/reader.js';
import { requestLogLine } from '../../../../../server/app.js';
import { awsError, testContext } from '../../../support/context.js';

const TASK = '0123456789abcdef0123456789abcdef';
const STREAM = `api/api/${TASK}`;
const AT = Date.parse('2026-01-01T00:00:05.000Z');

const event = (message: string, extra: Partial<RawLogEvent> = {}): RawLogEvent => ({
  timestamp: AT,
  logStreamName: STREAM,
  message,
  ...extra,
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('parseLogEvent and formatLogLine', () => {
  it('reads a request line as the server writes it', () => {
    const message = requestLogLine('2026-01-01T00:00:01.250Z', 'GET', '/', 200, 1.234, 'req-1');
    const line = parseLogEvent(event(message));

    expect(line).toEqual({
      kind: 'request',
      time: '2026-01-01T00:00:01.250Z',
      task: TASK,
      status: 200,
      method: 'GET',
      path: '/',
      durationMs: 1.234,
      requestId: 'req-1',
    });
    expect(formatLogLine(line)).toBe('2026-01-01T00:00:01.250Z 01234567 200 GET / 1.234 ms');
  });

  it('shows another JSON line with its level, message and fields', () => {
    const message = JSON.stringify({
      time: '2026-01-01T00:00:02.000Z',
      level: 'error',
      msg: 'unhandled error',
      error: 'TypeError',
      requestId: 'req-2',
    });
    expect(formatLogLine(parseLogEvent(event(message)))).toBe(
      '2026-01-01T00:00:02.000Z 01234567 ERROR unhandled error error="TypeError" requestId="req-2"',
    );
  });

  it('shows a line that is not JSON as it is, at the event time', () => {
    expect(formatLogLine(parseLogEvent(event('node: something went wrong\n')))).toBe(
      '2026-01-01T00:00:05.000Z 01234567 node: something went wrong',
    );
  });

  it('never shows a token, even on a line that carried one', () => {
    const line = parseLogEvent(
      event('debug: Authorization: Token s3cr3t-value-123 sent; retry with Token abcdefgh12345'),
    );
    expect(formatLogLine(line)).toBe(
      '2026-01-01T00:00:05.000Z 01234567 debug: Authorization: [redacted] sent; retry with Token [redacted]',
    );
  });

  it('redacts an authorization field inside JSON', () => {
    expect(redact('{"authorization":"Token abc123456789","path":"/"}')).toBe(
      '{"authorization":"[redacted]","path":"/"}',
    );
  });
});

describe('filterPatternFor', () => {
  it('quotes plain text so it matches as one phrase', () => {
    expect(filterPatternFor('GET /missing "x"')).toBe('"GET /missing \\"x\\""');
  });

  it('passes a CloudWatch pattern through', () => {
    expect(filterPatternFor('{ $.status >= 500 }')).toBe('{ $.status >= 500 }');
  });
});

describe('parseSince', () => {
  it('reads minutes and hours', () => {
    expect([parseSince('10m'), parseSince('2h')]).toEqual([600_000, 7_200_000]);
  });

  it('rejects a value without a unit, naming it', () => {
    expect(() => parseSince('10')).toThrow(
      'Invalid --since "10": use a number and a unit, s, m, h or d (e.g. --since 10m or --since 2h).',
    );
  });
});

const filtered = (id: string, timestamp: number, message = id): FilteredLogEvent => ({
  eventId: id,
  timestamp,
  logStreamName: STREAM,
  message,
});

describe('readLogEvents', () => {
  it('reads every page from the given time with the quoted filter', async () => {
    const { ctx, mocks } = testContext();
    mocks.logs
      .on(FilterLogEventsCommand)
      .resolvesOnce({ events: [filtered('a', AT)], nextToken: 'page-2' })
      .resolvesOnce({ events: [filtered('b', AT + 1)] });

    const events = await collect(readLogEvents(ctx, { sinceMs: AT - 600_000, filter: 'GET /' }));

    expect(events.map((e) => e.message)).toEqual(['a', 'b']);
    // The paginator reuses one input object, so both calls show the last token.
    const calls = mocks.logs.commandCalls(FilterLogEventsCommand);
    expect(calls).toHaveLength(2);
    expect(calls[0]?.args[0].input).toMatchObject({
      logGroupName: '/ecs/iclinic/api',
      startTime: AT - 600_000,
      filterPattern: '"GET /"',
    });
  });
});

describe('followLogEvents', () => {
  it('polls from the last event seen, shows each event once, and stops on abort', async () => {
    const { ctx, mocks } = testContext();
    const controller = new AbortController();
    mocks.logs
      .on(FilterLogEventsCommand)
      .resolvesOnce({ events: [filtered('a', AT), filtered('b', AT + 1000)] })
      .resolvesOnce({ events: [filtered('b', AT + 1000), filtered('c', AT + 2000)] })
      .callsFake(() => {
        controller.abort();
        return { events: [filtered('d', AT + 3000)] };
      });

    const events = await collect(followLogEvents(ctx, { sinceMs: AT, signal: controller.signal }));

    expect(events.map((e) => e.message)).toEqual(['a', 'b', 'c']);
    const starts = mocks.logs
      .commandCalls(FilterLogEventsCommand)
      .map((c) => c.args[0].input.startTime);
    expect(starts).toEqual([AT, AT, AT]);
  });

  it('moves its window forward on every poll even when nothing matches', async () => {
    const { ctx, mocks, clock } = testContext();
    const controller = new AbortController();
    const started = clock.now();
    // --since 10m on a filter that never matches: 30 polls, two seconds apart.
    mocks.logs.on(FilterLogEventsCommand).callsFake(() => {
      if (mocks.logs.commandCalls(FilterLogEventsCommand).length >= 30) controller.abort();
      return { events: [] };
    });

    await collect(followLogEvents(ctx, { sinceMs: started - 600_000, signal: controller.signal }));

    const starts = mocks.logs
      .commandCalls(FilterLogEventsCommand)
      .map((c) => c.args[0].input.startTime ?? 0);
    expect(starts).toHaveLength(30);
    expect(clock.now()).toBe(started + 29 * FOLLOW_INTERVAL_MS);
    // The overlap (10 s) plus one poll interval behind now, never back at --since.
    expect(starts.at(-1)).toBeGreaterThanOrEqual(clock.now() - 10_000 - FOLLOW_INTERVAL_MS);
  });

  it('ends at once when aborted while waiting for the next poll', async () => {
    const { ctx, mocks } = testContext();
    const waitForever = {
      ...ctx,
      clock: { now: () => AT, sleep: () => new Promise<void>(() => {}) },
    };
    const controller = new AbortController();
    mocks.logs.on(FilterLogEventsCommand).resolves({ events: [filtered('a', AT)] });

    const seen: string[] = [];
    for await (const e of followLogEvents(waitForever, { signal: controller.signal })) {
      seen.push(e.message);
      setTimeout(() => controller.abort(), 5);
    }
    expect(seen).toEqual(['a']);
  });
});

describe('stoppedTaskLogs', () => {
  it("reads the last lines of the failed deployment's stopped task from its stream", async () => {
    const { ctx, mocks } = testContext();
    const arn = (id: string) => `arn:aws:ecs:us-east-1:123456789012:task/iclinic/${id}`;
    mocks.ecs.on(ListTasksCommand).resolves({ taskArns: [arn('old'), arn(TASK)] });
    mocks.ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        {
          taskArn: arn('old'),
          startedBy: 'ecs-svc/111',
          stoppedAt: new Date(AT + 5000),
          taskDefinitionArn: 'td:3',
        },
        {
          taskArn: arn(TASK),
          startedBy: 'ecs-svc/222',
          stoppedAt: new Date(AT),
          taskDefinitionArn: 'td:4',
        },
      ],
    });
    mocks.ecs.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: {
        containerDefinitions: [
          {
            name: 'api',
            logConfiguration: {
              logDriver: 'awslogs',
              options: { 'awslogs-group': '/ecs/iclinic/api', 'awslogs-stream-prefix': 'api' },
            },
          },
        ],
      },
    });
    mocks.logs.on(GetLogEventsCommand).resolves({
      events: [{ timestamp: AT, message: 'Error: ICLINIC_PASS is not set' }],
    });

    const logs = await stoppedTaskLogs(ctx, { deploymentId: 'ecs-svc/222' });

    expect(logs).toEqual([
      { taskId: TASK, lines: ['2026-01-01T00:00:05.000Z 01234567 Error: ICLINIC_PASS is not set'] },
    ]);
    expect(mocks.logs.commandCalls(GetLogEventsCommand)[0]?.args[0].input).toEqual({
      logGroupName: '/ecs/iclinic/api',
      logStreamName: STREAM,
      limit: 20,
      startFromHead: false,
    });
  });

  it('gives no lines for a task that never wrote a stream', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs.on(ListTasksCommand).resolves({ taskArns: ['arn:x:task/iclinic/t1'] });
    mocks.ecs.on(DescribeTasksCommand).resolves({
      tasks: [{ taskArn: 'arn:x:task/iclinic/t1', taskDefinitionArn: 'td:1' }],
    });
    mocks.ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: {} });
    mocks.logs
      .on(GetLogEventsCommand)
      .rejects(awsError('ResourceNotFoundException', 'The specified log stream does not exist.'));

    expect(await stoppedTaskLogs(ctx)).toEqual([{ taskId: 't1', lines: [] }]);
  });
});
