import { FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { describe, expect, it } from 'vitest';
import {
  furtherBack,
  LogGroupMissingError,
  printLogs,
  type LogsSettings,
} from '../../../cli/commands/logs.js';
import { awsError, testContext } from '../support/context.js';

const STREAM = 'api/api/0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const request = (status: number, path: string) =>
  JSON.stringify({
    time: '2026-01-05T12:00:00.000Z',
    level: 'info',
    msg: 'request',
    status,
    method: 'GET',
    path,
    durationMs: 1.4,
    requestId: 'r-1',
  });
const settings: LogsSettings = { follow: false, sinceMs: 600_000, since: '10m', json: false };

function withEvents(messages: string[]) {
  const { ctx, mocks, clock } = testContext();
  mocks.logs.on(FilterLogEventsCommand).resolves({
    events: messages.map((message, i) => ({
      eventId: String(i),
      timestamp: Date.parse('2026-01-05T12:00:00Z') + i,
      logStreamName: STREAM,
      message,
    })),
  });
  return { ctx, mocks, clock };
}

async function printed(ctx: ReturnType<typeof testContext>['ctx'], s: LogsSettings) {
  const lines: string[] = [];
  await printLogs(ctx, s, (line) => lines.push(line));
  return lines;
}

describe('logs', () => {
  it('prints each request line as time, task, status, method, path and duration', async () => {
    const { ctx } = withEvents([request(200, '/'), request(401, '/x')]);
    expect(await printed(ctx, settings)).toEqual([
      '2026-01-05T12:00:00.000Z 0a1b2c3d 200 GET / 1.4 ms',
      '2026-01-05T12:00:00.000Z 0a1b2c3d 401 GET /x 1.4 ms',
    ]);
  });

  it('prints one parsed JSON record per line with --json', async () => {
    const { ctx } = withEvents([request(200, '/')]);
    const [line] = await printed(ctx, { ...settings, json: true });
    expect(JSON.parse(line ?? '')).toMatchObject({ kind: 'request', status: 200, path: '/' });
  });

  it('reads from --since ago and passes --filter as a quoted term', async () => {
    const { ctx, mocks, clock } = withEvents([]);
    await printed(ctx, { ...settings, filter: 'GET /x' });
    expect(mocks.logs.commandCalls(FilterLogEventsCommand)[0]?.args[0].input).toMatchObject({
      logGroupName: '/ecs/iclinic/api',
      startTime: clock.now() - 600_000,
      filterPattern: '"GET /x"',
    });
  });

  it('never prints a token a line carries', async () => {
    const { ctx } = withEvents(['debug Authorization: Token s3cr3t-value-123456']);
    const [line] = await printed(ctx, settings);
    expect(line).not.toContain('s3cr3t');
  });

  it('says which log group is missing and how to create it', async () => {
    const { ctx, mocks } = testContext();
    mocks.logs
      .on(FilterLogEventsCommand)
      .rejects(awsError('ResourceNotFoundException', 'The specified log group does not exist.'));
    await expect(printed(ctx, settings)).rejects.toThrow(LogGroupMissingError);
    await expect(printed(ctx, settings)).rejects.toThrow(
      'Log group /ecs/iclinic/api does not exist in us-east-1',
    );
  });

  it('ends --follow without an error on Ctrl-C', async () => {
    const { ctx } = withEvents([request(200, '/')]);
    const lines: string[] = [];
    const run = printLogs(ctx, { ...settings, follow: true }, (line) => {
      lines.push(line);
      process.emit('SIGINT');
    });
    await expect(run).resolves.toEqual({ lines: 1 });
    expect(process.listenerCount('SIGINT')).toBe(0);
  });

  it('says what --follow follows and how to stop, before any line arrives', async () => {
    const { ctx } = withEvents([]);
    const said: string[] = [];
    const report = {
      progress: (message: string) => {
        said.push(message);
        // The user stops it right away: no line has come.
        process.emit('SIGINT');
      },
      warn: () => undefined,
    };
    await printLogs({ ...ctx, report }, { ...settings, follow: true }, () => undefined);
    expect(said).toEqual([
      'Following /ecs/iclinic/api: new lines appear here as the service writes them (CloudWatch shows them a few seconds later). Ctrl-C stops.',
    ]);
  });

  it('keeps listening for Ctrl-C until --follow has ended: under npx a second SIGINT follows the first', async () => {
    const { ctx } = withEvents([]);
    const listening: number[] = [];
    const report = {
      progress: () => {
        process.emit('SIGINT');
        listening.push(process.listenerCount('SIGINT'));
        process.emit('SIGINT');
      },
      warn: () => undefined,
    };
    await printLogs({ ...ctx, report }, { ...settings, follow: true }, () => undefined);
    expect(listening[0]).toBeGreaterThan(0);
    expect(process.listenerCount('SIGINT')).toBe(0);
  });

  it('suggests a longer --since than the one given when nothing came back', () => {
    expect(furtherBack(600_000)).toBe('--since 1h reaches further back.');
    expect(furtherBack(3_600_000)).toBe('--since 6h reaches further back.');
    expect(furtherBack(30 * 86_400_000)).toMatch(/^the log group keeps 14 days of lines/);
  });
});
