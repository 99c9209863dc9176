import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp, type AppConfig } from '../../../server/app.js';

// Shaped like the tokens `up --generate` makes: no run of five characters
// that a log line could hold for another reason (a time, a UUID, a path).
const TOKEN = 'Zk3Qm9VxR2bT7wLp4NcY8hJd';
const PREVIOUS = 'Hb3+Nd8/Wc5.Jf1-Sg6~Pq0_';
const DEADLINE = Date.parse('2100-01-01T00:00:00Z');

/** The fields app.ts documents for a request line, and for the line of an unhandled error. */
const REQUEST_LINE_KEYS = [
  'durationMs',
  'level',
  'method',
  'msg',
  'path',
  'requestId',
  'status',
  'time',
];
const ERROR_LINE_KEYS = ['error', 'level', 'msg', 'requestId', 'time'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** The tests' own copy of the request ids the service may reuse (letters, digits and . _ : -). */
const ACCEPTED_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function setup(overrides: Partial<AppConfig> = {}) {
  const lines: string[] = [];
  const app = createApp({ token: TOKEN, log: (line) => lines.push(line), ...overrides });
  return { app, lines };
}

const parse = (line: string | undefined): Record<string, unknown> =>
  JSON.parse(line ?? '') as Record<string, unknown>;
const keysOf = (line: string | undefined): string[] => Object.keys(parse(line)).sort();

/** Every run of `size` characters of `secret`. */
function windowsOf(secret: string, size = 5): string[] {
  return Array.from({ length: secret.length - size + 1 }, (_, i) => secret.slice(i, i + size));
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('request log', () => {
  it('measures the duration of the request in milliseconds, to the microsecond', async () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    vi.advanceTimersByTime(5_000);
    const { app, lines } = setup();
    app.get('/slow', (c) => {
      vi.advanceTimersByTime(12.3456);
      return c.text('');
    });
    await app.request('/slow', { headers: { Authorization: `Token ${TOKEN}` } });
    expect(parse(lines[0]).durationMs).toBe(12.346);
  });

  it('writes each line to stdout, ended by a newline, when no log function is given', async () => {
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    await createApp({ token: TOKEN }).request('/healthz');
    vi.restoreAllMocks();
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^\{.*"msg":"request".*\}\n$/);
    expect(keysOf(written[0]?.trimEnd())).toEqual(REQUEST_LINE_KEYS);
  });

  it('writes one JSON line per request with exactly time, level, msg, method, path, status, duration and request id', async () => {
    const { app, lines } = setup();
    await app.request('/healthz?x=1');
    expect(lines).toHaveLength(1);
    const entry = parse(lines[0]);
    expect(keysOf(lines[0])).toEqual(REQUEST_LINE_KEYS);
    expect(entry).toMatchObject({
      level: 'info',
      msg: 'request',
      method: 'GET',
      path: '/healthz',
      status: 200,
    });
    expect(entry.durationMs).toBeTypeOf('number');
    expect(entry.durationMs).toBeGreaterThanOrEqual(0);
    expect(entry.requestId).toMatch(UUID);
  });

  it('writes exactly the documented fields for every kind of answer', async () => {
    const { app, lines } = setup();
    app.get('/boom', () => {
      throw new Error('boom');
    });
    const auth = { Authorization: `Token ${TOKEN}` };
    await app.request('/');
    await app.request('/', { headers: { Authorization: 'Token' } });
    await app.request('/', { headers: auth });
    await app.request('/', { method: 'HEAD', headers: auth });
    await app.request('/', { method: 'POST', headers: auth });
    await app.request('/nope', { headers: auth });
    await app.request('/boom', { headers: auth });
    const statuses = lines
      .filter((line) => parse(line).msg === 'request')
      .map((l) => parse(l).status);
    expect(statuses).toEqual([401, 400, 200, 200, 405, 404, 500]);
    const errorLines = lines.filter((line) => parse(line).msg !== 'request');
    expect(errorLines).toHaveLength(1);
    expect(parse(errorLines[0])).toMatchObject({
      level: 'error',
      msg: 'unhandled error',
      error: 'Error',
    });
    expect(keysOf(errorLines[0])).toEqual(ERROR_LINE_KEYS);
    for (const line of lines.filter((l) => parse(l).msg === 'request')) {
      expect(keysOf(line), line).toEqual(REQUEST_LINE_KEYS);
    }
  });

  it('logs the status of a rejected request', async () => {
    const { app, lines } = setup();
    await app.request('/', { headers: { Authorization: 'Token wrong' } });
    expect(parse(lines[0]).status).toBe(401);
  });

  it('reuses a well-formed x-request-id and returns it in the response', async () => {
    const { app, lines } = setup();
    const res = await app.request('/healthz', { headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers.get('x-request-id')).toBe('abc-123');
    expect(parse(lines[0]).requestId).toBe('abc-123');
  });

  it('replaces a malformed x-request-id with a generated one', async () => {
    const { app, lines } = setup();
    await app.request('/healthz', { headers: { 'x-request-id': 'bad id "quoted"' } });
    expect(parse(lines[0]).requestId).toMatch(UUID);
  });

  it('never logs five characters in a row of the current or the previous token, whatever was sent', async () => {
    const { app, lines } = setup({ previousToken: PREVIOUS, previousUntil: DEADLINE });
    app.get('/boom', () => {
      throw new Error(`failed with ${TOKEN} and ${PREVIOUS}`);
    });
    const lastByteChanged = (token: string) =>
      `${token.slice(0, -1)}${token.endsWith('x') ? 'y' : 'x'}`;
    const sent: (string | string[])[] = [];
    for (const token of [TOKEN, PREVIOUS]) {
      sent.push(
        `Token ${token}`,
        `token   ${token}`,
        `Token ${lastByteChanged(token)}`,
        `Token ${token}x`,
        `Token ${token.slice(0, 8)}`,
        `Bearer ${token}`,
        `Basic ${Buffer.from(`user:${token}`).toString('base64')}`,
        token,
        `Token${token}`,
        `Token ${token}, Token other`,
        `Token ${token}\u00e9`,
        [`Token ${token}`, `Token ${token}`],
      );
    }
    for (const value of sent) {
      const headers = new Headers();
      for (const one of [value].flat()) headers.append('Authorization', one);
      await app.request('/', { headers });
      await app.request(`/?token=${TOKEN}&previous=${PREVIOUS}`, { headers });
      await app.request('/boom', { headers });
    }
    expect(lines.length).toBeGreaterThanOrEqual(sent.length * 3);
    const leaks = lines.flatMap((line) =>
      [...windowsOf(TOKEN), ...windowsOf(PREVIOUS)]
        .filter((window) => line.includes(window))
        .map((window) => `${window} in ${line}`),
    );
    expect(leaks).toEqual([]);
    expect(lines.join('\n').toLowerCase()).not.toContain('authorization');
  });
});

describe('an x-request-id that would forge JSON fields', () => {
  const forged = [
    'x","level":"error',
    'x","level":"error","msg":"forged',
    'x"}{"level":"error',
    'x\\',
    'x\\"',
    '{"level":"error"}',
    "x'or'1'='1",
    'x</script>',
    '%22level%22',
    'x,level=error',
  ];

  it.each(forged)(
    'is replaced when it is %s, and the line keeps its fields and level',
    async (id) => {
      const { app, lines } = setup();
      const res = await app.request('/healthz', { headers: { 'x-request-id': id } });
      expect(lines).toHaveLength(1);
      const entry = parse(lines[0]);
      expect(entry.requestId).toMatch(UUID);
      expect(res.headers.get('x-request-id')).toBe(entry.requestId);
      expect(keysOf(lines[0])).toEqual(REQUEST_LINE_KEYS);
      expect(entry).toMatchObject({ level: 'info', msg: 'request', path: '/healthz', status: 200 });
      expect(lines[0]).not.toContain(id);
    },
  );

  it('is replaced whatever characters it uses, unless it matches the accepted pattern', async () => {
    const { app, lines } = setup();
    const visible = fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code));
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ unit: visible, minLength: 1, maxLength: 140 }),
          fc.stringMatching(ACCEPTED_REQUEST_ID),
        ),
        async (id) => {
          lines.length = 0;
          const res = await app.request('/healthz', { headers: { 'x-request-id': id } });
          const entry = parse(lines[0]);
          expect(keysOf(lines[0])).toEqual(REQUEST_LINE_KEYS);
          expect(entry).toMatchObject({ level: 'info', msg: 'request', status: 200 });
          if (ACCEPTED_REQUEST_ID.test(id)) {
            expect(entry.requestId).toBe(id);
          } else {
            expect(entry.requestId).toMatch(UUID);
          }
          expect(res.headers.get('x-request-id')).toBe(entry.requestId);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('request id', () => {
  it('is returned on a rejected request too', async () => {
    const { app, lines } = setup();
    const res = await app.request('/', {
      headers: { Authorization: 'Token wrong', 'x-request-id': 'rejected-1' },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('x-request-id')).toBe('rejected-1');
    expect(parse(lines[0]).requestId).toBe('rejected-1');
  });

  it('is returned on an unknown route', async () => {
    const { app } = setup();
    const res = await app.request('/nope', {
      headers: { Authorization: `Token ${TOKEN}`, 'x-request-id': 'missing-2' },
    });
    expect(res.status).toBe(404);
    expect(res.headers.get('x-request-id')).toBe('missing-2');
  });
});
