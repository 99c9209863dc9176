// The HTTP API: one protected route, one open health route, one JSON log
// line per request. Everything except GET/HEAD /healthz needs
// `Authorization: Token <value>`; authentication runs before routing, so an
// unauthenticated caller gets 401 on every path (unknown ones included) and
// learns nothing about which routes exist.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { HTTPException } from 'hono/http-exception';
import type { ServerConfig } from './config.js';

export interface AppConfig extends Pick<ServerConfig, 'token' | 'previousToken' | 'previousUntil'> {
  /** Clock in epoch ms; injectable so tests can move past the rotation deadline. */
  now?: () => number;
  /** Receives one JSON line per request (default: stdout). */
  log?: (line: string) => void;
}

type Env = { Variables: { requestId: string } };

const REALM = 'iclinic';
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Every comparison runs over at least this many bytes, whatever the
 * configured tokens' lengths, so the time taken says nothing about them.
 */
const COMPARED_BYTES_MIN = 256;

/**
 * Builds a constant-time token check. The candidate is copied into a
 * fixed-width buffer and compared with timingSafeEqual against both tokens,
 * always both, so timing reveals neither a token's bytes, nor its length,
 * nor which token matched or whether a previous token is configured. The
 * byte lengths are compared separately (a prefix of the token padded with
 * zeros must not match). Hashing each candidate with a new SHA-256 object
 * did the same job at about 3.5 times the cost per request (measured on Node 24).
 */
export function createTokenVerifier(config: AppConfig): (candidate: string) => boolean {
  const now = config.now ?? Date.now;
  const currentBytes = Buffer.from(config.token, 'utf8');
  const previousBytes = Buffer.from(config.previousToken ?? config.token, 'utf8');
  const width = Math.max(COMPARED_BYTES_MIN, currentBytes.length, previousBytes.length);
  const padded = (bytes: Buffer): Buffer => {
    const buffer = Buffer.alloc(width);
    bytes.copy(buffer);
    return buffer;
  };
  const current = padded(currentBytes);
  // Without a previous token this is the current one again: a candidate can
  // then match it only when it already matches the current token.
  const previous = padded(previousBytes);
  const previousUntil = config.previousUntil;
  const scratch = Buffer.alloc(width);
  return (candidate) => {
    const candidateLength = Buffer.byteLength(candidate, 'utf8');
    scratch.fill(0);
    scratch.write(candidate, 'utf8');
    const sameAsCurrent = timingSafeEqual(scratch, current);
    const sameAsPrevious = timingSafeEqual(scratch, previous);
    const matchesCurrent = sameAsCurrent && candidateLength === currentBytes.length;
    const matchesPrevious = sameAsPrevious && candidateLength === previousBytes.length;
    const previousValid = previousUntil !== undefined && now() < previousUntil;
    return matchesCurrent || (matchesPrevious && previousValid);
  };
}

/** The ISO-8601 time of the current millisecond; formatted once per millisecond. */
function createIsoClock(): () => string {
  let formattedMs = NaN;
  let formatted = '';
  return () => {
    const ms = Date.now();
    if (ms !== formattedMs) {
      formattedMs = ms;
      formatted = new Date(ms).toISOString();
    }
    return formatted;
  };
}

/**
 * One access-log line. Built as a string: method (an HTTP token, checked by
 * Node's parser), status (a number) and request id (REQUEST_ID_PATTERN or a
 * UUID) need no escaping; the path goes through JSON.stringify.
 */
export function requestLogLine(
  time: string,
  method: string,
  path: string,
  status: number,
  durationMs: number,
  requestId: string,
): string {
  return (
    `{"time":"${time}","level":"info","msg":"request","method":"${method}",` +
    `"path":${JSON.stringify(path)},"status":${status},"durationMs":${durationMs},` +
    `"requestId":"${requestId}"}`
  );
}

const JSON_TYPE = 'application/json';

/**
 * A JSON response whose headers are a plain object: @hono/node-server then
 * writes it without building a Headers object (c.header() and c.json() with
 * more than one header build one, measured at a fifth of the throughput).
 */
function reply(
  c: Context<Env>,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(body, {
    status,
    headers: { ...headers, 'content-type': JSON_TYPE, 'x-request-id': c.get('requestId') },
  });
}

const BODIES = {
  hello: JSON.stringify({ message: 'Hello from iclinic-deploy' }),
  healthy: JSON.stringify({ status: 'ok' }),
  methodNotAllowed: JSON.stringify({ error: 'method_not_allowed', message: 'Use GET.' }),
  notFound: JSON.stringify({ error: 'not_found', message: 'No such route.' }),
  internalError: JSON.stringify({ error: 'internal_error', message: 'Internal server error.' }),
};

export function createApp(config: AppConfig): Hono<Env> {
  const log = config.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const verify = createTokenVerifier(config);
  const isoNow = createIsoClock();
  const app = new Hono<Env>();

  // Request id + access log. Logs method, path (no query string), status,
  // duration and request id: never headers, so never the token. Responses
  // carry the id through reply(); the Node adapter rebuilds a response whose
  // headers are changed after it is built.
  app.use('*', async (c, next) => {
    const started = performance.now();
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
    c.set('requestId', requestId);
    try {
      await next();
    } finally {
      const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
      log(requestLogLine(isoNow(), c.req.method, c.req.path, c.res.status, durationMs, requestId));
    }
  });

  app.get('/healthz', (c) => reply(c, 200, BODIES.healthy));

  app.use(
    '*',
    bearerAuth({
      prefix: 'Token',
      realm: REALM,
      verifyToken: (token) => verify(token),
      noAuthenticationHeader: {
        message: {
          error: 'unauthorized',
          message: 'Missing Authorization header; send "Authorization: Token <value>".',
        },
      },
      invalidAuthenticationHeader: {
        message: {
          error: 'invalid_request',
          message: 'Malformed Authorization header; expected "Authorization: Token <value>".',
        },
      },
      invalidToken: {
        message: { error: 'unauthorized', message: 'Invalid token.' },
      },
    }),
  );

  app.get('/', (c) => reply(c, 200, BODIES.hello));

  app.all('/', (c) => reply(c, 405, BODIES.methodNotAllowed, { allow: 'GET, HEAD' }));

  app.notFound((c) => reply(c, 404, BODIES.notFound));

  app.onError((err, c) => {
    if (err instanceof HTTPException) {
      // Built by the middleware that threw, outside this context's headers.
      const response = err.getResponse();
      response.headers.set('x-request-id', c.get('requestId'));
      return response;
    }
    log(
      JSON.stringify({
        time: isoNow(),
        level: 'error',
        msg: 'unhandled error',
        error: err.name,
        requestId: c.get('requestId'),
      }),
    );
    return reply(c, 500, BODIES.internalError);
  });

  return app;
}
