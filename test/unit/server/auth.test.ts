import { describe, expect, it } from 'vitest';
import { createApp, type AppConfig } from '../../../server/app.js';

const TOKEN = 's3cr3t-Token_value.42';

function appWith(overrides: Partial<AppConfig> = {}) {
  const lines: string[] = [];
  const app = createApp({ token: TOKEN, log: (line) => lines.push(line), ...overrides });
  return { app, lines };
}

async function get(
  authorization?: string | string[],
  path = '/',
  overrides: Partial<AppConfig> = {},
) {
  const { app } = appWith(overrides);
  const headers = new Headers();
  for (const value of [authorization ?? []].flat()) headers.append('Authorization', value);
  const res = await app.request(path, { headers });
  return { res, text: await res.text() };
}

describe('GET / authentication', () => {
  it('answers 200 with a JSON body for the exact token', async () => {
    const { res, text } = await get(`Token ${TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(JSON.parse(text)).toEqual({ message: 'Hello from iclinic-deploy' });
  });

  it('answers 401 with a Token challenge when the header is missing, saying what to send', async () => {
    const { res, text } = await get();
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Token realm="iclinic"');
    expect(JSON.parse(text)).toEqual({
      error: 'unauthorized',
      message: 'Missing Authorization header; send "Authorization: Token <value>".',
    });
  });

  it('answers 401 when the header value is empty', async () => {
    const { res } = await get('');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Token /);
  });

  it('answers 400 invalid_request for the scheme alone, saying what is expected', async () => {
    const { res, text } = await get('Token');
    expect(res.status).toBe(400);
    expect(res.headers.get('www-authenticate')).toBe('Token error="invalid_request"');
    expect(JSON.parse(text)).toEqual({
      error: 'invalid_request',
      message: 'Malformed Authorization header; expected "Authorization: Token <value>".',
    });
  });

  it('answers 400 for the scheme followed only by spaces', async () => {
    const { res } = await get('Token    ');
    expect(res.status).toBe(400);
  });

  it('rejects the right token under the Bearer scheme', async () => {
    const { res } = await get(`Bearer ${TOKEN}`);
    expect(res.status).toBe(400);
  });

  it('rejects the right token under the Basic scheme', async () => {
    const { res } = await get(`Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}`);
    expect(res.status).toBe(400);
  });

  it('rejects the bare token without a scheme', async () => {
    const { res } = await get(TOKEN);
    expect(res.status).toBe(400);
  });

  it('rejects the scheme glued to the token without a space', async () => {
    const { res } = await get(`Token${TOKEN}`);
    expect(res.status).toBe(400);
  });

  it('answers 401 invalid_token with a JSON body for a wrong token', async () => {
    const { res, text } = await get('Token wrong-token');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Token error="invalid_token"');
    expect(JSON.parse(text)).toEqual({ error: 'unauthorized', message: 'Invalid token.' });
  });

  it('answers 401 for the token with one extra character', async () => {
    const { res } = await get(`Token ${TOKEN}x`);
    expect(res.status).toBe(401);
  });

  it('answers 401 for the token with its last character removed', async () => {
    const { res } = await get(`Token ${TOKEN.slice(0, -1)}`);
    expect(res.status).toBe(401);
  });

  it('answers 401 for a token of the same length that differs only in its last byte', async () => {
    const lastChanged = `${TOKEN.slice(0, -1)}${TOKEN.endsWith('3') ? '4' : '3'}`;
    expect(lastChanged).toHaveLength(TOKEN.length);
    const { res, text } = await get(`Token ${lastChanged}`);
    expect(res.status).toBe(401);
    expect(JSON.parse(text)).toEqual({ error: 'unauthorized', message: 'Invalid token.' });
  });

  it('treats the token as case-sensitive (upper-cased token is rejected)', async () => {
    const { res } = await get(`Token ${TOKEN.toUpperCase()}`);
    expect(res.status).toBe(401);
  });

  it('treats the token as case-sensitive (lower-cased token is rejected)', async () => {
    const { res } = await get(`Token ${TOKEN.toLowerCase()}`);
    expect(res.status).toBe(401);
  });

  it('accepts the scheme in lower case', async () => {
    const { res } = await get(`token ${TOKEN}`);
    expect(res.status).toBe(200);
  });

  it('accepts the scheme in mixed case', async () => {
    const { res } = await get(`tOKEN ${TOKEN}`);
    expect(res.status).toBe(200);
  });

  it('accepts several spaces between scheme and token', async () => {
    const { res } = await get(`Token   ${TOKEN}`);
    expect(res.status).toBe(200);
  });

  it('rejects a comma-separated list of credentials', async () => {
    const { res } = await get(`Token ${TOKEN}, Token other`);
    expect(res.status).toBe(400);
  });

  it('rejects two Authorization headers even when both carry the right token', async () => {
    const { res } = await get([`Token ${TOKEN}`, `Token ${TOKEN}`]);
    expect(res.status).toBe(400);
  });

  it('answers 400 without echoing a 64 KB header value', async () => {
    const huge = `Token ${'A'.repeat(64 * 1024)}!`;
    const { res, text } = await get(huge);
    expect(res.status).toBe(400);
    expect(text.length).toBeLessThan(200);
  });

  it('answers 401 for a 64 KB well-formed but wrong token', async () => {
    const { res, text } = await get(`Token ${'A'.repeat(64 * 1024)}`);
    expect(res.status).toBe(401);
    expect(text).not.toContain('AAAA');
  });

  it('answers 400 for non-ASCII bytes in the token', async () => {
    const { res } = await get(`Token ${TOKEN}\u00e9`);
    expect(res.status).toBe(400);
  });

  it('never echoes the sent token in the response body or headers', async () => {
    const sent = 'attacker-supplied-value';
    const { res, text } = await get(`Token ${sent}`);
    expect(text).not.toContain(sent);
    expect([...res.headers.values()].join(' ')).not.toContain(sent);
  });
});

describe('token rotation', () => {
  const PREVIOUS = 'old-token-1';
  const DEADLINE = Date.parse('2030-01-01T00:00:00Z');
  const rotation = (nowMs: number): Partial<AppConfig> => ({
    previousToken: PREVIOUS,
    previousUntil: DEADLINE,
    now: () => nowMs,
  });

  it('accepts the previous token before its deadline', async () => {
    const { res } = await get(`Token ${PREVIOUS}`, '/', rotation(DEADLINE - 1));
    expect(res.status).toBe(200);
  });

  it('rejects the previous token exactly at its deadline', async () => {
    const { res } = await get(`Token ${PREVIOUS}`, '/', rotation(DEADLINE));
    expect(res.status).toBe(401);
  });

  it('rejects the previous token after its deadline', async () => {
    const { res } = await get(`Token ${PREVIOUS}`, '/', rotation(DEADLINE + 60_000));
    expect(res.status).toBe(401);
  });

  it('accepts the current token before and after the previous token deadline', async () => {
    expect((await get(`Token ${TOKEN}`, '/', rotation(DEADLINE - 1))).res.status).toBe(200);
    expect((await get(`Token ${TOKEN}`, '/', rotation(DEADLINE + 1))).res.status).toBe(200);
  });

  it('checks the deadline on every request of one running app (no restart)', async () => {
    let now = DEADLINE - 1000;
    const { app } = appWith({ previousToken: PREVIOUS, previousUntil: DEADLINE, now: () => now });
    const call = () => app.request('/', { headers: { Authorization: `Token ${PREVIOUS}` } });
    expect((await call()).status).toBe(200);
    now = DEADLINE + 1;
    expect((await call()).status).toBe(401);
  });

  it('rejects, before its deadline, a token that differs from the previous one only in its last byte', async () => {
    const lastChanged = `${PREVIOUS.slice(0, -1)}${PREVIOUS.endsWith('2') ? '3' : '2'}`;
    expect(lastChanged).toHaveLength(PREVIOUS.length);
    const { res } = await get(`Token ${lastChanged}`, '/', rotation(DEADLINE - 1));
    expect(res.status).toBe(401);
  });

  it('rejects a previous token that has no deadline', async () => {
    const { res } = await get(`Token ${PREVIOUS}`, '/', { previousToken: PREVIOUS });
    expect(res.status).toBe(401);
  });
});

describe('routes', () => {
  it('serves GET /healthz without a token', async () => {
    const { res, text } = await get(undefined, '/healthz');
    expect(res.status).toBe(200);
    expect(JSON.parse(text)).toEqual({ status: 'ok' });
  });

  it('serves GET /healthz even with a wrong token', async () => {
    const { res } = await get('Token nope', '/healthz');
    expect(res.status).toBe(200);
  });

  it('serves HEAD /healthz without a token', async () => {
    const { app } = appWith();
    const res = await app.request('/healthz', { method: 'HEAD' });
    expect(res.status).toBe(200);
  });

  it('answers 401 on an unknown route without a token (auth runs before routing)', async () => {
    const { res } = await get(undefined, '/admin');
    expect(res.status).toBe(401);
  });

  it('answers 404 JSON on an unknown route with the token', async () => {
    const { res, text } = await get(`Token ${TOKEN}`, '/admin');
    expect(res.status).toBe(404);
    expect(JSON.parse(text)).toEqual({ error: 'not_found', message: 'No such route.' });
  });

  it('answers 404 on a sub-path of /healthz with the token', async () => {
    const { res } = await get(`Token ${TOKEN}`, '/healthz/extra');
    expect(res.status).toBe(404);
  });

  it('answers 401 for POST / without a token', async () => {
    const { app } = appWith();
    const res = await app.request('/', { method: 'POST' });
    expect(res.status).toBe(401);
  });

  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
    it(`answers 405 with Allow for ${method} / with the token`, async () => {
      const { app } = appWith();
      const res = await app.request('/', { method, headers: { Authorization: `Token ${TOKEN}` } });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
      expect(await res.json()).toEqual({ error: 'method_not_allowed', message: 'Use GET.' });
    });
  }

  it('answers HEAD / with the token like GET', async () => {
    const { app } = appWith();
    const res = await app.request('/', {
      method: 'HEAD',
      headers: { Authorization: `Token ${TOKEN}` },
    });
    expect(res.status).toBe(200);
  });

  it('answers 500 JSON without details when a handler throws', async () => {
    const { app, lines } = appWith();
    app.get('/boom', () => {
      throw new Error(`secret detail ${TOKEN}`);
    });
    const res = await app.request('/boom', { headers: { Authorization: `Token ${TOKEN}` } });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      error: 'internal_error',
      message: 'Internal server error.',
    });
    expect(text).not.toContain('secret detail');
    expect(lines.join('\n')).not.toContain(TOKEN);
  });
});
