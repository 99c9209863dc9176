import { describe, expect, it } from 'vitest';
import { createApp } from '../../../server/app.js';

const TOKEN = 'log-test-token-XYZ';

function setup() {
  const lines: string[] = [];
  const app = createApp({ token: TOKEN, log: (line) => lines.push(line) });
  return { app, lines };
}

describe('request log', () => {
  it('writes one JSON line per request with method, path, status, duration and request id', async () => {
    const { app, lines } = setup();
    await app.request('/healthz?x=1');
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0] ?? '');
    expect(entry).toMatchObject({ method: 'GET', path: '/healthz', status: 200, msg: 'request' });
    expect(typeof entry.durationMs).toBe('number');
    expect(entry.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs the status of a rejected request', async () => {
    const { app, lines } = setup();
    await app.request('/', { headers: { Authorization: 'Token wrong' } });
    expect(JSON.parse(lines[0] ?? '').status).toBe(401);
  });

  it('reuses a well-formed x-request-id and returns it in the response', async () => {
    const { app, lines } = setup();
    const res = await app.request('/healthz', { headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers.get('x-request-id')).toBe('abc-123');
    expect(JSON.parse(lines[0] ?? '').requestId).toBe('abc-123');
  });

  it('replaces a malformed x-request-id with a generated one', async () => {
    const { app, lines } = setup();
    await app.request('/healthz', { headers: { 'x-request-id': 'bad id "quoted"' } });
    expect(JSON.parse(lines[0] ?? '').requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('never logs the Authorization header, the sent value or the configured token', async () => {
    const { app, lines } = setup();
    await app.request('/', { headers: { Authorization: `Token ${TOKEN}` } });
    await app.request('/', { headers: { Authorization: 'Token sent-wrong-value' } });
    await app.request('/', { headers: { Authorization: 'Token' } });
    await app.request('/?token=query-secret', { headers: { Authorization: `Token ${TOKEN}` } });
    const all = lines.join('\n');
    expect(lines).toHaveLength(4);
    expect(all).not.toContain(TOKEN);
    expect(all).not.toContain('sent-wrong-value');
    expect(all).not.toContain('query-secret');
    expect(all.toLowerCase()).not.toContain('authorization');
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
    expect(JSON.parse(lines[0] ?? '').requestId).toBe('rejected-1');
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
