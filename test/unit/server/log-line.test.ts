import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createApp, requestLogLine } from '../../../server/app.js';

describe('access log line', () => {
  it('parses to the same object JSON.stringify would build, for any path', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 80 }),
        fc.constantFrom('GET', 'HEAD', 'POST', 'M-SEARCH'),
        fc.integer({ min: 100, max: 599 }),
        fc.double({ min: 0, max: 1e6, noNaN: true }).map((ms) => Math.round(ms * 1000) / 1000),
        fc.constantFrom('f6b0c3a0-1d2e-4b5c-9a8b-7c6d5e4f3a2b', 'a.b_c:d-1'),
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
    const lines: string[] = [];
    const app = createApp({ token: 't', log: (line) => lines.push(line) });
    const before = Date.now();
    await app.request('/healthz');
    await new Promise((resolve) => setTimeout(resolve, 5));
    await app.request('/healthz');
    const after = Date.now();
    const [first, second] = lines.map((line) => Date.parse(JSON.parse(line).time as string));
    expect(first).toBeGreaterThanOrEqual(before);
    expect(second).toBeGreaterThan(first ?? Infinity);
    expect(second).toBeLessThanOrEqual(after);
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
