/**
 * The strict layer's HTTP proxy: the CLI talks to it (AWS_ENDPOINT_URL), it
 * forwards every request to moto byte for byte and lets the rules refuse a
 * request before it reaches moto or rewrite moto's answer, the way real AWS
 * would (see types.ts and rules/).
 */
import { randomUUID } from 'node:crypto';
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { testClients, type TestClients } from '../aws.js';
import { parseAwsRequest, renderError, type RawRequest, type WireReply } from './protocol.js';
import { seededRandom } from './random.js';
import type { AwsErrorReply, AwsRequest, RuleEnv, StrictRule, UpstreamResponse } from './types.js';

export interface StrictProxyOptions {
  readonly motoEndpoint: string;
  readonly seed: string;
  readonly rules: readonly StrictRule[];
  /** Where refusals and injections are reported; silent by default. */
  readonly log?: (line: string) => void;
}

export interface StrictProxy {
  readonly endpoint: string;
  readonly seed: string;
  stop(): Promise<void>;
}

function readBody(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

function forward(target: URL, raw: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const upstream = httpRequest(
      {
        hostname: target.hostname,
        port: target.port,
        method: raw.method,
        path: raw.url,
        headers: raw.headers,
      },
      (response) => {
        readBody(response).then(
          (body) =>
            resolve({ status: response.statusCode ?? 502, headers: response.headers, body }),
          reject,
        );
      },
    );
    upstream.on('error', reject);
    upstream.end(raw.body);
  });
}

function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

function isErrorReply(value: UpstreamResponse | AwsErrorReply): value is AwsErrorReply {
  return 'code' in value;
}

function send(response: ServerResponse, reply: WireReply | RawResponse): void {
  const body = Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(reply.body);
  const headers = { ...reply.headers };
  // The body may have been rewritten: its length is ours to state.
  delete headers['transfer-encoding'];
  delete headers['content-length'];
  response.writeHead(reply.status, { ...headers, 'content-length': String(body.length) });
  response.end(body);
}

export async function startStrictProxy(options: StrictProxyOptions): Promise<StrictProxy> {
  const target = new URL(options.motoEndpoint);
  const randomness = seededRandom(options.seed);
  const clients = new Map<string, TestClients>();
  const env: RuleEnv = {
    moto: (region) => {
      let found = clients.get(region);
      if (found === undefined) {
        found = testClients(options.motoEndpoint, region);
        clients.set(region, found);
      }
      return found;
    },
    random: (key) => randomness.random(key),
    now: () => Date.now(),
  };
  const log = options.log ?? (() => undefined);

  function resetRules(): void {
    randomness.reset();
    for (const rule of options.rules) rule.reset?.();
  }

  function control(command: string, body: Buffer): WireReply {
    const args =
      body.length === 0 ? {} : (JSON.parse(body.toString('utf8')) as Record<string, unknown>);
    const handled = options.rules.filter((rule) => rule.control?.(command, args) === true);
    return handled.length > 0
      ? {
          status: 200,
          headers: {},
          body: JSON.stringify({ handledBy: handled.map((r) => r.name) }),
        }
      : { status: 404, headers: {}, body: `no strict rule handles "${command}"` };
  }

  async function handleAws(request: AwsRequest, raw: RawRequest): Promise<WireReply | RawResponse> {
    for (const rule of options.rules) {
      const refusal = await rule.before?.(request, env);
      if (refusal !== undefined) {
        log(`[strict-aws] ${rule.name}: ${request.service}:${request.operation} → ${refusal.code}`);
        return renderError(request.protocol, refusal);
      }
    }
    const upstream = await forward(target, raw);
    let response: UpstreamResponse = {
      status: upstream.status,
      headers: flatHeaders(upstream.headers),
      body: upstream.body.toString('utf8'),
    };
    let rewritten = false;
    for (const rule of options.rules) {
      const changed = await rule.after?.(request, response, env);
      if (changed === undefined) continue;
      if (isErrorReply(changed)) {
        log(`[strict-aws] ${rule.name}: ${request.service}:${request.operation} → ${changed.code}`);
        return renderError(request.protocol, changed);
      }
      response = changed;
      rewritten = true;
    }
    // Unchanged answers go back as moto's exact bytes.
    return rewritten ? response : upstream;
  }

  async function handle(incoming: IncomingMessage, response: ServerResponse): Promise<void> {
    const raw: RawRequest = {
      method: incoming.method ?? 'GET',
      url: incoming.url ?? '/',
      headers: incoming.headers,
      body: await readBody(incoming),
    };
    const path = raw.url.split('?')[0] ?? '';
    if (path.startsWith('/strict-aws/') && raw.method === 'POST') {
      return send(response, control(path.slice('/strict-aws/'.length), raw.body));
    }
    if (path.startsWith('/moto-api')) {
      const upstream = await forward(target, raw);
      if (path === '/moto-api/reset' && upstream.status < 300) resetRules();
      return send(response, upstream);
    }
    const request = parseAwsRequest(raw);
    send(
      response,
      request === undefined ? await forward(target, raw) : await handleAws(request, raw),
    );
  }

  const server = createServer((incoming, response) => {
    handle(incoming, response).catch((error: unknown) => {
      // A fault of the strict layer itself: a 400 the SDK does not retry, so the test shows it.
      const message = `strict-aws proxy failed: ${error instanceof Error ? error.stack : String(error)}`;
      log(message);
      if (!response.headersSent) {
        send(response, {
          status: 400,
          headers: { 'x-amzn-errortype': 'StrictProxyFailure', 'x-amzn-requestid': randomUUID() },
          body: JSON.stringify({ __type: 'StrictProxyFailure', message }),
        });
      } else response.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    seed: options.seed,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
