import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp, requestLogLine } from '../../../server/app.js';

/** The tests' own copy of the request ids the service reuses unescaped (letters, digits and . _ : -). */
const ACCEPTED_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Any code point, lone surrogates included: what fast-check's 'binary' unit
 * draws, without the five seconds it takes to build its table on first use.
 */
const anyCodePoint = fc
  .integer({ min: 0, max: 0x10ffff })
  .map((code) => String.fromCodePoint(code));

afterEach(() => {
  vi.useRealTimers();
});

describe('access log line', () => {
  it('parses to the same object JSON.stringify would build, for any path and any accepted request id', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: anyCodePoint, maxLength: 80 }),
        fc.constantFrom('GET', 'HEAD', 'POST', 'M-SEARCH'),
        fc.integer({ min: 100, max: 599 }),
        fc.double({ min: 0, max: 1e6, noNaN: true }).map((ms) => Math.round(ms * 1000) / 1000),
        fc.oneof(fc.stringMatching(ACCEPTED_REQUEST_ID), fc.uuid({ version: 4 })),
        (path, method, status, durationMs, requestId) => {
          const time = new Date(0).toISOString();
          const line = requestLogLine(time, method, path, status, durationMs, requestId);
          expect(JSON.parse(line)).toEqual({
            time,
            level: 'info',
            msg: 'request',
            method,
            path,
            status,
            durationMs,
            requestId,
          });
        },
      ),
    );
  });

  it("stamps each line with the request's own millisecond as an ISO-8601 instant", async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const lines: string[] = [];
    const app = createApp({ token: 't', log: (line) => lines.push(line) });
    vi.setSystemTime(Date.parse('2026-03-01T12:00:00.000Z'));
    await app.request('/healthz');
    await app.request('/healthz');
    vi.setSystemTime(Date.parse('2026-03-01T12:00:00.007Z'));
    await app.request('/healthz');
    expect(lines.map((line) => JSON.parse(line).time)).toEqual([
      '2026-03-01T12:00:00.000Z',
      '2026-03-01T12:00:00.000Z',
      '2026-03-01T12:00:00.007Z',
    ]);
  });
});

describe('response headers', () => {
  const TOKEN = 'hdr-token';
  const app = createApp({ token: TOKEN, log: () => {} });
  app.get('/boom', () => {
    throw new Error('boom');
  });
  const cases: [string, string, number, [string, string][]][] = [
    ['GET', '/', 200, []],
    ['GET', '/healthz', 200, []],
    ['POST', '/', 405, [['allow', 'GET, HEAD']]],
    ['GET', '/nope', 404, []],
    ['GET', '/boom', 500, []],
  ];
  for (const [method, path, status, extra] of cases) {
    it(`${method} ${path} answers ${status} with exactly content-type, x-request-id and its own headers`, async () => {
      const res = await app.request(path, {
        method,
        headers: { authorization: `Token ${TOKEN}`, 'x-request-id': 'hdr-1' },
      });
      expect(res.status).toBe(status);
      expect([...res.headers]).toEqual(
        [...extra, ['content-type', 'application/json'], ['x-request-id', 'hdr-1']].sort(),
      );
    });
  }
});
